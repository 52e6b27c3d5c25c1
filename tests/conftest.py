"""Shared fixtures: every test makes its own audio; nothing reads ../shared."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

_PG_ENV = "AUDIOCLF_TEST_PG_URL"
_started: list[object] = []


def pytest_configure(config: pytest.Config) -> None:
    """Start a throwaway PostgreSQL cluster (tests/postgres_server.py) for the registry
    tests when none is configured and this machine has the server binaries; the xdist
    workers inherit its URL from the controller's environment."""
    if os.environ.get(_PG_ENV) or hasattr(config, "workerinput"):
        return
    from tests.postgres_server import start

    cluster = start()
    if cluster is not None:
        os.environ[_PG_ENV] = cluster.url
        _started.append(cluster)


def pytest_unconfigure(config: pytest.Config) -> None:
    from tests.postgres_server import Cluster, stop

    for cluster in _started:
        if isinstance(cluster, Cluster):
            stop(cluster)
    _started.clear()


def tone(
    seconds: float = 0.5, sr: int = 16_000, freq: float = 440.0, amp: float = 0.5
) -> np.ndarray:
    """A sine tone, float32 mono."""
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point the feature cache at a per-test temp folder so tests never share or leak state."""
    monkeypatch.setenv("AUDIOCLF_CACHE", str(tmp_path_factory.mktemp("cache")))


def hour_of_silence_flac(sample_rate: int = 8_000) -> bytes:
    """One hour of 16-bit FLAC silence: ~90 kB on the wire, 115 MB of float32 once decoded."""
    import io

    import soundfile as sf

    buf = io.BytesIO()
    minute = np.zeros(sample_rate * 60, np.int16)
    with sf.SoundFile(buf, "w", sample_rate, 1, format="FLAC", subtype="PCM_16") as f:
        for _ in range(60):
            f.write(minute)
    return buf.getvalue()


@pytest.fixture(scope="session")
def local_ray() -> Iterator[Any]:
    """A local Ray of two CPUs for the session (the tests using it share one xdist worker:
    ``xdist_group("ray")``)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
