import pytest

from da_bridge import (
    Discrete,
    Input,
    Output,
    SearchSpace,
    SpaceError,
    SubstitutionError,
    basic,
    identity,
    scope,
    siso_optional,
    siso_repeat,
    siso_sequential,
    substitution,
)


def add_compile(values):
    return lambda inputs: {"out": inputs["in"] + values["k"]}


def add(k, name="add"):
    return basic(name, add_compile, {"k": k})


def test_basic_compiles_once_with_fixed_and_chosen_properties():
    calls = []

    def compile_fn(values):
        calls.append(values)
        return lambda inputs: {"out": inputs["in"] * values["k"] + values["bias"]}

    space = SearchSpace(lambda: basic("affine", compile_fn, {"k": Discrete([2, 3]), "bias": 1}))
    arch = space.replay({"affine.k": 3})
    assert arch.forward({"in": 2}) == {"out": 7}
    assert arch.forward({"in": 0}) == {"out": 1}
    assert calls == [{"k": 3, "bias": 1}]


def test_basic_module_with_named_ports():
    def compile_fn(values):
        return lambda x: {"sum": x["a"] + x["b"], "diff": x["a"] - x["b"]}

    space = SearchSpace(lambda: basic("arith", compile_fn, inputs=("a", "b"),
                                      outputs=("sum", "diff")))
    assert space.replay({}).forward({"a": 5, "b": 3}) == {"sum": 8, "diff": 2}


def test_modules_are_created_inside_a_search_space_only():
    with pytest.raises(SpaceError, match="inside a search space"):
        identity()
    with pytest.raises(SpaceError, match="inside a search space"), scope("stem"):
        pass


@pytest.mark.parametrize("kwargs, message", [
    ({"name": ""}, "module name"),
    ({"name": "a/b"}, "module name"),
    ({"compile_fn": 3}, "needs a callable"),
    ({"hyperparameters": [("k", 1)]}, "hyperparameters must be a dict"),
    ({"hyperparameters": {1: 2}}, "property names must be strings"),
    ({"inputs": ("in", "in")}, "input names must be distinct"),
    ({"outputs": ("out", "")}, "output names must be distinct"),
])
def test_basic_validates_its_arguments(kwargs, message):
    arguments = {"name": "m", "compile_fn": add_compile, "hyperparameters": {}, **kwargs}
    with pytest.raises(SpaceError, match=message):
        SearchSpace(lambda: basic(**arguments)).unfold()


def test_ports_connect_once_and_only_to_the_other_kind():
    def build():
        a_in, a_out = identity("a")
        b_in, b_out = identity("b")
        c_in, c_out = identity("c")
        assert isinstance(a_out["out"], Output) and isinstance(b_in["in"], Input)
        a_out["out"].connect(b_in["in"])
        with pytest.raises(SpaceError, match=r"<Input b:in> is already connected to <Output a"):
            c_out["out"].connect(b_in["in"])
        with pytest.raises(SpaceError, match="can only connect to an Output"):
            c_in["in"].connect(a_in["in"])
        with pytest.raises(SpaceError, match="can only connect to an Input"):
            a_out["out"].connect(c_out["out"])
        a_out["out"].connect(c_in["in"])  # an output may feed many inputs
        assert [port.module.name for port in a_out["out"].targets] == ["b", "c"]
        return a_in, b_out

    SearchSpace(build).unfold()


def test_identity_passes_its_input_through():
    assert SearchSpace(identity).replay({}).forward({"in": [1, 2]}) == {"out": [1, 2]}


def test_same_name_in_one_scope_gets_a_suffix():
    space = SearchSpace(lambda: siso_sequential([
        add(Discrete([1, 2])), add(Discrete([1, 2])), add(Discrete([1, 2]))]))
    assert list(space.sample(0).values) == ["add.k", "add-2.k", "add-3.k"]


def test_substitution_replaces_itself_once_its_hyperparameters_have_values():
    seen = []

    def chain(values):
        seen.append(values)
        return siso_sequential([add(values["step"]) for _ in range(values["n"])])

    space = SearchSpace(lambda: substitution("chain", chain, {"n": Discrete([1, 2, 3]),
                                                              "step": 10}))
    u = space.unfold()
    assert [m.path for m in u.modules()] == ["chain"]
    u.assign(3)
    assert seen == [{"n": 3, "step": 10}]
    assert [m.path for m in u.modules()] == ["chain/add", "chain/add-2", "chain/add-3"]
    assert u.architecture().forward({"in": 0}) == {"out": 30}


def test_substitution_with_fixed_values_fires_while_building():
    space = SearchSpace(lambda: substitution("fixed", lambda v: add(v["k"]), {"k": 5}))
    u = space.unfold()
    assert u.next() is None
    assert u.architecture().forward({"in": 1}) == {"out": 6}


def test_substitution_keeps_the_connections_of_named_ports():
    def swap(values):
        def compile_fn(_):
            return lambda x: {"x": x["y"] * values["k"], "y": x["x"]}
        return basic("swap", compile_fn, {}, inputs=("x", "y"), outputs=("x", "y"))

    def build():
        sub_in, sub_out = substitution("s", swap, {"k": Discrete([2, 3])},
                                       inputs=("x", "y"), outputs=("x", "y"))
        left_in, left_out = identity("left")
        left_out["out"].connect(sub_in["x"])
        return {"a": left_in["in"], "b": sub_in["y"]}, sub_out

    arch = SearchSpace(build).replay({"s.k": 3})
    assert arch.forward({"a": 1, "b": 2}) == {"x": 6, "y": 1}
    assert arch.inputs["b"].module.path == "s/swap"


@pytest.mark.parametrize("fn, error, message", [
    (lambda v: identity(), SubstitutionError, r"'bad' returned inputs \['in'\]; it declares"),
    (lambda v: 1 / 0, SubstitutionError, r"substitution 'bad' raised ZeroDivisionError"),
    (lambda v: None, SpaceError, r"substitution 'bad' must return an \(inputs, outputs\) pair"),
    (lambda v: ({"a": 1}, {}), SpaceError, r"substitution 'bad' returned inputs\['a'\] = 1"),
])
def test_a_bad_substitution_names_the_module(fn, error, message):
    space = SearchSpace(lambda: substitution("bad", fn, {"k": Discrete([1])}, inputs=("a",)))
    with pytest.raises(error, match=message):
        space.sample(0)


def test_a_substitution_may_not_return_an_input_that_is_already_connected():
    def reuse(values):
        first_in, first_out = identity("x")
        second_in, second_out = identity("y")
        first_out["out"].connect(second_in["in"])
        return {"in": second_in["in"]}, second_out

    def build():
        return siso_sequential([identity("head"), substitution("s", reuse, {"k": 1})])

    with pytest.raises(SubstitutionError, match=r"'s' returned input 'in' that is already conn"):
        SearchSpace(build).unfold()


def test_a_build_function_must_return_a_fragment():
    with pytest.raises(SpaceError, match="the build function must return"):
        SearchSpace(lambda: [identity()]).unfold()
    with pytest.raises(SpaceError, match="needs a build function"):
        SearchSpace(42)


def test_a_substitution_whose_values_are_known_is_built_at_once_with_the_same_names_and_order():
    # `shared` has no name: it is named after the first module that goes live using it, and
    # the optional's fragment goes live after the rest of the fragment that built it, as a
    # substitution module firing later would.
    shared = Discrete([1, 2])

    def layer(name, properties):
        return basic(name, lambda v: lambda x: {"out": x["in"]}, properties)

    def build():
        return siso_sequential([
            siso_optional(lambda: layer("inner", {"k": shared, "j": Discrete([3, 4])}), True),
            layer("outer", {"k": shared}),
            siso_repeat(lambda: layer("step", {"s": Discrete([7, 8])}), 2),
            layer("last", {"m": Discrete([5, 6])})])

    u = SearchSpace(build).unfold()
    assert [h.name for h in u.pending()] == [
        "outer.k", "last.m", "optional/inner.j", "repeat/0/step.s", "repeat/1/step.s"]
    assert u.substitutions_since(0) == []  # no module stood for the two substitutions
    arch = SearchSpace(build).replay({"outer.k": 2, "last.m": 5, "optional/inner.j": 4,
                                      "repeat/0/step.s": 7, "repeat/1/step.s": 8})
    assert [m.path for m in arch.modules] == [
        "optional/inner", "outer", "repeat/0/step", "repeat/1/step", "last"]


def test_a_substitution_with_known_values_whose_output_is_unused_reveals_nothing():
    def two_outputs(values):
        return basic("split", lambda v: lambda x: {"a": x["in"], "b": x["in"]},
                     {"p": Discrete([1, 2])}, outputs=("a", "b"))

    def build():
        fork_in, fork_out = substitution("fork", two_outputs, {}, outputs=("a", "b"))
        unused_in, _ = siso_optional(lambda: basic("dead", lambda v: None,
                                                   {"q": Discrete([3, 4])}), True)
        fork_out["b"].connect(unused_in["in"])
        return fork_in, {"out": fork_out["a"]}

    u = SearchSpace(build).unfold()
    assert [h.name for h in u.pending()] == ["fork/split.p"]
    assert [m.path for m in u.modules()] == ["fork/split"]
