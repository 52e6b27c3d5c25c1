"""Predictor: a run folder in, class probabilities for waveforms out.

scikit-learn style — ``classes_`` and ``predict_proba`` — the same for the ONNX graph
(the default: fast, no torch and no unpickling at inference) and the PyTorch weights or
the scikit-learn estimator (the fallback when a run has no ONNX file). Preprocessing is
the one used in training: audio at the run's sample rate, overlapping crops of the
training length averaged so a long clip is judged whole, or the run's fixed feature
vector.

Every stage of scoring is marked for the stage clock (:mod:`audioclf.stages`): ``decode``,
the feature extractors per speed view (``PART@SPEED``, ``speed@SPEED``), ``crops``,
``speaker_norm``, ``model`` and, for an ensemble, each member's stages under its name
(``1-cnn/model``) and ``combine``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from audioclf.audio import Source, load
from audioclf.features.cached_vectors import clip_vectors
from audioclf.features.crops import eval_crops
from audioclf.features.inputs import vectors
from audioclf.features.speaker_norm import NormStats, SpeakerNormError, standardise_per_speaker
from audioclf.formats.runfolder import MEMBERS, ModelCard, RunFolder, RunFolderError
from audioclf.inference.combine import combine_probabilities
from audioclf.probabilities import label_order_proba
from audioclf.stages import scope, stage

if TYPE_CHECKING:
    from audioclf.features.cache import FeatureCache
    from audioclf.formats.manifest import Clip

Backend = Literal["auto", "onnx", "torch"]


class Predictor:
    """Load a run folder once; predict many times."""

    def __init__(
        self,
        run_dir: str | Path,
        *,
        backend: Backend = "auto",
        threads: int | None = None,
        workers: int = 1,
    ) -> None:
        """``threads``: ONNX Runtime's intra-op threads per model (its default when None);
        ``workers``: feature views extracted at once, in threads (a classical model's
        clips and speed views; see :func:`audioclf.features.inputs.vectors`)."""
        self.run = RunFolder(Path(run_dir))
        self.card: ModelCard = self.run.read_card()
        self.classes_ = list(self.card.labels)
        self.sample_rate = self.card.sample_rate
        self.name = self.run.name
        self.workers = workers
        self.norm_stats: NormStats | None = (
            NormStats.read(self.run.root) if self.card.speaker_norm else None
        )
        """A ``speaker_norm`` run's training statistics (a clip alone is standardised
        with them); None for other runs and for runs trained before they were kept."""
        self._session: Any = None
        self._torch: Any = None
        self._estimator: Any = None
        self._members: list[Predictor] = []
        if self.card.family == "ensemble":
            self._members = [
                Predictor(
                    self.run.root / MEMBERS / name,
                    backend=backend,
                    threads=threads,
                    workers=workers,
                )
                for name in self.card.options["members"]
            ]
            self.backend = "ensemble"
        elif backend in ("auto", "onnx") and self.card.onnx and self.run.onnx.is_file():
            self._session = _onnx_session(self.run.onnx, threads)
            self.backend = "onnx"
        elif self.card.family == "classical":
            # no ONNX (older runs, a class missing from training) or backend="torch":
            # the trained object itself, for these the scikit-learn estimator
            # deferred: scikit-learn loads only for a classical run served without ONNX
            from audioclf.models.classical import load_classical

            self._estimator = load_classical(self.run.root / self.card.weights)
            self.backend = "sklearn"
        elif backend == "onnx":
            raise RunFolderError(f"{self.run.root}: no model.onnx; use the torch backend")
        else:
            # deferred: torch loads only for a run served without ONNX
            from audioclf.models.build import load_torch_model

            self._torch = load_torch_model(self.run.root, self.card)
            self.backend = "torch"

    @property
    def input_kind(self) -> str:
        return self.card.input

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for one batch of model inputs."""
        with stage("model"):
            if self._session is not None:
                name = self._session.get_inputs()[0].name
                probs: np.ndarray = self._session.run(["probabilities"], {name: x})[0]
                return probs
            import torch

            with torch.no_grad():
                logits = self._torch(torch.from_numpy(x))
                return torch.softmax(logits, dim=-1).numpy()

    def predict_proba(
        self,
        waveforms: Sequence[np.ndarray],
        *,
        batch_size: int = 32,
        speakers: Sequence[str | None] | None = None,
    ) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` for mono float32 waveforms at
        ``self.sample_rate``. ``speakers`` (one per waveform) is needed — and only used —
        by runs trained with ``speaker_norm``."""
        if not len(waveforms):
            return np.zeros((0, len(self.classes_)), dtype=np.float32)
        if self._members:
            return self._ensemble_proba(waveforms, batch_size=batch_size)
        if self.card.input != "waveform":
            return self.predict_vectors(self.features(waveforms), speakers=speakers)
        crops: list[np.ndarray] = []
        owner: list[int] = []
        with stage("crops"):
            for i, y in enumerate(waveforms):
                parts = eval_crops(
                    np.asarray(y, dtype=np.float32), self.card.n_samples, hop=self.card.eval_hop
                )
                crops.extend(parts)
                owner.extend([i] * len(parts))
        out = np.zeros((len(waveforms), len(self.classes_)), dtype=np.float64)
        for start in range(0, len(crops), batch_size):
            with stage("crops"):
                batch = np.stack(crops[start : start + batch_size]).astype(np.float32)
            np.add.at(out, owner[start : start + batch_size], self._forward(batch))
        out /= np.bincount(owner, minlength=len(waveforms))[:, None]
        return out.astype(np.float32)

    def features(self, waveforms: Sequence[np.ndarray]) -> np.ndarray:
        """The feature vectors ``(n, dim)`` a classical run classifies, before any
        speaker normalisation (the card's input at the card's speeds)."""
        self._check_vectors()
        return vectors(
            self.card.input, waveforms, self.sample_rate, self.card.speeds, workers=self.workers
        )

    def predict_vectors(
        self, x: np.ndarray, *, speakers: Sequence[str | None] | None = None
    ) -> np.ndarray:
        """Class probabilities for the feature vectors ``x`` of a classical run, computed
        as training did (``audioclf.features.inputs.vectors`` with the card's input and
        speeds, or ``audioclf.train.vectors.load_vectors``, which caches them). A
        ``speaker_norm`` run standardises them per speaker with ``speakers``, or with its
        training statistics (:attr:`norm_stats`) when none are given."""
        self._check_vectors()
        if self.card.speaker_norm:
            with stage("speaker_norm"):
                x = self._speaker_normalised(x, speakers)
        return self._classify(x)

    def predict_standardised(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for feature vectors a caller has already standardised
        (a ``speaker_norm`` run's input, e.g. with a speaker's running statistics)."""
        self._check_vectors()
        if not self.card.speaker_norm:
            raise RunFolderError(f"{self.run.root}: not trained with speaker_norm")
        return self._classify(x)

    def _check_vectors(self) -> None:
        if self.card.input == "waveform" or self._members:
            raise RunFolderError(f"{self.run.root}: takes audio, not feature vectors")

    def _classify(self, x: np.ndarray) -> np.ndarray:
        """The model's probabilities for ready feature vectors."""
        if self._estimator is not None:
            with stage("model"):
                return label_order_proba(self._estimator, x, len(self.classes_))
        return self._forward(np.asarray(x, dtype=np.float32)).astype(np.float32)

    def predict_clips(
        self,
        clips: Sequence[Clip],
        waveforms: Sequence[np.ndarray],
        *,
        cache: FeatureCache | None = None,
        batch_size: int = 32,
    ) -> np.ndarray:
        """Class probabilities for the readable ``clips`` of a manifest, decoded as
        ``waveforms``. With ``cache``, a classical model (also an ensemble's classical
        member) reads their feature vectors through it, keyed by file content as in
        training, instead of computing them again from the waveforms; the clips' speakers
        feed a ``speaker_norm`` run."""
        speakers = [clip.speaker for clip in clips]
        if self._members:
            member_probs = []
            for member in self._members:
                with scope(member.name):
                    member_probs.append(
                        member.predict_clips(clips, waveforms, cache=cache, batch_size=batch_size)
                    )
            return self._combine(member_probs)
        if cache is None or not len(clips) or self.card.input == "waveform":
            return self.predict_proba(waveforms, batch_size=batch_size, speakers=speakers)
        x = clip_vectors(clips, self.card.input, self.sample_rate, self.card.speeds, cache)
        return self.predict_vectors(x, speakers=speakers)

    def _ensemble_proba(self, waveforms: Sequence[np.ndarray], *, batch_size: int) -> np.ndarray:
        """Each member's probabilities (its stages timed under its name), combined."""
        member_probs = []
        for member in self._members:
            with scope(member.name):
                member_probs.append(member.predict_proba(waveforms, batch_size=batch_size))
        return self._combine(member_probs)

    def _combine(self, member_probs: Sequence[np.ndarray]) -> np.ndarray:
        """The members' probabilities (one array per member, in each member's label order)
        put in this run's label order and combined by the ensemble's rule (stage
        ``combine``)."""
        with stage("combine"):
            parts = []
            for member, probs in zip(self._members, member_probs, strict=True):
                order = [member.classes_.index(label) for label in self.classes_]
                parts.append(probs[:, order])
            options = self.card.options
            return combine_probabilities(
                parts, options.get("combine", "product"), options.get("weights")
            )

    def _speaker_normalised(
        self, x: np.ndarray, speakers: Sequence[str | None] | None
    ) -> np.ndarray:
        if speakers is not None:
            return standardise_per_speaker(x, speakers)
        if self.norm_stats is None:
            raise SpeakerNormError(
                f"{self.run.root}: this run standardises features per speaker "
                "(speaker_norm) and keeps no training statistics to score a clip alone — "
                "use `audioclf evaluate` with a manifest, or train it again"
            )
        return self.norm_stats.apply(x)

    def predict_source(self, source: Source, *, max_seconds: float | None = None) -> np.ndarray:
        """Probabilities for one file or byte string (any format the loader reads)."""
        with stage("decode"):
            y = load(source, self.sample_rate, max_seconds=max_seconds)
        return self.predict_proba([y])[0]


def _onnx_session(path: Path, threads: int | None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    # Idle worker threads must not spin: a server holds several sessions and decodes
    # audio on the same cores, and spinning threads of an idle model steal the CPU from
    # the busy one.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
