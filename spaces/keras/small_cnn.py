"""A small convolutional search space sized for 8x8 images such as sklearn's digits."""

from __future__ import annotations

from da_bridge import Bool, Discrete, siso_optional, siso_repeat, siso_sequential
from da_bridge.modules import Fragment

from .compile import InputShape, KerasSearchSpace
from .modules import keras_module


def small_cnn_fragment(n_classes: int = 10) -> Fragment:
    """1 to 3 convolution blocks, optional pooling, an optional hidden layer, a softmax.

    Each block is a `same`-padded convolution with its own filters (8 to 64)
    and kernel size (3 or 5), an optional batch norm and an activation; the
    batch-norm choice (`batch_norm`) and the activation (`activation`) are
    shared by all blocks and the hidden layer. Then an optional 2x2 max
    pooling, `Flatten`, an optional `Dense` hidden layer, an optional dropout
    and the softmax output.

    Example:
        >>> from da_bridge import SearchSpace
        >>> SearchSpace(small_cnn_fragment).count()
        112128
    """
    h_batch_norm = Bool(name="batch_norm")
    h_activation = Discrete(["relu", "elu", "gelu"], name="activation")

    def conv_block() -> Fragment:
        return siso_sequential([
            keras_module("Conv2D", {"filters": Discrete([8, 16, 32, 64]),
                                    "kernel_size": Discrete([3, 5]), "padding": "same"},
                         name="conv"),
            siso_optional(lambda: keras_module("BatchNormalization", name="batch_norm"),
                          h_batch_norm, name="bn"),
            keras_module("Activation", {"activation": h_activation}, name="activation"),
        ])

    def hidden() -> Fragment:
        return keras_module("Dense", {"units": Discrete([32, 64, 128]),
                                      "activation": h_activation}, name="dense")

    return siso_sequential([
        siso_repeat(conv_block, Discrete([1, 2, 3]), name="blocks"),
        siso_optional(lambda: keras_module("MaxPooling2D", {"pool_size": 2}, name="max_pool"),
                      Bool(), name="pool"),
        keras_module("Flatten", name="flatten"),
        siso_optional(hidden, Bool(), name="hidden"),
        siso_optional(lambda: keras_module("Dropout", {"rate": Discrete([0.1, 0.25, 0.5])}),
                      Bool(), name="dropout"),
        keras_module("Dense", {"units": n_classes, "activation": "softmax"}, name="classifier"),
    ])


def small_cnn(input_shape: InputShape = (8, 8, 1), n_classes: int = 10) -> KerasSearchSpace:
    """A small CNN space for 8x8 images (sklearn's digits): 112,128 models.

    Args:
        input_shape: One image's shape, channels last.
        n_classes: The number of classes of the softmax output.

    Example:
        >>> space = small_cnn()
        >>> space.input_shape
        (8, 8, 1)
        >>> sorted(space.sample(0).values)[:3]
        ['activation', 'batch_norm', 'blocks.n']
    """
    def build() -> Fragment:
        return small_cnn_fragment(n_classes)

    build.__qualname__ = f"small_cnn(n_classes={n_classes})"
    return KerasSearchSpace(build, input_shape)
