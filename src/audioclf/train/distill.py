"""Knowledge distillation: the compact ``student`` trained on a teacher run's probabilities.

:func:`distill_student` takes a finished run folder — usually the ensemble ``auto``
judged most accurate — as the teacher and trains the ``student`` model
(:mod:`audioclf.models.student`) to reproduce its class probabilities (Hinton, Vinyals
and Dean, "Distilling the knowledge in a neural network", 2015), then completes an
ordinary run folder: config, splits, card, weights, ONNX proven against PyTorch, test-split
metrics, ``val_predictions.npz`` and a report, so the student is compared and served like
any candidate. What it does, top to bottom:

1. **The transfer set**, far larger than the labelled clips: every training clip as the
   windows of the student's crop length that cover it, plus ``views`` augmented copies
   of each (speed 0.9–1.1, then pitch shift, coloured noise at a random SNR and reverb,
   each with some probability; seeded by the clip's content, so a clip gets the same
   views in every run), plus up to ``max_unlabelled`` unlabelled clips (one window each).
   Every item is *exactly* the input the student trains on — a fixed window, no further
   random crop — so the teacher's target is its answer to what the student sees
   ("consistent teaching", Beyer et al., "Knowledge distillation: A good teacher is
   patient and consistent", CVPR 2022).
2. **The teacher scores every item once**, in batches on two threads, and the
   probabilities are cached under the feature-cache root, keyed by the teacher's
   identity (a hash of its model.json, labels, ONNX and weight files, its ensemble
   members' too) and the item's content (a hash of the exact samples, which fixes the
   clip, the view's seed and the augmentation code alike): a second run with the same
   teacher scores nothing, and a killed run keeps what it had scored.
3. **The student trains** in :func:`audioclf.train.trainer.fit` — AdamW, warm-up + cosine,
   the weight average, the time budget, checkpoints, and the best epoch picked on the
   validation split's UA, never the test split — on the loss
   ``alpha·T²·KL(q_T ‖ softmax(z/T)) + (1−alpha)·CE(y, softmax(z))`` where ``q_T`` is the
   teacher's probabilities raised to ``1/T`` and renormalised (the softmax of its
   log-probabilities over ``T``), the KL taken from the teacher's side as in Hinton et
   al., ``T²`` keeping the soft term's gradient scale independent of ``T``. Unlabelled
   items have the KD term only. Mixup mixes two transfer items and their targets (the
   teacher's at temperature ``T``, and the labels). An epoch is one pass over the transfer
   set, and ``epochs``, ``patience`` and ``warmup_epochs`` count such passes, so the
   student takes ``views + 1`` times the steps of training on the labels alone (the time
   budget still bounds it): matching only the labelled run's steps left it below the
   default CNN trained on the labels (docs/benchmarks.md, "Distilled student").

Why this design: the accurate model ``auto`` finds is often an ensemble whose classical
member computes openSMILE or embedding features, 50–180 ms a clip in docs/benchmarks.md;
the student is one small ONNX graph of ~2 ms. A teacher's probability vector says more
about a clip than its label does — which other classes it resembles, Hinton et al.'s
"dark knowledge" — but the student only hears it on inputs the teacher has scored, and on
the training clips themselves the teacher's answers are close to the labels it fitted;
the augmented views and unlabelled speech are inputs where its uncertainty is
informative. Scoring is the cost that grows with the transfer set (cold, one teacher
call per item; :func:`views_within` picks ``views`` for a time budget), hence a bounded
number of views, a cap on unlabelled clips, and the cache.

Guards: ``speaker_norm`` is refused (the student scores clips alone); unlabelled files
that are clips of the validation or test split (same path or same samples) are dropped;
a teacher whose own ``splits/train.jsonl`` holds a validation or test clip of the student
is refused, since its probabilities would carry those labels into the student.
"""

from __future__ import annotations

import hashlib
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from audioclf.audio import AudioError
from audioclf.augment import ColoredNoise, PitchShift, Reverb
from audioclf.console import console, track
from audioclf.evaluate.metrics import classification_metrics
from audioclf.evaluate.report import write_run_report
from audioclf.export.neural import export_onnx, verify_onnx
from audioclf.features.cache import CACHE_VERSION, WORKERS, FeatureCache, content_hash
from audioclf.features.crops import eval_crops, random_crop
from audioclf.features.speed import at_speed
from audioclf.formats.atomic import write_json
from audioclf.formats.manifest import Clip, Manifest
from audioclf.formats.runfolder import (
    MEMBERS,
    ModelCard,
    RunFolder,
    ValPredictions,
    write_val_predictions,
)
from audioclf.inference.cost import measure_cost
from audioclf.inference.latency import measure_latency
from audioclf.inference.predictor import Predictor
from audioclf.models import count_parameters, model_info
from audioclf.models.build import build_torch_model
from audioclf.train.config import TrainConfig
from audioclf.train.data import LoadedSplit, class_weights, load_split, predict_split
from audioclf.train.neural import auto_clip_seconds
from audioclf.train.outcome import VAL_KEYS, known, val_predictions
from audioclf.train.single import (
    RunResult,
    _labels,
    _median_seconds,
    _run_facts,
    resolve_splits,
)
from audioclf.train.trainer import (
    BEST_WEIGHTS,
    Batch,
    Batches,
    fit,
    seed_everything,
    set_threads,
)

STUDENT = "student"
"""The registry model a distilled run trains (models/student.py)."""
DEFAULT_VIEWS = 4
"""Augmented copies of each training clip in the transfer set."""
DEFAULT_TEMPERATURE = 2.0
DEFAULT_ALPHA = 0.7
"""Weight of the distillation term; ``1 - alpha`` goes to the labels' cross-entropy."""
DEFAULT_MIXUP = 0.4
"""Mixup Beta(a, a) of transfer items when the config sets none (``mixup: 0``)."""
DEFAULT_MAX_UNLABELLED = 1000
"""Unlabelled clips taken at most (a seeded sample of them when more are given)."""
SPEED_RANGE = (0.9, 1.1)
SCORE_CHUNK = 64
"""Transfer items per teacher call (and per cache write)."""
TEACHER_CACHE = "teacher_probs.sqlite"
"""The teacher-probability cache, a file under the feature-cache root."""
TEACHER_CACHE_VERSION = 1
"""Part of every teacher identity: bump when the way a run folder scores audio changes
(cropping, features), so cached probabilities of the old code are not reused."""


# ---------------------------------------------------------------- the loss


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities raised to ``1 / temperature`` and renormalised per row: the softmax
    at temperature ``T`` of a model whose softmax at 1 gave ``probs``."""
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, None)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


def distillation_loss(
    logits: torch.Tensor,
    soft_targets: torch.Tensor,
    hard_targets: torch.Tensor,
    *,
    temperature: float,
    alpha: float,
    class_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """``alpha·T²·KL(soft ‖ softmax(logits/T)) + (1−alpha)·CE(hard, softmax(logits))``,
    averaged over the batch (Hinton et al. 2015).

    ``soft_targets`` are the teacher's probabilities already at temperature ``T``
    (:func:`soften`); ``hard_targets`` are label rows — one-hot, mixed by mixup, or all
    zero for an unlabelled item, which then has only the distillation term. The
    cross-entropy weighs class ``c`` by ``class_weights[c]`` when given.
    """
    t = float(temperature)
    log_student_t = F.log_softmax(logits / t, dim=-1)
    kl = (torch.xlogy(soft_targets, soft_targets) - soft_targets * log_student_t).sum(dim=-1)
    rows = hard_targets if class_weights is None else hard_targets * class_weights
    ce = -(rows * F.log_softmax(logits, dim=-1)).sum(dim=-1)
    return alpha * t * t * kl.mean() + (1.0 - alpha) * ce.mean()


# ---------------------------------------------------------------- the teacher and its cache


def teacher_identity(run_dir: str | os.PathLike[str]) -> str:
    """A hash of what makes a run folder the model it is: model.json, labels.json, the
    ONNX graph and the weight file, and those of each ensemble member (with
    :data:`TEACHER_CACHE_VERSION` and the audio cache's version)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"teacher:{TEACHER_CACHE_VERSION}:audio:{CACHE_VERSION}:".encode())
    _hash_run(RunFolder(Path(run_dir)), digest)
    return digest.hexdigest()


def _hash_run(run: RunFolder, digest: Any) -> None:
    card = run.read_card()
    for file in (run.card, run.labels, run.onnx, run.root / card.weights):
        if not file.is_file():
            continue
        digest.update(f"{file.name}:{file.stat().st_size}:".encode())
        digest.update(file.read_bytes())
    if card.family == "ensemble":
        for name in card.options["members"]:
            digest.update(f"member:{name}:".encode())
            _hash_run(RunFolder(run.root / MEMBERS / name), digest)


def input_key(wave: np.ndarray, sample_rate: int) -> str:
    """The cache key of one input: a hash of its exact float32 samples and rate."""
    samples = np.ascontiguousarray(wave, dtype=np.float32)
    return content_hash(f"{int(sample_rate)}:".encode() + samples.tobytes())


class TeacherCache:
    """Teacher probabilities by (teacher identity, input key), in one SQLite file.

    SQLite serialises writers from concurrent processes; a cache that cannot be opened
    or written only costs scoring again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30.0)
        db.execute(
            "CREATE TABLE IF NOT EXISTS probs (teacher TEXT, input TEXT, probs BLOB,"
            " PRIMARY KEY (teacher, input))"
        )
        return db

    def get_many(self, teacher: str, keys: Sequence[str], n_classes: int) -> dict[str, np.ndarray]:
        """The cached probabilities of those ``keys`` that have them."""
        found: dict[str, np.ndarray] = {}
        try:
            db = self._connect()
        except sqlite3.Error:
            return found
        try:
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = db.execute(
                    f"SELECT input, probs FROM probs WHERE teacher = ? AND input IN ({marks})",
                    (teacher, *part),
                ).fetchall()
                for key, blob in rows:
                    value = np.frombuffer(blob, dtype=np.float32)
                    if value.shape == (n_classes,):
                        found[str(key)] = value.copy()
        except sqlite3.Error:
            pass
        finally:
            db.close()
        return found

    def put_many(self, teacher: str, rows: Mapping[str, np.ndarray]) -> None:
        """Store ``rows`` (input key → probabilities) for ``teacher``, in one transaction."""
        try:
            db = self._connect()
            try:
                with db:
                    db.executemany(
                        "INSERT OR REPLACE INTO probs (teacher, input, probs) VALUES (?, ?, ?)",
                        [
                            (teacher, key, np.asarray(p, dtype=np.float32).tobytes())
                            for key, p in rows.items()
                        ],
                    )
            finally:
                db.close()
        except sqlite3.Error:
            pass


@dataclass
class Scored:
    """The teacher's probabilities for some inputs, and how many it had to compute."""

    probs: np.ndarray
    scored: int
    cached: int
    seconds: float


def score_with_teacher(
    teacher: Predictor,
    waves: Sequence[np.ndarray],
    *,
    sample_rate: int,
    identity: str,
    cache: TeacherCache,
    progress: bool = True,
    description: str = "teacher scoring",
) -> Scored:
    """The teacher's probabilities (its label order) for ``waves`` at ``sample_rate``:
    from the cache where it has them, else computed in chunks of :data:`SCORE_CHUNK` on
    :data:`~audioclf.features.cache.WORKERS` threads and cached chunk by chunk."""
    started = time.perf_counter()
    n_classes = len(teacher.classes_)
    keys = [input_key(w, sample_rate) for w in waves]
    found = cache.get_many(identity, keys, n_classes)
    missing = list(dict.fromkeys(k for k in keys if k not in found))
    if missing:
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        chunks = [missing[s : s + SCORE_CHUNK] for s in range(0, len(missing), SCORE_CHUNK)]

        def one(chunk: list[str]) -> dict[str, np.ndarray]:
            batch = [_at_rate(waves[first[k]], sample_rate, teacher.sample_rate) for k in chunk]
            probs = teacher.predict_proba(batch)
            return dict(zip(chunk, np.asarray(probs, dtype=np.float32), strict=True))

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            done = pool.map(one, chunks)
            for rows in track(done, description, total=len(chunks), enabled=progress):
                cache.put_many(identity, rows)
                found.update(rows)
    probs = np.stack([found[k] for k in keys]) if keys else np.zeros((0, n_classes), np.float32)
    seconds = time.perf_counter() - started
    return Scored(probs, len(missing), len(keys) - len(missing), seconds)


def _at_rate(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return wave
    import soxr

    return np.asarray(soxr.resample(wave, rate, target, quality="HQ"), dtype=np.float32)


# ---------------------------------------------------------------- the transfer set


@dataclass
class TransferSet:
    """The inputs the student trains on: fixed windows of ``n_samples``, one clip per
    window naming its source (``ID#window0``, ``ID#view2``, ``unlabelled:PATH``), class
    indices (-1 for unlabelled windows) and the kind of each."""

    windows: np.ndarray
    """``(n, n_samples)`` float32: exactly what the teacher scored and the student sees."""
    clips: list[Clip]
    targets: np.ndarray
    origin: np.ndarray
    """``"clip"`` (a window of a training clip), ``"view"`` (an augmented window) or
    ``"unlabelled"``."""

    def __len__(self) -> int:
        return len(self.targets)

    def counts(self) -> dict[str, int]:
        return {kind: int((self.origin == kind).sum()) for kind in ("clip", "view", "unlabelled")}

    def as_split(self) -> LoadedSplit:
        """The transfer set as a training split (its waves are rows of ``windows``)."""
        return LoadedSplit(self.clips, list(self.windows), self.targets)


def clip_seed(wave: np.ndarray, seed: int, view: int) -> np.random.Generator:
    """The generator of one view of one clip: from the run's seed, the view index and
    the clip's samples, so it does not depend on the clip's place in the split."""
    digest = int(content_hash(np.ascontiguousarray(wave, dtype=np.float32).tobytes())[:15], 16)
    return np.random.default_rng([seed, view, digest])


def augmented_view(
    wave: np.ndarray, sample_rate: int, n_samples: int, rng: np.random.Generator
) -> np.ndarray:
    """One augmented window of ``n_samples``: a window of the clip long enough for the
    drawn speed (a short clip zero-padded at a random offset), played at a speed in
    :data:`SPEED_RANGE`, then pitch shift (±2 semitones, p 0.5), coloured noise (SNR
    10–30 dB, p 0.5) and reverb (p 0.3), and a random window of the result."""
    speed = float(rng.uniform(*SPEED_RANGE))
    window = random_crop(wave, math.ceil(n_samples * speed) + 1, rng)
    y = at_speed(window, sample_rate, speed)
    for transform in (
        PitchShift(-2.0, 2.0, p=0.5),
        ColoredNoise(10.0, 30.0, p=0.5),
        Reverb(p=0.3),
    ):
        y = transform(y, sample_rate, rng)
    return random_crop(y, n_samples, rng)


def build_transfer_set(
    train: LoadedSplit,
    unlabelled: Sequence[tuple[Path, np.ndarray]],
    *,
    sample_rate: int,
    n_samples: int,
    views: int,
    seed: int,
    progress: bool = True,
) -> TransferSet:
    """Every training clip's covering windows, ``views`` augmented windows of each
    (made on :data:`~audioclf.features.cache.WORKERS` threads) and one seeded window of
    each unlabelled ``(path, waveform)``."""
    windows: list[np.ndarray] = []
    clips: list[Clip] = []
    targets: list[int] = []
    origin: list[str] = []
    for clip, wave, target in zip(train.clips, train.waves, train.targets, strict=True):
        for j, window in enumerate(eval_crops(wave, n_samples, hop=1.0)):
            windows.append(window)
            clips.append(clip.with_(id=f"{clip.id}#window{j}"))
            targets.append(int(target))
            origin.append("clip")
    jobs = [(i, v) for i in range(len(train)) for v in range(1, views + 1)]

    def one(job: tuple[int, int]) -> np.ndarray:
        i, v = job
        wave = train.waves[i]
        return augmented_view(wave, sample_rate, n_samples, clip_seed(wave, seed, v))

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        made = track(pool.map(one, jobs), "augmented views", total=len(jobs), enabled=progress)
        for (i, v), window in zip(jobs, made, strict=True):
            windows.append(window)
            clips.append(train.clips[i].with_(id=f"{train.clips[i].id}#view{v}"))
            targets.append(int(train.targets[i]))
            origin.append("view")
    for path, wave in unlabelled:
        windows.append(random_crop(wave, n_samples, clip_seed(wave, seed, 0)))
        clips.append(Clip(id=f"unlabelled:{path}", path=str(path), label=""))
        targets.append(-1)
        origin.append("unlabelled")
    stacked = np.empty((len(windows), n_samples), dtype=np.float32)
    for row, window in enumerate(windows):
        stacked[row] = window
    return TransferSet(stacked, clips, np.asarray(targets, np.int64), np.asarray(origin))


def transfer_batches(
    transfer: TransferSet, target_rows: np.ndarray, classes: np.ndarray, batch_size: int
) -> Batches:
    """``fit``'s ``batches``: each epoch the transfer set shuffled into batches of
    (windows, class per item, target rows); as in ``train_batches`` a last batch of one
    item is dropped (BatchNorm needs two)."""

    def epoch(rng: np.random.Generator) -> Iterator[Batch]:
        order = rng.permutation(len(transfer))
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            if len(chosen) < 2 and start > 0:
                break
            yield (
                torch.from_numpy(transfer.windows[chosen]),
                torch.from_numpy(classes[chosen]),
                torch.from_numpy(target_rows[chosen]),
            )

    return epoch


def views_within(
    seconds: float, *, n_clips: int, teacher_ms: float, most: int = DEFAULT_VIEWS
) -> int:
    """The most views (at most ``most``) whose cold teacher scoring — each of ``n_clips``
    training clips once plus once per view, ``teacher_ms`` a clip (a run's
    ``latency_ms``), on :data:`~audioclf.features.cache.WORKERS` threads — fits in
    ``seconds``; 0 when even the clips alone do not. A way for a caller with a time
    budget to pick ``views`` before the cache is warm."""
    if n_clips < 1 or teacher_ms <= 0:
        return most
    per_pass = n_clips * teacher_ms / 1000 / WORKERS
    return max(0, min(most, int(seconds // per_pass) - 1))


# ---------------------------------------------------------------- the run


def distill_student(
    teacher_dir: str | os.PathLike[str],
    config: TrainConfig,
    run: RunFolder,
    *,
    splits: dict[str, Manifest] | None = None,
    unlabelled: Sequence[str | os.PathLike[str]] = (),
    resume: bool = False,
    progress: bool = True,
    views: int = DEFAULT_VIEWS,
    temperature: float = DEFAULT_TEMPERATURE,
    alpha: float = DEFAULT_ALPHA,
    mixup: float | None = None,
    max_unlabelled: int = DEFAULT_MAX_UNLABELLED,
    cache: FeatureCache | None = None,
) -> RunResult:
    """Train the ``student`` model into ``run`` on the probabilities of the finished run
    ``teacher_dir`` (see the module docstring), and return it as a finished run.

    ``config`` is the run's config (its ``model`` becomes ``student``; its
    ``model_options`` are the student's when ``model`` already is ``student``);
    ``splits`` (train/val/test — give the teacher's own) override splitting
    ``config.data``. ``unlabelled`` audio files join the transfer set, at most
    ``max_unlabelled`` of them. ``views`` augmented copies of each training clip,
    temperature ``temperature``, weight ``alpha`` of the distillation term, mixup
    ``mixup`` (None: the config's, or :data:`DEFAULT_MIXUP` when that is 0). ``cache``
    decodes the audio and holds the teacher's probabilities (default: the feature cache).
    ``config.time_budget`` bounds the training epochs as in every run; decoding,
    augmenting and scoring with the teacher come on top.
    """
    if views < 0 or max_unlabelled < 0:
        raise ValueError(f"views and max_unlabelled must be >= 0, got {views}, {max_unlabelled}")
    if temperature <= 0 or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"need temperature > 0 and 0 <= alpha <= 1, got {temperature}, {alpha}")
    if config.speaker_norm:
        raise ValueError("speaker_norm applies to the classical models; the student is neural")
    mix = config.mixup if mixup is None else mixup
    mix = DEFAULT_MIXUP if mixup is None and mix == 0 else mix
    if mix < 0:
        raise ValueError(f"mixup must be >= 0, got {mix}")
    teacher_dir = Path(teacher_dir)
    options = dict(config.model_options) if config.model == STUDENT else {}
    config = config.model_copy(
        update={
            "model": STUDENT,
            "model_options": options,
            "speeds": [],
            "noise_views": [],
            "augment": "none",
        }
    )
    run.root.mkdir(parents=True, exist_ok=True)
    config.to_yaml(run.config)
    set_threads(config.threads)
    seed_everything(config.seed)
    cache = cache or FeatureCache()
    teacher_cache = TeacherCache(cache.root / TEACHER_CACHE)

    splits = resolve_splits(config, run, resume=resume, splits=splits)
    _check_teacher_split(teacher_dir, splits)
    labels = _labels(splits)
    if len(labels) < 2:
        raise ValueError(f"training needs at least two classes; the train split has {labels}")
    teacher = Predictor(teacher_dir, threads=1)
    missing = sorted(set(labels) - set(teacher.classes_))
    if missing:
        raise ValueError(f"the teacher {teacher_dir} does not know the classes {missing}")
    order = [teacher.classes_.index(label) for label in labels]
    identity = teacher_identity(teacher_dir)

    started = time.perf_counter()
    loaded = {
        name: load_split(
            part,
            labels,
            config.sample_rate,
            cache=cache,
            progress=progress,
            description=f"decoding {name}",
            max_seconds=config.max_seconds,
        )
        for name, part in splits.items()
    }
    skipped = [s for part in loaded.values() for s in part.skipped]
    for item in skipped:
        console.print(f"[yellow]skipped[/] {item.path}: {item.reason}", highlight=False)
    if len(loaded["train"]) < 2:
        raise ValueError("fewer than two readable training clips")
    seconds = (
        config.clip_seconds
        or options.get("clip_seconds")
        or auto_clip_seconds(loaded["train"].waves, config.sample_rate)
    )
    n_samples = round(seconds * config.sample_rate)

    extra = _load_unlabelled(
        unlabelled, loaded, config, cache, limit=max_unlabelled, progress=progress
    )
    transfer = build_transfer_set(
        loaded["train"],
        extra,
        sample_rate=config.sample_rate,
        n_samples=n_samples,
        views=views,
        seed=config.seed,
        progress=progress,
    )
    scored = score_with_teacher(
        teacher,
        list(transfer.windows),
        sample_rate=config.sample_rate,
        identity=identity,
        cache=teacher_cache,
        progress=progress,
    )
    teacher_probs = _in_order(scored.probs, order)
    console.print(
        f"transfer set: {len(transfer)} windows {transfer.counts()}; teacher "
        f"{teacher.name}: {scored.scored} scored, {scored.cached} cached "
        f"({scored.seconds:.1f} s)",
        highlight=False,
    )

    n_classes = len(labels)
    seed_everything(config.seed)
    model = build_torch_model(
        STUDENT,
        n_classes,
        sample_rate=config.sample_rate,
        options=options,
        input_kind="waveform",
        n_inputs=n_samples,
    )
    hard = np.zeros((len(transfer), n_classes), dtype=np.float32)
    labelled = transfer.targets >= 0
    hard[np.flatnonzero(labelled), transfer.targets[labelled]] = 1.0
    rows = np.concatenate([soften(teacher_probs, temperature), hard], axis=1)
    classes = np.where(labelled, transfer.targets, teacher_probs.argmax(axis=1)).astype(np.int64)
    weights = class_weights(loaded["train"].targets, n_classes) if config.class_weights else None

    def criterion(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return distillation_loss(
            logits,
            target[:, :n_classes],
            target[:, n_classes:],
            temperature=temperature,
            alpha=alpha,
            class_weights=weights,
        )

    fit_config = config.model_copy(update={"mixup": mix})
    result = fit(
        model,
        transfer.as_split(),
        loaded["val"],
        fit_config,
        run.root,
        n_classes=n_classes,
        n_samples=n_samples,
        resume=resume,
        progress=progress,
        batches=transfer_batches(transfer, rows, classes, config.batch_size),
        criterion=criterion,
    )
    model.load_state_dict(result.best_state)
    model.eval()
    torch.save(result.best_state, run.root / BEST_WEIGHTS)
    export_onnx(model, run.onnx, n_samples)
    worst = verify_onnx(model, run.onnx, n_samples)
    console.print(f"exported {run.onnx} (max |ΔP| vs PyTorch {worst:.1e})")
    card = ModelCard(
        model=STUDENT,
        family=model_info(STUDENT).family,
        input="waveform",
        sample_rate=config.sample_rate,
        n_samples=n_samples,
        eval_hop=config.eval_hop,
        labels=labels,
        params=count_parameters(model),
        options=options,
        onnx=True,
        weights=BEST_WEIGHTS,
        task=config.task,
    )
    run.write_card(card)

    test = loaded["test"]
    test_probs = predict_split(model, test.waves, n_samples, hop=config.eval_hop)
    val_facts, predictions = _val_facts(
        model,
        loaded["val"],
        teacher,
        order,
        labels,
        n_samples=n_samples,
        hop=config.eval_hop,
        sample_rate=config.sample_rate,
        identity=identity,
        cache=teacher_cache,
        progress=progress,
    )
    train_seconds = time.perf_counter() - started

    known_test = test.targets >= 0
    metrics: dict[str, Any] = {}
    if known_test.any():
        metrics = classification_metrics(test.targets[known_test], test_probs[known_test], labels)
    else:
        console.print("[yellow]warning:[/] the test split is empty; no test metrics")
    metrics |= _run_facts(
        config, card, loaded, skipped, train_seconds, result.best_epoch, len(result.history)
    )
    if result.history and "val_accuracy" in result.history[result.best_epoch - 1]:
        best = result.history[result.best_epoch - 1]
        metrics |= {key: float(best[key]) for key in VAL_KEYS}
    metrics["n_unknown"] = int((~known_test).sum())
    metrics |= {
        "distilled_from": teacher.name,
        "teacher_dir": str(teacher_dir),
        "teacher_identity": identity,
        "temperature": float(temperature),
        "alpha": float(alpha),
        "mixup": float(mix),
        "views": int(views),
        "transfer_size": len(transfer),
        "transfer": transfer.counts(),
        "teacher_scored": scored.scored,
        "teacher_cached": scored.cached,
        "teacher_seconds": round(scored.seconds, 2),
    }
    metrics |= val_facts
    metrics["latency_ms"] = measure_latency(run.root, seconds=_median_seconds(splits["test"]))
    metrics["cost"] = measure_cost(run.root, splits["test"])
    if predictions is not None:
        write_val_predictions(run, predictions)
    write_json(run.metrics, metrics)
    write_run_report(run.root)
    return RunResult(run.root, metrics, card)


def _in_order(probs: np.ndarray, order: list[int]) -> np.ndarray:
    """Teacher probabilities in the student's label order, renormalised (a teacher that
    knows more classes than the student shares their mass out among the others)."""
    picked = np.asarray(probs, dtype=np.float64)[:, order]
    return (picked / np.maximum(picked.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _val_facts(
    model: torch.nn.Module,
    val: LoadedSplit,
    teacher: Predictor,
    order: list[int],
    labels: list[str],
    *,
    n_samples: int,
    hop: float,
    sample_rate: int,
    identity: str,
    cache: TeacherCache,
    progress: bool,
) -> tuple[dict[str, float], ValPredictions | None]:
    """How the student agrees with the teacher on the validation clips (whole clips,
    each model cropping as it serves), the teacher's validation UA, and the student's
    predictions for the validation clips of known classes."""
    if not len(val):
        return {}, None
    student = predict_split(model, val.waves, n_samples, hop=hop)
    scored = score_with_teacher(
        teacher,
        val.waves,
        sample_rate=sample_rate,
        identity=identity,
        cache=cache,
        progress=progress,
        description="teacher on validation",
    )
    teacher_probs = _in_order(scored.probs, order)
    facts = {
        "teacher_agreement_val": float((student.argmax(1) == teacher_probs.argmax(1)).mean()),
    }
    seen = val.targets >= 0
    predictions = None
    if seen.any():
        teacher_val = classification_metrics(val.targets[seen], teacher_probs[seen], labels)
        facts["teacher_val_balanced_accuracy"] = float(teacher_val["balanced_accuracy"])
        predictions = val_predictions(known(val), student[seen])
    return facts, predictions


def _check_teacher_split(teacher_dir: Path, splits: dict[str, Manifest]) -> None:
    """Refuse a teacher that trained on a clip the student validates or tests on."""
    teacher = RunFolder(teacher_dir)
    if not teacher.has_splits():
        return
    trained = {clip.id for clip in teacher.read_splits()["train"]}
    held_out = {clip.id for name in ("val", "test") for clip in splits[name]}
    overlap = sorted(trained & held_out)
    if overlap:
        raise ValueError(
            f"the teacher {teacher_dir} trained on {len(overlap)} clips of the student's "
            f"validation/test splits (e.g. {overlap[0]!r}); give the student the teacher's "
            "splits (splits=...) so its probabilities carry no held-out labels"
        )


def _load_unlabelled(
    paths: Sequence[str | os.PathLike[str]],
    loaded: dict[str, LoadedSplit],
    config: TrainConfig,
    cache: FeatureCache,
    *,
    limit: int,
    progress: bool,
) -> list[tuple[Path, np.ndarray]]:
    """Decoded unlabelled clips: a seeded sample of at most ``limit`` of ``paths``, less
    clips of the validation or test split (same file or same samples), unreadable ones
    and ones longer than ``max_seconds``."""
    if not paths or limit == 0:
        return []
    chosen = [Path(p) for p in paths]
    if len(chosen) > limit:
        pick = np.random.default_rng(config.seed).choice(len(chosen), limit, replace=False)
        chosen = [chosen[i] for i in sorted(pick)]
    held = [part for name, part in loaded.items() if name != "train"]
    held_paths = {Path(c.path).expanduser().resolve() for part in held for c in part.clips}
    held_keys = {input_key(w, config.sample_rate) for part in held for w in part.waves}
    outside = [p for p in chosen if p.expanduser().resolve() not in held_paths]
    results = cache.load_many(
        outside, config.sample_rate, progress=progress, description="decoding unlabelled"
    )
    longest = None if config.max_seconds is None else config.max_seconds * config.sample_rate
    kept = [
        (path, wave)
        for path, wave in zip(outside, results, strict=True)
        if not isinstance(wave, AudioError)
        and len(wave)
        and (longest is None or len(wave) <= longest)
        and input_key(wave, config.sample_rate) not in held_keys
    ]
    if len(kept) < len(chosen):
        console.print(
            f"[yellow]note:[/] {len(chosen) - len(kept)} of {len(chosen)} unlabelled clips "
            "left out (clips of the validation/test split, unreadable or too long)"
        )
    return kept
