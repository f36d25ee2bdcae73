"""scikit-learn pipelines as a search space, searched with Optuna.

Part 1 writes a pipeline space in a few lines (an optional scaler, a choice of feature
step including a union of two, a model choice whose hyperparameters appear only when it
is chosen) and searches it from a plain Optuna objective with `suggest_architecture`.
Part 2 searches the built-in `classification_space()` with `ArchitectureSearchCV`, a
scikit-learn estimator, and scores the refit best pipeline on held-out data.

    python examples/sklearn_pipeline.py          # a few minutes on 2 cores
    DA_BRIDGE_FAST=1 python examples/sklearn_pipeline.py
"""

from __future__ import annotations

import os
import warnings

import optuna
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from da_bridge import (
    Bool,
    Discrete,
    Float,
    Int,
    SearchSpace,
    siso_optional,
    siso_or,
    siso_sequential,
)
from da_bridge.adapters.optuna import suggest_architecture
from da_bridge.spaces.sklearn import (
    ArchitectureSearchCV,
    classification_space,
    pipeline_code,
    siso_union,
    sklearn_module,
    to_pipeline,
)

FAST = bool(os.environ.get("DA_BRIDGE_FAST"))


def build():
    def pca():
        return sklearn_module(PCA, {"n_components": Float(0.6, 0.99)})

    def select():
        return sklearn_module(SelectKBest, {"k": Int(8, 64, log=True)})

    return siso_sequential([
        siso_optional(lambda: sklearn_module(StandardScaler), Bool(), name="scale"),
        siso_or({"pca": pca, "select": select,
                 "both": lambda: siso_union({"pca": pca, "select": select})},
                Discrete(["pca", "select", "both"]), name="features"),
        siso_or({"svc": lambda: sklearn_module(SVC, {"C": Float(1e-2, 1e3, log=True),
                                                     "gamma": Float(1e-4, 1.0, log=True)}),
                 "logreg": lambda: sklearn_module(LogisticRegression, {
                     "C": Float(1e-3, 1e3, log=True), "max_iter": 500})},
                Discrete(["svc", "logreg"]), name="model"),
    ])


def optuna_search(X, y) -> None:
    space = SearchSpace(build)

    def objective(trial: optuna.Trial) -> float:
        pipeline = to_pipeline(suggest_architecture(trial, space))
        return cross_val_score(pipeline, X, y, cv=3).mean()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(multivariate=True,
                                                                   group=True, seed=0))
    study.optimize(objective, n_trials=6 if FAST else 30)
    best = space.replay(study.best_trial.user_attrs["da_bridge.values"])
    print(f"part 1, plain Optuna: {len(study.trials)} trials, best 3-fold CV accuracy "
          f"{study.best_value:.4f}")
    print(pipeline_code(to_pipeline(best)))


def search_cv(X, y) -> None:
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    search = ArchitectureSearchCV(classification_space(n_features=X.shape[1], impute=False),
                                  n_trials=4 if FAST else 25, cv=3 if FAST else 5, n_jobs=2,
                                  random_state=0)
    search.fit(X_train, y_train)
    print(f"\npart 2, ArchitectureSearchCV: {search.n_trials_} trials, best CV accuracy "
          f"{search.best_score_:.4f}, held-out accuracy {search.score(X_test, y_test):.4f}")
    print("best values map:", search.best_params_)
    print(search.best_estimator_)


if __name__ == "__main__":
    # digits has blank pixels: SelectKBest's F-test warns about constant features
    warnings.filterwarnings("ignore", message="Features .* are constant")
    warnings.filterwarnings("ignore", message="invalid value encountered", category=RuntimeWarning)
    X, y = load_digits(return_X_y=True)
    if FAST:
        X, y = X[:500], y[:500]
    optuna_search(X, y)
    search_cv(X, y)
