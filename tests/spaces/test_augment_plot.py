"""Pictures of policies: `save_policy_grid`."""

from __future__ import annotations

import matplotlib.image
import numpy as np

from da_bridge.spaces.augment import autoaugment_space, save_policy_grid, to_policy


def test_grid_has_one_row_per_image_and_a_column_per_draw(tmp_path):
    policy = to_policy(autoaugment_space(2, 2).sample(0))
    images = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    small = matplotlib.image.imread(save_policy_grid(policy, images, tmp_path / "a.png",
                                                     n_augmented=2))
    wide = matplotlib.image.imread(save_policy_grid(policy, images, tmp_path / "b.png",
                                                    n_augmented=5))
    tall = matplotlib.image.imread(save_policy_grid(policy, np.concatenate([images] * 2),
                                                    tmp_path / "c.png", n_augmented=2))
    assert wide.shape[1] > small.shape[1] and tall.shape[0] > small.shape[0]


def test_grid_is_deterministic_and_uses_the_value_range(tmp_path):
    policy = to_policy(autoaugment_space(1, 1, ops=["translate_x"]).sample(1))
    digits = np.full((2, 8, 8, 1), 12.0)
    first = save_policy_grid(policy, digits, tmp_path / "x" / "one.png", value_range=(0, 16),
                             rng=3, title="digits")
    second = save_policy_grid(policy, digits, tmp_path / "two.png", value_range=(0, 16), rng=3,
                              title="digits")
    assert np.array_equal(matplotlib.image.imread(first), matplotlib.image.imread(second))
    assert first == str(tmp_path / "x" / "one.png")
