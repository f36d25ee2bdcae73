import copy
import json
import pickle
import random

import pytest
from strategies import op

from da_bridge import (
    Architecture,
    AssignmentError,
    Bool,
    Dependent,
    Discrete,
    DomainError,
    Float,
    Int,
    ReplayError,
    SearchSpace,
    SpaceError,
    UnspecifiedError,
    siso_optional,
    siso_repeat,
    siso_sequential,
)
from da_bridge.spaces.examples import mobile_net_space, poster_space


def unfold_all(space, choose):
    """Unfold by always assigning `choose(h)`; return the names in the order they came."""
    u, order = space.unfold(), []
    while (h := u.next()) is not None:
        order.append(h.name)
        u.assign(choose(h))
    return u, order


def small_space():
    return SearchSpace(lambda: siso_sequential([
        op("conv", filters=Discrete([32, 64]), lr=Float(1e-3, 1e-1, log=True)),
        siso_optional(lambda: op("dropout", rate=Discrete([0.25, 0.5])), Bool()),
        siso_repeat(lambda: op("dense", units=Int(8, 64, step=8)), Discrete([1, 2])),
    ]))


# unfold / next / assign -------------------------------------------------------------------------

def test_next_describes_the_hyperparameter_and_assign_moves_on():
    u = small_space().unfold()
    h = u.next()
    assert (h.name, h.values) == ("conv.filters", (32, 64))
    assert repr(h) == "<conv.filters: Discrete([32, 64])>"
    assert u.next().name == "conv.filters"  # next() does not advance
    u.assign(64)
    h = u.next()
    assert (h.name, h.low, h.high, h.log) == ("conv.lr", 1e-3, 1e-1, True)
    u.assign(0.01)
    assert u.values == {"conv.filters": 64, "conv.lr": 0.01}


def test_an_exposed_hyperparameter_can_be_copied_and_pickled():
    h = small_space().unfold().next()
    for twin in (copy.copy(h), copy.deepcopy(h), pickle.loads(pickle.dumps(h))):
        assert (twin.name, twin.values) == ("conv.filters", (32, 64))


def test_unfolding_is_depth_first_in_creation_order():
    _, order = unfold_all(small_space(), lambda h: h.values[-1] if hasattr(h, "values") else h.low)
    assert order == ["conv.filters", "conv.lr", "optional.include", "optional/dropout.rate",
                     "repeat.n", "repeat/0/dense.units", "repeat/1/dense.units"]


def test_poster_unfolds_in_the_documented_order():
    u = poster_space().unfold()
    seen = []
    for value in [64, True, 0.5, 1, 128, 64, 64]:
        seen.append(u.next().name)
        u.assign(value)
    assert seen == ["conv.filters", "optional.include", "optional/dropout.rate", "chain1.n",
                    "chain1/0/conv.filters", "chain2/0/conv.filters", "chain2/1/conv.filters"]
    assert u.next() is None and u.is_specified()


def test_only_live_hyperparameters_are_exposed():
    _, order = unfold_all(small_space(), lambda h: h.values[0] if hasattr(h, "values") else h.low)
    assert "optional/dropout.rate" not in order
    assert order == ["conv.filters", "conv.lr", "optional.include", "repeat.n",
                     "repeat/0/dense.units"]


def test_pending_lists_every_live_unassigned_hyperparameter():
    u = small_space().unfold()
    assert [h.name for h in u.pending()] == ["conv.filters", "conv.lr", "optional.include",
                                             "repeat.n"]
    u.assign_path("repeat.n", 2)
    assert [h.name for h in u.pending()] == ["repeat/0/dense.units", "repeat/1/dense.units",
                                             "conv.filters", "conv.lr", "optional.include"]


def test_unfold_with_a_partial_values_map():
    u = small_space().unfold({"conv.filters": 32, "conv.lr": 0.1, "repeat.n": 2})
    assert u.values == {"conv.filters": 32, "conv.lr": 0.1}  # stops at the first missing name
    assert u.next().name == "optional.include"


def test_assign_path_reaches_any_live_hyperparameter():
    u = small_space().unfold()
    u.assign_path("repeat.n", 1)
    assert u.values == {"repeat.n": 1}
    assert u.next().name == "repeat/0/dense.units"  # what it reveals comes next
    assert u.path_of(u.pending()[-1].hyperparameter) == "optional.include"


def test_value_of_includes_dependent_hyperparameters():
    h_n = Discrete([1, 2])
    h_twice = Dependent(lambda v: 2 * v["n"], {"n": h_n})
    u = SearchSpace(lambda: siso_sequential([op("a", n=h_n), op("b", m=h_twice)])).unfold()
    u.assign(2)
    assert (u.value_of(h_n), u.value_of(h_twice), u.path_of(h_twice)) == (2, 4, "b.m")
    assert u.values == {"a.n": 2}  # the values map holds independent hyperparameters only


# Errors while unfolding -------------------------------------------------------------------------

def test_assign_checks_the_domain_and_keeps_the_state():
    u = small_space().unfold()
    with pytest.raises(DomainError, match=r"'conv\.filters' got 48; allowed: Discrete\(\[32, 6"):
        u.assign(48)
    assert u.next().name == "conv.filters" and u.values == {}


def test_assign_when_fully_specified_raises():
    u = SearchSpace(lambda: op("a")).unfold()
    with pytest.raises(AssignmentError, match="nothing to assign"):
        u.assign(1)


def test_assign_path_errors():
    u = small_space().unfold()
    with pytest.raises(ReplayError, match="'optional/dropout.rate' is not a hyperparameter"):
        u.assign_path("optional/dropout.rate", 0.5)
    u.assign_path("repeat.n", 1)
    with pytest.raises(AssignmentError, match=r"'repeat\.n' already has the value 1"):
        u.assign_path("repeat.n", 2)


def test_dependent_hyperparameters_cannot_be_assigned():
    h = Dependent(lambda v: v["n"], {"n": Discrete([1])})
    u = SearchSpace(lambda: op("a", m=h)).unfold()
    with pytest.raises(AssignmentError, match="not a live hyperparameter"):
        u.assign_path("a.m", 1)


def test_architecture_needs_a_fully_specified_instance():
    u = small_space().unfold()
    with pytest.raises(UnspecifiedError, match="'conv.filters' has no value yet"):
        u.architecture()


# replay / sample / to_json ----------------------------------------------------------------------

def test_sample_is_reproducible_for_every_kind_of_rng():
    space = small_space()
    assert space.sample(7).values == space.sample(7).values
    assert space.sample(random.Random(7)).values == space.sample(random.Random(7)).values
    np = pytest.importorskip("numpy")
    assert (space.sample(np.random.default_rng(3)).values
            == space.sample(np.random.default_rng(3)).values)
    assert len({json.dumps(space.sample(seed).values) for seed in range(20)}) > 10


def test_sample_rejects_what_is_not_an_rng():
    with pytest.raises(TypeError, match="rng must be"):
        small_space().sample("seed")


def test_replay_rebuilds_the_sampled_architecture():
    space = small_space()
    arch = space.sample(1)
    assert isinstance(arch, Architecture)
    again = space.replay(arch.values)
    assert again.values == arch.values and again.to_json() == arch.to_json()
    assert space.replay(arch.to_json()["values"]).to_json() == arch.to_json()


def test_replay_and_to_json_of_object_values():
    def relu(x):
        return x

    space = SearchSpace(lambda: op("act", fn=Discrete([relu, abs])))
    data = space.replay({"act.fn": relu}).to_json()
    assert data["values"] == {"act.fn": {"index": 0, "repr": relu.__qualname__}}
    assert space.replay(json.loads(json.dumps(data["values"]))).values == {"act.fn": relu}


def test_to_json_describes_the_graph():
    data = poster_space().replay({"conv.filters": 64, "optional.include": False,
                                  "chain1.n": 1, "chain1/0/conv.filters": 128,
                                  "chain2/0/conv.filters": 64,
                                  "chain2/1/conv.filters": 64}).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["format"] == "da_bridge.architecture/1"
    assert data["inputs"] == {"in": "conv:in"} and data["outputs"] == {"out": "concat:out"}
    modules = {m["path"]: m for m in data["modules"]}
    assert modules["chain1/0/conv"] == {
        "path": "chain1/0/conv", "name": "conv", "properties": {"filters": 128},
        "inputs": {"in": "optional/identity:out"}, "outputs": ["out"]}
    assert modules["concat"]["inputs"] == {"in0": "chain1/0/conv:out", "in1": "chain2/1/conv:out"}


def test_replay_names_a_missing_hyperparameter_and_its_domain():
    with pytest.raises(ReplayError, match=r"'chain1\.n' has no value; allowed: Discrete\(\[1, 2,"):
        poster_space().replay({"conv.filters": 64, "optional.include": False})


def test_replay_names_a_value_outside_the_domain():
    values = {"conv.filters": 64, "optional.include": False, "chain1.n": 3}
    with pytest.raises(DomainError, match=r"'chain1\.n' got 3; allowed: Discrete\(\[1, 2, 4\]\)"):
        poster_space().replay(values)


def test_replay_rejects_unknown_names_unless_told_otherwise():
    values = {"conv.filters": 32, "conv.lr": 0.01, "optional.include": False,
              "optional/dropout.rate": 0.5, "repeat.n": 1, "repeat/0/dense.units": 8, 3: "x"}
    with pytest.raises(ReplayError, match=r"\['optional/dropout\.rate', 3\] are not live"):
        small_space().replay(values)
    arch = small_space().replay(values, strict=False)
    assert "optional/dropout.rate" not in arch.values and len(arch.values) == 5


def test_replay_needs_a_mapping():
    with pytest.raises(ReplayError, match="needs a {path: value} mapping"):
        small_space().replay([("conv.filters", 32)])


def test_count_of_a_space_with_a_continuous_hyperparameter_is_infinite():
    assert small_space().count() == float("inf")


def test_mobile_net_samples_are_architectures():
    space = mobile_net_space()
    for seed in range(5):
        arch = space.sample(seed)
        assert space.replay(arch.values).dumps() == arch.dumps()
        assert arch.forward({"in": "x"})["out"].startswith("output[classes=1000](")


def test_search_space_repr_and_build_errors():
    def build():
        return op("a")

    assert repr(SearchSpace(build)) == f"SearchSpace({build.__qualname__!r})"
    with pytest.raises(SpaceError, match="needs a build function"):
        SearchSpace(None)


# Rejected architectures ---------------------------------------------------------------------------

def edge_cell_space(limit=2):
    """Three Bool edges; a cell with more than `limit` edges or none is rejected."""
    from da_bridge import Bool, InvalidArchitectureError, substitution

    def cell(values):
        edges = sum(values.values())
        if edges == 0 or edges > limit:
            raise InvalidArchitectureError(f"{edges} edges; allowed 1..{limit}")
        return siso_sequential([op(f"edge{i}") for i in range(edges)])

    return SearchSpace(lambda: substitution("cell", cell, {f"e{i}": Bool() for i in range(3)}))


def test_sample_draws_again_when_the_space_rejects_the_architecture():
    space = edge_cell_space()
    edges = [sum(space.sample(seed).values.values()) for seed in range(40)]
    assert set(edges) == {1, 2}


def test_replay_of_a_rejected_values_map_names_the_reason():
    from da_bridge import InvalidArchitectureError

    space = edge_cell_space()
    with pytest.raises(InvalidArchitectureError, match="3 edges; allowed 1..2"):
        space.replay({"cell.e0": True, "cell.e1": True, "cell.e2": True})
    assert space.rejection({"cell.e0": True, "cell.e1": True, "cell.e2": True}) == \
        "3 edges; allowed 1..2"
    assert space.rejection({"cell.e0": True, "cell.e1": False, "cell.e2": False}) is None


def test_sample_gives_up_with_a_clear_error_when_nothing_is_valid():
    from da_bridge import NoValidArchitectureError

    with pytest.raises(NoValidArchitectureError, match=r"all 25 draws were rejected.*edges"):
        edge_cell_space(limit=-1).sample(0, max_rejections=25)


def test_a_compile_function_may_reject_at_forward_time():
    from da_bridge import InvalidArchitectureError, basic

    def compile_fn(values):
        raise InvalidArchitectureError("kernel larger than the input")

    arch = SearchSpace(lambda: basic("conv", compile_fn, {})).replay({})
    with pytest.raises(InvalidArchitectureError, match="kernel larger"):
        arch.forward({"in": 1})
