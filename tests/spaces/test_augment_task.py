"""`da-bridge search augment`: the CLI task, its report and its picture."""

from __future__ import annotations

import re

import pytest

from da_bridge.cli import main

SMALL = ["--train-size", "80", "--valid-size", "100", "--copies", "1", "--no-progress",
         "--baselines", "none,trivialaugment", "--eval-seeds", "2"]


def test_search_augment_writes_a_png_and_reports_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    code = main(["search", "augment", "--dataset", "digits", "--trials", "4", "--seed", "0",
                 "--study", "aug", *SMALL])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "one of these per image, uniformly:" in out
    assert re.search(r"accuracy on the test images \(\d+ untouched\), mean ± SE over 2 "
                     r"evaluation seeds:", out)
    for method in ("best policy", "no augmentation", "TrivialAugment"):
        assert re.search(rf"  {method} +0\.\d{{4}} ± 0\.\d{{4}}", out), method
    assert re.search(r"gain of the best policy over the best baseline \((no augmentation|"
                     r"TrivialAugment)\): [+-]0\.\d{4} ± 0\.\d{4} \(paired SE over seeds; "
                     r"worst seed [+-]0\.\d{4}\)", out)
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
                 "--subpolicies", "2", "--copies", "1", "--no-progress", "--baselines", "none"])
    assert code == 0
    assert (tmp_path / "da_runs").is_dir()


def test_folder_of_pngs_resized_as_asked(tmp_path, monkeypatch, capsys):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for k in range(3):
        (tmp_path / "photos" / f"class{k}").mkdir(parents=True)
        for i in range(30):
            pixels = rng.integers(0, 80, (10 + i % 3, 12, 3), dtype=np.uint8)
            pixels[2:6, 2 + 3 * k:5 + 3 * k] = 250
            Image.fromarray(pixels).save(tmp_path / "photos" / f"class{k}" / f"{i}.png")
    monkeypatch.chdir(tmp_path)
    code = main(["search", "augment", "--data", "photos", "--image-size", "9", "11",
                 "--train-size", "30", "--valid-size", "30", "--trials", "2",
                 "--storage", ":memory:", "--subpolicies", "2", "--copies", "1",
                 "--baselines", "none", "--eval-seeds", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "accuracy on the test images (30 untouched)" in out


def test_equivalent_policies_are_scored_once():
    import argparse

    from da_bridge.spaces.augment import task as augment_task

    parser = argparse.ArgumentParser()
    augment_task.add_arguments(parser)
    task = augment_task.make_task(parser.parse_args(
        ["--train-size", "50", "--valid-size", "50", "--subpolicies", "2",
         "--ops-per-subpolicy", "1", "--ops", "flip,rotate"]))
    flip = {"subpolicy/0/step0.probability": 0.5, "subpolicy/0/step0/op.choice": "flip",
            "subpolicy/1/step0.probability": 0.0, "subpolicy/1/step0/op.choice": "flip"}
    swapped = {"subpolicy/1/step0.probability": 0.5, "subpolicy/1/step0/op.choice": "flip",
               "subpolicy/0/step0.probability": 0.0, "subpolicy/0/step0/op.choice": "rotate",
               "subpolicy/0/step0/op/rotate/rotate.magnitude": 0.9}
    a, b = task.space.replay(flip), task.space.replay(swapped)
    assert task.canonical(a) == task.canonical(b)
    assert task.objective(a) == task.objective(b)
    assert len(task.objective.scores) == 1


@pytest.mark.parametrize("args, message", [
    (["--dataset", "nowhere.npz"], "nowhere.npz"),
    (["--ops", "rotate,spin"], "spin"),
    (["--subpolicies", "0"], "n_subpolicies"),
    (["--baselines", "none,autoaugment"], "autoaugment"),
    (["--data", "nowhere_folder/"], "nowhere_folder"),
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
