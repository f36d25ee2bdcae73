"""Data-augmentation policies as a search domain (AutoAugment- and RandAugment-like).

Ops are basic modules with their own magnitude (`augment_op`, `op_choice`);
`random_apply` and `random_choice` are the run-time random gates and choices;
`autoaugment_space` and `randaugment_space` are ready-made spaces, and the
engine's combinators compose your own. `to_policy` compiles an architecture
to a numpy callable `policy(images, rng)`, `to_keras_layer` to a Keras layer
with the same behaviour; `SklearnEvaluator` and `CNNEvaluator` score policies
on a small labelled set (`load_data`: built-in sets, an image folder, an `.npz`).

Example:
    >>> import numpy as np
    >>> arch = randaugment_space().replay({"n": 2, "magnitude": 0.3})
    >>> policy = to_policy(arch, value_range=(0, 16))
    >>> policy(np.full((4, 8, 8, 1), 8.0), rng=0).shape
    (4, 8, 8, 1)
"""

from .compile import Policy, canonical_key, program, to_keras_layer, to_policy
from .data import AugmentData, load_data, read_image_folder
from .evaluate import CNNEvaluator, SklearnEvaluator, augmented_training_set
from .plot import save_policy_grid
from .policy import (
    DEFAULT_OPS,
    MAGNITUDES,
    PROBABILITIES,
    augment_op,
    autoaugment_space,
    op_choice,
    pick,
    randaugment_space,
    random_apply,
    random_choice,
)

__all__ = [
    "AugmentData",
    "CNNEvaluator",
    "DEFAULT_OPS",
    "MAGNITUDES",
    "PROBABILITIES",
    "Policy",
    "SklearnEvaluator",
    "augment_op",
    "augmented_training_set",
    "canonical_key",
    "autoaugment_space",
    "load_data",
    "op_choice",
    "pick",
    "program",
    "randaugment_space",
    "read_image_folder",
    "random_apply",
    "random_choice",
    "save_policy_grid",
    "to_keras_layer",
    "to_policy",
]
