"""Reference spaces from DeepArchitect's poster and blog post, with framework-free modules.

The modules here compute a readable description of the network instead of
tensors, so the spaces can be unfolded, counted, drawn and evaluated with the
engine alone.
"""

from __future__ import annotations

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


def mobile_net_fragment(n_classes: int = 1000) -> Fragment:
    """The blog post's `mobile_net` space with stand-in layers (see `spaces.keras` for Keras).

    Shared batch-norm and dropout choices, a `block_chain` substitution over 2
    or 3 reductions, 1 or 3 repeated blocks after each, and the filters after
    each reduction multiplied by a shared multiplier (a dependent hyperparameter).
    """
    h_drop_rate = Discrete([0.5, 0.25, 0.125, 0.0625], name="drop_rate")
    h_drop_opt = Discrete([False, True], name="drop_opt")
    h_bn_opt = Discrete([False, True], name="bn_opt")
    h_kernel_size = Discrete([3, 5], name="kernel_size")
    h_multiplier = Discrete([1, 2, 4], name="filter_multiplier")

    def normalize() -> list[Fragment]:
        return [siso_optional(lambda: op("batch_norm"), h_bn_opt, name="bn"),
                siso_optional(lambda: op("dropout", {"rate": h_drop_rate}), h_drop_opt,
                              name="dropout")]

    def mobile_block(h_filters: Any, stride: int) -> Fragment:
        return siso_sequential([
            op("depthwise_conv", {"kernel_size": h_kernel_size, "strides": stride}),
            *normalize(), op("relu"),
            op("conv", {"filters": h_filters, "kernel_size": 1}), *normalize(), op("relu")])

    def block_chain(values: dict[str, Any], h_filters: Any) -> Fragment:
        blocks = []
        for i in range(values["num_reductions"]):
            with scope(f"reduction_{i + 1}"):
                blocks.append(mobile_block(h_filters, 2))
                blocks.append(siso_repeat(lambda h=h_filters: mobile_block(h, 1),
                                          Discrete([1, 3])))
            h_filters = Dependent(lambda v: v["filters"] * v["multiplier"],
                                  {"filters": h_filters, "multiplier": h_multiplier})
        return siso_sequential(blocks)

    h_initial_filters = Discrete([16, 32, 64, 128], name="initial_filters")
    return siso_sequential([
        op("conv", {"filters": h_initial_filters,
                    "kernel_size": Discrete([3, 5, 7], name="initial_kernel_size"), "strides": 2}),
        *normalize(), op("relu"),
        substitution("block_chain", lambda v: block_chain(v, h_initial_filters),
                     {"num_reductions": Discrete([2, 3])}),
        op("output", {"classes": n_classes}),
    ])


def mobile_net_space(n_classes: int = 1000) -> SearchSpace:
    """The blog's `mobile_net` structure with framework-free stand-in layers.

    Example:
        >>> arch = mobile_net_space().sample(0)
        >>> arch.values["bn_opt"] in (False, True)
        True
    """
    return SearchSpace(lambda: mobile_net_fragment(n_classes))
