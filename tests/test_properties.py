"""Laws every search space obeys, checked on random spaces (see `strategies.py`)."""

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import spaces

from da_bridge import DABridgeError

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = st.integers(0, 2**32 - 1)

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 40), st.integers(), st.floats(), st.text(max_size=3),
    st.lists(st.integers(), max_size=2), st.tuples(st.integers()),
    st.dictionaries(st.sampled_from(["index", "repr"]), st.one_of(st.integers(-1, 4), st.none())),
    st.sampled_from([max, (1, 2), 10, "a", "k1", 0.5, 2**70, object()]),
)


@SETTINGS
@given(spaces(finite=False), SEEDS)
def test_replay_reproduces_sample(space, seed):
    arch = space.sample(seed)
    assert space.replay(arch.values).to_json() == arch.to_json()


@SETTINGS
@given(spaces(finite=False), SEEDS)
def test_to_json_is_json_and_replays_from_its_own_values(space, seed):
    arch = space.sample(seed)
    data = json.loads(json.dumps(arch.to_json()))
    assert data == arch.to_json()
    assert space.replay(data["values"]).dumps() == arch.dumps()
    assert isinstance(arch.forward({"in": "x"})["out"], str)


@SETTINGS
@given(spaces(finite=False), SEEDS)
def test_names_are_unique_and_every_exposed_name_gets_a_value(space, seed):
    rng = random.Random(seed)
    u, exposed = space.unfold(), []
    while (h := u.next()) is not None:
        exposed.append(h.name)
        u.assign(h.sample(rng))
    assert len(set(exposed)) == len(exposed)
    assert list(u.values) == exposed
    paths = [m.path for m in u.architecture().modules]
    assert len(set(paths)) == len(paths)


@SETTINGS
@given(spaces(finite=False), SEEDS, st.data())
def test_random_values_maps_raise_only_da_bridge_errors(space, seed, data):
    values = dict(space.sample(seed).values)
    names = [*values, "nope", "conv.p0", "optional.include", 5, None]
    for _ in range(data.draw(st.integers(1, 4))):
        if values and data.draw(st.booleans()):
            del values[data.draw(st.sampled_from(list(values)))]
        else:
            values[data.draw(st.sampled_from(names))] = data.draw(JUNK)
    try:
        arch = space.replay(values, strict=data.draw(st.booleans()))
    except DABridgeError:
        return
    json.dumps(arch.to_json())


@SETTINGS
@given(spaces(finite=False), st.data())
def test_assigning_random_values_raises_only_da_bridge_errors(space, data):
    rng = random.Random(0)
    u = space.unfold()
    while (h := u.next()) is not None:
        try:
            u.assign(data.draw(JUNK))
        except DABridgeError:
            u.assign(h.sample(rng))
    json.dumps(u.architecture().to_json())
