"""Messy tables as users have them: strings, booleans, numbers, an ID-like column, an empty
column, 8% missing values everywhere, and a string target (regression: a numeric one)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def messy_frame(n: int = 120, *, seed: int = 0, regression: bool = False):
    """`(X, y)`: a DataFrame of mixed columns with missing values, and its target."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    region = rng.choice(["north", "south", "east", "west"], size=n)
    flag = rng.choice([True, False], size=n)
    X = pd.DataFrame({
        "x1": x1, "x2": x2, "region": region, "flag": flag.astype(object),
        "customer": [f"c{i}" for i in rng.integers(0, 80, size=n)],  # high cardinality
        "empty": np.full(n, np.nan), "visits": rng.integers(0, 5, size=n).astype(float),
        "size": pd.Categorical(rng.choice(["S", "M", "L"], size=n)),
    })
    for column in X.columns.drop("empty"):
        X.loc[rng.random(n) < 0.08, column] = None
    signal = x1 + (region == "south") - x2 * flag
    y = signal if regression else np.where(signal > 0.3, "yes", "no")
    return X, pd.Series(y, name="target")
