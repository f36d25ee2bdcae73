"""The scikit-optimize adapter: flattened dimensions, decoding, and the ask/tell searcher."""

from __future__ import annotations

import random
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from skopt import Optimizer
from skopt.space import Categorical, Integer, Real
from strategies import enumerate_values, spaces

from da_bridge import (
    Bool,
    Discrete,
    Float,
    Int,
    SearchSpace,
    SpaceError,
    siso_optional,
    siso_sequential,
    substitution,
)
from da_bridge.adapters.skopt import SkoptSearcher, to_skopt
from da_bridge.spaces.examples import op, poster_space


def log_space() -> SearchSpace:
    return SearchSpace(lambda: siso_sequential([
        op("input", {"lr": Float(1e-4, 1e-1, log=True), "fixed": Discrete([3])}),
        siso_optional(lambda: op("hidden", {"units": Int(8, 512, log=True),
                                            "stride": Int(1, 9, step=2),
                                            "act": Discrete([max, min])}), Bool()),
    ]))


def test_one_dimension_per_hyperparameter_that_can_appear():
    dimensions, _ = to_skopt(log_space())
    by_name = {d.name: d for d in dimensions}
    assert list(by_name) == ["input.lr", "optional.include", "optional/hidden.units",
                             "optional/hidden.stride", "optional/hidden.act"]
    assert isinstance(by_name["input.lr"], Real) and by_name["input.lr"].prior == "log-uniform"
    assert isinstance(by_name["optional/hidden.units"], Integer)
    assert by_name["optional/hidden.units"].prior == "log-uniform"
    assert (by_name["optional/hidden.stride"].low, by_name["optional/hidden.stride"].high) == \
        (0, 4)
    assert isinstance(by_name["optional/hidden.act"], Categorical)
    assert list(by_name["optional/hidden.act"].categories) == [0, 1]  # objects by index


def test_decode_ignores_inactive_dimensions_and_returns_plain_python():
    dimensions, decode = to_skopt(log_space())
    rng = random.Random(0)
    for seed in range(20):
        arch = log_space().sample(seed)
        x = decode.encode(arch.values)
        if not arch.values["optional.include"]:
            x[2:] = [rng.choice([8, 300]), rng.randrange(5), rng.randrange(2)]
        assert decode(x).values == arch.values
    optimizer = Optimizer(dimensions, random_state=0)
    for x in optimizer.ask(n_points=10):
        values = decode(x).values
        assert all(type(v).__module__ == "builtins" for v in values.values())


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(spaces(max_leaves=5))
def test_every_architecture_round_trips_through_a_point(space):
    found = enumerate_values(space, 200)
    if found is None:
        return
    _, decode = to_skopt(space)
    for values in found:
        assert decode(decode.encode(values)).values == space.replay(values).values


def test_gbrt_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="GBRT.*broken.*'ET', 'RF' or 'GP'"):
        SkoptSearcher(poster_space(), base_estimator="GBRT")
    with pytest.raises(ValueError, match="base_estimator"):
        SkoptSearcher(poster_space(), base_estimator="XGB")


def test_points_are_told_as_asked_or_with_inactive_coordinates_at_their_default():
    searchers = [SkoptSearcher(log_space(), seed=0, n_initial_points=20, impute_inactive=impute)
                 for impute in (False, True)]
    for _ in range(12):
        for searcher in searchers:
            proposal = searcher.ask()
            searcher.tell(proposal, proposal.values["input.lr"])
    asked, imputed = searchers  # same seed, all random points: the same proposals
    for x_asked, x_told, y in zip(asked.optimizer.Xi, imputed.optimizer.Xi, imputed.optimizer.yi):
        arch = imputed.decode(x_told)
        assert arch.values == asked.decode(x_asked).values and y == arch.values["input.lr"]
        if not arch.values["optional.include"]:
            assert x_told[2:] == [8, 0, 0]
    assert any(x_asked != x_told for x_asked, x_told in zip(asked.optimizer.Xi,
                                                           imputed.optimizer.Xi))


def test_failures_are_told_as_the_worst_loss_once_there_is_one():
    searcher = SkoptSearcher(poster_space(), seed=0, direction="maximize")
    first = searcher.ask()
    searcher.tell(first, None)  # nothing to compare with yet: skipped
    assert searcher.optimizer.yi == []
    for score in (3.0, 5.0):
        searcher.tell(searcher.ask(), score)
    searcher.tell(searcher.ask(), None)
    assert searcher.optimizer.yi == [-3.0, -5.0, -3.0]


def test_after_max_rejections_a_random_valid_architecture_is_proposed_and_told():
    from da_bridge import InvalidArchitectureError

    def cell(values):
        if not all(values.values()):  # one flag setting in 16 is valid
            raise InvalidArchitectureError("every flag must be set")
        return op("conv", {"filters": Discrete([8, 16])})

    space = SearchSpace(lambda: substitution("cell", cell, {f"f{i}": Bool() for i in range(4)}))
    searcher = SkoptSearcher(space, seed=0, n_initial_points=3, max_rejections=2)
    asked, real_ask = [], searcher.optimizer.ask
    searcher.optimizer.ask = lambda *args, **kwargs: asked.append(1) or real_ask(*args, **kwargs)
    for i in range(6):
        before = len(asked)
        proposal = searcher.ask()
        assert len(asked) - before <= 2  # then the fallback, not a third skopt point
        assert all(proposal.values[f"cell.f{k}"] for k in range(4))
        searcher.tell(proposal, float(i))
    flags = [searcher.decode.names.index(f"cell.f{k}") for k in range(4)]
    told = list(zip(searcher.optimizer.Xi, searcher.optimizer.yi))
    assert [y for x, y in told if all(x[k] for k in flags)] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert len(told) > 6  # the rejections, told as the worst loss so far


def test_restore_tells_the_history_in_one_batch():
    history = [(poster_space().sample(i).values, float(i)) for i in range(12)]
    searcher = SkoptSearcher(poster_space(), seed=0, base_estimator="RF")
    searcher.restore(history)
    assert searcher.optimizer.yi == [float(i) for i in range(12)]
    assert len(searcher.optimizer.models) == 1
    proposal = searcher.ask()
    assert poster_space().replay(proposal.values).to_json() == proposal.architecture.to_json()


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["ET", "RF", "GP"])
def test_each_estimator_runs_thirty_trials(estimator):
    searcher = SkoptSearcher(log_space(), base_estimator=estimator, seed=0)
    for _ in range(30):
        proposal = searcher.ask()
        assert log_space().replay(proposal.values).to_json() == proposal.architecture.to_json()
        searcher.tell(proposal, proposal.values["input.lr"])
    assert min(searcher.optimizer.yi) < 1e-3


def test_past_the_exploration_limit_the_encoding_is_partial_and_still_decodes():
    dimensions, decode = to_skopt(poster_space(), max_states=2)  # the rest from samples
    assert {"conv.filters", "optional.include", "chain1.n"} <= {d.name for d in dimensions}
    x = [d.rvs(n_samples=1, random_state=0)[0] for d in dimensions]
    arch = decode(x)  # slots no sample showed take their default value
    assert poster_space().replay(arch.values).to_json() == arch.to_json()


def test_exploration_limits_are_errors_that_say_why():
    width = SearchSpace(lambda: substitution(
        "stack", lambda v: op("dense", {"units": Discrete([round(v["width"])])}),
        {"width": Float(1.0, 4.0)}))
    with pytest.raises(SpaceError, match=r"'stack\.width' decides the structure"):
        to_skopt(width)


@pytest.mark.parametrize("estimator", ["ET", pytest.param("RF", marks=pytest.mark.slow)])
def test_the_faster_forest_and_one_hot_give_skopts_own_numbers(estimator):
    # the searcher swaps skopt's forest and one-hot encoder for cheaper ones; a plain
    # skopt Optimizer with the same seed must predict and propose exactly the same
    searcher = SkoptSearcher(poster_space(), base_estimator=estimator, seed=3,
                             n_initial_points=4)
    dimensions, _ = to_skopt(poster_space())
    plain = Optimizer(dimensions, base_estimator=estimator, n_initial_points=4, acq_func="EI",
                      random_state=3, acq_optimizer_kwargs={"n_points": 500})
    searcher.optimizer.n_points = 500  # candidates scored per tell (skopt's default: 10,000)
    assert type(searcher.optimizer.base_estimator_) is not type(plain.base_estimator_)
    rng = random.Random(0)
    for _ in range(7):
        x = plain.ask()
        assert searcher.optimizer.ask() == x
        y = rng.random()
        plain.tell(x, y)
        searcher.optimizer.tell(x, y)
    points = plain.space.rvs(50, random_state=1)
    assert (searcher.optimizer.space.transform(points) == plain.space.transform(points)).all()
    X = plain.space.transform(points)  # noqa: N806
    for fast, slow in zip(searcher.optimizer.models, plain.models):
        mean, std = fast.predict(X, return_std=True)
        mean_, std_ = slow.predict(X, return_std=True)
        assert mean == pytest.approx(mean_, rel=1e-12) and std == pytest.approx(std_, rel=1e-9)
        assert fast.predict(X) == pytest.approx(slow.predict(X), rel=1e-12)


def test_skopts_repeated_point_warning_does_not_reach_the_user():
    # three architectures and twelve asks: skopt's model proposes told points, and skopt
    # warns before drawing a random one; the searcher keeps that warning to itself
    space = SearchSpace(lambda: op("m", {"a": Discrete([1, 2, 3])}))
    searcher = SkoptSearcher(space, seed=0, n_initial_points=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(12):
            proposal = searcher.ask()
            searcher.tell(proposal, float(proposal.values["m.a"]))
    assert len(searcher.optimizer.yi) == 12
    assert not [w for w in caught if "evaluated at point" in str(w.message)]
