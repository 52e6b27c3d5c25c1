"""Settings: defaults, environment parsing, refusal of weak admin keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from audioclf.features.threads import available_cores
from audioclf.service.settings import Settings, get_settings


def test_defaults_are_safe() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.max_upload_bytes == 25 * 1024 * 1024
    assert s.max_audio_seconds == 600
    assert s.rate_limit_per_minute == 60
    assert s.api_key is None
    assert s.cors_origins == []


@pytest.mark.parametrize(
    "key",
    ["changeme", "admin", "short-key-123", "aaaaaaaaaaaaaaaa", "0123456789abcdef" * 2],
)
def test_weak_api_keys_are_refused_with_how_to_make_one(key: str) -> None:
    with pytest.raises(ValidationError, match=r"too easy to guess.*secrets\.token_urlsafe"):
        Settings(_env_file=None, api_key=key)  # type: ignore[call-arg]


def test_the_docs_placeholder_is_refused() -> None:
    with pytest.raises(ValidationError, match="AUDIOCLF_API_KEY is a placeholder"):
        Settings(_env_file=None, api_key="paste-the-generated-key-here")  # type: ignore[call-arg]


def test_the_error_names_the_pattern() -> None:
    with pytest.raises(ValidationError, match="Repeats like"):
        Settings(_env_file=None, api_key="aaaaaaaaaaaaaaaaaaaaaaaa")  # type: ignore[call-arg]


def test_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIOCLF_RUNS", "runs/a,runs/b")
    monkeypatch.setenv("AUDIOCLF_CORS_ORIGINS", "https://a.example, https://b.example")
    env = tmp_path / ".env"
    env.write_text(
        "AUDIOCLF_RATE_LIMIT_PER_MINUTE=5\nAUDIOCLF_API_KEY=z4Rq9Lw2Xv7Nc1Tb6Hm3Ks8Pf5Gd0Yj\n"
    )
    s = Settings(_env_file=env)  # type: ignore[call-arg]
    assert s.runs == [Path("runs/a"), Path("runs/b")]
    assert s.cors_origins == ["https://a.example", "https://b.example"]
    assert s.rate_limit_per_minute == 5
    assert s.api_key == "z4Rq9Lw2Xv7Nc1Tb6Hm3Ks8Pf5Gd0Yj"


def test_weak_key_from_environment_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIOCLF_API_KEY", "changeme")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_get_settings_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("AUDIOCLF_MAX_AUDIO_SECONDS", "12")
    try:
        first = get_settings()
        assert first.max_audio_seconds == 12
        assert get_settings() is first
    finally:
        get_settings.cache_clear()


def test_inference_workers_default_to_the_usable_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().inference_workers == available_cores() >= 1
    monkeypatch.setenv("AUDIOCLF_INFERENCE_WORKERS", "3")
    assert Settings().inference_workers == 3
    monkeypatch.setenv("AUDIOCLF_INFERENCE_WORKERS", "0")
    with pytest.raises(ValidationError):
        Settings()
