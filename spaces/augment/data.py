"""The labelled images a policy is scored on: sklearn's digits, patches of sklearn's sample
photographs, an `.npz`, or your own folder of class subfolders.

`load_data` reads one and splits it into a small training set (the one the policy
augments), a validation set the search scores on and a test set kept for an honest
final report.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from da_bridge._imports import require
from da_bridge.errors import DatasetError, DomainError

#: Built-in datasets: `load_data(name)`.
BUILTIN = ("digits", "patches")
#: Image file types a folder dataset reads (those of `keras.utils.image_dataset_from_directory`).
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_COLOR_MODES = {"L": "grayscale", "1": "grayscale", "I;16": "grayscale", "RGBA": "rgba",
                "LA": "rgba", "P": "rgb"}


@dataclass(frozen=True)
class AugmentData:
    """Images `(N, H, W, C)` and integer labels, split three ways.

    Attributes:
        x_train: The small training set the policy augments.
        y_train: Its labels.
        x_valid: Untouched images the search scores on.
        y_valid: Their labels.
        x_test: Untouched images for a final, unbiased score (may be empty).
        y_test: Their labels.
        value_range: `(low, high)` of the pixels (digits: (0, 16)).

    Example:
        >>> data = load_data(train_size=100, valid_size=100)
        >>> data.n_classes, data.y_train[:5].tolist()
        (10, [7, 2, 8, 7, 4])
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    value_range: tuple[float, float]

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_valid.max()) + 1)


def load_data(dataset: str = "digits", *, train_size: int = 300, valid_size: int = 500,
              seed: int = 0, value_range: Sequence[float] | None = None,
              image_size: Sequence[int] | None = None,
              color_mode: str | None = None) -> AugmentData:
    """Load and split `dataset`: a built-in name, a folder of class subfolders, or an `.npz`.

    * `"digits"`: sklearn's 1,797 8x8 grayscale digits, pixels in [0, 16].
    * `"patches"`: 1,200 16x16 RGB crops of sklearn's two sample photographs, labelled
      by the region (one of 6 per photograph, 12 classes) they come from (`sample_patches`).
    * a folder: one subfolder per class, read as `keras.utils.image_dataset_from_directory`
      reads it (labels are the sorted subfolder names; `.png`, `.jpg`, `.bmp`, `.gif`), see
      `read_image_folder`; uint8 pixels in (0, 255).
    * an `.npz` with `x` (`(N, H, W)` or `(N, H, W, C)`, uint8 or float) and `y`
      (labels of any type; they are encoded as 0..k-1).

    The split is stratified when every class has at least 2 images; the test set is
    what is left.

    Args:
        dataset: A name of `BUILTIN`, a folder, or a path to an `.npz` file.
        train_size: Images in the training set.
        valid_size: Images in the validation set.
        seed: Seeds the split.
        value_range: `(low, high)` of the pixels; None infers it: (0, 16) for the
            digits, (0, 255) for uint8, (0, 1) for floats up to 1, else
            `(floor(min), ceil(max))`.
        image_size: `(height, width)` every image of a folder is resized to; None keeps
            the size of the first image.
        color_mode: "grayscale", "rgb" or "rgba" for a folder; None follows the first image.

    Raises:
        DatasetError: For a path that does not exist or holds no images, or bad options.

    Example:
        >>> data = load_data("digits", train_size=100, valid_size=200, seed=0)
        >>> data.x_train.shape, data.x_valid.shape, data.x_test.shape, data.value_range
        ((100, 8, 8, 1), (200, 8, 8, 1), (1497, 8, 8, 1), (0.0, 16.0))
        >>> load_data("patches", train_size=120, valid_size=240).x_train.shape
        (120, 16, 16, 3)
    """
    default_range = None
    if dataset == "digits":
        digits = require("sklearn.datasets", "sklearn").load_digits()
        x, y, default_range = digits.images[..., None], digits.target, (0.0, 16.0)
    elif dataset == "patches":
        x, y = sample_patches()
    elif os.path.isdir(dataset):
        x, y, _ = read_image_folder(dataset, image_size=image_size, color_mode=color_mode)
    else:
        x, y = _read_npz(dataset)
    vr = value_range if value_range is not None else default_range or _infer_range(x)
    return _split(x, y, train_size, valid_size, seed, (float(vr[0]), float(vr[1])))


def read_image_folder(path: str | os.PathLike, *, image_size: Sequence[int] | None = None,
                      color_mode: str | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every image of a folder of class subfolders, resized, as uint8 `(N, H, W, C)`.

    Reads with `keras.utils.image_dataset_from_directory` (labels inferred from the
    sorted subfolder names, bilinear resizing), so a model trained on the result sees
    what a Keras user's pipeline would give it.

    Args:
        path: The folder: `path/<class name>/<image file>`.
        image_size: `(height, width)` to resize to; None takes the first image's size.
        color_mode: "grayscale" (1 channel), "rgb" (3) or "rgba" (4); None follows the
            first image's mode.

    Returns:
        The images, their integer labels, and the class names (label `i` is `names[i]`).

    Raises:
        DatasetError: If the folder does not exist, has no class subfolders with images,
            or an option is bad.

    Example:
        >>> import tempfile, PIL.Image
        >>> folder = tempfile.mkdtemp()
        >>> for name in ("cat", "dog"):
        ...     os.mkdir(os.path.join(folder, name))
        ...     PIL.Image.new("L", (6, 4)).save(os.path.join(folder, name, "a.png"))
        >>> x, y, names = read_image_folder(folder, image_size=(5, 5))
        >>> x.shape, x.dtype, y.tolist(), names
        ((2, 5, 5, 1), dtype('uint8'), [0, 1], ['cat', 'dog'])
    """
    path = os.fspath(path)
    first = _first_image(path)
    pil_image = require("PIL.Image", "viz")
    with pil_image.open(first) as image:
        size = (image.height, image.width) if image_size is None else tuple(image_size)
        mode = color_mode or _COLOR_MODES.get(image.mode, "rgb")
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise DatasetError(f"image_size must be two positive integers (height, width); "
                           f"got {image_size!r}")
    if mode not in ("grayscale", "rgb", "rgba"):
        raise DatasetError(f"color_mode must be 'grayscale', 'rgb' or 'rgba'; got {mode!r}")
    keras = require("keras", "keras")
    dataset = keras.utils.image_dataset_from_directory(
        path, labels="inferred", label_mode="int", color_mode=mode, batch_size=None,
        image_size=size, shuffle=False, verbose=False)
    images, labels = zip(*((np.asarray(x), int(y)) for x, y in dataset), strict=True)
    x = np.clip(np.rint(np.stack(images)), 0, 255).astype(np.uint8)
    return x, np.asarray(labels), list(dataset.class_names)


def sample_patches(size: int = 16, per_class: int = 100, seed: int = 0) -> tuple[np.ndarray,
                                                                                   np.ndarray]:
    """Random `size` x `size` RGB crops of sklearn's two sample photographs (shipped with
    scikit-learn, no download), labelled by region: each photograph, halved in size, is
    cut into a 2 x 3 grid of regions, 12 classes in all, `per_class` crops each.

    Example:
        >>> x, y = sample_patches(per_class=2)
        >>> x.shape, x.dtype, sorted(set(y.tolist())) == list(range(12))
        ((24, 16, 16, 3), dtype('uint8'), True)
    """
    photos = require("sklearn.datasets", "sklearn").load_sample_images().images
    rng = np.random.default_rng(seed)
    x: list[np.ndarray] = []
    y: list[int] = []
    for photo in photos:
        small = photo[::2, ::2]
        rows, cols = np.array_split(np.arange(small.shape[0]), 2), np.array_split(
            np.arange(small.shape[1]), 3)
        for r in rows:
            for c in cols:
                top = rng.integers(r[0], r[-1] - size + 2, per_class)
                left = rng.integers(c[0], c[-1] - size + 2, per_class)
                x += [small[t:t + size, s:s + size] for t, s in zip(top, left, strict=True)]
                y += [len(set(y))] * per_class
    return np.stack(x).astype(np.uint8), np.asarray(y)


def _first_image(path: str) -> str:
    if not os.path.isdir(path):
        raise DatasetError(f"dataset {path!r} does not exist; give 'digits', 'patches', a "
                           f"folder of class subfolders, or an .npz file with x and y")
    for name in sorted(os.listdir(path)):
        folder = os.path.join(path, name)
        if os.path.isdir(folder):
            files = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTENSIONS))
            if files:
                return os.path.join(folder, files[0])
    raise DatasetError(f"folder {path!r} has no class subfolders with images "
                       f"({', '.join(IMAGE_EXTENSIONS)}): put each class's images in "
                       f"{path}/<class name>/")


def _read_npz(path: str) -> tuple[np.ndarray, np.ndarray]:
    if not os.path.exists(path):
        raise DomainError("dataset", path, "'digits' or an existing .npz file with x and y")
    with np.load(path, allow_pickle=False) as archive:
        missing = sorted({"x", "y"} - set(archive.files))
        if missing:
            raise DomainError("dataset", path, f"an .npz with arrays x and y (missing {missing})")
        x, y = archive["x"], archive["y"]
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or len(x) != len(y):
        raise DomainError("dataset", path, f"x of shape (N, H, W[, C]) and N labels; got x "
                                           f"{x.shape} and y {y.shape}")
    return x, y


def _infer_range(x: np.ndarray) -> tuple[float, float]:
    if x.dtype == np.uint8:
        return 0.0, 255.0
    low, high = float(np.floor(x.min())), float(np.ceil(x.max()))
    if low >= 0 and high <= 1:
        return 0.0, 1.0
    return low, max(high, low + 1)


def _split(x: np.ndarray, y: np.ndarray, train_size: int, valid_size: int, seed: int,
           value_range: tuple[float, float]) -> AugmentData:
    model_selection = require("sklearn.model_selection", "sklearn")
    _, y = np.unique(y, return_inverse=True)
    if train_size < 1 or valid_size < 1 or train_size + valid_size > len(y):
        raise DomainError("train_size + valid_size", (train_size, valid_size),
                          f"positive sizes with a sum of at most {len(y)} images")
    stratify = y if np.bincount(y).min() >= 2 else None
    x_train, x_rest, y_train, y_rest = model_selection.train_test_split(
        x, y, train_size=train_size, stratify=stratify, random_state=seed)
    if valid_size == len(y_rest):
        return AugmentData(x_train, y_train, x_rest, y_rest, x_rest[:0], y_rest[:0], value_range)
    stratify = y_rest if np.bincount(y_rest).min() >= 2 else None
    x_valid, x_test, y_valid, y_test = model_selection.train_test_split(
        x_rest, y_rest, train_size=valid_size, stratify=stratify, random_state=seed)
    return AugmentData(x_train, y_train, x_valid, y_valid, x_test, y_test, value_range)
