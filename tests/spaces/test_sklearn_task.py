"""The main job: `da-bridge search sklearn`, run in-process through `da_bridge.cli.main`."""

from __future__ import annotations

import pytest

from da_bridge.cli import main
from da_bridge.study.store import list_studies, load_study

FAST = ["--no-progress", "--cv", "3", "--cv-jobs", "1"]


@pytest.fixture(autouse=True)
def workdir(tmp_path, monkeypatch):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_digits_end_to_end_with_the_defaults(capsys):
    """The README's main job, with a tiny budget (the folds run in worker processes)."""
    assert main(["search", "sklearn", "--trials", "3", "--study", "digits", "--seed", "0",
                 "--models", "knn,logreg", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "study 'digits': 3 trials (3 complete)" in out
    assert "pipeline = Pipeline([" in out and "from sklearn.pipeline import Pipeline" in out
    assert "CV accuracy (5 folds)" in out and "held-out test accuracy" in out
    assert "1347 rows searched, 450 held out" in out
    study = load_study("digits")
    assert len(study.trials) == 3 and study.best_value > 0.9
    assert len(study.best_trial.user_attrs["sklearn.split_scores"]) == 5


def test_a_regression_dataset(capsys):
    assert main(["search", "sklearn", "--dataset", "diabetes", "--trials", "2",
                 "--models", "ridge", *FAST]) == 0
    out = capsys.readouterr().out
    assert "CV r2 (3 folds)" in out and "held-out test r2" in out


def test_a_csv_with_categories_and_missing_values(workdir, capsys):
    rows = ["34,52000,paris,yes,a", ",61000,berlin,no,b", "51,,paris,,a", "28,43000,,no,b",
            "45,75000,rome,yes,a", "39,58000,berlin,no,b"] * 5
    (workdir / "people.csv").write_text("age,income,city,smoker,label\n" + "\n".join(rows))
    assert main(["search", "sklearn", "--csv", "people.csv", "--target", "label",
                 "--trials", "3", "--models", "logreg,hist_gb", "--scoring", "balanced_accuracy",
                 *FAST]) == 0
    out = capsys.readouterr().out
    assert "ColumnTransformer([" in out and "OneHotEncoder(" in out
    assert "held-out test balanced_accuracy" in out


def test_resuming_keeps_the_split(capsys):
    args = ["search", "sklearn", "--dataset", "iris", "--study", "iris", "--models", "knn",
            *FAST]
    assert main([*args, "--trials", "2"]) == 0
    assert main([*args, "--trials", "4", "--resume"]) == 0
    assert len(load_study("iris").trials) == 4
    assert "iris" in list_studies(None)


@pytest.mark.parametrize("argv, reason", [
    (["--csv", "people.csv", "--target", "label"], "CSV file 'people.csv' does not exist"),
    (["--csv", "data.csv", "--target", "lable"],
     "--target 'lable' is not a column of 'data.csv'; columns: ['x', 'label']"),
    (["--csv", "data.csv"], "--csv needs --target COL"),
    (["--target", "label"], "--target and --task go with --csv FILE"),
    (["--dataset", "iris", "--models", "ridge"], "--models 'ridge': choose among"),
    (["--dataset", "iris", "--test-size", "1.5"], "--test-size must be between 0 and 1"),
])
def test_bad_input_gives_one_line_and_exit_code_2(workdir, capsys, argv, reason):
    (workdir / "data.csv").write_text("x,label\n1,a\n2,b\n")
    assert main(["search", "sklearn", "--trials", "1", *argv, *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("da-bridge: error: ") and reason in err
    assert err.count("\n") == 1


def test_count_and_help(capsys):
    assert main(["count", "sklearn", "--dataset", "iris"]) == 0
    assert capsys.readouterr().out.strip() == "inf"
    assert main(["search", "sklearn", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--dataset" in out and "--csv FILE" in out and "--target COL" in out
