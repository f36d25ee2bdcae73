"""A scikit-learn pipeline space searched with plain `hyperopt.fmin`.

`to_hyperopt(space)` compiles the built-in `classification_space()` into a native Hyperopt
expression (nested `hp.choice` for the structural choices, labelled by path), so `fmin`,
`Trials` and TPE work as in any Hyperopt script; `from_hyperopt` turns a point, or `fmin`'s
result, into the architecture, and `to_pipeline` into a scikit-learn pipeline.

    python examples/sklearn_hyperopt_fmin.py
    DA_BRIDGE_FAST=1 python examples/sklearn_hyperopt_fmin.py
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from hyperopt import STATUS_FAIL, STATUS_OK, Trials, fmin, tpe
from sklearn.datasets import load_wine
from sklearn.model_selection import StratifiedKFold, cross_val_score

from da_bridge.adapters.hyperopt import from_hyperopt, to_hyperopt
from da_bridge.spaces.sklearn import classification_space, pipeline_code, to_pipeline

FAST = bool(os.environ.get("DA_BRIDGE_FAST"))


def main() -> None:
    X, y = load_wine(return_X_y=True)
    space = classification_space(impute=False, n_features=X.shape[1])
    folds = StratifiedKFold(5, shuffle=True, random_state=0)

    def objective(point):
        pipeline = to_pipeline(from_hyperopt(space, point))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence warnings of small budgets
                accuracy = cross_val_score(pipeline, X, y, cv=folds).mean()
        except ValueError as exc:  # a pipeline that cannot fit this data
            return {"status": STATUS_FAIL, "error": str(exc)}
        return {"loss": -accuracy, "status": STATUS_OK}

    trials = Trials()
    best = fmin(objective, to_hyperopt(space), algo=tpe.suggest, max_evals=8 if FAST else 50,
                trials=trials, rstate=np.random.default_rng(0), show_progressbar=False)
    arch = from_hyperopt(space, best)
    print(f"{len(trials.trials)} evaluations, best 5-fold CV accuracy "
          f"{-min(trials.losses()):.4f}")
    print("values map:", arch.values)
    print(pipeline_code(to_pipeline(arch)))


if __name__ == "__main__":
    main()
