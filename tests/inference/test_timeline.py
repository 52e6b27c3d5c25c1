"""Timeline: windows cover the clip, VAD marks silence, voiced windows get probabilities."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from audioclf.formats.runfolder import ModelCard
from audioclf.inference.timeline import (
    TimelineCancelledError,
    TimelineError,
    default_vad,
    timeline,
    windows,
)
from tests.conftest import tone

SR = 16_000


def silence_tone_silence() -> np.ndarray:
    """2 s silence, 2 s tone, 2 s silence."""
    quiet = np.zeros(2 * SR, dtype=np.float32)
    return np.concatenate([quiet, tone(2.0, SR), quiet])


def _card(task: str = "") -> ModelCard:
    return ModelCard("m", "f", "waveform", SR, SR, 0.5, ["a", "b"], 1, task=task)


@dataclass
class FakePredictor:
    """Probability of "a" grows with the chunk RMS (tone: a, silence: b)."""

    sample_rate: int = SR
    classes_: list[str] = field(default_factory=lambda: ["a", "b"])
    card: ModelCard = field(default_factory=_card)
    seen: list[int] = field(default_factory=list)

    def predict_proba(self, chunks: list[np.ndarray]) -> np.ndarray:
        self.seen.extend(len(c) for c in chunks)
        rms = [min(1.0, 4 * float(np.sqrt(np.mean(c**2)))) for c in chunks]
        return np.array([[r, 1 - r] for r in rms], dtype=np.float32)


def test_windows_cover_the_clip() -> None:
    assert windows(5.0, 2.0, 1.0) == [(0, 2), (1, 3), (2, 4), (3, 5)]
    assert windows(4.5, 2.0, 2.0) == [(0, 2), (2, 4), (4, 4.5)]
    assert windows(0.7, 2.0, 1.0) == [(0, 0.7)]
    with pytest.raises(TimelineError, match="hop"):
        windows(5.0, 1.0, 2.0)


def test_timeline_marks_silence_unvoiced() -> None:
    predictor = FakePredictor()
    segs = timeline(predictor, silence_tone_silence(), window=1.0, hop=1.0, vad="energy")  # type: ignore[arg-type]
    assert [(s.start, s.end) for s in segs] == [(i, i + 1) for i in range(6)]
    assert [s.voiced for s in segs] == [False, False, True, True, False, False]
    for s in segs:
        assert (s.probabilities is None) == (not s.voiced) == (s.top is None)
    assert segs[2].top == "a"
    assert predictor.seen == [SR, SR]  # only voiced windows are classified


def test_vad_none_classifies_everything() -> None:
    predictor = FakePredictor()
    segs = timeline(predictor, silence_tone_silence(), window=2.0, hop=2.0, vad="none")  # type: ignore[arg-type]
    assert all(s.voiced for s in segs) and len(segs) == 3
    assert segs[0].top == "b" and segs[1].top == "a"


def test_default_vad_follows_the_task() -> None:
    assert default_vad(_card("speech emotion")) == "silero"
    assert default_vad(_card("")) == "silero"
    assert default_vad(_card("music genre")) == "energy"
    assert default_vad(_card("environmental sounds (ESC-50)")) == "energy"


def test_timeline_refuses_an_unknown_vad_method() -> None:
    with pytest.raises(TimelineError, match="silero, energy, none"):
        timeline(FakePredictor(), tone(), vad="magic")  # type: ignore[arg-type]


def test_a_cancelled_timeline_stops_between_chunks() -> None:
    fake = FakePredictor()
    y = tone(60.0, SR)  # 60 one-second windows, all voiced: four chunks of 16
    calls: list[int] = []

    def cancelled() -> bool:
        calls.append(len(fake.seen))
        return len(fake.seen) >= 16  # stop once the first chunk is scored

    with pytest.raises(TimelineCancelledError, match="after 16 of 60 windows"):
        timeline(fake, y, window=1.0, hop=1.0, vad="none", cancelled=cancelled)  # type: ignore[arg-type]
    assert len(fake.seen) == 16 and calls == [0, 16]
