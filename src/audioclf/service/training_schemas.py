"""Request and response bodies of the training API (/v1/datasets, /v1/jobs), the
contract of the 'Make a model' page."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DatasetLimits(BaseModel):
    """The bounds every dataset on this server has."""

    max_clips: int
    max_bytes: int
    max_clip_seconds: float
    min_clips_per_class: int


class NewDataset(BaseModel):
    """A dataset to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1-100 letters, digits, '-', '_' or '.'.")
    classes: list[str] = Field(description="At least two distinct class names.", max_length=200)


class NewClass(BaseModel):
    """A class to add to a dataset."""

    model_config = ConfigDict(extra="forbid")

    name: str


class DatasetResponse(BaseModel):
    """A dataset and what it holds."""

    id: str
    name: str
    classes: list[str]
    counts: dict[str, int] = Field(description="Clips per class.")
    speakers: list[str]
    clips: int
    bytes: int
    seconds: float
    created: datetime
    limits: DatasetLimits
    active_job: str | None = Field(description="A queued or running job on this dataset.")


class DatasetList(BaseModel):
    """Every dataset, newest first."""

    datasets: list[DatasetResponse]


class ClipResponse(BaseModel):
    """One stored clip."""

    id: str
    label: str
    speaker: str | None
    seconds: float
    created: datetime


class ClipList(BaseModel):
    """A dataset's clips, oldest first."""

    clips: list[ClipResponse]


class NewJob(BaseModel):
    """A training job to queue."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    dataset: str | None = Field(None, description="A dataset's id.")
    manifest: str | None = Field(None, description="Or a manifest's path on the server.")
    model: str = Field("auto", description="auto, or a model of the zoo (`audioclf models`).")
    time_budget_minutes: float | None = Field(2.0, gt=0)
    split: Literal["auto", "speaker", "random"] = "auto"
    name: str | None = Field(None, description="The model's name (default: the dataset's).")
    epochs: int | None = Field(None, ge=1, le=1000)


class JobResponse(BaseModel):
    """A job: where it is and, once done, what it made."""

    model_config = ConfigDict(protected_namespaces=())

    id: str
    kind: Literal["train", "retrain"]
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    stage: str
    progress: float = Field(ge=0, le=1)
    dataset: str | None
    model: str = Field(description="The name its model is served under.")
    options: dict[str, Any]
    notes: list[str]
    created: datetime
    started: datetime | None
    finished: datetime | None
    error: str | None
    metrics: dict[str, Any] | None = Field(
        description="Test metrics once done: accuracy, balanced_accuracy, macro_f1, n_test, "
        "labels, confusion (rows true, columns predicted); a retrain's comparison."
    )
    run: str | None = Field(description="The run folder's name.")
    served: bool = Field(description="Whether this server answers /v1/predict?model=MODEL.")
    version: int | None = Field(description="Registry version once promoted.")


class JobList(BaseModel):
    """Jobs, newest first."""

    jobs: list[JobResponse]


class Promoted(BaseModel):
    """A job's run registered and made production."""

    name: str
    version: int
    stage: str


class ScheduleResponse(BaseModel):
    """A scheduled retraining."""

    name: str
    data: str
    every_seconds: int
    next_run: datetime
    margin: float


class RetrainAttempt(BaseModel):
    """One retrain job and, when it ran to the end, its comparison."""

    job: str
    name: str
    state: str
    created: datetime
    finished: datetime | None
    error: str | None
    production_version: int | None = None
    candidate_version: int | None = None
    production_score: float | None = None
    candidate_score: float | None = None
    promoted: bool | None = None


class RetrainsResponse(BaseModel):
    """Schedules and retrain attempts, newest first."""

    schedules: list[ScheduleResponse]
    attempts: list[RetrainAttempt]
