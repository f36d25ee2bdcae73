"""Search an augmentation policy for 300 training digits, then train a CNN with it in Keras.

The policy space is built from da_bridge's augmentation modules and the engine's
combinators: each image goes through one of two searched sub-policies (two geometric ops,
each with its own probability and magnitude), then maybe a cutout. Optuna searches it with
a fast proxy, an RBF SVC trained on the 300 images plus 4 augmented copies; the best policy
is drawn to a PNG and compiled to a Keras layer that augments every batch while a small CNN
trains.

    python examples/augment_policy.py                    # 40 trials, 60 CNN epochs: ~2 minutes
    DA_BRIDGE_FAST=1 python examples/augment_policy.py   # 6 trials, 2 epochs
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow's start-up lines

import optuna  # noqa: E402

import da_bridge  # noqa: E402
from da_bridge import Bool, Discrete, SearchSpace, siso_optional, siso_sequential  # noqa: E402
from da_bridge.spaces.augment import (  # noqa: E402
    PROBABILITIES,
    CNNEvaluator,
    SklearnEvaluator,
    augment_op,
    load_data,
    op_choice,
    random_apply,
    random_choice,
    save_policy_grid,
    to_policy,
)
from da_bridge.study.store import runs_dir  # noqa: E402

FAST = bool(os.environ.get("DA_BRIDGE_FAST"))
GEOMETRIC = ["identity", "rotate", "shear_x", "shear_y", "translate_x", "translate_y", "zoom"]


def subpolicy():
    """Two geometric ops in turn, each applied with its own searched probability."""
    return siso_sequential([
        random_apply(lambda: op_choice(GEOMETRIC), Discrete(PROBABILITIES), name=f"step{j}")
        for j in range(2)])


def digit_policy():
    """One of two sub-policies per image, then (searched) a cutout on half of the images."""
    return siso_sequential([
        random_choice([subpolicy, subpolicy], name="subpolicy"),
        siso_optional(lambda: random_apply(lambda: augment_op("cutout"), 0.5), Bool(),
                      name="cutout"),
    ])


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = SearchSpace(digit_policy)
    data = load_data("digits", train_size=300, valid_size=500, seed=0)
    print(f"{space.count():,} policies; {len(data.x_train)} training, {len(data.x_valid)} "
          f"validation and {len(data.x_test)} test digits")

    evaluator = SklearnEvaluator(data, copies=4, seed=0)
    result = da_bridge.search(space, evaluator, direction="maximize",
                              n_trials=6 if FAST else 40, storage=":memory:", seed=0)
    best = result.best_architecture
    policy = to_policy(best, value_range=data.value_range)
    print(f"SVC validation accuracy: no augmentation {evaluator(None):.4f}, "
          f"best policy {result.best_score:.4f}")
    print(f"SVC test accuracy:       no augmentation {evaluator.score(None, on='test'):.4f}, "
          f"best policy {evaluator.score(best, on='test'):.4f}")
    print(policy.describe(multiline=True))
    path = save_policy_grid(policy, data.x_train[:8], runs_dir() / "augment_policy.png")
    print(f"picture of the best policy: {path}")

    # The same policy as a Keras layer in front of a small CNN: fresh draws every batch.
    cnn = CNNEvaluator(data, epochs=2 if FAST else 60, online=True, seed=0)
    print(f"CNN test accuracy:       no augmentation {cnn.score(None, on='test'):.4f}, "
          f"best policy as a Keras layer {cnn.score(best, on='test'):.4f}")


if __name__ == "__main__":
    main()
