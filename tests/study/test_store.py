"""What `open_storage` makes of a storage argument: database URLs and their drivers."""

from __future__ import annotations

import importlib.util

import pytest

from da_bridge.errors import MissingExtraError, StoreError
from da_bridge.study.store import database_url, open_storage


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_plain_postgresql_url_gets_an_installed_driver(scheme):
    url = database_url(f"{scheme}://user:pw@db.example:5432/runs")
    driver = "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"
    assert url == f"postgresql+{driver}://user:pw@db.example:5432/runs"


def test_urls_that_name_their_driver_are_kept():
    for url in ("postgresql+psycopg2://u@h/d", "sqlite:///runs.db", "mysql+pymysql://u@h/d"):
        assert database_url(url) == url


def test_the_extra_installs_a_driver_sqlalchemy_takes_for_postgresql():
    assert importlib.util.find_spec("psycopg") or importlib.util.find_spec("psycopg2")
    assert issubclass(MissingExtraError, ImportError)


def test_a_storage_that_is_not_one_is_named():
    with pytest.raises(StoreError, match="42"):
        open_storage(42, "s")


def test_a_journal_whose_folder_cannot_be_made_is_named(tmp_path):
    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(StoreError, match=r"cannot make the folder of the journal .*x\.journal"):
        open_storage(tmp_path / "plain" / "x.journal", "s")
