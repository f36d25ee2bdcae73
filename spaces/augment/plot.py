"""Pictures of a policy at work: a grid of images and their augmented versions."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from da_bridge._imports import require

from .compile import Policy


def save_policy_grid(policy: Policy, images: np.ndarray, path: str | os.PathLike, *,
                     n_augmented: int = 6, rng: Any = 0,
                     value_range: Sequence[float] | None = None,
                     title: str | None = None) -> str:
    """Write a PNG: one row per image, the original first, then `n_augmented` draws of `policy`.

    Drawn with matplotlib's Agg canvas (no pyplot, no display needed).

    Args:
        policy: A compiled policy (`to_policy`).
        images: A batch `(N, H, W, C)` with 1 or 3 channels; each becomes a row.
        path: Where to write the PNG; missing folders are created.
        n_augmented: Augmented columns.
        rng: Seeds the policy's draws.
        value_range: `(low, high)` of the pixels, for the policy and the display;
            default the policy's, else (0, 1) for floats and (0, 255) for uint8.
        title: Above the grid; default the policy's description.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> from da_bridge.spaces.augment import to_policy, randaugment_space
        >>> policy = to_policy(randaugment_space().replay({"n": 1, "magnitude": 0.3}))
        >>> out = save_policy_grid(policy, np.zeros((2, 8, 8, 1), "float32"),
        ...                        os.path.join(tempfile.mkdtemp(), "grid.png"), n_augmented=2)
        >>> open(out, "rb").read(4) == b"\\x89PNG"
        True
    """
    figure_mod = require("matplotlib.figure", "viz")
    agg = require("matplotlib.backends.backend_agg", "viz")
    images = np.asarray(images)
    if value_range is not None:
        policy = Policy(policy.program, value_range=value_range)
    low, high = _range(policy, images, value_range)
    columns = [images] + [policy(images, gen) for gen in _generators(rng, n_augmented)]
    n_rows, n_cols = len(images), len(columns)
    text = title if title is not None else policy.describe(multiline=True)
    text = "\n".join(textwrap.fill(line, width=max(40, 12 * n_cols), subsequent_indent="     ")
                     for line in text.splitlines())
    fig = figure_mod.Figure(figsize=(1.1 * n_cols, 1.1 * n_rows + 0.2 * text.count("\n") + 0.5),
                            layout="constrained")
    agg.FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for col, batch in enumerate(columns):
        for row in range(n_rows):
            _show(axes[row][col], batch[row], low, high)
        axes[0][col].set_title("original" if col == 0 else f"draw {col}", fontsize=8)
    fig.suptitle(text, fontsize=8, horizontalalignment="left", x=0.02)
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def _generators(rng: Any, n: int) -> list[np.random.Generator]:
    gen = np.random.default_rng(rng)
    return [np.random.default_rng(gen.integers(2**63)) for _ in range(n)]


def _range(policy: Policy, images: np.ndarray,
           value_range: Sequence[float] | None) -> tuple[float, float]:
    if value_range is not None:
        return float(value_range[0]), float(value_range[1])
    if policy.value_range is not None:
        return policy.value_range
    return (0.0, 255.0) if images.dtype == np.uint8 else (0.0, 1.0)


def _show(ax: Any, image: np.ndarray, low: float, high: float) -> None:
    scaled = np.clip((image.astype(np.float64) - low) / (high - low), 0.0, 1.0)
    if scaled.shape[-1] == 1:
        ax.imshow(scaled[..., 0], cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(scaled[..., :3], interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
