import pytest

from da_bridge import (
    Bool,
    Dependent,
    Discrete,
    Int,
    SearchSpace,
    SpaceError,
    basic,
    identity,
    mimo_or,
    siso_nested_repeat,
    siso_optional,
    siso_or,
    siso_permutation,
    siso_repeat,
    siso_residual,
    siso_sequential,
    siso_split_combine,
    substitution,
)
from da_bridge.combinators import nth_permutation


def op(name, **hyperparameters):
    """A layer that appends `name` (and its property values) to the list it receives."""
    def compile_fn(values):
        label = name + "".join(f"[{k}={v}]" for k, v in sorted(values.items()))
        return lambda inputs: {"out": [*inputs["in"], label]}

    return basic(name, compile_fn, hyperparameters)


def merge(n):
    def compile_fn(values):
        return lambda inputs: {"out": [[inputs[f"in{i}"] for i in range(n)]]}

    return basic("merge", compile_fn, {}, inputs=[f"in{i}" for i in range(n)])


def run(space, values):
    return space.replay(values).forward({"in": []})["out"]


def names(space, seed=0):
    return list(space.sample(seed).values)


# siso_sequential ------------------------------------------------------------------------------

def test_siso_sequential_connects_fragments_and_thunks_in_order():
    space = SearchSpace(lambda: siso_sequential([op("a"), lambda: op("b"), op("c")]))
    assert run(space, {}) == ["a", "b", "c"]


def test_siso_sequential_of_nothing_is_an_identity():
    assert run(SearchSpace(lambda: siso_sequential([])), {}) == []


def test_siso_sequential_needs_single_input_single_output_fragments():
    def two_inputs():
        return basic("two", lambda v: lambda x: x, {}, inputs=("a", "b"))

    with pytest.raises(SpaceError, match=r"got ports \['a', 'b'\] where 'in' was expected"):
        SearchSpace(lambda: siso_sequential([op("a"), two_inputs])).unfold()


# siso_optional --------------------------------------------------------------------------------

def test_siso_optional_includes_the_fragment_or_passes_through():
    space = SearchSpace(lambda: siso_sequential([
        op("conv"), siso_optional(lambda: op("dropout", rate=Discrete([0.25, 0.5])), Bool())]))
    assert run(space, {"optional.include": True, "optional/dropout.rate": 0.5}) == [
        "conv", "dropout[rate=0.5]"]
    assert run(space, {"optional.include": False}) == ["conv"]
    assert space.count() == 3


def test_siso_optional_with_a_plain_bool_is_fixed_and_may_be_renamed():
    space = SearchSpace(lambda: siso_sequential([
        siso_optional(lambda: op("a", k=Discrete([1, 2])), True, name="keep"),
        siso_optional(lambda: op("b", k=Discrete([1, 2])), False, name="drop")]))
    assert names(space) == ["keep/a.k"]
    assert space.count() == 2


# siso_repeat ----------------------------------------------------------------------------------

def test_siso_repeat_builds_fresh_copies_named_by_position():
    space = SearchSpace(lambda: siso_repeat(lambda: op("conv", filters=Discrete([32, 64])),
                                            Int(0, 3)))
    values = {"repeat.n": 2, "repeat/0/conv.filters": 32, "repeat/1/conv.filters": 64}
    assert run(space, values) == ["conv[filters=32]", "conv[filters=64]"]
    assert run(space, {"repeat.n": 0}) == []
    assert space.count() == 1 + 2 + 4 + 8


def test_siso_repeat_of_a_shared_hyperparameter_exposes_it_once():
    h_filters = Discrete([32, 64], name="filters")
    space = SearchSpace(lambda: siso_repeat(lambda: op("conv", filters=h_filters), 3))
    assert names(space) == ["filters"]
    assert run(space, {"filters": 64}) == ["conv[filters=64]"] * 3


def test_siso_repeat_rejects_a_count_that_is_not_a_natural_number():
    h = Dependent(lambda v: v["x"] - 2, {"x": Discrete([1, 3])})
    space = SearchSpace(lambda: siso_repeat(lambda: op("conv"), h, name="cell"))
    assert run(space, {"cell.n.x": 3}) == ["conv"]
    with pytest.raises(SpaceError, match=r"cell\.n must be an integer >= 0; got -1"):
        space.replay({"cell.n.x": 1})


# siso_or / mimo_or ----------------------------------------------------------------------------

def test_siso_or_chooses_by_index_and_names_the_branch():
    space = SearchSpace(lambda: siso_or([lambda: op("a", k=Discrete([1, 2])), lambda: op("b")],
                                        Discrete([0, 1])))
    assert run(space, {"or.choice": 0, "or/0/a.k": 2}) == ["a[k=2]"]
    assert run(space, {"or.choice": 1}) == ["b"]
    assert space.count() == 3


def test_siso_or_chooses_by_key():
    fns = {"svc": lambda: op("svc", C=Discrete([1, 10])), "knn": lambda: op("knn")}
    space = SearchSpace(lambda: siso_or(fns, Discrete(["svc", "knn"]), name="model"))
    assert run(space, {"model.choice": "svc", "model/svc/svc.C": 10}) == ["svc[C=10]"]
    assert space.count() == 3


def test_siso_or_with_an_unknown_choice_names_the_options():
    space = SearchSpace(lambda: siso_or([lambda: op("a")], Discrete([0, 5])))
    with pytest.raises(SpaceError, match=r"or\.choice is 5; the options are \[0\]"):
        space.replay({"or.choice": 5})


def test_mimo_or_keeps_named_ports():
    def pair(sign):
        def compile_fn(values):
            return lambda x: {"out": x["a"] + sign * x["b"]}
        return lambda: basic("add" if sign > 0 else "sub", compile_fn, {}, inputs=("a", "b"))

    space = SearchSpace(lambda: mimo_or([pair(1), pair(-1)], Discrete([0, 1]), ("a", "b"),
                                        ("out",)))
    assert space.replay({"or.choice": 0}).forward({"a": 5, "b": 3}) == {"out": 8}
    assert space.replay({"or.choice": 1}).forward({"a": 5, "b": 3}) == {"out": 2}


def test_mimo_or_does_not_expose_the_branch_behind_an_unused_output():
    def branches():
        fork_in, fork_out = identity("fork")
        used_in, used_out = op("used", k=Discrete([1, 2]))
        unused_in, unused_out = op("unused", r=Discrete([5, 6]))
        fork_out["out"].connect(used_in["in"])
        fork_out["out"].connect(unused_in["in"])
        return fork_in, {"a": used_out["out"], "b": unused_out["out"]}

    def build():
        inputs, outputs = mimo_or([branches], Discrete([0]), ("in",), ("a", "b"))
        return inputs, {"out": outputs["a"]}

    space = SearchSpace(build)
    assert names(space) == ["or.choice", "or/0/used.k"]
    assert space.count() == 2
    assert [m.path for m in space.sample(0).modules] == ["or/0/fork", "or/0/used"]


# siso_permutation -----------------------------------------------------------------------------

def test_nth_permutation_follows_itertools_order():
    import itertools

    assert [nth_permutation(3, k) for k in range(6)] == [
        list(p) for p in itertools.permutations(range(3))]
    with pytest.raises(SpaceError, match=r"outside 0\.\.5"):
        nth_permutation(3, 6)


def test_siso_permutation_orders_fragments_and_keeps_their_names():
    fns = [lambda: op("a", k=Discrete([1, 2])), lambda: op("b"), lambda: op("c")]
    space = SearchSpace(lambda: siso_permutation(fns, Int(0, 5)))
    assert run(space, {"permutation.order": 5, "permutation/0/a.k": 1}) == ["c", "b", "a[k=1]"]
    assert run(space, {"permutation.order": 2, "permutation/0/a.k": 2}) == ["b", "a[k=2]", "c"]
    assert space.count() == 12


def test_siso_permutation_fixed_order():
    space = SearchSpace(lambda: siso_permutation([lambda: op("a"), lambda: op("b")], 1))
    assert run(space, {}) == ["b", "a"]


# siso_split_combine ---------------------------------------------------------------------------

def test_siso_split_combine_runs_parallel_copies_and_merges_them():
    space = SearchSpace(lambda: siso_sequential([
        op("stem"),
        siso_split_combine(lambda: op("branch", k=Discrete([1, 2])), merge, Discrete([1, 2, 3]))]))
    values = {"split_combine.n": 2, "split_combine/0/branch.k": 1, "split_combine/1/branch.k": 2}
    assert run(space, values) == [[["stem", "branch[k=1]"], ["stem", "branch[k=2]"]]]
    assert space.count() == 2 + 4 + 8


def test_siso_split_combine_needs_at_least_one_split():
    space = SearchSpace(lambda: siso_split_combine(lambda: op("a"), merge, Discrete([0, 1])))
    with pytest.raises(SpaceError, match=r"split_combine\.n must be an integer >= 1; got 0"):
        space.replay({"split_combine.n": 0})


# siso_residual --------------------------------------------------------------------------------

def test_siso_residual_combines_main_and_residual_paths():
    space = SearchSpace(lambda: siso_sequential([
        op("stem"),
        siso_residual(lambda: op("conv", k=Discrete([3, 5])), identity, lambda: merge(2))]))
    assert run(space, {"residual/main/conv.k": 5}) == [[["stem", "conv[k=5]"], ["stem"]]]
    assert space.count() == 2


def test_two_residuals_in_one_scope_get_distinct_names():
    def block():
        return siso_residual(lambda: op("conv", k=Discrete([3, 5])), identity, lambda: merge(2))

    space = SearchSpace(lambda: siso_sequential([block(), block()]))
    assert names(space) == ["residual/main/conv.k", "residual-2/main/conv.k"]


# siso_nested_repeat ---------------------------------------------------------------------------

def test_siso_nested_repeat_wraps_the_fragment_built_so_far():
    def wrap(inputs, outputs):
        return siso_sequential([op("pre"), (inputs, outputs), op("post", k=Discrete([1, 2]))])

    space = SearchSpace(lambda: siso_nested_repeat(lambda: op("core"), wrap, Discrete([1, 2, 3])))
    values = {"nested_repeat.n": 3, "nested_repeat/1/post.k": 1, "nested_repeat/2/post.k": 2}
    assert run(space, values) == ["pre", "pre", "core", "post[k=1]", "post[k=2]"]
    assert run(space, {"nested_repeat.n": 1}) == ["core"]
    assert space.count() == 1 + 2 + 4


# Shared and dependent hyperparameters ---------------------------------------------------------

def normalized_block(h_bn_opt, h_filters):
    return siso_sequential([
        op("conv", filters=h_filters),
        siso_optional(lambda: op("batch_norm"), h_bn_opt, name="bn")])


def test_one_hyperparameter_shared_across_modules_decides_them_all():
    """The blog's `h_bn_opt`: one decision for every optional batch norm."""
    def build():
        h_bn_opt = Bool(name="bn_opt")
        return siso_sequential([normalized_block(h_bn_opt, Discrete([16, 32])) for _ in range(3)])

    space = SearchSpace(build)
    assert names(space) == ["conv.filters", "bn_opt", "conv-2.filters", "conv-3.filters"]
    values = {"bn_opt": True, "conv.filters": 16, "conv-2.filters": 32, "conv-3.filters": 16}
    assert run(space, values) == ["conv[filters=16]", "batch_norm", "conv[filters=32]",
                                  "batch_norm", "conv[filters=16]", "batch_norm"]
    assert space.count() == 2 * 2 ** 3


def test_a_shared_hyperparameter_takes_the_path_of_its_first_live_user():
    def build():
        h_rate = Discrete([0.1, 0.2])
        return siso_sequential([
            siso_optional(lambda: op("first", rate=h_rate), Bool(), name="o1"),
            siso_optional(lambda: op("second", rate=h_rate), Bool(), name="o2")])

    space = SearchSpace(build)
    arch = space.replay({"o1.include": False, "o2.include": True, "o2/second.rate": 0.2})
    assert run(space, arch.values) == ["second[rate=0.2]"]
    both = {"o1.include": True, "o1/first.rate": 0.1, "o2.include": True}
    assert run(space, both) == ["first[rate=0.1]", "second[rate=0.1]"]
    assert space.count() == 1 + 2 + 2 + 2


def test_a_dependent_created_inside_a_substitution_resolves_when_its_parents_get_values():
    def build():
        h_multiplier = Discrete([1, 2], name="multiplier")
        h_width = Discrete([8, 16], name="width")

        def body(values):
            h_filters = Dependent(lambda v: v["width"] * v["multiplier"],
                                  {"width": h_width, "multiplier": h_multiplier})
            return siso_repeat(lambda: op("conv", filters=h_filters), values["n"])

        return siso_sequential([
            op("stem", width=h_width),
            substitution("body", body, {"n": Discrete([1, 2])})])

    space = SearchSpace(build)
    u = space.unfold()
    assert [u.next().name, u.assign(16)] == ["width", None]
    assert u.next().name == "body.n"
    u.assign(2)
    assert u.next().name == "multiplier"  # revealed by the substitution, not assigned yet
    u.assign(2)
    assert u.next() is None
    assert u.architecture().forward({"in": []})["out"] == [
        "stem[width=16]", "conv[filters=32]", "conv[filters=32]"]
    assert space.count() == 2 * 2 * 2


def test_a_dependent_created_inside_a_substitution_resolves_at_once_if_parents_are_known():
    def build():
        h_width = Discrete([8, 16], name="width")
        stem = op("stem", width=h_width)
        twice = substitution("twice", lambda v: op(
            "conv", filters=Dependent(lambda p: 2 * p["w"], {"w": h_width})), {"go": Bool()})
        return siso_sequential([stem, twice])

    space = SearchSpace(build)
    assert run(space, {"width": 8, "twice.go": True}) == ["stem[width=8]", "conv[filters=16]"]
    assert names(space) == ["width", "twice.go"]


def test_siso_sequential_may_start_with_a_multi_input_fragment():
    space = SearchSpace(lambda: siso_sequential([merge(2), op("a"), op("b")]))
    arch = space.replay({})
    assert sorted(arch.inputs) == ["in0", "in1"]
    assert arch.forward({"in0": ["x"], "in1": ["y"]})["out"] == [[["x"], ["y"]], "a", "b"]


def test_siso_sequential_continues_an_existing_output_as_a_none_head():
    def build():
        stem_in, stem_out = op("stem")
        _, head_out = siso_sequential([(None, stem_out), op("relu"), op("fc")])
        return stem_in, head_out

    assert run(SearchSpace(build), {}) == ["stem", "relu", "fc"]


def test_siso_sequential_still_checks_the_ports_between_fragments():
    with pytest.raises(SpaceError, match=r"got ports \['in0', 'in1'\] where 'in' was expected"):
        SearchSpace(lambda: siso_sequential([op("a"), merge(2)])).unfold()
