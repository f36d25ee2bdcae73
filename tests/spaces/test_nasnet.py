"""The NASNet cell space (Zoph et al., CVPR 2018): structure without Keras, models with it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from da_bridge import SpaceError
from da_bridge.spaces.keras import to_keras_model
from da_bridge.spaces.nasnet import OPERATIONS, genotype, nasnet_space

SMALL = {"num_blocks": 3, "num_normal": 1, "num_reductions": 1, "filters": 8}


def small_space(**overrides):
    return nasnet_space((8, 8, 1), 10, **{**SMALL, **overrides})


def test_count_is_the_product_of_every_block_choice():
    space = small_space(operations=OPERATIONS)
    per_kind = math.prod((b + 2) ** 2 * len(OPERATIONS) ** 2 for b in range(3))
    assert space.count() == per_kind ** 2


def test_choices_unfold_block_by_block_and_cells_of_a_kind_share_them():
    space = small_space(num_normal=2)
    u = space.unfold()
    names = []
    while (h := u.next()) is not None:
        names.append(h.name)
        u.assign(h.values[-1])
    assert names[:4] == ["normal/block_0.input_0", "normal/block_0.input_1",
                         "normal/block_0.op_0", "normal/block_0.op_1"]
    assert len(names) == 2 * 3 * 4  # one set of choices per kind, however many cells
    assert names[-1] == "reduction/block_2.op_1"


def test_a_block_is_wired_to_the_inputs_it_picks_only():
    space = small_space(num_blocks=2)
    values = dict(space.sample(3).values)
    values.update({"normal/block_1.input_0": 2, "normal/block_1.input_1": 0})
    arch = space.replay(values)
    modules = {m["path"]: m for m in arch.to_json()["modules"]}
    op_inputs = [modules[f"cell_0_normal/block_1/op_{k}"]["inputs"]["in"] for k in (0, 1)]
    assert op_inputs == ["cell_0_normal/block_1/state_2:out", "cell_0_normal/block_1/state_0:out"]
    assert "cell_0_normal/block_1/state_1" not in modules  # not picked, not in the graph
    reduction = modules["cell_1_reduction/block_0/op_0"]["properties"]
    assert reduction["strides"] == 2 and reduction["filters"] == 16


def test_genotype_lists_each_kind_of_cell():
    arch = small_space().sample(0)
    cells = genotype(arch)
    assert set(cells) == {"normal", "reduction"}
    for blocks in cells.values():
        assert len(blocks) == 3
        for b, (input_0, op_0, input_1, op_1) in enumerate(blocks):
            assert 0 <= input_0 < b + 2 and 0 <= input_1 < b + 2
            assert op_0 in OPERATIONS and op_1 in OPERATIONS


def test_bad_arguments_raise():
    with pytest.raises(SpaceError, match="num_blocks"):
        nasnet_space(num_blocks=0)
    with pytest.raises(SpaceError, match="operations"):
        nasnet_space(operations=["conv_9x9"])


@pytest.mark.slow
def test_sampled_cells_build_and_run_in_keras():
    space = small_space()
    x = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    for seed in range(3):
        model = to_keras_model(space.sample(seed), space.input_shape)
        y = model.predict(x, verbose=0)
        assert y.shape == (4, 10)
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("op", OPERATIONS)
def test_every_operation_builds_in_normal_and_reduction_cells(op):
    space = small_space(num_blocks=2)
    values = {k: (op if ".op_" in k else 0) for k in space.sample(0).values}
    model = to_keras_model(space.replay(values), space.input_shape)
    assert model.output_shape == (None, 10)
    assert model.predict(np.zeros((2, 8, 8, 1), np.float32), verbose=0).shape == (2, 10)


@pytest.mark.slow
def test_a_nasnet_cell_learns_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images[..., None] / 16.0).astype("float32")
    y = digits.target
    space = small_space(num_blocks=2)
    values = dict(space.sample(0).values)
    values.update({k: "conv_3x3" for k in values if ".op_" in k})
    model = to_keras_model(space.replay(values), space.input_shape)
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:1400], y[:1400], epochs=6, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x[1400:], y[1400:], verbose=0)
    assert accuracy > 0.5
