import math

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import build_space, enumerate_values, frozen, op, specs

from da_bridge import (
    Bool,
    Dependent,
    Discrete,
    Float,
    Int,
    SearchSpace,
    SpaceTooLargeError,
    identity,
    siso_optional,
    siso_or,
    siso_repeat,
    siso_sequential,
    substitution,
)
from da_bridge.spaces.examples import mobile_net_space, poster_space


def assert_count_is_exhaustive(space, limit=5000):
    """`count()` equals the number of distinct values maps found by unfolding every branch."""
    maps = enumerate_values(space, limit)
    assert maps is not None, "space too large to enumerate in a test"
    assert len({frozen(m) for m in maps}) == len(maps)
    assert space.count() == len(maps)


def test_poster_space_has_25008_architectures():
    # conv (2) x optional dropout (1 + 2) x sum over n in {1, 2, 4} of 2^n x 2^(2n)
    assert poster_space().count() == 2 * 3 * (2 ** 3 + 2 ** 6 + 2 ** 12) == 25_008


def test_mobile_net_space_count():
    # initial filters 4 x initial kernel 3 x bn 2 x dropout (1 + 4) x kernel 2 x multiplier 3,
    # times sum over reductions r in {2, 3} of 2^r (each reduction repeats 1 or 3 blocks).
    assert mobile_net_space().count() == 4 * 3 * 2 * 5 * 2 * 3 * (2 ** 2 + 2 ** 3) == 8640


def chain(n):
    def block():
        return siso_sequential([
            op("dense", units=Discrete([64, 128, 256]), activation=Discrete(["relu", "tanh"])),
            siso_optional(lambda: op("dropout", rate=Discrete([0.25, 0.5])), Bool())])

    return SearchSpace(lambda: siso_sequential([block() for _ in range(n)]))


def test_a_space_of_millions_counts_without_enumerating():
    assert chain(25).count() == (3 * 2 * 3) ** 25  # 4.6e31 architectures


def test_a_deep_conditional_space_of_millions_counts():
    def cell():
        return siso_sequential([
            siso_or([lambda: op("conv", k=Discrete([3, 5, 7])), lambda: op("pool"), identity],
                    Discrete([0, 1, 2])),
            siso_optional(lambda: op("bn"), Bool())])

    space = SearchSpace(lambda: siso_repeat(
        lambda: siso_repeat(cell, Discrete([1, 2])), Discrete([1, 2, 3, 4])))
    per_cell = (3 + 1 + 1) * 2
    per_stack = per_cell + per_cell ** 2
    assert space.count() == sum(per_stack ** n for n in range(1, 5)) > 10 ** 6


def test_count_of_trivial_and_fixed_spaces():
    assert SearchSpace(identity).count() == 1
    assert SearchSpace(lambda: siso_repeat(lambda: op("a", k=Discrete([1, 2])), 3)).count() == 8
    assert SearchSpace(lambda: siso_optional(identity, Float(1.0, 1.0))).count() == 1


def test_count_of_continuous_spaces_is_infinite():
    assert SearchSpace(lambda: op("a", lr=Float(0.0, 1.0))).count() == math.inf
    space = SearchSpace(lambda: siso_optional(lambda: op("a", lr=Float(0.0, 1.0)), Bool()))
    assert space.count() == math.inf
    assert SearchSpace(lambda: op("a", n=Int(0, 10, step=2))).count() == 6


# Exhaustive checks on small spaces with sharing -----------------------------------------------

def test_hyperparameter_shared_between_optionals():
    def build():
        h_rate = Discrete([0.1, 0.2, 0.3])
        return siso_sequential([
            siso_optional(lambda: op("a", rate=h_rate), Bool(), name="o1"),
            siso_optional(lambda: op("b", rate=h_rate), Bool(), name="o2")])

    space = SearchSpace(build)
    assert space.count() == 1 + 3 * 3
    assert_count_is_exhaustive(space)


def test_optional_decision_shared_between_optionals():
    def build():
        h_opt = Bool()
        return siso_sequential([
            siso_optional(lambda: op("a", k=Discrete([1, 2])), h_opt),
            siso_optional(lambda: op("b", k=Discrete([1, 2, 3])), h_opt)])

    space = SearchSpace(build)
    assert space.count() == 1 + 2 * 3
    assert_count_is_exhaustive(space)


def test_hyperparameter_shared_between_repeats():
    def build():
        h_n = Discrete([1, 2, 3])
        h_width = Discrete([8, 16])
        return siso_sequential([
            siso_repeat(lambda: op("a", width=h_width, k=Discrete([1, 2])), h_n),
            siso_repeat(lambda: op("b", width=h_width), h_n)])

    space = SearchSpace(build)
    assert space.count() == 2 * (2 + 4 + 8)
    assert_count_is_exhaustive(space)


def test_outer_hyperparameter_reused_inside_a_substitution():
    def build():
        h_n = Discrete([0, 1, 2])
        return siso_sequential([
            op("stem", n=h_n),
            siso_optional(lambda: siso_repeat(lambda: op("a", k=Discrete([1, 2])), h_n), Bool())])

    space = SearchSpace(build)
    assert space.count() == 3 + (1 + 2 + 4)
    assert_count_is_exhaustive(space)


def test_outer_hyperparameter_reached_through_a_dependent_inside_a_substitution():
    def build():
        h_width = Discrete([1, 2])

        def body(values):
            h_n = Dependent(lambda v: v["w"] + values["extra"], {"w": h_width})
            return siso_repeat(lambda: op("a", k=Discrete([1, 2])), h_n)

        return siso_sequential([
            op("stem", w=h_width),
            substitution("body", body, {"extra": Discrete([0, 1])})])

    space = SearchSpace(build)
    assert space.count() == sum(2 ** (w + extra) for w in (1, 2) for extra in (0, 1))
    assert_count_is_exhaustive(space)


def test_hyperparameter_revealed_by_two_branches_is_counted_once():
    def build():
        h_late = Discrete([1, 2, 3])  # only ever used inside substitutions
        return siso_sequential([
            siso_or([lambda: op("a", k=h_late), identity], Discrete([0, 1]), name="left"),
            siso_or([lambda: siso_repeat(identity, h_late), identity], Discrete([0, 1]),
                    name="right")])

    space = SearchSpace(build)
    assert space.count() == 3 + 3 + 3 + 1
    assert_count_is_exhaustive(space)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(max_leaves=6))
def test_count_equals_the_number_of_distinct_values_maps(spec):
    space = build_space(spec)
    count = space.count()
    if count > 600:  # too many to enumerate in a test; check that there are many
        assert enumerate_values(space, 100) is None
        return
    maps = enumerate_values(space, 600)
    assert maps is not None and len({frozen(m) for m in maps}) == len(maps)
    assert count == len(maps)


@pytest.mark.parametrize("spec", [
    ("seq", (("optional", ("leaf", "a", (("pool", "value0"),)), ("pool", "flag0")),
             ("repeat", ("leaf", "b", (("pool", "value0"), ("pool", "flag0"))), ("pool", "count0")),
             ("optional", ("leaf", "c", (("dependent", "count0"),)), ("pool", "flag1")))),
    ("seq", (("leaf", "a", (("pool", "value0"),)),
             ("repeat", ("repeat", ("leaf", "b", (("new", "small"),)), ("dependent", "value0")),
              ("pool", "count1")))),
])
def test_count_on_spaces_with_heavy_sharing(spec):
    assert_count_is_exhaustive(build_space(spec))


# Counting with local instances: linear, conditioned, once per shared hyperparameter -----------

def optional_chain(n):
    return SearchSpace(lambda: siso_sequential([
        siso_optional(lambda: op("conv", k=Discrete([1, 2, 3])), Bool()) for _ in range(n)]))


def test_a_chain_of_independent_choices_is_counted_with_a_linear_number_of_instances():
    # two local instances per optional block: the budget, not a clock, checks the cost
    assert optional_chain(300).count(max_states=2 * 300) == 4 ** 300
    with pytest.raises(SpaceTooLargeError, match=r"max_states=599"):
        optional_chain(300).count(max_states=599)


def test_a_structural_choice_shared_by_many_cells_is_conditioned_on_not_multiplied():
    def build():
        h_swap = Bool()

        def cell():
            return siso_sequential([op("conv", k=Discrete([1, 3])),
                                    siso_optional(lambda: op("bn"), h_swap, name="bn")])

        block = lambda: siso_sequential([cell(), siso_repeat(cell, Discrete([1, 2, 4]))])  # noqa: E731
        return siso_repeat(block, Discrete([1, 2, 3]))

    # h_swap appears once every structure has a cell: 2 x sum_r (2 x sum_m 2^m)^r
    expected = 2 * sum((2 * sum(2 ** m for m in (1, 2, 4))) ** r for r in (1, 2, 3))
    assert SearchSpace(build).count(max_states=400) == expected


def test_a_hyperparameter_revealed_by_two_choices_is_counted_once():
    def build():
        h_rate = Discrete([0.1, 0.2, 0.3])
        return siso_sequential([
            siso_optional(lambda: op("a", rate=h_rate), Bool(), name="a"),
            siso_optional(lambda: op("b", rate=h_rate), Bool(), name="b")])

    space = SearchSpace(build)
    assert space.count() == 1 + 3 * 3
    assert_count_is_exhaustive(space)


def test_rejected_architectures_are_not_counted():
    from da_bridge import InvalidArchitectureError

    def cell(values):
        if not 0 < sum(values.values()) <= 2:
            raise InvalidArchitectureError("1 or 2 edges")
        return siso_sequential([op(f"edge{i}", k=Discrete([1, 2])) for i in values if values[i]])

    space = SearchSpace(lambda: substitution("cell", cell, {f"e{i}": Bool() for i in range(3)}))
    assert space.count() == 3 * 2 + 3 * 4


def test_too_many_hyperparameters_read_together_fail_fast_naming_them():
    space = SearchSpace(lambda: substitution(
        "cell", lambda v: identity(), {f"edge_{i}": Bool() for i in range(21)}))
    with pytest.raises(SpaceTooLargeError, match=r"21 hyperparameters read together "
                       r"\(cell\.edge_0, cell\.edge_1, .* and 17 more\) have 2,097,152"):
        space.count()


@pytest.mark.parametrize("spec", [
    ("split_combine", ("split_combine", ("or", (("leaf", "conv", (("pool", "flag0"),)),), False),
                       True), False),
    ("seq", (("optional", ("leaf", "conv", (("pool", "flag0"),)), ("new",)),
             ("split_combine", ("optional", ("leaf", "conv", (("pool", "flag0"),)), ("new",)),
              True))),
], ids=["nested-split-combine", "optional-and-split-combine"])
def test_a_pool_hyperparameter_revealed_deep_in_two_branches_is_counted_once(spec):
    assert_count_is_exhaustive(build_space(spec))
