"""The embedded store's journal: no lock outlives its process, no damaged tail outlives an open.

Real journals written by real searches, damaged the way a killed process, a full disk or
an older version's resume damages them; real processes killed while they hold the lock.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest

from da_bridge import search
from da_bridge.errors import StoreError
from da_bridge.spaces.examples import poster_space
from da_bridge.study.store import load_study

COMPLETE = optuna.trial.TrialState.COMPLETE
OBJECTIVES = Path(__file__).with_name("objectives.py")


def width(arch) -> float:
    return float(sum(v for k, v in arch.values.items() if k.endswith("filters")))


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DA_BRIDGE_RUNS", raising=False)
    return tmp_path / "da_runs"  # the default, relative folder


def completed(name):
    return {t.number: t.user_attrs["da_bridge.values"] for t in load_study(name).trials
            if t.state == COMPLETE}


def damaged_copies(runs_dir, name):
    return sorted(runs_dir.glob(f"{name}.journal.damaged-*"))


@pytest.mark.timeout(90)
def test_a_process_killed_while_it_holds_the_lock_blocks_nobody(runs_dir):
    search(poster_space(), width, n_trials=2, study_name="locked", searcher="random", seed=0)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import time
        from da_bridge.study.store import open_storage
        storage = open_storage(None, "locked")
        storage._backend._lock.acquire()
        print("locked", flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    holder.send_signal(signal.SIGKILL)
    holder.wait(30)
    result = search(poster_space(), width, n_trials=2, study_name="locked", searcher="random")
    assert len(result.trials) == 4  # and no 30 s grace period: the kernel freed the lock


@pytest.mark.timeout(90)
def test_a_dangling_lock_link_left_by_optuna_is_removed(runs_dir, caplog):
    search(poster_space(), width, n_trials=1, study_name="link", searcher="random", seed=0)
    lock = runs_dir / "link.journal.lock"
    os.symlink("da_runs/link.journal", lock)  # what a killed Optuna writer leaves: relative
    assert not lock.exists()
    with caplog.at_level(logging.WARNING):
        result = search(poster_space(), width, n_trials=1, study_name="link", searcher="random")
    assert len(result.trials) == 2 and not os.path.lexists(lock)
    assert "removed the stale lock" in caplog.text


def test_a_cut_last_line_is_set_aside_on_resume_and_the_resume_appends_cleanly(runs_dir, caplog):
    search(poster_space(), width, n_trials=3, study_name="cut", searcher="random", seed=0)
    path = runs_dir / "cut.journal"
    before = completed("cut")
    damaged = path.read_bytes() + b'{"op_code":4,"worker_id":"x","study_id":0,"datetime_st'
    path.write_bytes(damaged)
    with caplog.at_level(logging.WARNING):
        result = search(poster_space(), width, n_trials=2, study_name="cut", searcher="random")
    assert [t.state for t in result.trials] == [COMPLETE] * 5
    warnings = [r.getMessage() for r in caplog.records if "cut.journal" in r.getMessage()]
    assert len(warnings) == 1 and "last line was cut off" in warnings[0]
    assert "\n" not in warnings[0]
    (copy,) = damaged_copies(runs_dir, "cut")
    assert copy.read_bytes() == damaged and copy.name in warnings[0]
    after = completed("cut")
    assert {n: after[n] for n in before} == before
    assert path.read_bytes().endswith(b"\n")


@pytest.mark.parametrize("garbage", [
    b"\x00\x00\x00\x00",                                # zeros from a lost page
    b"not json\n",                                      # one whole garbage line
    b'{"op_code":6,"trial_id":2,"state":1,"values":[\n\xff\xfegarbage\n{"op_c',
], ids=["zeros", "line", "lines"])
def test_a_garbage_tail_is_set_aside_and_nothing_finished_is_lost(runs_dir, garbage):
    search(poster_space(), width, n_trials=3, study_name="junk", searcher="random", seed=0)
    path = runs_dir / "junk.journal"
    before = completed("junk")
    intact = path.read_bytes()
    path.write_bytes(intact + garbage)
    assert completed("junk") == before  # reading repairs too
    assert path.read_bytes() == intact
    assert damaged_copies(runs_dir, "junk")[0].read_bytes() == intact + garbage
    result = search(poster_space(), width, n_trials=2, study_name="junk", searcher="random")
    assert [t.state for t in result.trials] == [COMPLETE] * 5


def test_a_record_glued_to_a_cut_line_by_an_older_version_is_recovered(runs_dir):
    search(poster_space(), width, n_trials=3, study_name="glued", searcher="random", seed=0)
    path = runs_dir / "glued.journal"
    lines = path.read_bytes().split(b"\n")[:-1]
    last = lines.pop()  # the last trial's COMPLETE record
    path.write_bytes(b"".join(line + b"\n" for line in lines)
                     + b'{"op_code":8,"worker_id":"dead","trial_id":2,"user_at' + last + b"\n")
    states = [t.state for t in load_study("glued").trials]
    assert states == [COMPLETE] * 3
    assert len(damaged_copies(runs_dir, "glued")) == 1


def test_an_unreadable_line_in_the_middle_is_named_and_nothing_is_rewritten(runs_dir):
    search(poster_space(), width, n_trials=3, study_name="middle", searcher="random", seed=0)
    path = runs_dir / "middle.journal"
    lines = path.read_text().splitlines(keepends=True)
    lines[5] = lines[5][:15] + "\x00garbage\n"
    path.write_text("".join(lines))
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"middle.journal', line 6 \(the lines before"):
        load_study("middle")
    assert path.read_bytes() == before and not damaged_copies(runs_dir, "middle")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_full_disk_is_one_line_and_the_store_stays_readable(runs_dir, tmp_path):
    command = [sys.executable, "-m", "da_bridge", "search", "poster", "--objective",
               f"{OBJECTIVES}:width", "--study", "full", "--searcher", "random", "--no-progress"]
    first = subprocess.run([*command, "--trials", "3"], capture_output=True, text=True,
                           timeout=120)
    assert first.returncode == 0, first.stderr
    size = (runs_dir / "full.journal").stat().st_size

    def small_disk():  # the file may grow by 4 kB more, then writes fail (EFBIG, like ENOSPC)
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 4096, size + 4096))

    full = subprocess.run([*command, "--trials", "40", "--resume"], capture_output=True,
                          text=True, timeout=120, preexec_fn=small_disk)
    assert full.returncode != 0
    errors = [line for line in full.stderr.splitlines() if line.startswith("da-bridge: error")]
    assert len(errors) == 1, full.stderr
    assert "cannot write the journal" in errors[0] and "File too large" in errors[0]
    assert "Traceback" not in full.stderr
    path = runs_dir / "full.journal"
    assert path.read_bytes().endswith(b"\n")  # the failed write was cut back
    kept = completed("full")
    assert len(kept) >= 3
    resumed = subprocess.run([*command, "--trials", str(len(kept) + 2), "--resume"],
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    after = completed("full")
    assert {n: after[n] for n in kept} == kept and len(after) >= len(kept) + 2
