"""Images for the augmentation domain: built-in sets, folders of class subfolders, `.npz`."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from da_bridge import DatasetError
from da_bridge.spaces.augment import load_data, read_image_folder
from da_bridge.spaces.augment.data import sample_patches


def _write_folder(root, sizes=((12, 9), (10, 10), (7, 14)), mode="RGB", per_class=8):
    """Three classes of PNGs of mixed sizes; class k is brightest in channel k."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(("apple", "pear", "plum")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            height, width = sizes[i % len(sizes)]
            pixels = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
            pixels[..., k] += 180
            Image.fromarray(pixels).convert(mode).save(root / name / f"{i}.png")
    (root / "notes.txt").write_text("not an image folder")
    return root


def test_folder_of_pngs_is_read_resized_and_labelled_by_subfolder(tmp_path):
    folder = _write_folder(tmp_path / "fruit")
    x, y, names = read_image_folder(folder, image_size=(6, 5))
    assert x.shape == (24, 6, 5, 3) and x.dtype == np.uint8
    assert names == ["apple", "pear", "plum"] and np.bincount(y).tolist() == [8, 8, 8]
    for k in range(3):  # the class's bright channel survives the resize
        assert x[y == k].mean(axis=(0, 1, 2)).argmax() == k
    first, _, _ = read_image_folder(folder)  # no size: the first image's (12 x 9)
    assert first.shape[1:] == (12, 9, 3)


@pytest.mark.parametrize("mode, channels", [("L", 1), ("RGBA", 4), ("RGB", 3)])
def test_channel_count_follows_the_images_or_the_option(tmp_path, mode, channels):
    folder = _write_folder(tmp_path / "fruit", mode=mode)
    x, _, _ = read_image_folder(folder, image_size=(8, 8))
    assert x.shape[-1] == channels
    gray, _, _ = read_image_folder(folder, image_size=(8, 8), color_mode="grayscale")
    assert gray.shape[-1] == 1


def test_load_data_splits_a_folder(tmp_path):
    folder = _write_folder(tmp_path / "fruit", per_class=20)
    data = load_data(str(folder), train_size=30, valid_size=15, image_size=(16, 16))
    assert data.x_train.shape == (30, 16, 16, 3) and data.value_range == (0.0, 255.0)
    assert len(data.y_test) == 15 and data.n_classes == 3


def test_bad_folders_and_options(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        read_image_folder(tmp_path / "nowhere")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no class subfolders with images"):
        read_image_folder(tmp_path / "empty")
    folder = _write_folder(tmp_path / "fruit")
    with pytest.raises(DatasetError, match="image_size"):
        read_image_folder(folder, image_size=(0, 5))
    with pytest.raises(DatasetError, match="color_mode"):
        read_image_folder(folder, color_mode="cmyk")


def test_sample_patches_differ_from_digits_in_size_and_channels():
    x, y = sample_patches(per_class=5)
    assert x.shape == (60, 16, 16, 3) and np.bincount(y).tolist() == [5] * 12
    again, _ = sample_patches(per_class=5)
    assert np.array_equal(x, again)
