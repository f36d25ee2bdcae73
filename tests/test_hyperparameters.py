import math
import random

import pytest

from da_bridge import (
    AssignmentError,
    Bool,
    CycleError,
    DABridgeError,
    Dependent,
    Discrete,
    DomainError,
    Float,
    Int,
    MissingExtraError,
    NameClashError,
    ReplayError,
    SearchSpace,
    SpaceError,
    SubstitutionError,
    UnspecifiedError,
    basic,
)


def one_module(**hyperparameters):
    return SearchSpace(lambda: basic("m", lambda v: lambda x: {"out": v}, hyperparameters))


# Discrete --------------------------------------------------------------------------------------

def test_discrete_keeps_values_in_order_and_returns_the_candidate():
    h = Discrete([64, 32, "same", None])
    assert h.values == (64, 32, "same", None)
    assert h.size() == 4 and h.enumerate() == [64, 32, "same", None]
    assert repr(h) == "Discrete([64, 32, 'same', None])"
    assert h.check(32, "conv.filters") == 32


def test_discrete_rejects_a_value_naming_path_value_and_domain():
    message = r"'cell/conv\.filters' got 48; allowed: Discrete\(\[32, 64\]\)"
    with pytest.raises(DomainError, match=message) as info:
        Discrete([32, 64]).check(48, "cell/conv.filters")
    assert (info.value.path, info.value.value, info.value.domain) == (
        "cell/conv.filters", 48, "Discrete([32, 64])")


@pytest.mark.parametrize("values", [[], [1, 1], [1, 1.0], ["a", "b", "a"]])
def test_discrete_needs_distinct_values(values):
    with pytest.raises(DomainError, match="Discrete"):
        Discrete(values)


def test_discrete_keeps_booleans_apart_from_numbers():
    h = Discrete([0, False, 1, True])
    assert h.check(False, "p") is False
    assert h.check(0, "p") == 0 and h.check(0, "p") is not False
    assert Discrete([1, 2]).index(True) is None
    with pytest.raises(DomainError, match="'p' got True"):
        Discrete([1, 2]).check(True, "p")


def test_discrete_accepts_objects_and_encodes_them_by_index():
    def relu(x):
        return x

    h = Discrete([relu, (3, 3)])
    assert not h.is_plain()
    assert h.check((3, 3), "act") == (3, 3)
    assert h.encode(relu) == {"index": 0, "repr": relu.__qualname__}
    assert relu.__qualname__.endswith("<locals>.relu")
    assert h.decode({"index": 1, "repr": "anything"}, "act") == (3, 3)
    assert h.decode(relu, "act") is relu


@pytest.mark.parametrize("data", [{"index": 2}, {"index": -1}, {"index": "0"}, {"index": True}])
def test_discrete_decode_rejects_a_bad_index(data):
    with pytest.raises(DomainError, match=r"'act' got .*an index into Discrete"):
        Discrete([max, min]).decode(data, "act")


def test_discrete_with_array_values_compares_by_identity():
    np = pytest.importorskip("numpy")
    a, b = np.zeros(3), np.ones(3)
    h = Discrete([a, b])
    assert h.check(b, "w") is b
    with pytest.raises(DomainError):
        h.check(np.ones(3), "w")


def test_discrete_plain_values_encode_as_themselves():
    h = Discrete([0.5, "x", None, True])
    assert h.is_plain()
    assert [h.encode(v) for v in h.values] == [0.5, "x", None, True]
    assert h.decode("x", "p") == "x"


def test_bool():
    assert Bool().values == (False, True)
    assert repr(Bool()) == "Bool()"
    assert Bool(name="bn_opt").name == "bn_opt"
    with pytest.raises(DomainError, match=r"'bn' got 1; allowed: Bool\(\)"):
        Bool().check(1, "bn")


def test_discrete_sample_is_uniform_over_the_candidates():
    rng = random.Random(0)
    draws = [Discrete(["a", "b", "c"]).sample(rng) for _ in range(3000)]
    assert {v: draws.count(v) for v in "abc"} == pytest.approx({"a": 1000, "b": 1000, "c": 1000},
                                                              rel=0.1)


# Int --------------------------------------------------------------------------------------------

def test_int_domain_repr_size_and_enumerate():
    assert repr(Int(1, 4)) == "Int(1, 4)"
    assert repr(Int(0, 10, step=5)) == "Int(0, 10, step=5)"
    assert repr(Int(1, 8, log=True)) == "Int(1, 8, log=True)"
    assert Int(0, 10, step=5).enumerate() == [0, 5, 10]
    assert Int(0, 10, step=5).size() == 3
    assert Int(3, 3).enumerate() == [3]


@pytest.mark.parametrize("value", [-1, 0, 2, 4, 7, 1.0, 2.5, True, "3", None])
def test_int_check_rejects_values_off_the_grid(value):
    with pytest.raises(DomainError, match=r"'cell/repeat\.n' got .*; allowed: Int\(1, 5, step=2\)"):
        Int(1, 5, step=2).check(value, "cell/repeat.n")


def test_int_check_accepts_integral_values():
    np = pytest.importorskip("numpy")
    h = Int(1, 4)
    assert h.check(np.int64(3), "n") == 3 and type(h.check(np.int64(3), "n")) is int


@pytest.mark.parametrize("args, kwargs, allowed", [
    ((5, 1), {}, "low <= high"),
    ((1.0, 4), {}, "integers"),
    ((True, 4), {}, "integers"),
    ((0, 5, 2), {}, "step >= 1 dividing"),
    ((0, 4, 0), {}, "step >= 1 dividing"),
    ((0, 8), {"log": True}, "low >= 1"),
    ((1, 9, 2), {"log": True}, "step == 1"),
])
def test_int_validates_its_domain(args, kwargs, allowed):
    with pytest.raises(DomainError, match=allowed):
        Int(*args, **kwargs)


@pytest.mark.parametrize("h", [Int(1, 4), Int(0, 20, step=5), Int(1, 1000, log=True), Int(7, 7)])
def test_int_samples_stay_on_the_grid(h):
    rng = random.Random(1)
    for _ in range(300):
        assert h.check(h.sample(rng), "n") is not None


def test_int_log_sampling_favours_small_values():
    rng = random.Random(2)
    draws = [Int(1, 1000, log=True).sample(rng) for _ in range(2000)]
    assert sum(d <= 31 for d in draws) > 800  # log-uniform: about half below sqrt(1000)


# Float ------------------------------------------------------------------------------------------

def test_float_domain_and_check():
    h = Float(0.0, 1.0)
    assert repr(h) == "Float(0.0, 1.0)" and h.size() == math.inf
    assert h.check(1, "lr") == 1.0 and isinstance(h.check(1, "lr"), float)
    assert Float(2.5, 2.5).size() == 1 and Float(2.5, 2.5).enumerate() == [2.5]
    with pytest.raises(DomainError, match="finite domains only"):
        h.enumerate()


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, math.inf, True, "0.5", None])
def test_float_check_rejects(value):
    with pytest.raises(DomainError, match=r"'opt/sgd\.lr' got .*; allowed: Float\(0\.0, 1\.0\)"):
        Float(0.0, 1.0).check(value, "opt/sgd.lr")


@pytest.mark.parametrize("args, kwargs, allowed", [
    ((1.0, 0.0), {}, "low <= high"),
    ((0.0, math.inf), {}, "finite real numbers"),
    ((math.nan, 1.0), {}, "finite real numbers"),
    (("0", 1.0), {}, "finite real numbers"),
    ((0.0, 1.0), {"log": True}, "low > 0"),
])
def test_float_validates_its_domain(args, kwargs, allowed):
    with pytest.raises(DomainError, match=allowed):
        Float(*args, **kwargs)


def test_float_sampling_respects_bounds_and_log_scale():
    rng = random.Random(3)
    draws = [Float(1e-4, 1.0, log=True).sample(rng) for _ in range(2000)]
    assert all(1e-4 <= d <= 1.0 for d in draws)
    assert sum(d < 1e-2 for d in draws) == pytest.approx(1000, rel=0.15)
    assert all(0.5 <= Float(0.5, 0.75).sample(rng) <= 0.75 for _ in range(200))


# Dependent --------------------------------------------------------------------------------------

def test_dependent_is_computed_from_its_parents():
    h_n = Discrete([1, 2])
    h_twice = Dependent(lambda v: 2 * v["n"], {"n": h_n})
    assert h_twice.parents == {"n": h_n}
    values = one_module(w=h_twice).replay({"m.w.n": 2}).forward({"in": 0})["out"]
    assert values == {"w": 4}


@pytest.mark.parametrize("fn, parents", [
    (4, {"n": Discrete([1])}),
    (lambda v: v, {}),
    (lambda v: v, {"n": 3}),
])
def test_dependent_validates_its_arguments(fn, parents):
    with pytest.raises(DomainError, match="Dependent"):
        Dependent(fn, parents)


def test_a_failing_dependent_raises_a_space_error_naming_it():
    h = Dependent(lambda v: 1 / v["n"], {"n": Discrete([0, 1])})
    with pytest.raises(SpaceError, match=r"'m\.w' raised ZeroDivisionError"):
        one_module(w=h).replay({"m.w.n": 0})


@pytest.mark.parametrize("name", ["", "a/b", 3])
def test_explicit_names_must_be_path_segments(name):
    with pytest.raises(SpaceError, match="hyperparameter name"):
        Discrete([1], name=name)


# Errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("error, builtin", [
    (DomainError, ValueError), (SpaceError, ValueError), (NameClashError, SpaceError),
    (SubstitutionError, SpaceError), (CycleError, SpaceError), (AssignmentError, ValueError),
    (ReplayError, LookupError), (UnspecifiedError, ValueError), (MissingExtraError, ImportError),
])
def test_every_error_is_a_da_bridge_error_and_a_builtin(error, builtin):
    assert issubclass(error, DABridgeError) and issubclass(error, builtin)
    assert not issubclass(error, KeyError)
