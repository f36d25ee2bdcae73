"""The NASNet search space: normal and reduction cells of B blocks, compiled to Keras.

Zoph, Vasudevan, Shlens and Le, "Learning Transferable Architectures for
Scalable Image Recognition", CVPR 2018. A cell takes the outputs of the two
previous cells, `h[0]` (two cells back) and `h[1]` (the previous one). Each of
its B blocks picks two inputs among `h[0]`, `h[1]` and the outputs of the
earlier blocks (`h[2]`, `h[3]`, ...), applies one operation to each and adds
the results; the block outputs that no other block uses are concatenated into
the cell's output. A reduction cell applies its operations with stride 2 to
the cell inputs. The network is a stem, then stacks of normal cells with a
reduction cell between stacks (filters double at each reduction), then global
pooling and a softmax. Every normal cell has the same structure, and so has
every reduction cell: the choices are hyperparameters shared by all the
cells of a kind (`normal/block_0.input_0`, `reduction/block_2.op_1`).

Each block is a substitution module: which states feed it is known only once
its two input choices have values, and only then are its operations (and
their choices) revealed. The cell's output module reads the input choices to
join only the unused block outputs. Blocks always combine by addition, as in
NASNet-A. Keras is imported only when a model is built (`to_keras_model`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from da_bridge import Discrete, identity, scope, substitution
from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import SpaceError
from da_bridge.modules import Fragment
from da_bridge.spaces.keras import (
    KerasSearchSpace,
    classifier_head,
    keras_function_module,
    keras_merge,
)
from da_bridge.spaces.keras.compile import InputShape

#: The 13 operations of the NASNet search space (Zoph et al., 2018, section 3).
OPERATIONS = ("identity", "conv_1x3_3x1", "conv_1x7_7x1", "dil_conv_3x3", "avg_pool_3x3",
              "max_pool_3x3", "max_pool_5x5", "max_pool_7x7", "conv_1x1", "conv_3x3",
              "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7")
KINDS = ("normal", "reduction")


def nasnet_fragment(n_classes: int = 10, *, num_blocks: int = 5, num_normal: int = 2,
                    num_reductions: int = 2, filters: int = 16,
                    operations: Sequence[str] = OPERATIONS) -> Fragment:
    """The NASNet network as a fragment: stem, stacks of cells, classifier.

    Args:
        n_classes: Classes of the softmax output.
        num_blocks: B, the blocks per cell.
        num_normal: N, the normal cells per stack.
        num_reductions: Reduction cells (stacks minus one).
        filters: Filters of the first stack; doubled at each reduction.
        operations: The candidate operations, a subset of `OPERATIONS`.

    Example:
        >>> from da_bridge import SearchSpace
        >>> space = SearchSpace(lambda: nasnet_fragment(num_blocks=1, num_normal=1,
        ...                                             num_reductions=0))
        >>> [m.path for m in space.sample(0).modules][:2]
        ['stem', 'cell_0_normal/prepare']
    """
    _check_arguments(n_classes, num_blocks, num_normal, num_reductions, filters, operations)
    cells = {kind: _cell_hyperparameters(kind, num_blocks, tuple(operations)) for kind in KINDS}
    stem_in, stem_out = keras_function_module(_stem, {"filters": filters}, name="stem")
    prev_prev = prev = stem_out["out"]
    index = 0
    for stack in range(num_reductions + 1):
        width = filters * 2 ** stack
        kinds = ["normal"] * num_normal + (["reduction"] if stack < num_reductions else [])
        for kind in kinds:
            width = width * 2 if kind == "reduction" else width
            cell_in, cell_out = _cell(f"cell_{index}_{kind}", kind, cells[kind], width)
            prev_prev.connect(cell_in["prev_prev"])
            prev.connect(cell_in["in"])
            prev_prev, prev, index = prev, cell_out["out"], index + 1
    head_in, head_out = keras_function_module(_head, {"n_classes": n_classes}, name="head")
    prev.connect(head_in["in"])
    return stem_in, head_out


def nasnet_space(input_shape: InputShape = (32, 32, 3), n_classes: int = 10, *,
                 num_blocks: int = 5, num_normal: int = 2, num_reductions: int = 2,
                 filters: int = 16, operations: Sequence[str] = OPERATIONS) -> KerasSearchSpace:
    """The NASNet cell space (Zoph et al., CVPR 2018) as a Keras search space.

    Example:
        >>> space = nasnet_space((8, 8, 1), num_blocks=2, operations=["identity", "conv_3x3"])
        >>> space.count() == ((2 * 2) * (3 * 3) * 2 ** 4) ** 2
        True
        >>> space.unfold().next().name
        'normal/block_0.input_0'
    """
    operations = tuple(operations)
    _check_arguments(n_classes, num_blocks, num_normal, num_reductions, filters, operations)

    def build() -> Fragment:
        return nasnet_fragment(n_classes, num_blocks=num_blocks, num_normal=num_normal,
                               num_reductions=num_reductions, filters=filters,
                               operations=operations)

    build.__qualname__ = f"nasnet(num_blocks={num_blocks}, num_normal={num_normal})"
    return KerasSearchSpace(build, input_shape)


def genotype(arch: Architecture | Mapping[str, Any]) -> dict[str, list[tuple]]:
    """Each cell kind's blocks as `(input_0, op_0, input_1, op_1)` tuples.

    Example:
        >>> space = nasnet_space((8, 8, 1), num_blocks=1, operations=["identity"])
        >>> genotype(space.sample(0))["normal"][0][1]
        'identity'
    """
    values = arch.values if isinstance(arch, Architecture) else arch
    cells: dict[str, list[tuple]] = {}
    for kind in KINDS:
        b = 0
        while f"{kind}/block_{b}.op_0" in values:
            cells.setdefault(kind, []).append(tuple(
                values[f"{kind}/block_{b}.{part}_{k}"] for k in (0, 1) for part in ("input", "op")))
            b += 1
    return cells


def _cell_hyperparameters(kind: str, num_blocks: int, operations: tuple[str, ...]
                          ) -> list[dict[str, Discrete]]:
    """The choices every cell of one kind shares, one dict per block."""
    blocks = []
    with scope(kind):
        for b in range(num_blocks):
            choices = {f"input_{k}": Discrete(range(b + 2), name=f"block_{b}.input_{k}")
                       for k in (0, 1)}
            choices.update({f"op_{k}": Discrete(operations, name=f"block_{b}.op_{k}")
                            for k in (0, 1)})
            blocks.append(choices)
    return blocks


def _cell(name: str, kind: str, blocks: list[dict[str, Discrete]], width: int) -> Fragment:
    """A cell: both inputs prepared, then its blocks, then the unused block outputs joined."""
    with scope(name):
        prep_in, prep_out = keras_function_module(
            _prepare, {"filters": width}, name="prepare", inputs=("prev_prev", "in"),
            outputs=("h0", "h1"))
        states = [prep_out["h0"], prep_out["h1"]]
        for b, choices in enumerate(blocks):
            block_in, block_out = _block(b, choices, kind == "reduction", width)
            for i, state in enumerate(states):
                state.connect(block_in[f"in{i}"])
            states.append(block_out["out"])
        sources = {f"input_{b}_{k}": choices[f"input_{k}"]
                   for b, choices in enumerate(blocks) for k in (0, 1)}
        concat_in, concat_out = keras_function_module(
            _concat_unused, sources, name="concat_unused",
            inputs=[f"in{b}" for b in range(len(blocks))])
        for b, state in enumerate(states[2:]):
            state.connect(concat_in[f"in{b}"])
    return prep_in, concat_out


def _block(b: int, choices: dict[str, Discrete], reduction: bool, width: int) -> Fragment:
    """Block `b`: a substitution that wires its two chosen inputs to its two operations.

    Its inputs are every state it may pick (`in0` .. `in{b+1}`); only the picked
    ones are connected to something once it is substituted.
    """
    def build(values: dict[str, Any]) -> Fragment:
        forks = [identity(f"state_{i}") for i in range(b + 2)]
        add_in, add_out = keras_merge("add", 2, name="add")
        for k in (0, 1):
            source = values[f"input_{k}"]
            op_in, op_out = keras_function_module(
                _operation, {"op": choices[f"op_{k}"], "filters": width,
                             "strides": 2 if reduction and source < 2 else 1}, name=f"op_{k}")
            forks[source][1]["out"].connect(op_in["in"])
            op_out["out"].connect(add_in[f"in{k}"])
        return {f"in{i}": fork_in["in"] for i, (fork_in, _) in enumerate(forks)}, add_out

    inputs = {f"input_{k}": choices[f"input_{k}"] for k in (0, 1)}
    return substitution(f"block_{b}", build, inputs, inputs=[f"in{i}" for i in range(b + 2)])


def _concat_unused(*block_outputs: Any, **sources: int) -> Any:
    used = set(sources.values())
    unused = [x for b, x in enumerate(block_outputs) if b + 2 not in used]
    if len(unused) == 1:
        return unused[0]
    return require("keras", "keras").layers.Concatenate()(unused)


def _stem(x: Any, filters: int) -> Any:
    layers = require("keras", "keras").layers
    return layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(x))


def _head(x: Any, n_classes: int) -> Any:
    layers = require("keras", "keras").layers
    return classifier_head(layers.Activation("relu")(x), n_classes)


def _prepare(prev_prev: Any, prev: Any, filters: int) -> dict[str, Any]:
    """Both cell inputs to `filters` channels and the same spatial size."""
    reduce = prev_prev.shape[1] is not None and prev.shape[1] is not None and \
        prev_prev.shape[1] > prev.shape[1]
    return {"h0": _relu_conv_bn(prev_prev, filters, 1, 2 if reduce else 1),
            "h1": _relu_conv_bn(prev, filters, 1, 1)}


def _operation(x: Any, op: str, filters: int, strides: int) -> Any:
    layers = require("keras", "keras").layers
    if op == "identity":
        return x if strides == 1 else _relu_conv_bn(x, filters, 1, strides)
    if op.startswith(("avg_pool", "max_pool")):
        size = int(op[-1])
        pool = layers.AveragePooling2D if op.startswith("avg") else layers.MaxPooling2D
        return pool(size, strides=strides, padding="same")(x)
    if op.startswith("sep_conv"):
        size = int(op[-1])
        x = _relu_conv_bn(x, filters, size, strides, layer=layers.SeparableConv2D)
        return _relu_conv_bn(x, filters, size, 1, layer=layers.SeparableConv2D)
    if op == "dil_conv_3x3":  # Keras convolutions take a dilation or a stride, not both
        x = _relu_conv_bn(x, filters, 3, 1, dilation_rate=2)
        return layers.MaxPooling2D(1, strides=strides, padding="same")(x)
    if op in ("conv_1x3_3x1", "conv_1x7_7x1"):
        size = int(op[len("conv_1x")])
        x = _relu_conv_bn(x, filters, (1, size), (1, strides))
        return _relu_conv_bn(x, filters, (size, 1), (strides, 1))
    return _relu_conv_bn(x, filters, int(op[-1]), strides)


def _relu_conv_bn(x: Any, filters: int, size: Any, strides: Any, *, layer: Any = None,
                  **kwargs: Any) -> Any:
    layers = require("keras", "keras").layers
    conv = (layer or layers.Conv2D)(filters, size, strides=strides, padding="same",
                                    use_bias=False, **kwargs)
    return layers.BatchNormalization()(conv(layers.Activation("relu")(x)))


def _check_arguments(n_classes: int, num_blocks: int, num_normal: int, num_reductions: int,
                     filters: int, operations: Sequence[str]) -> None:
    counts = {"n_classes": (n_classes, 1), "num_blocks": (num_blocks, 1),
              "num_normal": (num_normal, 0), "num_reductions": (num_reductions, 0),
              "filters": (filters, 1)}
    for name, (value, low) in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise SpaceError(f"nasnet: {name} must be an integer >= {low}; got {value!r}")
    unknown = [op for op in operations if op not in OPERATIONS]
    if unknown or not operations:
        raise SpaceError(f"nasnet: operations must be a non-empty subset of {list(OPERATIONS)}; "
                         f"got {list(operations)}")
    if num_normal == 0 and num_reductions == 0:
        raise SpaceError("nasnet: the network needs at least one cell")
