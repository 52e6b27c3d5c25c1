"""Queueing a training job: a dataset (or a manifest on the server) checked, frozen and
put in the job queue with the run's options.

The job trains on a snapshot: the dataset's manifest as it was when the job was
submitted, written into the job's run folder as ``data.jsonl`` (the run's config points
at it, so the run folder is complete on its own). Clips added afterwards wait for the
next job; clips in the snapshot cannot be deleted until the job ends
(:meth:`audioclf.registry.datasets.DatasetStore.delete_clip`).

The split is the speaker split whenever the clips allow it: with ``split: auto`` it
needs at least :data:`MIN_SPEAKERS` named speakers and a speaker on every clip, else
the clips are split at random and the job's notes say that the test clips' speakers
were also heard in training.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from audioclf.formats.manifest import Manifest, read_manifest, write_manifest
from audioclf.registry.datasets import DatasetStore, check_name
from audioclf.registry.db import RegistryError
from audioclf.registry.jobs import TRAIN, JobConflictError, JobInfo, JobQueue
from audioclf.train.config import AUTO

MIN_SPEAKERS = 3
SNAPSHOT = "data.jsonl"


@dataclass(frozen=True)
class TrainRequest:
    """What ``POST /v1/jobs`` asks for."""

    dataset: str | None = None
    manifest: str | None = None
    model: str = AUTO
    time_budget_minutes: float | None = 2.0
    split: Literal["auto", "speaker", "random"] = "auto"
    name: str | None = None
    epochs: int | None = None


def check_model(model: str) -> str:
    """``auto`` or a model of the zoo."""
    if model == AUTO:
        return model
    # deferred: the zoo loads torch and scikit-learn; the server starts without them
    from audioclf.models import UnknownModelError, model_info

    try:
        model_info(model)
    except UnknownModelError as err:
        raise RegistryError(str(err)) from None
    return model


def check_counts(counts: dict[str, int], minimum: int) -> None:
    """Refuse an empty dataset or a class with fewer than ``minimum`` clips."""
    if not sum(counts.values()):
        raise RegistryError("the dataset has no clips; add clips to every class first")
    short = {label: n for label, n in counts.items() if n < minimum}
    if short:
        listed = ", ".join(f"{label!r} has {n}" for label, n in short.items())
        raise RegistryError(
            f"every class needs at least {minimum} clips to train: {listed}; record or upload more"
        )


def choose_split(clips: Manifest, asked: str) -> tuple[str, list[str]]:
    """The split to train with and the note that explains it."""
    speakers = {c.speaker for c in clips if c.speaker}
    unnamed = sum(1 for c in clips if not c.speaker)
    if asked == "random":
        return "random", ["random split (asked for): test clips' speakers may be in training"]
    if len(speakers) >= MIN_SPEAKERS and not unnamed:
        return "speaker", [
            f"{len(speakers)} speakers: the test clips' speakers are held out of training"
        ]
    why = (
        f"{unnamed} clips have no speaker name"
        if unnamed
        else f"{len(speakers)} speaker(s) named, {MIN_SPEAKERS} needed"
    )
    if asked == "speaker":
        raise RegistryError(
            f"a speaker split needs a speaker on every clip and at least {MIN_SPEAKERS} "
            f"speakers: {why}; name them, or ask for split 'random'"
        )
    return "random", [
        f"random split: {why}, so the test clips' speakers were also heard in training "
        "and the accuracy is optimistic for new voices"
    ]


def submit_training(
    request: TrainRequest,
    *,
    store: DatasetStore,
    queue: JobQueue,
    runs_dir: Path,
    taken: Collection[str] = (),
    options: dict[str, Any] | None = None,
) -> JobInfo:
    """Check ``request``, freeze its clips into a new run folder and queue the job;
    ``taken``: model names served from elsewhere; ``options`` are added to the job's
    (the server's, such as ``ray``)."""
    model = check_model(request.model)
    if (request.dataset is None) == (request.manifest is None):
        raise RegistryError("give either 'dataset' (an id) or 'manifest' (a path on the server)")
    if request.dataset is not None:
        info = store.get(request.dataset)
        check_counts(info.counts, store.limits.min_clips_per_class)
        clips = store.manifest(request.dataset)
        default_name = info.name
    else:
        clips = _read_server_manifest(str(request.manifest))
        check_counts(dict(clips.label_counts()), store.limits.min_clips_per_class)
        default_name = Path(str(request.manifest)).stem
    name = check_name(request.name or default_name, "model name")
    if name in taken:
        raise JobConflictError(
            f"a model named {name!r} is already served from elsewhere; give the job another 'name'"
        )
    split, notes = choose_split(clips, request.split)
    job_id = uuid.uuid4().hex
    run_dir = (runs_dir / f"{name}-{job_id[:8]}").resolve()
    snapshot = write_manifest(clips, run_dir / SNAPSHOT)
    job_options = {
        "model": model,
        "time_budget_minutes": request.time_budget_minutes,
        "split": split,
        "epochs": request.epochs,
        "clips": len(clips),
    } | (options or {})
    return queue.submit(
        TRAIN,
        name,
        job_options,
        notes=notes,
        dataset=request.dataset,
        clip_ids=[c.id for c in clips] if request.dataset else None,
        manifest=snapshot,
        run_dir=run_dir,
        job_id=job_id,
    )


def _read_server_manifest(path: str) -> Manifest:
    try:
        clips = read_manifest(path)
    except (OSError, ValueError) as err:
        raise RegistryError(f"cannot read the manifest {path}: {err}") from None
    if not len(clips):
        raise RegistryError(f"the manifest {path} has no clips")
    return clips
