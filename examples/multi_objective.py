"""Trade validation accuracy against model size: a multi-objective search with NSGA-II.

Each trial trains a CNN for sklearn's digits and returns two scores, validation accuracy (to
maximize) and the parameter count (to minimize). The result is the Pareto front: the
architectures no other beats on both, each shown with its Keras summary.

    python examples/multi_objective.py                    # 40 trials, 4 epochs
    DA_BRIDGE_FAST=1 python examples/multi_objective.py   # 6 trials, 1 epoch
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow's start-up lines

import optuna  # noqa: E402

import da_bridge  # noqa: E402
from da_bridge.spaces.keras import (  # noqa: E402
    ClassificationObjective,
    load_dataset,
    pareto_front,
    small_cnn,
)

FAST = bool(os.environ.get("DA_BRIDGE_FAST"))


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    (x_train, y_train), _ = load_dataset("digits", seed=0)
    space = small_cnn(input_shape=x_train.shape[1:], n_classes=10)
    objective = ClassificationObjective(x_train, y_train, epochs=1 if FAST else 4,
                                        objectives=("val_accuracy", "params"))
    sampler = optuna.samplers.NSGAIISampler(population_size=4 if FAST else 10, seed=0)
    result = da_bridge.search(space, objective, directions=objective.directions,
                              n_trials=6 if FAST else 40, sampler=sampler,
                              storage=":memory:", seed=0)

    front = pareto_front(result, names=objective.objectives)
    print(f"Pareto front: {len(front)} of {len(result.trials)} architectures")
    for point in front:
        print(f"trial {point.number}: validation accuracy {point.scores['val_accuracy']:.4f}, "
              f"{int(point.scores['params']):,} parameters")
    print("the smallest architecture on the front:")
    print(front[-1].summary)


if __name__ == "__main__":
    main()
