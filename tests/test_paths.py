import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from strategies import op

from da_bridge import (
    Bool,
    Dependent,
    Discrete,
    NameClashError,
    SearchSpace,
    SpaceError,
    basic,
    scope,
    siso_optional,
    siso_or,
    siso_repeat,
    siso_sequential,
    substitution,
)
from da_bridge.spaces.examples import mobile_net_space, poster_space

# A space that uses every combinator, shared and dependent hyperparameters, and keyed choices.
SPEC = ("seq", (
    ("repeat", ("optional", ("leaf", "conv", (("new", "small"), ("pool", "value1"))),
                ("pool", "flag0")), ("new",)),
    ("or", (("leaf", "conv", (("dependent", "count0"),)),
            ("split_combine", ("leaf", "dense", (("new", "text"),)), True)), True),
    ("permutation", (("leaf", "conv-2", (("pool", "count0"),)),
                     ("residual", ("leaf", "a", (("new", "object"),)), ("leaf", "b", ())),
                     ("nested_repeat", ("leaf", "conv", (("new", "int"),)), True)), True),
))

NAMES_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
from strategies import build_space
from da_bridge.spaces.examples import mobile_net_space, poster_space
spaces = [poster_space(), mobile_net_space(), build_space({spec!r})]
print(json.dumps([[s.sample(seed).json_values() for seed in range(8)] for s in spaces]))
"""


def sampled_names():
    from strategies import build_space

    spaces = [poster_space(), mobile_net_space(), build_space(SPEC)]
    return [[s.sample(seed).json_values() for seed in range(8)] for s in spaces]



def build_unrelated_spaces():
    """Spaces with the same module and hyperparameter names, built and unfolded part way."""
    h_global = Discrete([1, 2], name="global_choice")
    for n in range(1, 4):
        space = SearchSpace(lambda n=n: siso_sequential(
            [op("conv", filters=Discrete([1, 2]), other=h_global) for _ in range(n)]))
        space.sample(n)
        space.unfold().assign(1)
    poster_space().sample(3)
    mobile_net_space().unfold()


@pytest.mark.parametrize("hash_seed", ["0", "12345"])
def test_names_are_the_same_in_a_fresh_process(hash_seed):
    build_unrelated_spaces()
    here = sampled_names()
    script = NAMES_SCRIPT.format(tests=str(Path(__file__).parent), spec=SPEC)
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, check=True)
    assert json.loads(result.stdout) == json.loads(json.dumps(here))


def test_names_do_not_depend_on_spaces_built_before():
    first = sampled_names()
    build_unrelated_spaces()
    assert sampled_names() == first


def test_interleaved_instances_of_one_space_get_the_same_names():
    space = poster_space()
    a, b = space.unfold(), space.unfold()
    names_a, names_b = [], []
    while (h := a.next()) is not None:
        names_a.append(h.name)
        a.assign(h.values[-1])
        if (g := b.next()) is not None:
            names_b.append(g.name)
            b.assign(g.values[-1])
    while (g := b.next()) is not None:
        names_b.append(g.name)
        b.assign(g.values[-1])
    assert names_a == names_b and len(set(names_a)) == len(names_a)


def test_paths_follow_modules_scopes_and_substitutions():
    def build():
        with scope("stem"):
            stem = op("conv", filters=Discrete([8, 16]))
        blocks = []
        for _ in range(2):
            with scope("block"):
                blocks.append(siso_optional(lambda: op("conv", filters=Discrete([8, 16])), Bool()))
        return siso_sequential([stem, *blocks])

    values = SearchSpace(build).replay({
        "stem/conv.filters": 8, "block/optional.include": True,
        "block/optional/conv.filters": 16, "block-2/optional.include": False}).values
    assert list(values) == ["stem/conv.filters", "block/optional.include",
                            "block/optional/conv.filters", "block-2/optional.include"]


def test_mobile_net_paths_say_where_things_are():
    names = set(mobile_net_space().replay(
        mobile_net_space().sample(0).values).values)
    assert {"block_chain.num_reductions", "block_chain/reduction_1/repeat.n",
            "block_chain/reduction_2/repeat.n", "bn_opt", "initial_filters"} <= names


def test_explicit_names_are_honoured_in_their_scope():
    def build():
        h_lr = Discrete([0.1, 0.01], name="lr")
        with scope("head"):
            head = op("dense", units=Discrete([8], name="units"))
        return siso_sequential([
            op("conv", lr=h_lr), head,
            siso_repeat(lambda: op("dense", act=Discrete(["relu"], name="act")), 2)])

    assert list(SearchSpace(build).sample(0).values) == [
        "head/units", "lr", "repeat/0/act", "repeat/1/act"]  # in module creation order


def test_dependent_parents_are_named_after_the_dependent():
    h = Dependent(lambda v: v["n"] * 2, {"n": Discrete([1, 2])})
    assert list(SearchSpace(lambda: op("pool", size=h)).sample(0).values) == ["pool.size.n"]


def test_two_hyperparameters_with_one_name_clash():
    def build():
        return siso_sequential([op("a", k=Discrete([1], name="lr")),
                                op("b", k=Discrete([2], name="lr"))])

    with pytest.raises(NameClashError, match=r"two hyperparameters are named 'lr'"):
        SearchSpace(build).unfold()


def test_an_explicit_name_that_clashes_with_a_module_path_raises():
    def build():
        return siso_sequential([op("conv", filters=Discrete([1, 2])),
                                op("dense", units=Discrete([3], name="conv.filters"))])

    with pytest.raises(NameClashError, match=r"'conv\.filters'.*give one of them another name="):
        SearchSpace(build).unfold()


def test_a_clash_revealed_by_a_substitution_raises_when_it_appears():
    def branch():
        return siso_sequential([op("b", k=Discrete([1, 2])),
                                op("c", j=Discrete([3], name="b.k"))])

    u = SearchSpace(lambda: siso_or({"x": branch}, Discrete(["x"]))).unfold()
    with pytest.raises(NameClashError, match=r"two hyperparameters are named 'or/x/b\.k'"):
        u.assign("x")


@pytest.mark.parametrize("name", ["", "a/b", None])
def test_scope_names_are_path_segments(name):
    def build():
        with scope(name):
            return op("a")

    with pytest.raises(SpaceError, match="scope name"):
        SearchSpace(build).unfold()


def test_prefix_names_get_a_suffix_by_position_not_a_clash():
    class Prefixed(Discrete):  # what da_bridge.compat's DeepArchitect hyperparameters are
        _name_is_prefix = True

    def build():
        h_a, h_b, h_c = (Prefixed([0, 1], name="Mutatable_sub") for _ in range(3))
        return siso_sequential([op("a", k=h_a), op("b", k=h_b), op("c", k=h_c, j=h_a)])

    first = list(SearchSpace(build).sample(0).values)
    assert first == ["Mutatable_sub", "Mutatable_sub-2", "Mutatable_sub-3"]
    assert list(SearchSpace(build).sample(1).values) == first  # same names, every instance


def test_substitution_and_basic_take_a_scope_segment():
    def build():
        inner = substitution("cell", lambda v: op("conv", k=Discrete([1, 2])),
                             {"n": Discrete([1, 2])}, scope="stage_1")
        return siso_sequential([inner, basic("fc", lambda v: lambda x: x, {"u": Discrete([3, 4])},
                                             scope="head")])

    values = SearchSpace(build).sample(0).values
    assert list(values) == ["stage_1/cell.n", "stage_1/cell/conv.k", "head/fc.u"]
