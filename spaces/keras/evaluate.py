"""Train and score Keras architectures: single- and multi-objective, with pruning."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from da_bridge._imports import require
from da_bridge.adapters.optuna import replay_trial
from da_bridge.architecture import Architecture
from da_bridge.errors import OptionError
from da_bridge.study.noise import record_accuracy

from ._session import fresh_session
from .compile import InputShape, model_summary, to_keras_model

if TYPE_CHECKING:
    import keras
    import optuna

    from da_bridge.study.runner import SearchResult

#: The scores `ClassificationObjective` can return, and the direction of each.
OBJECTIVES = {
    "val_accuracy": "maximize",
    "val_loss": "minimize",
    "params": "minimize",
    "latency": "minimize",
}

#: The trial user attribute holding each trained model's parameter count.
PARAMS_ATTR = "keras.params"


class ClassificationObjective:
    """An objective that trains an architecture's Keras model on arrays and scores it.

    Each call builds the model (`to_keras_model`), trains it with sparse
    categorical cross-entropy and returns the scores named in `objectives`,
    computed on the validation data: the last epoch's validation accuracy
    or loss, the parameter count, the median latency of one prediction.
    Given an Optuna trial of a single-objective study, it reports the
    monitored metric after every epoch and prunes through
    `optuna_integration.KerasPruningCallback`. It clears Keras's session
    before and after each model, and drops what TensorFlow's gradient
    registry would keep of it, so memory stays flat over many trials.

    Args:
        x: Training inputs, `(n, *input_shape)`.
        y: Integer class labels.
        validation_data: `(x_val, y_val)`; by default a seeded random
            `validation_split` of `x, y` is held out, the same for every call.
        validation_split: The fraction held out when `validation_data` is None.
        epochs: Training epochs per architecture.
        batch_size: Training batch size.
        optimizer: A Keras optimizer name, or a function returning a fresh
            optimizer (one per model).
        learning_rate: The learning rate when `optimizer` is a name.
        objectives: Names from `OBJECTIVES`; one gives a float, several a
            tuple in this order (use `directions` for the search).
        prune: Report and prune through the trial (single objective only).
        monitor: The metric reported to the trial after each epoch.
        seed: Seeds the validation split, and Keras before each model
            (`keras.utils.set_random_seed`, which also seeds Python's and
            NumPy's global generators), so a trial's score depends only on
            its architecture; None leaves them random.
        verbose: Keras `fit` verbosity.

    Attributes:
        directions: The direction of each objective, for `da_bridge.search`.
        input_shape: One example's shape.

    Example:
        >>> import numpy as np
        >>> x, y = np.zeros((20, 8, 8, 1), "float32"), np.arange(20) % 2
        >>> objective = ClassificationObjective(x, y, epochs=1, objectives=("val_accuracy",
        ...                                                                 "params"))
        >>> objective.directions
        ['maximize', 'minimize']
    """

    def __init__(self, x: Any, y: Any, *, validation_data: tuple[Any, Any] | None = None,
                 validation_split: float = 0.2, epochs: int = 5, batch_size: int = 32,
                 optimizer: str | Callable[[], Any] = "adam", learning_rate: float = 1e-2,
                 objectives: Sequence[str] = ("val_accuracy",), prune: bool = True,
                 monitor: str = "val_accuracy", seed: int | None = 0, verbose: int = 0) -> None:
        self.objectives = _check_objectives(objectives)
        self.directions = [OBJECTIVES[name] for name in self.objectives]
        _check_positive(epochs=epochs, batch_size=batch_size)
        self.epochs, self.batch_size, self.verbose = epochs, batch_size, verbose
        self.optimizer, self.learning_rate = optimizer, learning_rate
        self.prune, self.monitor, self.seed = prune, monitor, seed
        x, y = np.asarray(x), np.asarray(y)
        if validation_data is None:
            (x, y), validation_data = _split(x, y, validation_split, seed)
        self.x_train, self.y_train = x, y
        self.x_val, self.y_val = (np.asarray(a) for a in validation_data)
        _check_arrays(self.x_train, self.y_train, self.x_val, self.y_val)
        self.input_shape = tuple(int(d) for d in x.shape[1:])

    def __call__(self, arch: Architecture, trial: optuna.trial.BaseTrial | None = None) -> Any:
        """Train `arch` and return its score (a tuple of scores for several objectives)."""
        with fresh_session():
            model = self.train(arch, trial)
            scores = [self._score(name, model) for name in self.objectives]
            n_params = int(model.count_params())
            del model
        if trial is not None:
            trial.set_user_attr(PARAMS_ATTR, n_params)
            if self.objectives == ("val_accuracy",):  # an accuracy over the validation images
                record_accuracy(trial, scores[0], len(self.y_val))
        return scores[0] if len(scores) == 1 else tuple(scores)

    def train(self, arch: Architecture, trial: optuna.trial.BaseTrial | None = None,
              *, epochs: int | None = None) -> keras.Model:
        """Build and train `arch`'s model; returns it (its `history` holds every epoch).

        Args:
            arch: The architecture.
            trial: An Optuna trial to report to and prune through.
            epochs: Overrides the objective's `epochs`.
        """
        keras = require("keras", "keras")
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        model = to_keras_model(arch, self.input_shape)
        model.compile(optimizer=self._make_optimizer(keras),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(self.x_train, self.y_train, validation_data=(self.x_val, self.y_val),
                  epochs=epochs or self.epochs, batch_size=self.batch_size,
                  verbose=self.verbose, callbacks=self._callbacks(trial))
        return model

    def _make_optimizer(self, keras: Any) -> Any:
        if callable(self.optimizer):
            return self.optimizer()
        return keras.optimizers.get({"class_name": self.optimizer,
                                     "config": {"learning_rate": self.learning_rate}})

    def _callbacks(self, trial: Any) -> list[Any]:
        if trial is None or not self.prune or len(self.objectives) > 1:
            return []
        integration = require("optuna_integration", "keras")
        return [integration.KerasPruningCallback(trial, self.monitor)]

    def _score(self, name: str, model: Any) -> float:
        if name == "params":
            return float(model.count_params())
        if name == "latency":
            return measure_latency(model)
        return float(model.history.history[name][-1])


def measure_latency(model: keras.Model, *, batch_size: int = 1, repeats: int = 10) -> float:
    """The median time, in seconds, of one `predict_on_batch` call on zeros.

    The first call (which traces the model) is not counted.

    Example:
        >>> import keras
        >>> inputs = keras.Input((4,))
        >>> measure_latency(keras.Model(inputs, keras.layers.Dense(2)(inputs))) > 0
        True
    """
    _check_positive(batch_size=batch_size, repeats=repeats)
    arrays = [np.zeros((batch_size, *_known(t.shape[1:])), "float32") for t in model.inputs]
    batch = arrays[0] if len(arrays) == 1 else arrays
    model.predict_on_batch(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclass(frozen=True)
class ParetoPoint:
    """One architecture of a Pareto front.

    Attributes:
        number: The trial number.
        scores: `{objective name: value}`.
        architecture: The architecture, replayed from the trial.
        summary: Its Keras model summary.
    """

    number: int
    scores: dict[str, float]
    architecture: Architecture
    summary: str


def pareto_front(result: SearchResult, input_shape: InputShape | None = None, *,
                 names: Sequence[str] | None = None) -> list[ParetoPoint]:
    """The Pareto-optimal architectures of a (multi-objective) search, best first.

    Points are sorted on the first objective. Building each model for its
    summary calls `keras.backend.clear_session()` first, so layer names start
    afresh in each summary.

    Args:
        result: What `da_bridge.search` returned.
        input_shape: The models' input shape; by default the space's
            (`KerasSearchSpace.input_shape`).
        names: The objectives' names; by default the study's metric names,
            else `objective_0`, `objective_1`, ...

    Example:
        >>> import da_bridge
        >>> from da_bridge.spaces.keras import small_cnn
        >>> space = small_cnn()
        >>> def objective(arch):  # two scores without training, to keep this short
        ...     return arch.values["blocks.n"], int(arch.values["pool.include"])
        >>> result = da_bridge.search(space, objective, directions=["maximize", "minimize"],
        ...                           n_trials=4, seed=0, storage=":memory:")
        >>> front = pareto_front(result, names=["blocks", "pool"])
        >>> front[0].scores["blocks"] >= front[-1].scores["blocks"]
        True
    """
    keras = require("keras", "keras")
    study = result.study
    shape = input_shape if input_shape is not None else getattr(result.space, "input_shape", None)
    if shape is None:
        raise OptionError("pareto_front needs input_shape: the space does not record one")
    names = list(names or study.metric_names or
                 [f"objective_{i}" for i in range(len(study.directions))])
    reverse = study.directions[0].name == "MAXIMIZE"
    points = []
    for trial in sorted(study.best_trials, key=lambda t: t.values[0], reverse=reverse):
        arch = replay_trial(result.space, trial)
        keras.backend.clear_session(free_memory=False)
        summary = model_summary(to_keras_model(arch, shape))
        points.append(ParetoPoint(trial.number, dict(zip(names, trial.values)), arch, summary))
    return points


def _split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int | None) -> tuple:
    if not 0 < fraction < 1:
        raise OptionError(f"validation_split must be in (0, 1); got {fraction!r}")
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = max(1, int(round(len(x) * fraction)))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def _check_objectives(objectives: Sequence[str]) -> tuple[str, ...]:
    names = (objectives,) if isinstance(objectives, str) else tuple(objectives)
    unknown = [n for n in names if n not in OBJECTIVES]
    if not names or unknown or len(set(names)) != len(names):
        raise OptionError(f"objectives must be distinct names from {sorted(OBJECTIVES)}; "
                         f"got {list(names)}")
    return names


def _check_arrays(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray) -> None:
    if x.ndim < 2 or len(x) != len(y) or len(x_val) != len(y_val):
        raise OptionError(f"x and y must have as many rows; got x {x.shape}, y {y.shape}, "
                         f"x_val {x_val.shape}, y_val {y_val.shape}")
    if x.shape[1:] != x_val.shape[1:]:
        raise OptionError(f"training and validation inputs differ in shape: "
                         f"{x.shape[1:]} vs {x_val.shape[1:]}")


def _check_positive(**values: Any) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise OptionError(f"{name} must be a positive int; got {value!r}")


def _known(shape: Sequence[int | None]) -> tuple[int, ...]:
    if any(d is None for d in shape):
        raise OptionError(f"measure_latency needs a fully known input shape; got {tuple(shape)}")
    return tuple(int(d) for d in shape if d is not None)
