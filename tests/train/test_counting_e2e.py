"""End to end: mix generated voices, train the counting models on the pools, get count MAE."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import soundfile as sf

from audioclf.data.mix import MixConfig, make_mixtures
from audioclf.inference.predictor import Predictor
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from tests.data.test_mix import _voices


def test_train_countnet_on_a_tiny_mix(tmp_path: Path) -> None:
    source = _voices(tmp_path / "src")
    config = MixConfig(
        speakers=(1, 2), n=48, split_speakers=(0.5, 0.25, 0.25), vad="energy", labels="words"
    )
    mix = make_mixtures(source, tmp_path / "mix", config, progress=False)
    train = TrainConfig.build(
        data=str(mix.manifests["all"]),
        model="countnet",
        model_options={"channels": [8, 16], "hidden": 16},
        epochs=2,
        batch_size=8,
        clip_seconds=1.0,
        split="fold",
        threads=2,
    )
    result = train_run(train, tmp_path / "run", progress=False)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["labels"] == ["1 speaker", "2 speakers"]
    assert (metrics["n_train"], metrics["n_val"], metrics["n_test"]) == (24, 12, 12)
    assert 0.0 <= metrics["count_mae"] <= 1.0
    assert abs(metrics["count_mae"] - (1 - metrics["accuracy"])) < 1e-9  # counts differ by 1
    assert (result.run_dir / "model.onnx").is_file()


@pytest.mark.skipif(importlib.util.find_spec("resemblyzer") is None, reason="needs resemblyzer")
def test_train_voice_count_on_a_tiny_mix_and_serve_it(tmp_path: Path) -> None:
    source = _voices(tmp_path / "src")
    config = MixConfig(speakers=(1, 3), n=36, split_speakers=(0.5, 0.25, 0.25), vad="energy")
    mix = make_mixtures(source, tmp_path / "mix", config, progress=False)
    train = TrainConfig.build(
        data=str(mix.manifests["all"]),
        model="voice_count",
        clip_seconds=1.0,
        split="fold",
        threads=2,
    )
    result = train_run(train, tmp_path / "run", progress=False)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["labels"] == ["1", "2", "3"]
    assert (metrics["n_train"], metrics["n_val"], metrics["n_test"]) == (18, 9, 9)
    assert 0.0 <= metrics["count_mae"] <= 2.0
    predictor = Predictor(result.run_dir)
    assert predictor.input_kind == "voice_count+voice_encoder" and predictor.classes_ == [
        "1",
        "2",
        "3",
    ]
    clip, sr = sf.read(mix.out_dir / "clips" / "test" / "test-000000.wav", dtype="float32")
    probs = predictor.predict_proba([clip])
    assert sr == predictor.sample_rate and probs.shape == (1, 3)
    assert abs(float(probs.sum()) - 1.0) < 1e-4
