"""Train a scikit-learn model of the zoo on feature vectors: a held-out probe on the
validation clips, the final fit on train + validation, ONNX export proven against
scikit-learn, the test split scored once.

Classical models pick no epoch, so the validation clips would otherwise be wasted: they
are scored by a fit on train alone (kept as the run's validation predictions), then the
model is refitted on both. A caller that compares models (``auto``) can ask for more
held-out estimates through ``estimate``; a plain run makes none.

Noise views (``noise_views``, train/noise_views.py) only enlarge the training set.
Speed views (``speeds``) always enlarge the training set; they are scored at test time
too only when they earn it. With an estimate that scores the clip alone as well
(:data:`ONE_VIEW_KEYS`, from the same inner-CV fits), the served model keeps its
test-time views only if they add more than :data:`VIEW_GAIN` balanced accuracy; else it
scores the clip itself, and serving computes one view's features instead of
``1 + len(speeds)``. A plain run with ``speeds`` scores every view, as asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from audioclf.console import console
from audioclf.evaluate.metrics import classification_metrics
from audioclf.export.classical import export_classical_onnx, verify_classical_onnx
from audioclf.export.parity import ExportError
from audioclf.features.speaker_norm import standardise_per_speaker
from audioclf.formats.runfolder import ModelCard, RunFolder
from audioclf.models import ModelInfo, create_model
from audioclf.models.classical import estimator_size, save_classical
from audioclf.models.multiview import MultiView
from audioclf.models.shared_fits import fit_shared
from audioclf.probabilities import label_order_proba
from audioclf.train.config import TrainConfig
from audioclf.train.data import LoadedSplit
from audioclf.train.outcome import Trained, known, val_predictions

WEIGHTS = "model.joblib"
ONE_VIEW_KEYS = ("cv_accuracy_one_view", "cv_balanced_accuracy_one_view")
"""Inner-CV accuracy and UA of a multi-view model scoring the clip itself alone."""
VIEW_GAIN = 0.005
"""The held-out balanced accuracy test-time speed views must add to be served."""


class HeldOutEstimate(Protocol):
    """More held-out scores of a classical model, from its training rows alone:
    ``estimate(fresh, x, y, groups, labels)`` → metrics to record (``auto`` passes its
    inner grouped cross-validation, :func:`audioclf.train.auto.inner_cv.inner_cv_scores`)."""

    def __call__(
        self,
        fresh: Callable[[], Any],
        x: np.ndarray,
        y: np.ndarray,
        groups: Sequence[str],
        labels: list[str],
    ) -> dict[str, float]: ...


def train_classical(
    config: TrainConfig,
    run: RunFolder,
    info: ModelInfo,
    loaded: dict[str, LoadedSplit],
    labels: list[str],
    *,
    estimate: HeldOutEstimate | None = None,
) -> Trained:
    """Fit ``config.model`` on train + validation, export and check it, and score the
    test split; with ``estimate``, record its held-out scores too."""

    def fresh() -> Any:
        model = create_model(
            config.model, len(labels), sample_rate=config.sample_rate, **config.model_options
        )
        if not config.speeds and not config.noise_views:
            return model
        extra = len(config.noise_views)
        return MultiView(model, views=1 + len(config.speeds) + extra, train_only=extra)

    train = known(loaded["train"], loaded["val"])
    x_train = _vectors(train, config.speaker_norm)
    held_out: dict[str, float] = {}
    if estimate is not None:
        groups = [clip.speaker or clip.id for clip in train.clips]
        held_out = estimate(fresh, x_train, train.targets, groups, labels)
    held_out, scored = served_views(held_out, 1 + len(config.speeds))
    val_scores, predictions = _probe(fresh, scored, loaded, labels, config.speaker_norm)
    val_scores |= held_out
    estimator = _scoring(fit_shared(fresh(), x_train, train.targets), scored)
    save_classical(estimator, run.root / WEIGHTS)
    test = loaded["test"]
    sample = _scorable(x_train[:256], config)
    x_test = _vectors(test, config.speaker_norm) if len(test) else sample[:0]
    served = _served_columns(np.concatenate([sample, x_test]), config, scored)
    onnx = _export(estimator, run, served)
    card = ModelCard(
        model=config.model,
        family=info.family,
        input=info.input,
        sample_rate=config.sample_rate,
        n_samples=int(train.waves[0].shape[0]),
        eval_hop=config.eval_hop,
        labels=labels,
        params=estimator_size(estimator),
        options=dict(config.model_options),
        onnx=onnx,
        weights=WEIGHTS,
        task=config.task,
        speaker_norm=config.speaker_norm,
        speeds=list(config.speeds)[: scored - 1],
        train_speeds=list(config.speeds),
        train_noise=list(config.noise_views),
    )
    run.write_card(card)
    if not len(test):
        empty = np.zeros((0, len(labels)), dtype=np.float32)
        return Trained(card, empty, 1, 1, val_scores, predictions)
    probs = label_order_proba(estimator, x_test, len(labels))
    return Trained(card, probs, 1, 1, val_scores, predictions)


def served_views(held_out: dict[str, float], views: int) -> tuple[dict[str, float], int]:
    """How many views of a clip the served model scores (all, or the clip alone when the
    others add no more than :data:`VIEW_GAIN` held-out UA), and the held-out scores
    restated for that choice: ``cv_*`` become the served model's figures and the
    all-views ones are kept as ``cv_*_all_views``."""
    if views == 1 or ONE_VIEW_KEYS[1] not in held_out:
        return held_out, views
    gain = held_out["cv_balanced_accuracy"] - held_out[ONE_VIEW_KEYS[1]]
    out = dict(held_out) | {"test_time_views_gain": round(gain, 4)}
    if gain > VIEW_GAIN:
        return out, views
    for served_key, key in zip(ONE_VIEW_KEYS, ("cv_accuracy", "cv_balanced_accuracy"), strict=True):
        out[f"{key}_all_views"] = out[key]
        out[key] = out.pop(served_key)
    console.print(
        f"test-time speed views add {gain:+.3f} held-out UA (≤ {VIEW_GAIN}): "
        "served on the clip itself, one view",
        highlight=False,
    )
    return out, 1


def _scoring(estimator: Any, scored: int) -> Any:
    """``estimator`` set to score ``scored`` views (a MultiView; others are unchanged)."""
    if isinstance(estimator, MultiView):
        estimator.scored_views = scored
    return estimator


def _scorable(x: np.ndarray, config: TrainConfig) -> np.ndarray:
    """Training rows ``x`` without their noise views (the columns a test row has)."""
    views = 1 + len(config.speeds)
    dim = x.shape[1] // (views + len(config.noise_views))
    return x[:, : dim * views]


def _served_columns(x: np.ndarray, config: TrainConfig, scored: int) -> np.ndarray:
    """The columns of feature rows ``x`` (every view that may be scored) that a model
    scoring the first ``scored`` views is served."""
    return x[:, : x.shape[1] // (1 + len(config.speeds)) * scored]


def _probe(
    fresh: Callable[[], Any],
    scored: int,
    loaded: dict[str, LoadedSplit],
    labels: list[str],
    speaker_norm: bool,
) -> tuple[dict[str, float], Any]:
    """The validation clips scored by a fit on train alone (as a torch model's best epoch
    scores them): their accuracy and UA, and the predictions the run keeps."""
    val = known(loaded["val"])
    if not len(val):
        return {}, None
    first = known(loaded["train"])
    probe = _scoring(fit_shared(fresh(), _vectors(first, speaker_norm), first.targets), scored)
    val_probs = label_order_proba(probe, _vectors(val, speaker_norm), len(labels))
    scores = classification_metrics(val.targets, val_probs, labels)
    return {
        "val_accuracy": scores["accuracy"],
        "val_balanced_accuracy": scores["balanced_accuracy"],
    }, val_predictions(val, val_probs)


def _export(estimator: Any, run: RunFolder, rows: np.ndarray) -> bool:
    """model.onnx for a classical run (feature vector in), checked against scikit-learn
    on real feature rows; False, with the reason shown, when the model cannot have one
    (a class missing from training: its columns would not match labels.json)."""
    try:
        export_classical_onnx(estimator, run.onnx, rows.shape[1])
    except ExportError as err:
        run.onnx.unlink(missing_ok=True)
        console.print(f"[yellow]note:[/] no model.onnx for this run: {err}", highlight=False)
        return False
    worst = verify_classical_onnx(estimator, run.onnx, rows)
    console.print(f"exported {run.onnx} (max |ΔP| vs scikit-learn {worst:.1e})")
    return True


def _vectors(split: LoadedSplit, speaker_norm: bool) -> np.ndarray:
    """The split's feature matrix, standardised per speaker when asked."""
    x = np.stack(split.waves)
    if not speaker_norm:
        return x
    return standardise_per_speaker(x, [clip.speaker for clip in split.clips])
