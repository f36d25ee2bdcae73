"""Reference spaces from DeepArchitect's poster and blog post, with framework-free modules.

The modules here compute a readable description of the network instead of
tensors, so the spaces can be unfolded, counted, drawn and evaluated with the
engine alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from da_bridge import (
    Dependent,
    Discrete,
    SearchSpace,
    basic,
    scope,
    siso_optional,
    siso_repeat,
    siso_sequential,
    substitution,
)
from da_bridge.modules import Fragment


def op(name: str, hyperparameters: dict[str, Any] | None = None) -> Fragment:
    """A stand-in single-input single-output layer: it writes `name(args)(input)`.

    Example:
        >>> SearchSpace(lambda: op("relu")).replay({}).forward({"in": "x"})
        {'out': 'relu(x)'}
    """
    def compile_fn(values: dict[str, Any]) -> Any:
        args = ",".join(f"{k}={v}" for k, v in sorted(values.items()))
        label = f"{name}[{args}]" if args else name
        return lambda inputs: {"out": f"{label}({inputs['in']})"}

    return basic(name, compile_fn, hyperparameters or {})


def concat(n: int) -> Fragment:
    """A stand-in concatenation of `n` inputs `in0 .. in{n-1}`."""
    def compile_fn(values: dict[str, Any]) -> Any:
        return lambda inputs: {"out": f"concat({', '.join(inputs[f'in{i}'] for i in range(n))})"}

    return basic("concat", compile_fn, {}, inputs=[f"in{i}" for i in range(n)])


def poster_fragment() -> Fragment:
    """The search space on DeepArchitect's poster, as a fragment.

    A convolution with 64 or 128 filters, an optional dropout (rate 0.25 or
    0.5), then two parallel chains of convolutions, of lengths n in {1, 2, 4}
    and 2n, concatenated; each convolution picks its filters separately.
    """
    h_n = Discrete([1, 2, 4])
    h_twice = Dependent(lambda v: 2 * v["n"], {"n": h_n})

    def conv() -> Fragment:
        return op("conv", {"filters": Discrete([64, 128])})

    c_in, c_out = conv()
    o_in, o_out = siso_optional(lambda: op("dropout", {"rate": Discrete([0.25, 0.5])}),
                                Discrete([False, True]))
    r1_in, r1_out = siso_repeat(conv, h_n, name="chain1")
    r2_in, r2_out = siso_repeat(conv, h_twice, name="chain2")
    cc_in, cc_out = concat(2)
    o_in["in"].connect(c_out["out"])
    r1_in["in"].connect(o_out["out"])
    r2_in["in"].connect(o_out["out"])
    cc_in["in0"].connect(r1_out["out"])
    cc_in["in1"].connect(r2_out["out"])
    return c_in, cc_out


def poster_space() -> SearchSpace:
    """DeepArchitect's poster example: 25,008 architectures.

    Example:
        >>> poster_space().count()
        25008
    """
    return SearchSpace(poster_fragment)


#: Makes one layer of the mobile_net structure: `layer(kind, properties)` with kind one of
#: "conv", "depthwise_conv", "batch_norm", "dropout", "relu", "output".
LayerFn = Callable[[str, dict[str, Any]], Fragment]


def mobile_block(h_filters: Any, h_kernel_size: Any, h_bn_opt: Any, h_drop_opt: Any,
                 h_drop_rate: Any, stride: int, layer: LayerFn = op) -> Fragment:
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
        layer: Makes each layer (stand-ins by default; Keras layers in `spaces.keras`).

    Example:
        >>> from da_bridge import Bool
        >>> block = lambda: mobile_block(Discrete([16, 32]), 3, Bool(name="bn"), False, 0.5, 1)
        >>> SearchSpace(block).count()
        4
    """
    return siso_sequential([
        layer("depthwise_conv", {"kernel_size": h_kernel_size, "strides": stride}),
        *_normalize(h_bn_opt, h_drop_opt, h_drop_rate, layer), layer("relu", {}),
        layer("conv", {"filters": h_filters, "kernel_size": 1, "strides": 1}),
        *_normalize(h_bn_opt, h_drop_opt, h_drop_rate, layer), layer("relu", {})])


def mobile_net_fragment(n_classes: int = 1000, layer: LayerFn = op) -> Fragment:
    """The blog post's `mobile_net` space, as a fragment to compose into larger spaces.

    A stem convolution (stride 2), then a `block_chain` substitution over 2 or
    3 spatial reductions, each a strided `mobile_block` followed by 1 or 3
    more; after each reduction the filters are multiplied by a shared
    multiplier (1, 2 or 4), a dependent hyperparameter. Batch norm and dropout
    are chosen once for the whole network. `layer` makes the layers: stand-ins
    here, Keras layers in `da_bridge.spaces.keras` (the same structure, so a values map
    found with one replays in the other).

    Example:
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
                blocks.append(mobile_block(h_filters, *shared, 2, layer))
                blocks.append(siso_repeat(
                    functools.partial(mobile_block, h_filters, *shared, 1, layer),
                    Discrete([1, 3])))
            h_filters = Dependent(_times, {"filters": h_filters, "multiplier": h_multiplier})
        return siso_sequential(blocks)

    h_initial_filters = Discrete([16, 32, 64, 128], name="initial_filters")
    h_initial_kernel_size = Discrete([3, 5, 7], name="initial_kernel_size")
    return siso_sequential([
        layer("conv", {"filters": h_initial_filters, "kernel_size": h_initial_kernel_size,
                       "strides": 2}),
        *_normalize(h_bn_opt, h_drop_opt, h_drop_rate, layer), layer("relu", {}),
        substitution("block_chain", lambda v: block_chain(v, h_initial_filters),
                     {"num_reductions": Discrete([2, 3])}),
        layer("output", {"classes": n_classes}),
    ])


def _normalize(h_bn_opt: Any, h_drop_opt: Any, h_drop_rate: Any, layer: LayerFn
               ) -> list[Fragment]:
    return [siso_optional(lambda: layer("batch_norm", {}), h_bn_opt, name="bn"),
            siso_optional(lambda: layer("dropout", {"rate": h_drop_rate}), h_drop_opt,
                          name="dropout")]


def _times(values: dict[str, Any]) -> int:
    return values["filters"] * values["multiplier"]


def mobile_net_space(n_classes: int = 1000) -> SearchSpace:
    """The blog's `mobile_net` structure with framework-free stand-in layers.

    Example:
        >>> arch = mobile_net_space().sample(0)
        >>> arch.values["bn_opt"] in (False, True)
        True
    """
    return SearchSpace(lambda: mobile_net_fragment(n_classes))
