"""Request and response bodies of the API (the shared contract with the browser app)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """Every error: one human-readable sentence."""

    detail: str


class MetricsSummary(BaseModel):
    """Test-split metrics of a run (null when the run has none)."""

    accuracy: float | None = None
    balanced_accuracy: float | None = None
    macro_f1: float | None = None


class ServedModel(BaseModel):
    """One loaded model."""

    name: str
    labels: list[str]
    task: str
    model: str = Field(description="Registry name of the architecture.")
    params: int
    sample_rate: int
    clip_seconds: float
    metrics: MetricsSummary
    ms_per_audio_second: float | None = Field(
        default=None,
        description="Inference cost per second of audio, all stages, measured on the run's "
        "test clips after training (null for runs that did not measure it).",
    )
    web: bool = Field(
        default=False,
        description="Whether the model has a browser export (GET /v1/models/{name}/web).",
    )
    web_whole: bool = Field(
        default=False,
        description="Whether that export is the served model whole (no member left out, "
        "not another candidate of an auto run): only then does the page classify as the "
        "server does.",
    )
    web_accuracy: float | None = Field(
        default=None,
        description="The browser export's accuracy on the run's held-out test clips.",
    )


class ModelsResponse(BaseModel):
    """Every loaded model."""

    models: list[ServedModel]


class TopLabel(BaseModel):
    """The most probable class."""

    label: str
    probability: float


class InferenceTiming(BaseModel):
    """Time spent by one model (ms, for the batch the request ran in)."""

    inference: float
    stages: dict[str, float] = Field(
        default_factory=dict,
        description="The time by stage (ms): `resample` (to the model's rate), each feature "
        "extractor at each speed view (`PART@SPEED`, `speed@SPEED` for playing the clip at "
        "that speed), `crops`, `model`, an ensemble member's stages as `MEMBER/STAGE`, "
        "`combine`. Everything but `resample` is for the batch the request ran in.",
    )


class SpeakerNormalisation(BaseModel):
    """How a speaker-normalised model standardised the clip's features."""

    statistics: Literal["session", "training"] = Field(
        description="`session`: the mean and std of the session's clips (this one included); "
        "`training`: those of the training clips (no session, or one with fewer than "
        "AUDIOCLF_SESSION_MIN_CLIPS clips)."
    )
    session_clips: int | None = Field(
        default=None, description="Clips the session has for this model (null: no session)."
    )


class ModelPrediction(BaseModel):
    """One model's probabilities for the uploaded clip."""

    model: str
    labels: list[str]
    probabilities: dict[str, float]
    top: TopLabel
    timing_ms: InferenceTiming
    speaker_norm: SpeakerNormalisation | None = Field(
        default=None,
        description="Models trained with speaker normalisation: the statistics used.",
    )
    version: int | None = Field(
        default=None, description="Registry version (when serving a registry)."
    )
    prediction_id: str | None = Field(
        default=None, description="Id to send feedback on (when serving a registry)."
    )
    feedback_token: str | None = Field(
        default=None,
        description="Signed, short-lived token that /v1/feedback needs with prediction_id.",
    )


class RequestTiming(BaseModel):
    """Time spent decoding and in total (ms)."""

    decode: float
    total: float


class PredictResponse(BaseModel):
    """Every selected model's answer, side by side."""

    duration_seconds: float
    scored_seconds: float = Field(
        description="Seconds of the clip the models scored: all of it, or evenly spaced "
        "excerpts adding up to the server's max_scored_seconds."
    )
    sampled: bool = Field(description="True when only excerpts of a long clip were scored.")
    results: list[ModelPrediction]
    timing_ms: RequestTiming


class TimelineSegment(BaseModel):
    """One window; probabilities and top are null when it holds no voice."""

    start: float
    end: float
    voiced: bool
    probabilities: dict[str, float] | None
    top: str | None


class TimelineResponse(BaseModel):
    """Time-stamped predictions for a long recording."""

    model: str
    labels: list[str]
    duration_seconds: float
    vad: Literal["silero", "energy", "none"]
    segments: list[TimelineSegment]


class HealthResponse(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"
    training: bool = Field(
        default=False, description="Whether datasets and training jobs are on (/make)."
    )


class ReadyResponse(BaseModel):
    """Models are loaded and requests can be served."""

    status: Literal["ready"] = "ready"
    models: list[str]


class ReloadResponse(BaseModel):
    """The models loaded after a reload."""

    models: list[str]
