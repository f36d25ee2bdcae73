"""How sure a score is: spreads recorded by real objectives, and ties among the best."""

from __future__ import annotations

import json
import random

import numpy as np
import optuna
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import StratifiedKFold, cross_val_score

from da_bridge import Discrete, SearchSpace, search
from da_bridge.errors import OptionError
from da_bridge.modules import basic
from da_bridge.spaces.sklearn import classification_space, cross_val_objective, to_pipeline
from da_bridge.spaces.sklearn.objective import SPLIT_SCORES_ATTR, quiet_fits
from da_bridge.study import CONFIRMED_ATTR, SAMPLES_ATTR, VALUES_ATTR
from da_bridge.study.noise import (
    rank,
    record_accuracy,
    record_samples,
    score_spread,
)


@pytest.fixture(scope="module")
def iris_study():
    X, y = load_iris(return_X_y=True)
    objective = cross_val_objective(X, y, cv=4, random_state=0)
    return search(classification_space(models=["knn"]), objective, n_trials=8,
                  seed=0, direction="maximize", storage=":memory:")


def test_cross_validation_records_the_folds_and_their_standard_error(iris_study):
    for trial in iris_study.trials:
        folds = np.array(trial.user_attrs[SPLIT_SCORES_ATTR])
        spread = score_spread(trial)
        assert spread.n == 4 and spread.what == "CV folds"
        assert spread.std == pytest.approx(folds.std(ddof=1))
        assert spread.se == pytest.approx(folds.std(ddof=1) / 2)
        assert trial.value == pytest.approx(folds.mean())


def test_ranking_names_the_trials_within_the_noise_of_the_best(iris_study):
    ranking = rank(iris_study.trials, maximize=True, top=5)
    assert ranking.best.number == iris_study.best_trial.number
    assert iris_study.best_spread == ranking.spread == score_spread(iris_study.best_trial)
    assert iris_study.ranking() == ranking
    best = np.array(ranking.best.user_attrs[SPLIT_SCORES_ATTR])
    seen, others = [ranking.best.user_attrs[VALUES_ATTR]], []
    for trial in iris_study.top(8)[1:]:  # the next four distinct architectures
        if trial.user_attrs[VALUES_ATTR] not in seen and len(others) < 4:
            seen.append(trial.user_attrs[VALUES_ATTR])
            others.append(trial)
    expected = []
    for trial in others:  # same folds: a paired comparison
        differences = best - np.array(trial.user_attrs[SPLIT_SCORES_ATTR])
        if abs(differences.mean()) <= 2 * differences.std(ddof=1) / 2:
            expected.append(trial.number)
    assert [t.number for t in ranking.ties] == expected and ranking.compared == len(others)
    note = ranking.note()
    if expected:
        assert "not clearly better" in note and str(expected[0]) in note
    else:
        assert "ahead of the next" in note


def _study_with(values: list[float], samples: list[list[float]]) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    for i, (value, folds) in enumerate(zip(values, samples)):
        trial = study.ask()
        trial.set_user_attr(VALUES_ATTR, {"x": i})
        record_samples(trial, folds, "CV folds")
        study.tell(trial, value)
    return study


def test_clear_winner_and_tie_read_differently():
    clear = _study_with([0.95, 0.80], [[0.94, 0.95, 0.96], [0.79, 0.80, 0.81]])
    ranking = rank(clear.trials, maximize=True)
    assert ranking.ties == () and ranking.note().startswith("The best trial (0) is ahead")
    tie = _study_with([0.90, 0.89], [[0.80, 0.95, 0.95], [0.79, 0.94, 0.94]])
    # paired: trial 1 is below on every fold by exactly 0.01, so the difference is real
    assert rank(tie.trials, maximize=True).ties == ()
    noisy = _study_with([0.90, 0.89], [[0.80, 0.95, 0.95], [0.95, 0.80, 0.92]])
    ranking = rank(noisy.trials, maximize=True)
    assert [t.number for t in ranking.ties] == [1]
    assert "trial 1 score within 2 standard errors" in ranking.note()


def test_accuracy_over_items_has_the_binomial_standard_error():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    for accuracy in (0.912, 0.908, 0.85):
        trial = study.ask()
        study.tell(trial, record_accuracy(trial, accuracy, 500))
    spread = score_spread(study.trials[0])
    assert spread.se == pytest.approx((0.912 * 0.088 / 500) ** 0.5) and spread.n == 500
    ranking = rank(study.trials, maximize=True)
    assert [t.number for t in ranking.ties] == [1]  # 2 images of 500 apart
    with pytest.raises(ValueError, match="0 <= accuracy <= 1"):
        record_accuracy(study.ask(), 1.5, 10)
    with pytest.raises(ValueError, match="at least two finite scores"):
        record_samples(study.ask(), [0.5], "seeds")


def test_repeated_evaluations_of_one_architecture_give_its_spread():
    def build():
        return basic("pick", lambda values: (lambda inputs: {"out": inputs["in"]}),
                     {"x": Discrete([0, 1])})

    noise = random.Random(0)

    def objective(arch):
        return arch.values["pick.x"] + noise.gauss(0, 0.3)

    result = search(SearchSpace(build), objective, "random", n_trials=12, seed=1,
                    direction="maximize", storage=":memory:")
    ranking = rank(result.trials, maximize=True)
    same = [t.value for t in result.trials
            if t.user_attrs[VALUES_ATTR] == ranking.best.user_attrs[VALUES_ATTR]]
    assert len(same) >= 2 and SAMPLES_ATTR not in ranking.best.user_attrs
    assert ranking.spread.what == "evaluations of this architecture"
    assert ranking.spread.std == pytest.approx(np.std(same, ddof=1))


def test_confirm_reevaluates_the_best_and_names_the_best_on_the_means():
    X, y = load_iris(return_X_y=True)
    objective = cross_val_objective(X, y, cv=3, random_state=0)
    result = search(classification_space(models=["knn"]), objective, n_trials=6, seed=3,
                    direction="maximize", storage=":memory:")
    calls = []

    def evaluate(arch, seed):
        calls.append((json.dumps(arch.json_values(), sort_keys=True), seed))
        folds = StratifiedKFold(3, shuffle=True, random_state=seed)
        with quiet_fits():  # k > n_features on iris is expected here
            return list(cross_val_score(to_pipeline(arch), X, y, cv=folds))

    ranking = result.confirm(3, evaluate, seeds=[1, 2])
    confirmed = result.study.user_attrs[CONFIRMED_ATTR]
    assert len(confirmed) == 3 and len(calls) == 6 and {s for _, s in calls} == {1, 2}
    means = {int(n): np.mean(e["samples"]) for n, e in confirmed.items()}
    assert all(len(e["samples"]) == 6 for e in confirmed.values())
    assert ranking.confirmed and ranking.best.number == max(means, key=means.get)
    assert result.best_trial.number == ranking.best.number
    assert ranking.score == pytest.approx(max(means.values()))
    searched = sorted(result.trials, key=lambda t: t.value, reverse=True)
    assert str(searched[0].number) in confirmed  # the search's best is among the re-evaluated
    assert ranking.note().startswith("After re-evaluation, the best trial")
    with pytest.raises(OptionError, match="k >= 1"):
        result.confirm(0, evaluate)
