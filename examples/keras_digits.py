"""Search a CNN for sklearn's 8x8 digits with Optuna TPE, pruning bad trials after each epoch.

Every trial trains one architecture of the small CNN space for a few epochs; Optuna's median
pruner stops trials whose validation accuracy falls behind. The best architecture is then
retrained and scored on the held-out test images. The sampler is da_bridge's default, TPE
with multivariate, grouped modelling of the conditional choices.

    python examples/keras_digits.py                    # 30 trials, 6 epochs: a few minutes on CPU
    DA_BRIDGE_FAST=1 python examples/keras_digits.py   # 4 trials, 2 epochs
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow's start-up lines

import optuna  # noqa: E402

import da_bridge  # noqa: E402
from da_bridge.spaces.keras import (  # noqa: E402
    ClassificationObjective,
    load_dataset,
    model_summary,
    small_cnn,
    to_keras_model,
)

FAST = bool(os.environ.get("DA_BRIDGE_FAST"))


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    (x_train, y_train), (x_test, y_test) = load_dataset("digits", seed=0)
    space = small_cnn(input_shape=x_train.shape[1:], n_classes=10)
    print(f"{space.count():,} architectures; {len(x_train)} training and {len(x_test)} test images")

    # A fifth of the training images is held out for validation, the same for every trial.
    objective = ClassificationObjective(x_train, y_train, epochs=2 if FAST else 6, seed=0)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2 if FAST else 5, n_warmup_steps=1)
    result = da_bridge.search(space, objective, direction="maximize",
                              n_trials=4 if FAST else 30, pruner=pruner,
                              storage=":memory:", seed=0)

    states = [t.state.name for t in result.trials]
    print(f"{states.count('COMPLETE')} trials completed, {states.count('PRUNED')} pruned")
    print(f"best validation accuracy {result.best_score:.4f} with {result.best_values}")

    best = result.best_architecture
    print(model_summary(to_keras_model(best, space.input_shape)))
    model = objective.train(best)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy of the best architecture: {accuracy:.4f}")


if __name__ == "__main__":
    main()
