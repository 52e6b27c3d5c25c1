"""``/v1/datasets``: datasets made over HTTP — classes, clips uploaded or recorded in the
browser (validated and decoded like predictions, stored as FLAC), the manifest and a
zip of the whole dataset (admin key)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse

from audioclf.formats.manifest import manifest_line
from audioclf.registry.datasets import ClipInfo, DatasetInfo
from audioclf.service.deps import AdminDep, SettingsDep, WorkSlot
from audioclf.service.limits import decode_audio, read_audio_bytes
from audioclf.service.routes.predict import AUDIO_BODY
from audioclf.service.schemas import ErrorResponse
from audioclf.service.training import Training, TrainingDep, call
from audioclf.service.training_schemas import (
    ClipList,
    ClipResponse,
    DatasetLimits,
    DatasetList,
    DatasetResponse,
    NewClass,
    NewDataset,
)

CHUNK = 1024 * 1024

router = APIRouter(
    prefix="/datasets",
    tags=["training"],
    dependencies=[AdminDep],
    responses={
        code: {"model": ErrorResponse, "description": text}
        for code, text in {
            400: "Bad name, class or parameter.",
            401: "Missing or wrong X-API-Key.",
            403: "Admin API disabled (no key set).",
            404: "Unknown dataset or clip, or training is off.",
            409: "A name taken, a quota full, or a job training on it.",
        }.items()
    },
)


def _dataset(info: DatasetInfo, training: Training) -> DatasetResponse:
    limits = training.store.limits
    return DatasetResponse(
        id=info.id,
        name=info.name,
        classes=info.classes,
        counts=info.counts,
        speakers=info.speakers,
        clips=info.clips,
        bytes=info.bytes,
        seconds=info.seconds,
        created=info.created,
        limits=DatasetLimits(
            max_clips=limits.max_clips,
            max_bytes=limits.max_bytes,
            max_clip_seconds=limits.max_clip_seconds,
            min_clips_per_class=limits.min_clips_per_class,
        ),
        active_job=info.active_job,
    )


def _clip(info: ClipInfo) -> ClipResponse:
    return ClipResponse(
        id=info.id,
        label=info.label,
        speaker=info.speaker,
        seconds=info.seconds,
        created=info.created,
    )


@router.post("", status_code=201, response_model=DatasetResponse)
async def create_dataset(body: NewDataset, training: TrainingDep) -> DatasetResponse:
    """Create an empty dataset with its classes."""
    info = await call(training.store.create, body.name, body.classes)
    return _dataset(info, training)


@router.get("", response_model=DatasetList)
async def list_datasets(training: TrainingDep) -> DatasetList:
    """Every dataset, newest first."""
    infos = await call(training.store.list)
    return DatasetList(datasets=[_dataset(i, training) for i in infos])


@router.get("/{dataset_id}", response_model=DatasetResponse)
async def show_dataset(dataset_id: str, training: TrainingDep) -> DatasetResponse:
    """A dataset's classes and clip counts per class."""
    return _dataset(await call(training.store.get, dataset_id), training)


@router.delete("/{dataset_id}", status_code=204)
async def delete_dataset(dataset_id: str, training: TrainingDep) -> Response:
    """Delete a dataset and its audio (refused while a job trains on it)."""
    await call(training.store.delete, dataset_id)
    return Response(status_code=204)


@router.post("/{dataset_id}/classes", status_code=201, response_model=DatasetResponse)
async def add_class(dataset_id: str, body: NewClass, training: TrainingDep) -> DatasetResponse:
    """Add a class to a dataset."""
    return _dataset(await call(training.store.add_class, dataset_id, body.name), training)


@router.post(
    "/{dataset_id}/clips",
    status_code=201,
    response_model=ClipResponse,
    openapi_extra=AUDIO_BODY,
    dependencies=[WorkSlot],
    responses={
        413: {"model": ErrorResponse, "description": "Upload too big or clip too long."},
        415: {"model": ErrorResponse, "description": "Not a recognised audio format."},
        422: {"model": ErrorResponse, "description": "Audio that cannot be decoded."},
    },
)
async def add_clip(
    dataset_id: str,
    request: Request,
    training: TrainingDep,
    settings: SettingsDep,
    label: Annotated[str, Query(description="The clip's class.")],
    speaker: Annotated[str | None, Query(description="Who speaks (for speaker splits).")] = None,
) -> ClipResponse:
    """Add one clip to a class: the audio as the body, raw or multipart field ``file``."""
    await call(training.store.get, dataset_id)  # 404 before reading the body
    data = await read_audio_bytes(request, settings.max_upload_bytes)
    audio = await decode_audio(
        request.app.state.decoder,
        data,
        max_seconds=training.store.limits.max_clip_seconds,
        timeout=settings.decode_timeout_seconds,
    )
    info = await call(
        lambda: training.store.add_clip(
            dataset_id, audio.samples, audio.sample_rate, label=label, speaker=speaker or None
        )
    )
    return _clip(info)


@router.get("/{dataset_id}/clips", response_model=ClipList)
async def list_clips(dataset_id: str, training: TrainingDep) -> ClipList:
    """A dataset's clips, oldest first."""
    return ClipList(clips=[_clip(c) for c in await call(training.store.clips, dataset_id)])


@router.get(
    "/{dataset_id}/clips/{clip_id}",
    response_class=FileResponse,
    responses={200: {"content": {"audio/flac": {}}, "description": "The clip (FLAC)."}},
)
async def get_clip(dataset_id: str, clip_id: str, training: TrainingDep) -> FileResponse:
    """One clip's audio, as FLAC."""
    path = await call(training.store.clip_file, dataset_id, clip_id)
    return FileResponse(path, media_type="audio/flac", headers={"Cache-Control": "no-store"})


@router.delete("/{dataset_id}/clips/{clip_id}", status_code=204)
async def delete_clip(dataset_id: str, clip_id: str, training: TrainingDep) -> Response:
    """Delete one clip (refused while a queued or running job trains on it)."""
    await call(training.store.delete_clip, dataset_id, clip_id)
    return Response(status_code=204)


@router.get(
    "/{dataset_id}/manifest",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "JSON Lines."}},
)
async def get_manifest(dataset_id: str, training: TrainingDep) -> Response:
    """The dataset as the CLI's manifest, clip paths relative to the dataset folder."""
    manifest = await call(lambda: training.store.manifest(dataset_id, relative=True))
    text = "".join(manifest_line(clip) for clip in manifest)
    return Response(text, media_type="application/x-ndjson")


@router.get(
    "/{dataset_id}/archive",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The dataset."}},
)
async def get_archive(dataset_id: str, training: TrainingDep) -> StreamingResponse:
    """The whole dataset as a zip: ``manifest.jsonl`` and ``clips/`` (unzip, then
    ``audioclf train --data manifest.jsonl``)."""
    info = await call(training.store.get, dataset_id)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the stream below
    try:
        await call(training.store.archive, dataset_id, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(CHUNK):
                yield block

    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{info.name}.zip"'},
    )
