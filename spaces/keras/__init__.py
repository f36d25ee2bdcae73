"""Keras models as a search domain.

Layer modules (`keras_module`, `keras_function_module`, `keras_merge`), the
compiler `to_keras_model`, the blog post's `mobile_net` space and a small CNN
for 8x8 digits, and an evaluator that trains on arrays and prunes through
Optuna. Importing this package does not import Keras: layers are made only
when a model is built.
"""

from .compile import (
    KerasSearchSpace,
    check_input_shape,
    model_summary,
    to_keras_model,
)
from .datasets import load_dataset
from .evaluate import (
    ClassificationObjective,
    ParetoPoint,
    measure_latency,
    pareto_front,
)
from .mobile_net import (
    classifier_head,
    mobile_block,
    mobile_net,
    mobile_net_fragment,
)
from .modules import keras_function_module, keras_merge, keras_module
from .small_cnn import small_cnn, small_cnn_fragment

__all__ = [
    "ClassificationObjective",
    "KerasSearchSpace",
    "ParetoPoint",
    "check_input_shape",
    "classifier_head",
    "keras_function_module",
    "keras_merge",
    "keras_module",
    "load_dataset",
    "measure_latency",
    "mobile_block",
    "mobile_net",
    "mobile_net_fragment",
    "model_summary",
    "pareto_front",
    "small_cnn",
    "small_cnn_fragment",
    "to_keras_model",
]
