"""The documented plain `postgresql://` URL works with what the `postgres` extra installs."""

from __future__ import annotations

import uuid

import pytest

from da_bridge import search
from da_bridge.spaces.examples import poster_space
from da_bridge.study.store import load_study

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_a_plain_postgresql_url_opens_and_records(postgres_url):
    plain = "postgresql://" + postgres_url.split("://", 1)[1]
    name = f"plain-url-{uuid.uuid4().hex[:8]}"
    result = search(poster_space(), lambda arch: 1.0, n_trials=2, storage=plain,
                    study_name=name, seed=0)
    assert len(result.trials) == 2
    assert len(load_study(name, plain).trials) == 2
