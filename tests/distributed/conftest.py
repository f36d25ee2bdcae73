"""A PostgreSQL server for the distributed tests.

`DA_BRIDGE_TEST_POSTGRES_URL` names one (`.ci/run` starts it); without it the
fixture starts a throwaway server with `.ci/pg_start.sh` in a temporary folder
on a free port and stops it at the end. Only when that fails, and only outside
CI (env `CI` unset), do the tests skip, with the reason; in CI they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

ROOT = Path(__file__).parents[2]
URL_ENV = "DA_BRIDGE_TEST_POSTGRES_URL"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The SQLAlchemy URL of a PostgreSQL server the tests may create studies in."""
    if os.environ.get(URL_ENV):
        yield os.environ[URL_ENV]
        return
    # Not under pytest's tmp folder: its parents are private to root, and the server
    # runs as the postgres user when the tests run as root.
    folder = ""
    try:
        folder = tempfile.mkdtemp(prefix="da_bridge_pg_")
        started = subprocess.run(["bash", str(ROOT / ".ci" / "pg_start.sh"), folder],
                                 capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        started = subprocess.CompletedProcess([], 1, "", str(exc))
    if started.returncode != 0:
        if folder:
            subprocess.run(["bash", str(ROOT / ".ci" / "pg_stop.sh"), folder],
                           capture_output=True, timeout=120)
            shutil.rmtree(folder, ignore_errors=True)
        lines = (started.stderr or started.stdout or "no output").strip().splitlines()
        reason = f"no PostgreSQL server: set {URL_ENV} or make .ci/pg_start.sh work ({lines[-1]})"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(ROOT / ".ci" / "pg_stop.sh"), folder],
                       capture_output=True, timeout=120)


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    yield sqlalchemy.make_url(postgres_url).set(database=name).render_as_string(
        hide_password=False)
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
