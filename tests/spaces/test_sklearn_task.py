"""The main job: `da-bridge search sklearn`, run in-process through `da_bridge.cli.main`."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest
from messy import messy_frame

from da_bridge.cli import main
from da_bridge.cli.search import _budget
from da_bridge.spaces.sklearn import load_model
from da_bridge.spaces.sklearn.task import DEFAULT_TIMEOUT, add_arguments
from da_bridge.study.store import list_studies, load_study
from da_bridge.study.tasks import Task, make_task

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
    assert "pipeline = Pipeline([" in out and "from sklearn.pipeline import " in out
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
    assert "3 trials (3 complete)" in out and "TabularEncoder()" in out
    assert "held-out test balanced_accuracy" in out


@pytest.mark.parametrize("regression", [False, True])
def test_a_messy_csv_needs_no_argument_about_its_columns(workdir, capsys, regression):
    """Strings, booleans, an ID-like column, an empty column, missing values everywhere and
    a string target: the CLI searches the same space as the API, and no trial fails."""
    X, y = messy_frame(80, regression=regression)
    X.assign(target=y).to_csv(workdir / "messy.csv", index=False)
    assert main(["search", "sklearn", "--csv", "messy.csv", "--target", "target",
                 "--trials", "4", "--study", "messy", "--models",
                 "ridge,knn" if regression else "logreg,knn", *FAST]) == 0
    out = capsys.readouterr().out
    assert "4 trials (4 complete)" in out
    assert ("held-out test r2" if regression else "held-out test accuracy") in out
    # the model is saved beside the journal; `predict` labels new rows with it
    model = workdir / "runs" / "messy.joblib"
    assert f"model (fitted on the searched rows): {model}" in out
    new, _ = messy_frame(7, seed=3, regression=regression)
    new.to_csv(workdir / "new.csv", index=False)
    assert main(["predict", str(model), "--csv", "new.csv", "--output", "out.csv"]) == 0
    predicted = pd.read_csv(workdir / "out.csv")
    assert list(predicted.columns) == [*new.columns, "target_predicted"]
    assert len(predicted) == 7
    if not regression:
        assert set(predicted["target_predicted"]) <= {"yes", "no"}


def test_a_search_whose_trials_all_fail_stops_with_one_line(workdir, capsys):
    # roc_auc needs two classes; iris has three, so every pipeline fails alike
    assert main(["search", "sklearn", "--dataset", "iris", "--models", "knn", "--trials", "30",
                 "--scoring", "roc_auc", *FAST]) == 2
    last = capsys.readouterr().err.splitlines()[-1]  # after one line per failed trial
    assert last.startswith("da-bridge: error: 10 of 10 trials failed, so the search stopped: ")
    assert "ValueError: multi_class must be in ('ovo', 'ovr') (10 trials)" in last
    assert "Fix: " in last


def test_the_main_job_searches_for_a_minute_unless_told_otherwise():
    task = make_task("sklearn", _options(["--dataset", "iris"]))
    assert task.timeout == DEFAULT_TIMEOUT == 60
    assert _budget(None, None, task) == (None, 60)
    assert _budget(5, None, task) == (5, None)
    assert _budget(None, 10.0, task) == (None, 10.0)
    assert _budget(None, None, Task(task.space)) == (20, None)


def test_a_short_budget_counts_only_the_trials_that_ran(capsys):
    # the budget ends during the first trials: the starting pipelines left unrun stay
    # enqueued (WAITING) in the study but are not trials of this search
    assert main(["search", "sklearn", "--dataset", "digits", "--timeout", "0.5",
                 "--study", "short", *FAST]) == 0
    out = capsys.readouterr().out
    ran = [t for t in load_study("short").trials if t.state.name != "WAITING"]
    states = {t.state.name for t in ran}
    assert "waiting" not in out and states <= {"COMPLETE", "PRUNED"}
    assert f"study 'short': {len(ran)} trials (" in out


def _options(argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_save_path_and_no_save(workdir, capsys):
    args = ["search", "sklearn", "--dataset", "iris", "--models", "knn", "--trials", "1", *FAST]
    assert main([*args, "--study", "a", "--save", "models/iris.joblib"]) == 0
    capsys.readouterr()
    assert load_model(workdir / "models" / "iris.joblib").predict([[5.0, 3.4, 1.5, 0.2]]) == [0]
    assert main([*args, "--study", "b", "--no-save"]) == 0
    assert "model (fitted" not in capsys.readouterr().out
    assert not (workdir / "runs" / "b.joblib").exists()


def test_predict_says_what_is_wrong(workdir, capsys):
    (workdir / "junk.joblib").write_text("not a model")
    assert main(["predict", "junk.joblib", "--csv", "x.csv"]) == 2
    assert "'junk.joblib' is not a saved model" in capsys.readouterr().err
    assert main(["predict", "none.joblib", "--csv", "x.csv"]) == 2
    assert "model file 'none.joblib' does not exist" in capsys.readouterr().err


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
