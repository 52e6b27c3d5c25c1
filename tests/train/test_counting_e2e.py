"""End to end: mix generated voices, train the counting CRNN on the pools, get count MAE."""

from __future__ import annotations

import json
from pathlib import Path

from audioclf.data.mix import MixConfig, make_mixtures
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
