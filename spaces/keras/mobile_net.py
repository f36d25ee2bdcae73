"""The blog post's `mobile_net` search space, with Keras layers.

It mirrors `da_bridge.spaces.examples.mobile_net_space` (the framework-free
stand-in): the same hyperparameters under the same path names, so a values
map found with one replays in the other.
"""

from __future__ import annotations

import functools
from typing import Any

from da_bridge import Dependent, Discrete, scope, siso_optional, siso_repeat, siso_sequential
from da_bridge._imports import require
from da_bridge.modules import Fragment, substitution

from .compile import InputShape, KerasSearchSpace
from .modules import keras_function_module, keras_module


def mobile_block(h_filters: Any, h_kernel_size: Any, h_bn_opt: Any, h_drop_opt: Any,
                 h_drop_rate: Any, stride: int) -> Fragment:
    """One MobileNet block: depthwise then pointwise convolution, each followed
    by optional batch norm, optional dropout and a ReLU.

    The batch-norm and dropout choices are the hyperparameters passed in, so
    a network that shares them makes one choice for every block.

    Args:
        h_filters: Filters of the pointwise convolution.
        h_kernel_size: Kernel size of the depthwise convolution.
        h_bn_opt: Whether to use batch normalization.
        h_drop_opt: Whether to use dropout.
        h_drop_rate: The dropout rate, exposed only where dropout is used.
        stride: The depthwise convolution's stride (2 halves the resolution).

    Example:
        >>> from da_bridge import Bool, Discrete, SearchSpace
        >>> block = lambda: mobile_block(Discrete([16, 32]), 3, Bool(name="bn"),
        ...                              False, 0.5, 1)
        >>> SearchSpace(block).count()
        4
    """
    def normalize() -> list[Fragment]:
        return [siso_optional(lambda: keras_module("BatchNormalization", name="batch_norm"),
                              h_bn_opt, name="bn"),
                siso_optional(lambda: keras_module("Dropout", {"rate": h_drop_rate}),
                              h_drop_opt, name="dropout")]

    return siso_sequential([
        keras_module("DepthwiseConv2D", {"kernel_size": h_kernel_size, "strides": stride,
                                         "padding": "same"}, name="depthwise_conv"),
        *normalize(), keras_module("ReLU", name="relu"),
        _conv(h_filters, 1, 1), *normalize(), keras_module("ReLU", name="relu")])


def mobile_net_fragment(n_classes: int = 1000) -> Fragment:
    """The blog's `mobile_net` space as a fragment, to compose into larger spaces.

    A stem convolution (stride 2), then a `block_chain` substitution over 2 or
    3 spatial reductions, each a strided `mobile_block` followed by 1 or 3
    more; after each reduction the filters are multiplied by a shared
    multiplier (1, 2 or 4), a dependent hyperparameter. Batch norm and dropout
    are chosen once for the whole network. The head is global average
    pooling and a softmax `Dense` layer.

    Example:
        >>> from da_bridge import SearchSpace
        >>> SearchSpace(mobile_net_fragment).count()
        8640
    """
    h_drop_rate = Discrete([0.5, 0.25, 0.125, 0.0625], name="drop_rate")
    h_drop_opt = Discrete([False, True], name="drop_opt")
    h_bn_opt = Discrete([False, True], name="bn_opt")
    h_kernel_size = Discrete([3, 5], name="kernel_size")
    h_multiplier = Discrete([1, 2, 4], name="filter_multiplier")
    shared = (h_kernel_size, h_bn_opt, h_drop_opt, h_drop_rate)

    def block_chain(values: dict[str, Any], h_filters: Any) -> Fragment:
        blocks = []
        for i in range(values["num_reductions"]):
            with scope(f"reduction_{i + 1}"):
                blocks.append(mobile_block(h_filters, *shared, 2))
                blocks.append(siso_repeat(functools.partial(mobile_block, h_filters, *shared, 1),
                                          Discrete([1, 3])))
            h_filters = Dependent(_times, {"filters": h_filters, "multiplier": h_multiplier})
        return siso_sequential(blocks)

    h_initial_filters = Discrete([16, 32, 64, 128], name="initial_filters")
    h_initial_kernel_size = Discrete([3, 5, 7], name="initial_kernel_size")
    return siso_sequential([
        _conv(h_initial_filters, h_initial_kernel_size, 2),
        siso_optional(lambda: keras_module("BatchNormalization", name="batch_norm"),
                      h_bn_opt, name="bn"),
        siso_optional(lambda: keras_module("Dropout", {"rate": h_drop_rate}), h_drop_opt,
                      name="dropout"),
        keras_module("ReLU", name="relu"),
        substitution("block_chain", lambda v: block_chain(v, h_initial_filters),
                     {"num_reductions": Discrete([2, 3])}),
        keras_function_module(classifier_head, {"n_classes": n_classes}, name="output"),
    ])


def mobile_net(input_shape: InputShape = (224, 224, 3), n_classes: int = 1000) -> KerasSearchSpace:
    """The blog post's `mobile_net` search space: 8,640 Keras models.

    The blog's example choices (16 initial filters, kernel 3, batch norm on,
    dropout off, 2 reductions, 1 repeat each, multiplier 1, kernel 3) give a
    model of 19,752 parameters at (224, 224, 3) with 1000 classes, as the blog
    printed. (Its printed summary shows one ReLU per block where its code has
    two; a ReLU has no parameters.)

    Args:
        input_shape: One image's shape, channels last.
        n_classes: The number of classes of the softmax output.

    Example:
        >>> space = mobile_net((32, 32, 3), 10)
        >>> space.count()
        8640
        >>> u = space.unfold()
        >>> u.next().name
        'initial_filters'
    """
    def build() -> Fragment:
        return mobile_net_fragment(n_classes)

    build.__qualname__ = f"mobile_net(n_classes={n_classes})"
    return KerasSearchSpace(build, input_shape)


def classifier_head(x: Any, n_classes: int) -> Any:
    """Global average pooling then a softmax `Dense` layer: the blog's output layer.

    Example:
        >>> import keras
        >>> classifier_head(keras.Input((4, 4, 8)), 10).shape
        (None, 10)
    """
    layers = require("keras", "keras").layers
    return layers.Dense(n_classes, activation="softmax")(layers.GlobalAveragePooling2D()(x))


def _conv(h_filters: Any, h_kernel_size: Any, stride: int) -> Fragment:
    return keras_module("Conv2D", {"filters": h_filters, "kernel_size": h_kernel_size,
                                   "strides": stride, "padding": "same"}, name="conv")


def _times(values: dict[str, Any]) -> int:
    return values["filters"] * values["multiplier"]
