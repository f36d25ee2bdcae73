"""The storage proxy's refusals and the workers' bounded sampler history (no server needed).

The proxy itself, with real worker processes on a real PostgreSQL, is tested in
`tests/distributed/test_workers.py` (every test runs direct and through `da-bridge proxy`).
"""

import socket
import subprocess
import sys

import optuna
import pytest

from da_bridge.adapters.optuna import default_sampler, suggest_architecture
from da_bridge.errors import OptionError, StoreError
from da_bridge.spaces.examples import poster_space
from da_bridge.study.proxy import proxy_address, start_proxy
from da_bridge.study.store import open_storage


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("url", ["sqlite:///x.db", "runs/x.journal", "grpc://127.0.0.1:1"])
def test_the_proxy_serves_database_servers_only(url):
    with pytest.raises(OptionError, match="the proxy serves a database server"):
        start_proxy(url, port=0)


def test_the_command_line_refuses_a_journal_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "da_bridge", "proxy", "--storage",
                           str(tmp_path / "x.journal"), "--port", "0"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"da-bridge: error: the proxy serves a database server (postgresql://..., mysql://...); "
        f"got {str(tmp_path / 'x.journal')!r}"]


def test_a_worker_finds_no_proxy_and_says_how_to_start_one():
    url = f"grpc://127.0.0.1:{free_port()}"
    with pytest.raises(StoreError, match=r"no storage proxy answers at .* `da-bridge proxy"):
        open_storage(url, "s", connect_timeout=1)


@pytest.mark.parametrize("url", ["grpc://host", "grpc://:12", "grpc://host:port"])
def test_a_proxy_url_needs_host_and_port(url):
    with pytest.raises(OptionError, match="grpc://HOST:PORT"):
        proxy_address(url)


def test_a_bounded_history_keeps_the_best_25_and_the_last_k_finished_trials():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0),
                                direction="maximize")
    space = poster_space()
    for number in range(60):
        trial = study.ask()
        suggest_architecture(trial, space)
        study.tell(trial, float(number % 7))  # many ties: the best 25 are not the last ones
    running = study.ask()
    sampler = default_sampler(0, n_jobs=2, history=10)
    view = sampler._view(study, running)
    seen = view._get_trials(deepcopy=False)
    finished = [t for t in study.trials if t.state.is_finished()]
    best = sorted(finished, key=lambda t: -t.value)[:25]
    expected = {t.number for t in best} | {t.number for t in finished[-10:]} | {running.number}
    assert {t.number for t in seen} == expected
    assert len(seen) < len(study.trials)
    unbounded = default_sampler(0, n_jobs=2)._view(study, running)._get_trials(deepcopy=False)
    assert len(unbounded) == len(study.trials)
