"""Feature vectors of a batch: the same rows one view at a time or in worker threads, with
every view's stages on the caller's clock."""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

import numpy as np
import pytest

from audioclf.features import inputs
from audioclf.features.inputs import vectors
from audioclf.stages import measuring
from tests.conftest import tone

needs_voice = pytest.mark.skipif(
    importlib.util.find_spec("resemblyzer") is None, reason="resemblyzer not installed"
)


@pytest.mark.parametrize("kind", ["pooled", "speech_embedding+pooled"])
def test_workers_give_the_rows_of_one_view_at_a_time(kind: str) -> None:
    waves = [tone(1.0 + 0.25 * i, 16_000, 200.0 * (i + 1)) for i in range(3)]
    alone = vectors(kind, waves, 16_000, (0.9, 1.1))
    with measuring() as clock:
        together = vectors(kind, waves, 16_000, (0.9, 1.1), workers=3)
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)
    assert together.shape[0] == 3 and together.shape[1] == alone.shape[1]
    first = kind.split("+")[0]
    assert {f"{first}@1", f"{first}@0.9", f"{first}@1.1", "speed@0.9"} <= set(clock.totals())


def test_one_wave_one_view_runs_in_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    original = inputs.vector_function

    def spying(kind: str) -> Any:
        fn = original(kind)

        def spy(y: np.ndarray, sr: int) -> np.ndarray:
            seen.append(threading.current_thread().name)
            return fn(y, sr)

        return spy

    monkeypatch.setattr(inputs, "vector_function", spying)
    vectors("pooled", [tone(1.0, 16_000, 300.0)], 16_000, workers=4)
    vectors("pooled", [tone(1.0, 16_000, 300.0)] * 2, 16_000, workers=4)
    assert seen[0] == threading.current_thread().name
    assert len(seen) == 3 and all(name.startswith("audioclf-features") for name in seen[1:])


@needs_voice
def test_batched_voice_encoder_views_match_one_at_a_time() -> None:
    waves = [tone(0.6 + 0.3 * i, 16_000, 120.0 + 40 * i) for i in range(3)]
    alone = vectors("voice_encoder", waves, 16_000, (0.9, 1.1))
    with measuring() as clock:
        batched = vectors("voice_encoder", waves, 16_000, (0.9, 1.1), workers=2)
    np.testing.assert_allclose(batched, alone, rtol=1e-4, atol=1e-5)
    totals = clock.totals()
    assert {"voice_encoder@1", "voice_encoder@0.9", "voice_encoder@1.1"} <= set(totals)
    assert all(totals[f"voice_encoder@{s}"] > 0 for s in ("1", "0.9", "1.1"))
