"""`da-bridge search augment`: the CLI task, its report and its picture."""

from __future__ import annotations

import re

import pytest

from da_bridge.cli import main

SMALL = ["--train-size", "80", "--valid-size", "100", "--copies", "1", "--no-progress"]


def test_search_augment_writes_a_png_and_reports_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    code = main(["search", "augment", "--dataset", "digits", "--trials", "4", "--seed", "0",
                 "--study", "aug", *SMALL])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "one of these per image, uniformly:" in out
    assert re.search(r"test accuracy \(\d+ untouched images\): no augmentation 0\.\d+, "
                     r"best policy 0\.\d+", out)
    path = re.search(r"picture of the best policy: (\S+\.png)", out).group(1)
    assert path == str(tmp_path / "runs" / "aug-policy.png")
    with open(path, "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"


def test_randaugment_with_chosen_ops_and_png_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    png = tmp_path / "pictures" / "best.png"
    code = main(["search", "augment", "--policy", "randaugment", "--ops", "rotate,zoom",
                 "--trials", "3", "--storage", ":memory:", "--png", str(png), *SMALL])
    out = capsys.readouterr().out
    assert code == 0 and png.exists() and str(png) in out


def test_npz_dataset(tmp_path, monkeypatch, capsys):
    import numpy as np

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DA_BRIDGE_RUNS", raising=False)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mine.npz", x=rng.integers(0, 256, (120, 12, 12, 3), dtype=np.uint8),
             y=np.arange(120) % 4)
    code = main(["search", "augment", "--dataset", "mine.npz", "--train-size", "40",
                 "--valid-size", "40", "--trials", "2", "--storage", ":memory:",
                 "--subpolicies", "2", "--copies", "1", "--no-progress"])
    assert code == 0
    assert (tmp_path / "da_runs").is_dir()


@pytest.mark.parametrize("args, message", [
    (["--dataset", "nowhere.npz"], "nowhere.npz"),
    (["--ops", "rotate,spin"], "spin"),
    (["--subpolicies", "0"], "n_subpolicies"),
])
def test_bad_options_exit_2_with_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    code = main(["search", "augment", "--trials", "1", "--storage", ":memory:", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_search_augment_with_the_cnn(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["search", "augment", "--evaluator", "cnn", "--epochs", "2", "--trials", "2",
                 "--storage", ":memory:", *SMALL])
    assert code == 0 and ".png" in capsys.readouterr().out
