"""Warming the feature cache with what the runs of a config will read."""

from __future__ import annotations

import os
from pathlib import Path

from audioclf.formats.manifest import read_manifest
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from audioclf.train.warm import inputs_of, warm_cache
from tests.corpus_factory import make_corpus


def _cached_arrays() -> set[Path]:
    return set(Path(os.environ["AUDIOCLF_CACHE"]).rglob("*.npy"))


def test_inputs_are_each_candidates_at_its_speeds() -> None:
    auto = TrainConfig.build(
        {"model": "auto", "model_options": {"candidates": ["logreg", "svm", "cnn2d_2"]}}
    )
    assert inputs_of(auto) == [("pooled", (0.9, 1.1)), ("waveform", ())]
    plain = TrainConfig.build({"model": "logreg", "speeds": []})
    assert inputs_of(plain) == [("pooled", ())]


def test_after_warming_a_run_computes_nothing_new(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    config = TrainConfig.build(
        {
            "data": str(manifest),
            "model": "auto",
            "model_options": {"candidates": ["logreg", "cnn2d_2"]},
            "clip_seconds": 0.5,
            "epochs": 1,
            "augment": "none",
            # noise views are each run's own (babble from its training speakers)
            "noise_views": [],
        }
    )
    warm_cache(config, read_manifest(manifest), progress=False)
    warmed = _cached_arrays()
    assert warmed
    train_run(config, tmp_path / "run", progress=False)
    assert _cached_arrays() == warmed
