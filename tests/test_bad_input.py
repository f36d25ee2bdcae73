"""Bad input everywhere gives a clear error (naming the thing) and loses no recorded trial.

Malformed spaces, values maps from an older version of a space, objectives that
raise, hang, or return unusable scores, storages that do not connect, studies
that do not exist, corrupted journal files; and hypothesis fuzzing: random
(and randomly broken) spaces never raise anything but a `DABridgeError`.
"""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time

import optuna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import build_space, specs

from da_bridge import (
    CycleError,
    DABridgeError,
    Discrete,
    DomainError,
    NameClashError,
    ReplayError,
    SearchSpace,
    SpaceError,
    SubstitutionError,
    basic,
    search,
    siso_sequential,
    substitution,
)
from da_bridge.adapters.optuna import VALUES_ATTR, replay_trial
from da_bridge.errors import ObjectiveError, SpaceMismatchError, StoreError, TrialTimeoutError
from da_bridge.spaces.examples import op, poster_space
from da_bridge.study.store import load_study, open_storage
from da_bridge.study.timeouts import with_trial_timeout
from da_bridge.study.worker import run_worker

COMPLETE, FAIL = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def width(arch) -> float:
    return float(sum(v for k, v in arch.values.items() if k.endswith("filters")))


# Malformed spaces ------------------------------------------------------------------------------

def cyclic():
    a_in, a_out = op("a")
    b_in, b_out = op("b")
    a_out["out"].connect(b_in["in"])
    b_out["out"].connect(a_in["in"])
    return {}, b_out


def unconnected():
    inputs, outputs = basic("add", lambda v: lambda x: {"out": x["a"]}, {},
                            inputs=("a", "b"))
    return {"in": inputs["a"]}, outputs


def wrong_ports():
    return substitution("cell", lambda v: basic("x", lambda v: None, {}, inputs=("left",)),
                        {"n": Discrete([1, 2])})


def not_a_fragment():
    return substitution("cell", lambda v: [v["n"]], {"n": Discrete([1, 2])})


def duplicate_names():
    return siso_sequential([op("conv", {"k": Discrete([1, 3], name="size")}),
                            op("pool", {"k": Discrete([2, 4], name="size")})])


@pytest.mark.parametrize(("build_fn", "error", "names"), [
    (cyclic, CycleError, r"cycle through modules \['a', 'b'\]"),
    (unconnected, SpaceError, r"input 'b' of module 'add' is not connected"),
    (wrong_ports, SubstitutionError, r"substitution 'cell' returned inputs \['left'\]"),
    (not_a_fragment, SpaceError, r"substitution 'cell' must return an \(inputs, outputs\)"),
    (duplicate_names, NameClashError, r"two hyperparameters are named 'size'"),
], ids=["cycle", "unconnected", "wrong-ports", "not-a-fragment", "duplicate-names"])
def test_malformed_spaces_name_what_is_wrong(build_fn, error, names):
    with pytest.raises(error, match=names):
        SearchSpace(build_fn).sample(0)


def test_a_malformed_space_in_a_search_fails_its_trials_and_records_them():
    result = search(SearchSpace(cyclic), lambda arch: 1.0, n_trials=3, storage=":memory:")
    assert [t.state for t in result.trials] == [FAIL] * 3
    with pytest.raises(CycleError, match="cycle"):
        search(SearchSpace(cyclic), lambda arch: 1.0, n_trials=3, storage=":memory:", catch=())


# Values maps from an older version of a space ---------------------------------------------------

def version_1():
    return siso_sequential([op("conv", {"filters": Discrete([64, 128])}),
                            op("fc", {"units": Discrete([8, 16])})])


def version_2():  # filters lost 128, fc's "units" became "width"
    return siso_sequential([op("conv", {"filters": Discrete([32, 64])}),
                            op("fc", {"width": Discrete([8, 16])})])


@pytest.mark.parametrize(("values", "error", "names"), [
    ({"conv.filters": 64}, ReplayError, r"'fc.units' has no value; allowed: Discrete\(\[8, 16\]\)"),
    ({"conv.filters": 64, "fc.units": 8, "fc.width": 8}, ReplayError,
     r"\['fc.width'\] are not live"),
    ({"conv.filters": 32, "fc.units": 8}, DomainError,
     r"'conv.filters' got 32; allowed: Discrete\(\[64, 128\]\)"),
    ({"conv.filters": "64", "fc.units": 8}, DomainError, r"'conv.filters' got '64'"),
    (["conv.filters", 64], ReplayError, r"needs a \{path: value\} mapping; got list"),
], ids=["missing", "unknown", "out-of-domain", "wrong-type", "not-a-map"])
def test_replaying_bad_values_names_the_path_and_the_domain(values, error, names):
    with pytest.raises(error, match=names):
        SearchSpace(version_1).replay(values)


def test_trials_of_an_older_space_version_give_clear_errors_and_stay_in_the_store():
    search(SearchSpace(version_1), width, n_trials=4, study_name="versions", seed=0,
           searcher="random")
    trials = load_study("versions").trials
    for trial in trials:
        with pytest.raises((ReplayError, DomainError), match=r"'(conv\.filters|fc\.width)'"):
            replay_trial(SearchSpace(version_2), trial)
    # Resuming with the new version is refused, naming what changed; the study is untouched.
    with pytest.raises(SpaceMismatchError, match=r"'conv\.filters' was Discrete\(\[64, 128\]\)"):
        search(SearchSpace(version_2), width, n_trials=2, study_name="versions",
               searcher="random")
    after = load_study("versions").trials
    assert [t.user_attrs for t in after] == [t.user_attrs for t in trials]
    assert [t.state for t in after] == [COMPLETE] * 4


# Objectives that raise, hang, or return unusable scores ------------------------------------------

def test_a_raising_objective_fails_its_trial_with_the_architecture_kept():
    def objective(arch):
        if arch.values["conv.filters"] == 128:
            raise RuntimeError("out of memory")
        return 1.0

    result = search(poster_space(), objective, n_trials=8, searcher="random", seed=3,
                    storage=":memory:")
    failed = [t for t in result.trials if t.state == FAIL]
    assert failed and len(result.trials) == 8
    assert all(t.user_attrs[VALUES_ATTR]["conv.filters"] == 128 for t in failed)
    with pytest.raises(RuntimeError, match="out of memory"):
        search(poster_space(), objective, n_trials=8, searcher="random", seed=3,
               storage=":memory:", catch=())


@pytest.mark.parametrize("score", [math.nan, math.inf, -math.inf, "0.5", None, [1.0], True],
                         ids=["nan", "inf", "-inf", "text", "none", "list", "bool"])
def test_unusable_scores_are_named_and_the_trial_is_recorded(score):
    study = optuna.create_study()
    with pytest.raises(ObjectiveError, match=r"trial 0: the objective returned .*; expected"):
        search(poster_space(), lambda arch: score, n_trials=1, storage=study._storage,
               study_name=study.study_name, catch=())
    assert [t.state for t in study.trials] == [FAIL]
    assert VALUES_ATTR in study.trials[0].user_attrs


def test_the_wrong_number_of_objectives_is_named():
    with pytest.raises(ObjectiveError, match="returned 1 scores; expected 2"):
        search(poster_space(), lambda arch: [1.0], n_trials=1, storage=":memory:",
               directions=["minimize", "maximize"], catch=())


def hangs_on_128(arch):
    if arch.values["conv.filters"] == 128:
        time.sleep(600)
    return 1.0


def test_a_hanging_objective_is_stopped_by_the_trial_timeout():
    started = time.monotonic()
    result = search(poster_space(), with_trial_timeout(hangs_on_128, 1.0), n_trials=6,
                    searcher="random", seed=3, storage=":memory:")
    states = [t.state for t in result.trials]
    assert FAIL in states and COMPLETE in states and len(states) == 6
    assert time.monotonic() - started < 30
    with pytest.raises(TrialTimeoutError, match=r"trial \d+: the objective ran longer than 1 s"):
        search(poster_space(), with_trial_timeout(hangs_on_128, 1.0), n_trials=6,
               searcher="random", seed=3, storage=":memory:", catch=())


def test_a_worker_with_a_trial_timeout_records_the_timeout_and_goes_on(tmp_path):
    result = run_worker(tmp_path / "w.journal", "timeouts", hangs_on_128, poster_space(),
                        n_trials=5, searcher="random", seed=3, trial_timeout=1.0)
    trials = result.study.trials
    assert len(trials) == 5 and len(result.trials) == 5
    failed = [t for t in trials if t.state == FAIL]
    assert failed and all("TrialTimeoutError" in t.user_attrs["da_bridge.error"] for t in failed)


# Storages and studies ---------------------------------------------------------------------------

def test_a_storage_that_refuses_connections_fails_fast_with_the_password_hidden():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(StoreError, match=rf"cannot open storage .*u:\*\*\*@127.0.0.1:{port}"):
        open_storage(f"postgresql+psycopg2://u:secret@127.0.0.1:{port}/db", "s")
    assert time.monotonic() - started < 10


def test_a_server_that_never_answers_fails_after_the_connect_timeout():
    server = socket.socket()  # accepts TCP connections but never speaks PostgreSQL
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="cannot open storage") as info:
            open_storage(f"postgresql+psycopg2://u:secret@127.0.0.1:{port}/db", "s",
                         connect_timeout=2)
        assert time.monotonic() - started < 15
        assert "secret" not in str(info.value)
    finally:
        server.close()


def test_unknown_storage_kinds_are_store_errors():
    with pytest.raises(StoreError, match="cannot open storage 'nosuchdb://x'"):
        open_storage("nosuchdb://x", "s")
    with pytest.raises(ValueError, match="grace_period must be a positive number"):
        open_storage("postgresql://u@127.0.0.1:1/db", "s", grace_period=-1)


def test_a_study_that_does_not_exist_names_the_known_ones(tmp_path):
    search(poster_space(), width, n_trials=1, study_name="known", searcher="random")
    with pytest.raises(StoreError, match=r"no study 'unknown' in .*known: \['known'\]"):
        load_study("unknown")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    search(poster_space(), width, n_trials=1, study_name="known", storage=url, searcher="random")
    with pytest.raises(StoreError, match=r"no study 'unknown' in the storage; known: \['known'\]"):
        load_study("unknown", url)


def test_a_worker_without_space_for_a_new_study_says_so(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "da_bridge", "worker", "--study", "fresh", "--storage",
         str(tmp_path / "w.journal"), "--objective", "x:y"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "study 'fresh' does not exist yet" in done.stderr and "give SPACE" in done.stderr


def test_a_corrupted_journal_line_is_named_and_nothing_is_lost(runs_dir):
    search(poster_space(), width, n_trials=3, study_name="journal", searcher="random", seed=0)
    path = runs_dir / "journal.journal"
    lines = path.read_text().splitlines(keepends=True)
    lines[5] = lines[5][:15] + "\x00garbage\n"
    path.write_text("".join(lines))
    before = path.read_bytes()
    for attempt in (lambda: load_study("journal"),
                    lambda: search(poster_space(), width, n_trials=1, study_name="journal")):
        with pytest.raises(StoreError, match=r"journal.journal', line 6 \(the lines before"):
            attempt()
    assert path.read_bytes() == before  # nothing rewritten, nothing lost


def test_a_cut_last_journal_line_is_a_crash_mid_write_and_is_ignored(runs_dir):
    search(poster_space(), width, n_trials=3, study_name="cut", searcher="random", seed=0)
    path = runs_dir / "cut.journal"
    path.write_text(path.read_text() + '{"op_code": 4, "wor')
    assert [t.state for t in load_study("cut").trials] == [COMPLETE] * 3


# Fuzzing -------------------------------------------------------------------------------------

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEFECTS = ["none", "cycle", "dangling-input", "wrong-ports", "name-clash", "bad-return"]


def broken_space(spec: tuple, defect: str) -> SearchSpace:
    """The space of `spec` with one wiring or naming mistake."""
    inner = build_space(spec).build_fn

    def build_fn():
        inputs, outputs = inner()
        if defect == "cycle":
            outputs["out"].connect(inputs["in"])
            return {}, outputs
        if defect == "dangling-input":
            m_in, m_out = basic("merge", lambda v: lambda x: {"out": x["a"]}, {},
                                inputs=("a", "b"))
            outputs["out"].connect(m_in["a"])
            return inputs, m_out
        if defect == "wrong-ports":
            return substitution("swap", lambda v: inner(), {"n": Discrete([1, 2])},
                                inputs=("x",))
        if defect == "name-clash":
            clash_in, clash_out = siso_sequential([op("a", {"k": Discrete([1, 2], name="k")}),
                                                   op("b", {"k": Discrete([3], name="k")})])
            outputs["out"].connect(clash_in["in"])
            return inputs, clash_out
        if defect == "bad-return":
            return outputs, inputs
        return inputs, outputs

    return SearchSpace(build_fn)


@SETTINGS
@given(specs(max_leaves=5, finite=False), st.sampled_from(DEFECTS), st.integers(0, 2**32 - 1))
def test_random_broken_spaces_raise_only_da_bridge_errors(spec, defect, seed):
    space = broken_space(spec, defect)
    try:
        arch = space.sample(seed)
        arch.forward({name: "x" for name in arch.inputs})
        json.dumps(arch.to_json())
        space.replay(arch.values)
    except DABridgeError:
        return
    assert defect == "none", f"{defect} went unnoticed"


def junk_values():
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["index", "repr", "x"]),
                                                     inner, max_size=2)), max_leaves=4)


@SETTINGS
@given(specs(max_leaves=5, finite=False), st.integers(0, 2**32 - 1), st.data())
def test_random_json_values_maps_from_a_store_raise_only_da_bridge_errors(spec, seed, data):
    space = broken_space(spec, "none")
    values = json.loads(json.dumps(space.sample(seed).json_values()))  # as a store holds it
    for path in data.draw(st.lists(st.sampled_from([*values, "other.path"]), max_size=3)):
        if data.draw(st.booleans()):
            values.pop(path, None)
        else:
            values[path] = data.draw(junk_values())
    try:
        arch = space.replay(values, strict=data.draw(st.booleans()))
    except DABridgeError:
        return
    assert space.replay(arch.json_values()).dumps() == arch.dumps()

