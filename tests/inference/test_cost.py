"""Cost per second of audio: the stages the predictor marks, summed over timed test clips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from audioclf import stages
from audioclf.formats.manifest import Clip, Manifest
from audioclf.inference import cost
from audioclf.stages import scope, stage

SR = 16_000


class _Clock:
    """A perf_counter that moves only when the fake model works, so the sums are exact."""

    now = 0.0

    @classmethod
    def read(cls) -> float:
        return cls.now


def _busy(seconds: float) -> None:
    _Clock.now += seconds


class _Card:
    speaker_norm = False


class _FakeEnsemble:
    """Marks stages like an ensemble of two members: 2 ms and 1 ms, then 0.5 ms combining."""

    card = _Card()
    calls = 0

    def __init__(self, run_dir: Any, **_: Any) -> None:
        self.sample_rate = SR

    def predict_proba(self, waves: list[np.ndarray], **_: Any) -> np.ndarray:
        _FakeEnsemble.calls += 1
        with scope("1-a"), stage("model"):
            _busy(0.002)
        with scope("2-b"), stage("pooled@1"):
            _busy(0.001)
        with stage("combine"):
            _busy(0.0005)
        return np.zeros((len(waves), 2))


def _manifest(root: Path, n: int, seconds: float = 0.5) -> Manifest:
    clips = []
    for i in range(n):
        path = root / f"{i}.wav"
        sf.write(path, np.zeros(int(seconds * SR), np.float32), SR)
        clips.append(Clip(id=str(i), path=str(path), label="a"))
    return Manifest(clips)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[_FakeEnsemble]:
    monkeypatch.setattr(cost, "Predictor", _FakeEnsemble)
    monkeypatch.setattr(cost, "perf_counter", _Clock.read)
    monkeypatch.setattr(stages, "perf_counter", _Clock.read)
    _FakeEnsemble.calls = 0
    return _FakeEnsemble


def test_stages_per_audio_second_add_up_to_the_total(
    tmp_path: Path, fake: type[_FakeEnsemble]
) -> None:
    result = cost.measure_cost(tmp_path, _manifest(tmp_path, 4))
    assert result["clips"] == 4 and result["audio_seconds"] == pytest.approx(2.0)
    per_second = result["ms_per_audio_second"]
    assert list(per_second) == [
        "total",
        "decode",
        "1-a/model",
        "2-b/pooled@1",
        "combine",
        "other",
    ]
    # 2 ms per 0.5-s clip is 4 ms per second of audio
    assert per_second["1-a/model"] == pytest.approx(4.0)
    assert per_second["2-b/pooled@1"] == pytest.approx(2.0)
    assert per_second["combine"] == pytest.approx(1.0)
    parts = sum(v for k, v in per_second.items() if k != "total")
    assert parts == pytest.approx(per_second["total"], rel=1e-3)
    assert result["members"] == {
        "1-a": per_second["1-a/model"],
        "2-b": per_second["2-b/pooled@1"],
    }
    assert result["ms_per_clip_p50"] == pytest.approx(3.5)
    assert fake.calls == 5  # one warm-up, then each clip once


def test_timing_stops_at_the_budget_and_spreads_the_clips(
    tmp_path: Path, fake: type[_FakeEnsemble]
) -> None:
    manifest = _manifest(tmp_path, 30)
    assert cost.measure_cost(tmp_path, manifest, max_clips=5)["clips"] == 5
    assert [c.id for c in cost._spread(list(manifest), 4)] == ["0", "10", "19", "29"]
    fake.calls = 0
    result = cost.measure_cost(tmp_path, manifest, budget=0.0)
    assert result["clips"] == 1 and fake.calls == 2


def test_unreadable_clips_are_left_out(tmp_path: Path, fake: type[_FakeEnsemble]) -> None:
    manifest = _manifest(tmp_path, 2)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio")
    clips = [Clip(id="x", path=str(broken), label="a"), *manifest]
    result = cost.measure_cost(tmp_path, Manifest(clips))
    assert result["clips"] == 2 and result["audio_seconds"] == pytest.approx(1.0)


def test_nothing_to_time_is_said(
    tmp_path: Path, fake: type[_FakeEnsemble], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cost.measure_cost(tmp_path, Manifest([])) == {
        "clips": 0,
        "skipped": "the run has no test clips",
    }
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio")
    only_broken = Manifest([Clip(id="x", path=str(broken), label="a")])
    assert "could be read" in cost.measure_cost(tmp_path, only_broken)["skipped"]
    monkeypatch.setattr(_Card, "speaker_norm", True)
    assert "per speaker" in cost.measure_cost(tmp_path, _manifest(tmp_path, 2))["skipped"]


def test_member_totals_group_the_stages_of_each_member() -> None:
    stages = {"decode": 1.0, "1-a/crops": 0.5, "1-a/model": 2.0, "2-b/model": 3.0, "combine": 1}
    assert cost.member_totals(stages) == {"1-a": 2.5, "2-b": 3.0}
    assert cost.member_totals({"decode": 1.0, "model": 2.0}) == {}
