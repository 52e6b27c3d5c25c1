"""Settings: defaults, environment parsing, refusal of weak admin keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from audioclf.service.settings import Settings, get_settings


def test_defaults_are_safe() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.max_upload_bytes == 25 * 1024 * 1024
    assert s.max_audio_seconds == 600
    assert s.rate_limit_per_minute == 60
    assert s.api_key is None
    assert s.cors_origins == []


@pytest.mark.parametrize("key", ["changeme", "admin", "secret", "short-key-123", "CHANGEME"])
def test_weak_api_keys_are_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="AUDIOCLF_API_KEY"):
        Settings(_env_file=None, api_key=key)  # type: ignore[call-arg]


def test_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIOCLF_RUNS", "runs/a,runs/b")
    monkeypatch.setenv("AUDIOCLF_CORS_ORIGINS", "https://a.example, https://b.example")
    env = tmp_path / ".env"
    env.write_text("AUDIOCLF_RATE_LIMIT_PER_MINUTE=5\nAUDIOCLF_API_KEY=abcdefghijklmnopqrstu\n")
    s = Settings(_env_file=env)  # type: ignore[call-arg]
    assert s.runs == [Path("runs/a"), Path("runs/b")]
    assert s.cors_origins == ["https://a.example", "https://b.example"]
    assert s.rate_limit_per_minute == 5
    assert s.api_key == "abcdefghijklmnopqrstu"


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
