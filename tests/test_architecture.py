import json

import pytest

from da_bridge import (
    CycleError,
    Discrete,
    SearchSpace,
    SpaceError,
    basic,
    identity,
    siso_optional,
    siso_sequential,
)
from da_bridge.spaces.examples import poster_space


def recorder(log, name, inputs=("in",), **hyperparameters):
    """A module that logs its name when it runs and outputs the list of names upstream."""
    def compile_fn(values):
        def forward(x):
            log.append(name)
            return {"out": sorted({name, *(n for v in x.values() for n in v)})}
        return forward

    return basic(name, compile_fn, hyperparameters, inputs=inputs)


def diamond(log):
    """in -> a -> (b, c) -> d -> out, built in an order that is not topological."""
    d_in, d_out = recorder(log, "d", inputs=("left", "right"))
    c_in, c_out = recorder(log, "c")
    b_in, b_out = recorder(log, "b")
    a_in, a_out = recorder(log, "a")
    a_out["out"].connect(b_in["in"])
    a_out["out"].connect(c_in["in"])
    b_out["out"].connect(d_in["left"])
    c_out["out"].connect(d_in["right"])
    return a_in, d_out


def test_forward_runs_modules_in_topological_order():
    log = []
    arch = SearchSpace(lambda: diamond(log)).replay({})
    assert arch.forward({"in": ["x"]}) == {"out": ["a", "b", "c", "d", "x"]}
    assert log[0] == "a" and log[-1] == "d" and sorted(log) == ["a", "b", "c", "d"]
    assert [m.path for m in arch.modules][0] == "a" and arch.modules[-1].path == "d"


def test_forward_compiles_each_module_once_and_can_run_again():
    log = []
    arch = SearchSpace(lambda: diamond(log)).replay({})
    arch.forward({"in": []})
    arch.forward({"in": []})
    assert len(log) == 8


def test_forward_with_several_inputs_and_outputs():
    def build():
        def compile_fn(values):
            return lambda x: {"sum": x["a"] + x["b"], "product": x["a"] * x["b"]}
        ports_in, ports_out = basic("math", compile_fn, {}, inputs=("a", "b"),
                                    outputs=("sum", "product"))
        double_in, double_out = basic("double", lambda v: lambda x: {"out": 2 * x["in"]})
        ports_out["sum"].connect(double_in["in"])
        return ports_in, {"twice_sum": double_out["out"], "product": ports_out["product"]}

    arch = SearchSpace(build).replay({})
    assert arch.forward({"a": 2, "b": 5}) == {"twice_sum": 14, "product": 10}


def test_forward_needs_every_input():
    arch = SearchSpace(lambda: basic("math", lambda v: lambda x: {"out": 0}, {},
                                     inputs=("a", "b"))).replay({})
    with pytest.raises(SpaceError, match=r"needs values for inputs \['b'\]"):
        arch.forward({"a": 1})


def test_a_cycle_raises_a_cycle_error_naming_its_modules():
    def build():
        log = []
        a_in, a_out = recorder(log, "a", inputs=("in", "back"))
        b_in, b_out = recorder(log, "b")
        a_out["out"].connect(b_in["in"])
        b_out["out"].connect(a_in["back"])
        return {"in": a_in["in"]}, b_out

    with pytest.raises(CycleError, match=r"cycle through modules \['a', 'b'\]"):
        SearchSpace(build).sample(0)


def test_an_unconnected_input_raises_a_space_error_naming_the_module():
    def build():
        log = []
        stem_in, stem_out = recorder(log, "stem")
        join_in, join_out = recorder(log, "join", inputs=("left", "right"))
        stem_out["out"].connect(join_in["left"])
        return stem_in, join_out

    with pytest.raises(SpaceError, match=r"input 'right' of module 'join' is not connected"):
        SearchSpace(build).replay({})


def test_an_unconnected_input_revealed_by_a_substitution_names_its_path():
    def half_connected():
        log = []
        join_in, join_out = recorder(log, "join", inputs=("in", "extra"))
        return {"in": join_in["in"]}, join_out

    space = SearchSpace(lambda: siso_optional(half_connected, Discrete([True])))
    with pytest.raises(SpaceError, match=r"input 'extra' of module 'optional/join'"):
        space.sample(0)


def test_a_module_returning_the_wrong_outputs_is_named():
    arch = SearchSpace(lambda: basic("bad", lambda v: lambda x: {"other": 1})).replay({})
    with pytest.raises(SpaceError, match=r"module 'bad' returned \['other'\]; its outputs are"):
        arch.forward({"in": 0})
    arch = SearchSpace(lambda: basic("bad", lambda v: lambda x: 1)).replay({})
    with pytest.raises(SpaceError, match=r"module 'bad' returned int"):
        arch.forward({"in": 0})


def test_a_failing_compile_fn_is_named():
    def compile_fn(values):
        raise RuntimeError("no such layer")

    space = SearchSpace(lambda: siso_sequential([identity(), basic("broken", compile_fn)]))
    arch = space.replay({})
    with pytest.raises(SpaceError, match=r"compiling module 'broken' raised RuntimeError: no such"):
        arch.forward({"in": 0})


def test_modules_hold_only_the_live_basic_modules():
    arch = poster_space().replay({"conv.filters": 64, "optional.include": False, "chain1.n": 1,
                                  "chain1/0/conv.filters": 64, "chain2/0/conv.filters": 64,
                                  "chain2/1/conv.filters": 64})
    assert sorted(m.path for m in arch.modules) == [
        "chain1/0/conv", "chain2/0/conv", "chain2/1/conv", "concat", "conv", "optional/identity"]
    assert all(m.kind == "basic" for m in arch.modules)


def test_to_json_is_the_same_for_the_same_values_and_dumps_is_stable():
    space = poster_space()
    arch = space.sample(11)
    assert space.replay(arch.values).to_json() == arch.to_json()
    assert json.loads(arch.dumps()) == arch.to_json()
    assert space.replay(arch.values).dumps() == arch.dumps()


def test_property_values_that_are_objects_have_a_stable_json_form():
    class Layer:
        pass

    def build():
        return basic("m", lambda v: lambda x: {"out": x["in"]},
                     {"fn": max, "obj": Layer(), "shape": (3, 3), "cfg": {"a": [1.5, None]},
                      "nan": float("nan")})

    properties = SearchSpace(build).replay({}).to_json()["modules"][0]["properties"]
    assert properties["fn"] == {"repr": "max"}
    assert properties["obj"]["repr"].endswith("<locals>.Layer object>")  # no address
    assert properties["shape"] == [3, 3] and properties["cfg"] == {"a": [1.5, None]}
    assert properties["nan"] == "nan"
    assert json.loads(json.dumps(properties)) == properties
