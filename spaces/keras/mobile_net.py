"""The blog post's `mobile_net` search space, with Keras layers.

The structure is the framework-free `da_bridge.spaces.examples.mobile_net_fragment`'s, given
Keras layers: the same hyperparameters under the same path names, so a values map found with
one replays in the other.
"""

from __future__ import annotations

from typing import Any

from da_bridge._imports import require
from da_bridge.errors import SpaceError
from da_bridge.modules import Fragment
from da_bridge.spaces import examples

from .compile import InputShape, KerasSearchSpace
from .modules import keras_function_module, keras_module


def mobile_block(h_filters: Any, h_kernel_size: Any, h_bn_opt: Any, h_drop_opt: Any,
                 h_drop_rate: Any, stride: int) -> Fragment:
    """One MobileNet block of Keras layers (see `da_bridge.spaces.examples.mobile_block`).

    Example:
        >>> from da_bridge import Bool, Discrete, SearchSpace
        >>> block = lambda: mobile_block(Discrete([16, 32]), 3, Bool(name="bn"),
        ...                              False, 0.5, 1)
        >>> SearchSpace(block).count()
        4
    """
    return examples.mobile_block(h_filters, h_kernel_size, h_bn_opt, h_drop_opt, h_drop_rate,
                                 stride, keras_layer)


def mobile_net_fragment(n_classes: int = 1000) -> Fragment:
    """The blog's `mobile_net` space of Keras layers, to compose into larger spaces.

    The structure is `da_bridge.spaces.examples.mobile_net_fragment`'s; the head is
    global average pooling and a softmax `Dense` layer.

    Example:
        >>> from da_bridge import SearchSpace
        >>> SearchSpace(mobile_net_fragment).count()
        8640
    """
    return examples.mobile_net_fragment(n_classes, keras_layer)


def keras_layer(kind: str, properties: dict[str, Any]) -> Fragment:
    """The Keras layer for one layer kind of the mobile_net structure.

    Example:
        >>> from da_bridge import SearchSpace
        >>> SearchSpace(lambda: keras_layer("relu", {})).replay({}).to_json()["modules"][0]["name"]
        'relu'
    """
    if kind in ("conv", "depthwise_conv"):
        layer = "Conv2D" if kind == "conv" else "DepthwiseConv2D"
        return keras_module(layer, {**properties, "padding": "same"}, name=kind)
    if kind == "output":
        return keras_function_module(classifier_head, {"n_classes": properties["classes"]},
                                     name="output")
    layers = {"batch_norm": "BatchNormalization", "dropout": "Dropout", "relu": "ReLU"}
    if kind not in layers:
        raise SpaceError(f"mobile_net has no layer kind {kind!r}; known: "
                         f"{sorted([*layers, 'conv', 'depthwise_conv', 'output'])}")
    return keras_module(layers[kind], properties, name=kind)


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
