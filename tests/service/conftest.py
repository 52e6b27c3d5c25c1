"""Fixtures of the service tests: two tiny trained runs, settings and app builders, audio bytes."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi import FastAPI
from fastapi.testclient import TestClient

from audioclf.service.app import create_app
from audioclf.service.settings import Settings
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from tests.conftest import tone
from tests.corpus_factory import make_corpus

STRONG_KEY = "bNzhZBsGl4SqbO7i81Q2BKg5sw8NBkIH"  # random, as secrets.token_urlsafe makes


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two trained run folders: ``cnn`` (cnn2d_2, ONNX) and ``logreg`` (classical)."""
    root = tmp_path_factory.mktemp("service_runs")
    old_cache = os.environ.get("AUDIOCLF_CACHE")
    os.environ["AUDIOCLF_CACHE"] = str(root / "cache")
    try:
        manifest = make_corpus(root / "corpus", speakers=4, per_class=2)
        out = []
        for name, model in (("cnn", "cnn2d_2"), ("logreg", "logreg")):
            config = TrainConfig.build(
                {
                    "data": str(manifest),
                    "model": model,
                    "clip_seconds": 0.5,
                    "epochs": 1,
                    "augment": "none",
                }
            )
            out.append(train_run(config, root / name, progress=False).run_dir)
    finally:
        if old_cache is None:
            os.environ.pop("AUDIOCLF_CACHE", None)
        else:
            os.environ["AUDIOCLF_CACHE"] = old_cache
    return out


@pytest.fixture
def make_settings(runs: list[Path], tmp_path: Path) -> Callable[..., Settings]:
    """Settings for the two runs, isolated from any .env file and AUDIOCLF_ variables."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"runs": runs, **overrides}
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def make_client(
    make_settings: Callable[..., Settings],
) -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient (lifespan running) for an app with the given setting overrides."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        app: FastAPI = create_app(make_settings(**overrides))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A client of an app with default settings and the rate limit off."""
    return make_client(rate_limit_per_minute=0)


def wav_bytes(y: np.ndarray | None = None, sr: int = 16_000, fmt: str = "WAV") -> bytes:
    """Audio encoded in memory (a 0.6 s tone by default)."""
    buffer = io.BytesIO()
    sf.write(buffer, tone(0.6, sr) if y is None else y, sr, format=fmt)
    return buffer.getvalue()
