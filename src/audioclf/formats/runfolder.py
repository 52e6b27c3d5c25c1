"""The run folder: where a training run keeps everything needed to serve, re-evaluate or
resume it without the code that made it guessing.

```
runs/NAME/
  config.yaml        the TrainConfig (repeat or resume the run from it)
  labels.json        class names, in the model's output order
  model.json         how to feed the model: registry name, family, input kind, sample rate,
                     crop length, evaluation hop, which weight files exist
  model.pt           best weights (torch models) | model.joblib (classical models)
  model.onnx         the same model as ONNX (waveform or feature vector in, probabilities out)
  checkpoint.pt      last epoch's full training state, for --resume
  history.csv        one row per epoch
  metrics.json       test-split metrics, parameters, training time, latency
  report.html, plots/
  splits/{train,val,test}.jsonl   the exact manifests of each split
  val_predictions.npz              the model's probabilities for the validation clips
```
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.formats.atomic import atomic_path, write_json
from audioclf.formats.manifest import Manifest, read_manifest

CARD_VERSION = 1
"""The model.json layout this release writes and reads. Cards without a ``version`` were
written by audioclf 0.1.0 and have this layout."""
MEMBERS = "members"
"""The folder of an ensemble run that holds one serving folder per member."""
CANDIDATES = "candidates"
"""The folder of an ``auto`` run that holds a complete run folder per model it trained."""


class RunFolderError(ValueError):
    """A folder that is not (or not yet) a complete run."""


@dataclass
class ModelCard:
    """What a predictor needs to know to turn audio into the model's input."""

    model: str
    family: str
    input: str
    """How to feed the model: ``waveform``, a feature-vector kind (``pooled``,
    ``compare+voice_encoder``…) or ``ensemble``."""
    sample_rate: int
    n_samples: int
    eval_hop: float
    labels: list[str]
    params: int
    options: dict[str, Any] = field(default_factory=dict)
    onnx: bool = False
    weights: str = "model.pt"
    task: str = ""
    speaker_norm: bool = False
    speeds: list[float] = field(default_factory=list)
    """Extra playback speeds a classical model's served vector holds views at
    (features/speed.py): what serving computes."""
    train_speeds: list[float] = field(default_factory=list)
    """Extra playback speeds its training rows held (a superset of ``speeds``: views
    used to augment training but not scored)."""
    train_noise: list[str] = field(default_factory=list)
    """The noise views its training rows held (perturbation SPECs with ranges,
    train/noise_views.py): training examples only, never scored."""
    version: int = CARD_VERSION
    """The card layout (:data:`CARD_VERSION`)."""

    @property
    def clip_seconds(self) -> float:
        return self.n_samples / self.sample_rate


@dataclass(frozen=True)
class RunFolder:
    """Paths inside one run folder."""

    root: Path

    @property
    def name(self) -> str:
        return self.root.resolve().name

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def labels(self) -> Path:
        return self.root / "labels.json"

    @property
    def card(self) -> Path:
        return self.root / "model.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def onnx(self) -> Path:
        return self.root / "model.onnx"

    @property
    def splits(self) -> Path:
        return self.root / "splits"

    @property
    def val_predictions(self) -> Path:
        """The kept model's class probabilities for the validation clips (see
        :func:`write_val_predictions`)."""
        return self.root / "val_predictions.npz"

    def candidate(self, name: str) -> RunFolder:
        """The ``auto`` run's trained model ``name`` (``candidates/NAME``); a
        :class:`RunFolderError` listing the names when there is none."""
        folder = self.root / CANDIDATES
        known = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        if name not in known:
            listed = ", ".join(known) if known else "none (not an auto run)"
            raise RunFolderError(f"{self.root}: no trained model {name!r}; it has {listed}")
        return RunFolder(folder / name)

    def split(self, name: str) -> Path:
        return self.splits / f"{name}.jsonl"

    def has_splits(self) -> bool:
        return all(self.split(n).is_file() for n in ("train", "val", "test"))

    def read_splits(self) -> dict[str, Manifest]:
        return {n: read_manifest(self.split(n)) for n in ("train", "val", "test")}

    def write_card(self, card: ModelCard) -> None:
        write_json(self.card, asdict(card))
        write_json(self.labels, card.labels)

    def read_card(self) -> ModelCard:
        if not self.card.is_file():
            raise RunFolderError(
                f"{self.root}: not a finished run (no model.json); train it with "
                "`audioclf train --out` or finish it with `--resume`"
            )
        return card_from_json(self.card, json.loads(self.card.read_text()))

    def read_metrics(self) -> dict[str, Any]:
        if not self.metrics.is_file():
            raise RunFolderError(f"{self.root}: no metrics.json (the run did not finish)")
        data: dict[str, Any] = json.loads(self.metrics.read_text())
        return data


def card_from_json(path: Path, data: Any) -> ModelCard:
    """The :class:`ModelCard` stored as ``data`` in ``path``; a :class:`RunFolderError`
    naming the problem when it is not one this release can read."""
    if not isinstance(data, dict):
        raise RunFolderError(f"{path}: not a model card (a JSON object)")
    version = data.get("version", CARD_VERSION)
    if not isinstance(version, int) or version > CARD_VERSION:
        raise RunFolderError(
            f"{path}: card version {version!r} was written by a newer audioclf (this one "
            f"reads up to {CARD_VERSION}); upgrade audioclf to serve this run"
        )
    known = {f.name for f in fields(ModelCard)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise RunFolderError(f"{path}: unknown card fields {unknown}; not a model card of audioclf")
    missing = sorted(f.name for f in fields(ModelCard) if f.name not in data and _required(f))
    if missing:
        raise RunFolderError(f"{path}: card fields {missing} are missing; retrain the run")
    return ModelCard(**data)


def _required(f: Any) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


@dataclass
class ValPredictions:
    """What a model said about each validation clip it did not train on (a torch model's
    best epoch; a classical model fitted on train alone): clip ids, class probabilities
    (columns in labels.json order) and true class indices, for the clips of classes the
    model knows. ``auto`` weighs an ensemble's members on them."""

    ids: list[str]
    probs: np.ndarray
    targets: np.ndarray


def write_val_predictions(run: RunFolder, predictions: ValPredictions) -> None:
    """Keep ``predictions`` in the run folder (``val_predictions.npz``)."""
    with atomic_path(run.val_predictions) as tmp:
        np.savez(
            tmp,
            ids=np.asarray(predictions.ids, dtype=str),
            probs=np.asarray(predictions.probs, np.float32),
            targets=np.asarray(predictions.targets, np.int64),
        )


def read_val_predictions(run: RunFolder) -> ValPredictions | None:
    """The predictions :func:`write_val_predictions` kept, or None when the run has none
    (no validation split, or made by an audioclf before they were kept)."""
    if not run.val_predictions.is_file():
        return None
    with np.load(run.val_predictions) as data:
        return ValPredictions(
            [str(i) for i in data["ids"]], data["probs"], data["targets"].astype(np.int64)
        )
