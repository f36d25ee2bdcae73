"""Baselines of the augmentation domain: Keras' RandAugment and AugMix, TrivialAugment."""

from __future__ import annotations

import numpy as np
import pytest

from da_bridge.spaces.augment import SklearnEvaluator, load_data
from da_bridge.spaces.augment.baselines import (
    RANDAUGMENT_GRID,
    augmix,
    baselines,
    randaugment,
    trivial_augment,
)


def test_trivial_augment_applies_one_op_per_image_at_a_uniform_magnitude():
    policy = trivial_augment(["solarize", "posterize"], value_range=(0, 255))
    x = np.full((3000, 1, 2, 1), 200, dtype=np.uint8)
    out = policy(x, 0)[:, 0, 0, 0].astype(int)
    # solarize at m inverts 200 when 200 > 255 * (1 - m), i.e. m >= 0.3 (8 of 11 levels);
    # posterize keeps 200 for m <= 0.3 (8 bits down to 7 keep 200), then 192 (5 or 4 bits)
    solarized = np.mean(out == 55)
    assert abs(solarized - 0.5 * 8 / 11) < 0.03
    assert set(np.unique(out)) <= {55, 200, 192}


def test_every_baseline_is_listed_once():
    names = list(baselines((0, 16)))
    assert names[0] == "none" and names[-2:] == ["TrivialAugment", "AugMix"]
    assert len(names) == 3 + len(RANDAUGMENT_GRID)
    assert "RandAugment N=2 M=0.5" in names  # Keras' default


@pytest.mark.slow
@pytest.mark.parametrize("make", [lambda r: randaugment(r), lambda r: randaugment(r, 1, 0.1),
                                  augmix])
def test_keras_baselines_keep_shape_dtype_range_and_follow_the_seed(make):
    rng = np.random.default_rng(0)
    for x, value_range in ((rng.integers(0, 256, (40, 12, 10, 3), dtype=np.uint8), (0, 255)),
                           (rng.integers(0, 17, (40, 8, 8, 1)).astype(np.float64), (0, 16))):
        augment = make(value_range)
        out = augment(x, 3)
        assert out.shape == x.shape and out.dtype == x.dtype
        assert value_range[0] <= out.min() and out.max() <= value_range[1]
        assert not np.array_equal(out, x)
        assert np.array_equal(out, augment(x, 3))


@pytest.mark.slow
def test_evaluator_scores_a_keras_baseline_like_a_policy():
    data = load_data(train_size=60, valid_size=60)
    evaluator = SklearnEvaluator(data, copies=1, seed=0)
    score = evaluator(randaugment(data.value_range, 1, 0.1))
    assert 0 < score <= 1 and score == evaluator(randaugment(data.value_range, 1, 0.1))
