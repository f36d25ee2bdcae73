"""`da-bridge export`: a study's trials to a file, read back with `load_results`."""

from __future__ import annotations

import pandas as pd
import pytest

import da_bridge
from da_bridge.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DA_BRIDGE_RUNS", str(folder / "runs"))
        patch.chdir(folder)
        assert main(["search", "nasbench201", "--trials", "6", "--study", "nb", "--seed", "0",
                     "--searcher", "random", "--no-progress"]) == 0
        yield folder


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_writes_every_trial(runs, capsys, fmt):
    out = runs / f"trials.{fmt}"
    capsys.readouterr()
    assert main(["export", "--study", "nb", "--format", fmt, "--out", str(out)]) == 0
    assert "wrote 6 trials" in capsys.readouterr().out
    pd.testing.assert_frame_equal(da_bridge.load_results(out), da_bridge.load_results("nb"))


def test_format_defaults_from_the_file_name(runs):
    assert main(["export", "--study", "nb", "--out", "rows.csv"]) == 0
    assert (runs / "rows.csv").read_text().startswith("study,number,state")
    assert main(["export", "--study", "nb"]) == 0
    assert len(da_bridge.load_results(runs / "nb.jsonl")) == 6


def test_unknown_study_exits_2(runs, capsys):
    assert main(["export", "--study", "nope"]) == 2
    assert "no study 'nope'" in capsys.readouterr().err
