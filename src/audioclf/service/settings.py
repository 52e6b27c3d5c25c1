"""Server settings from the environment (prefix ``AUDIOCLF_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from audioclf.features.threads import available_cores
from audioclf.service.key_strength import MIN_KEY_BITS, key_strength

MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _split_list(value: object) -> object:
    """Accept a comma- or ``os.pathsep``-separated string as well as a list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything the server can be configured with; each field is ``AUDIOCLF_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="AUDIOCLF_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    runs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Run folders to serve (comma-separated in the env)."
    )
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    max_audio_seconds: float = Field(default=600.0, gt=0)
    decode_timeout_seconds: float = Field(default=10.0, gt=0)
    rate_limit_per_minute: int = Field(default=60, ge=0, description="Per client; 0 = off.")
    header_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Time a client has to send a request's headers."
    )
    body_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest pause allowed inside a request body."
    )
    work_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A timeline still scoring after this long is stopped (503).",
    )
    max_scored_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Seconds of a clip each model scores; a longer clip is scored on evenly "
        "spaced excerpts that add up to this (the response says so).",
    )
    decode_workers: int = Field(
        default=2, gt=0, description="Processes that decode uploads (killed on timeout)."
    )
    decode_memory_bytes: int = Field(
        default=2 * 1024**3,
        gt=0,
        description="Address-space limit of each decode process; a file needing more fails.",
    )
    max_concurrent_requests: int = Field(
        default=16,
        gt=0,
        description="Predictions (decode + inference) in progress at once; past it 503 + "
        "Retry-After at once.",
    )
    api_key: str | None = Field(default=None, description="Admin key; unset = admin disabled.")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    timeline_window: float = Field(default=2.0, gt=0)
    timeline_hop: float = Field(default=1.0, gt=0)
    stream_window: float = Field(default=2.0, gt=0)
    stream_hop: float = Field(default=0.5, gt=0)
    max_stream_frame_bytes: int = Field(default=1024 * 1024, gt=0)
    stream_predictions_per_minute: int = Field(
        default=240, gt=0, description="Predictions one live stream may ask for per minute."
    )
    stream_idle_seconds: float = Field(
        default=30.0, gt=0, description="A live stream silent this long is closed."
    )
    max_streams: int = Field(default=32, gt=0, description="Live streams open at once.")
    max_streams_per_client: int = Field(
        default=4, gt=0, description="Live streams one client address may hold open."
    )
    inference_workers: int = Field(
        default_factory=available_cores,
        gt=0,
        description="Threads that extract one batch's features at once (its clips and speed "
        "views in parallel; default: the cores this process may use).",
    )
    onnx_threads: int | None = Field(
        default=None,
        gt=0,
        description="ONNX Runtime's threads per model (default: its own, one per core).",
    )
    batch_wait_ms: float = Field(default=0.0, ge=0)
    max_batch: int = Field(default=16, gt=0)
    max_sessions: int = Field(
        default=1000,
        gt=0,
        description="Sessions (`?session=ID`) whose speaker statistics are kept in memory; "
        "past it the least recently used is dropped.",
    )
    session_ttl_seconds: float = Field(
        default=1800.0, gt=0, description="A session unused this long is dropped."
    )
    session_min_clips: int = Field(
        default=5,
        ge=2,
        description="Clips a session needs before a speaker-normalised model uses its own "
        "statistics (before that: the training clips').",
    )
    registry: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Registry model names whose production versions are served (instead of runs).",
    )
    db_url: str | None = Field(
        default=None, description="Registry database URL (default sqlite:///audioclf.db)."
    )
    feedback_dir: Path = Field(
        default=Path("feedback-pool"),
        description="Where consented feedback clips are kept (never inside the web root).",
    )
    feedback_max_bytes: int = Field(
        default=1024**3, gt=0, description="The most bytes the feedback pool keeps."
    )
    feedback_secret: str | None = Field(
        default=None,
        description="Key that signs feedback tokens (HMAC-SHA256); unset = a random key per "
        "process, so tokens end with the process.",
    )
    feedback_token_seconds: int = Field(
        default=3600, gt=0, description="How long a prediction's feedback token is valid."
    )
    feedback_client_max_bytes: int = Field(
        default=50 * 1024**2, gt=0, description="The most bytes one client's clips may take."
    )

    training: bool = Field(
        default=False,
        description="Datasets and training jobs over HTTP (/v1/datasets, /v1/jobs, the "
        "'Make a model' page), under the admin key; jobs run one by one in processes of "
        "their own, queued in the registry database.",
    )
    datasets_dir: Path = Field(
        default=Path("datasets"),
        description="Where datasets made over HTTP keep their clips (FLAC) and manifests.",
    )
    job_runs_dir: Path = Field(
        default=Path("job-runs"), description="Where training jobs write their run folders."
    )
    max_datasets: int = Field(default=100, gt=0, description="Datasets the server keeps.")
    dataset_max_clips: int = Field(default=2000, gt=0, description="Clips per dataset.")
    dataset_max_bytes: int = Field(
        default=500 * 1024**2, gt=0, description="Bytes of FLAC audio per dataset."
    )
    dataset_clip_max_seconds: float = Field(
        default=30.0, gt=0, description="The longest clip a dataset takes."
    )
    job_min_clips_per_class: int = Field(
        default=5, ge=1, description="A job trains only when every class has this many clips."
    )
    jobs_at_once: int = Field(default=1, gt=0, description="Training jobs running at once.")
    max_queued_jobs: int = Field(default=20, gt=0, description="Jobs waiting at most.")
    job_max_minutes: float = Field(
        default=30.0, gt=0, description="The largest time budget a job may ask for."
    )
    job_cores: int = Field(
        default_factory=lambda: max(1, available_cores() - 1),
        gt=0,
        description="Cores a job's process may use (default: all but one, which serving keeps).",
    )
    job_attempts: int = Field(
        default=2,
        gt=0,
        description="Starts a job gets: one interrupted by a server stop resumes until this many.",
    )
    max_trained_models: int = Field(
        default=8, gt=0, description="Models of finished jobs the server keeps loaded."
    )
    jobs_ray: bool = Field(
        default=False,
        description="Jobs train their candidates on the Ray cluster (RAY_ADDRESS) "
        "instead of in their own process.",
    )

    @field_validator("runs", "cors_origins", "registry", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("api_key")
    @classmethod
    def _strong_key(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        strength = key_strength(value)
        if strength.placeholder:
            raise ValueError(f"AUDIOCLF_API_KEY is a placeholder; make a key with `{MAKE_A_KEY}`")
        if not strength.strong:
            reason = f" ({strength.warning.rstrip('.')})" if strength.warning else ""
            raise ValueError(
                f"AUDIOCLF_API_KEY is too easy to guess: about {strength.bits:.0f} bits, "
                f"at least {MIN_KEY_BITS:.0f} needed{reason}; make a key with `{MAKE_A_KEY}`"
            )
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from the environment once (never at import)."""
    return Settings()
