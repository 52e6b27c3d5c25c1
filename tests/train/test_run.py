"""End to end: a manifest of generated audio → a trained, exported, measured run folder."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from audioclf.formats.manifest import read_manifest
from audioclf.formats.runfolder import RunFolderError
from audioclf.inference.predictor import Predictor
from audioclf.train import trainer
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from tests.corpus_factory import make_corpus

FAST = {"model": "cnn2d_2", "clip_seconds": 0.5, "batch_size": 8, "augment": "none"}


def _config(manifest: Path, **overrides: object) -> TrainConfig:
    return TrainConfig.build({"data": str(manifest), **FAST, "epochs": 4, "lr": 0.01}, **overrides)


def test_train_writes_complete_run_folder(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus")
    result = train_run(_config(manifest), tmp_path / "run", progress=False)
    run = result.run_dir
    for name in (
        "config.yaml",
        "labels.json",
        "model.json",
        "model.pt",
        "model.onnx",
        "checkpoint.pt",
        "history.csv",
        "metrics.json",
        "report.html",
    ):
        assert (run / name).is_file(), name
    assert json.loads((run / "labels.json").read_text()) == ["high", "low"]
    metrics = json.loads((run / "metrics.json").read_text())
    for key in (
        "accuracy",
        "balanced_accuracy",
        "macro_f1",
        "per_class",
        "confusion",
        "n",
        "labels",
        "params",
        "train_seconds",
        "latency_ms",
    ):
        assert key in metrics, key
    assert metrics["params"] > 0 and metrics["latency_ms"] > 0
    # the generated task is easy: a working loop learns it
    assert metrics["accuracy"] >= 0.75
    # the validation scores are those of the kept (best) epoch
    best = metrics["best_epoch"]
    history = (run / "history.csv").read_text().splitlines()
    header, row = history[0].split(","), history[best].split(",")
    val_ua = float(row[header.index("val_balanced_accuracy")])
    assert metrics["val_balanced_accuracy"] == pytest.approx(val_ua)
    # speaker-independent by default: no speaker on two sides
    speakers = {
        name: set(read_manifest(run / "splits" / f"{name}.jsonl").speakers)
        for name in ("train", "val", "test")
    }
    assert not speakers["train"] & speakers["test"]
    assert not speakers["train"] & speakers["val"]
    assert metrics["n"] == len(read_manifest(run / "splits" / "test.jsonl"))
    # its cost per second of audio, by stage, measured on its own test clips
    cost = metrics["cost"]
    assert cost["clips"] == min(metrics["n"], 20) and cost["audio_seconds"] > 0
    per_second = cost["ms_per_audio_second"]
    assert {"total", "decode", "crops", "model", "other"} <= set(per_second)
    assert all(per_second[k] > 0 for k in ("decode", "crops", "model"))
    stages = sum(v for k, v in per_second.items() if k not in ("total", "other"))
    assert stages <= per_second["total"] and per_second["other"] < 0.5 * per_second["total"]
    assert stages + per_second["other"] == pytest.approx(per_second["total"], rel=1e-3)
    assert "Cost per second of audio" in (run / "report.html").read_text()
    # a network over the waveform also gets its browser export, scored like the run
    web = json.loads((run / "web" / "card.json").read_text())
    assert (run / "web" / "model.onnx").stat().st_size == web["bytes"]
    assert web["accuracy"] == pytest.approx(metrics["accuracy"])


def test_onnx_and_torch_predictors_agree(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    run = train_run(_config(manifest, epochs=1), tmp_path / "run", progress=False).run_dir
    rng = np.random.default_rng(1)
    waves = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in (4000, 8000, 20000)]
    onnx = Predictor(run, backend="onnx")
    torch_predictor = Predictor(run, backend="torch")
    assert onnx.backend == "onnx" and torch_predictor.backend == "torch"
    p_onnx = onnx.predict_proba(waves)
    np.testing.assert_allclose(p_onnx, torch_predictor.predict_proba(waves), atol=1e-4)
    np.testing.assert_allclose(p_onnx.sum(axis=1), 1.0, atol=1e-5)
    assert onnx.classes_ == ["high", "low"]
    with pytest.raises(RunFolderError, match="takes audio, not feature vectors"):
        onnx.predict_vectors(np.zeros((1, 4), np.float32))


def test_resume_after_kill_matches_uninterrupted_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    config = _config(manifest, epochs=3, patience=10)
    reference = train_run(config, tmp_path / "whole", progress=False)

    real_write = trainer._write_history
    calls = {"n": 0}

    def killed_after_second_epoch(rows: list[dict[str, float]], path: Path) -> None:
        real_write(rows, path)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "_write_history", killed_after_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        train_run(config, tmp_path / "killed", progress=False)
    assert not (tmp_path / "killed" / "metrics.json").exists()
    monkeypatch.setattr(trainer, "_write_history", real_write)
    resumed = train_run(config, tmp_path / "killed", resume=True, progress=False)

    assert resumed.metrics["epochs_run"] == 3
    a = torch.load(reference.run_dir / "model.pt", weights_only=True)
    b = torch.load(resumed.run_dir / "model.pt", weights_only=True)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5)


def test_unreadable_clip_is_skipped_and_reported(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    rows = read_manifest(manifest)
    Path(rows[0].path).write_bytes(b"this is not audio")
    result = train_run(_config(manifest, epochs=1), tmp_path / "run", progress=False)
    assert [s["path"] for s in result.metrics["skipped"]] == [rows[0].path]


def test_classical_model_run(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=3)
    config = TrainConfig.build({"data": str(manifest), "model": "logreg"})
    result = train_run(config, tmp_path / "run", progress=False)
    assert result.metrics["accuracy"] >= 0.75
    # scored on validation after a fit on train alone, then refit on train + val
    assert 0.0 <= result.metrics["val_balanced_accuracy"] <= 1.0
    # inner CV is auto's way of judging candidates (train/auto/inner_cv.py): a plain run
    # pays none of it
    assert "cv_folds" not in result.metrics and "cv_balanced_accuracy" not in result.metrics
    assert result.metrics["fit_on"] == "train+val"
    # exported like the torch models: ONNX serves, the fitted estimator is the fallback
    assert result.card.onnx and (result.run_dir / "model.onnx").is_file()
    predictor = Predictor(result.run_dir)
    assert predictor.backend == "onnx"
    fallback = Predictor(result.run_dir, backend="torch")
    assert fallback.backend == "sklearn"
    y = read_manifest(manifest)[0]
    probs = predictor.predict_source(y.path)
    assert probs.shape == (2,) and abs(float(probs.sum()) - 1) < 1e-5
    np.testing.assert_allclose(probs, fallback.predict_source(y.path), atol=1e-4)
    # nothing of it runs in a page: no browser export, even over an older one
    assert not (result.run_dir / "web").exists()
    (result.run_dir / "web").mkdir()
    (result.run_dir / "web" / "model.onnx").write_bytes(b"stale")
    train_run(config, tmp_path / "run", progress=False)
    assert not (result.run_dir / "web").exists()


def test_too_few_classes_is_a_clear_error(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", classes=("low",), speakers=4)
    with pytest.raises(ValueError, match="at least two classes"):
        train_run(_config(manifest), tmp_path / "run", progress=False)


def test_opensmile_model_run(tmp_path: Path) -> None:
    pytest.importorskip("opensmile")
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=3)
    config = TrainConfig.build({"data": str(manifest), "model": "egemaps_logreg"})
    result = train_run(config, tmp_path / "run", progress=False)
    assert result.card.input == "egemaps"
    assert result.metrics["accuracy"] >= 0.75
    probs = Predictor(result.run_dir).predict_source(read_manifest(manifest)[0].path)
    assert probs.shape == (2,) and abs(float(probs.sum()) - 1) < 1e-5


def test_pretrained_speech_embedding_model_run(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=3)
    config = TrainConfig.build({"data": str(manifest), "model": "speech_embedding_logreg"})
    result = train_run(config, tmp_path / "run", progress=False)
    assert (result.card.family, result.card.input) == ("classical", "speech_embedding")
    assert result.metrics["accuracy"] >= 0.75
    predictor = Predictor(result.run_dir)
    assert predictor.backend == "onnx"
    probs = predictor.predict_source(read_manifest(manifest)[0].path)
    assert probs.shape == (2,) and abs(float(probs.sum()) - 1) < 1e-5


def test_voice_fusion_run_exports_and_serves_its_graph(tmp_path: Path) -> None:
    pytest.importorskip("opensmile")
    if importlib.util.find_spec("resemblyzer") is None:  # not imported: we only read its weights
        pytest.skip("resemblyzer not installed")
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=3)
    config = TrainConfig.build({"data": str(manifest), "model": "fusion_voice_logreg"})
    result = train_run(config, tmp_path / "run", progress=False)
    assert (result.card.family, result.card.input) == ("classical", "compare+voice_encoder")
    assert result.card.onnx and result.metrics["accuracy"] >= 0.75
    clip = read_manifest(manifest)[0].path
    served = Predictor(result.run_dir)
    assert served.backend == "onnx"
    fallback = Predictor(result.run_dir, backend="torch")
    assert fallback.backend == "sklearn"
    np.testing.assert_allclose(
        served.predict_source(clip), fallback.predict_source(clip), atol=1e-4
    )


def test_speaker_norm_run_evaluates_per_speaker_and_serves_clips_alone(tmp_path: Path) -> None:
    from audioclf.evaluate.evaluate_run import evaluate_run
    from audioclf.features.speaker_norm import STATS_FILE, NormStats, SpeakerNormError
    from audioclf.service.engine import ModelPool

    manifest = make_corpus(tmp_path / "corpus", speakers=5, per_class=3)
    config = TrainConfig.build({"data": str(manifest), "model": "logreg", "speaker_norm": True})
    result = train_run(config, tmp_path / "run", progress=False)
    assert result.card.speaker_norm and result.metrics["accuracy"] >= 0.75
    assert result.metrics["speaker_norm"] is True and result.metrics["fit_on"] == "train+val"
    metrics = evaluate_run(result.run_dir, manifest, tmp_path / "eval", progress=False)
    assert metrics["accuracy"] >= 0.75
    predictor = Predictor(result.run_dir)
    clip = read_manifest(manifest)[0].path
    # a clip alone: standardised with the training clips' statistics
    stats = NormStats.read(result.run_dir)
    assert stats is not None and predictor.norm_stats is not None
    x = predictor.features([predictor_wave(predictor, clip)])
    np.testing.assert_allclose(
        predictor.predict_source(clip), predictor.predict_standardised(stats.apply(x))[0]
    )
    assert ModelPool([result.run_dir]).names == ["run"]
    (result.run_dir / STATS_FILE).unlink()  # a run trained before the statistics were kept
    with pytest.raises(SpeakerNormError, match="use `audioclf evaluate`"):
        Predictor(result.run_dir).predict_source(clip)
    with pytest.raises(SpeakerNormError, match="train it again to serve it"):
        ModelPool([result.run_dir])


def predictor_wave(predictor: Predictor, path: str) -> np.ndarray:
    """A file decoded as the predictor decodes it."""
    from audioclf.audio import load

    return load(path, predictor.sample_rate)


def test_speaker_norm_needs_a_classical_model(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    with pytest.raises(ValueError, match="speaker_norm applies to the classical models"):
        train_run(_config(manifest, speaker_norm=True), tmp_path / "run", progress=False)


def test_fusion_model_run_shares_the_feature_cache_with_its_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("opensmile")
    monkeypatch.setenv("AUDIOCLF_CACHE", str(tmp_path / "cache"))
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=3)
    fused = train_run(
        TrainConfig.build({"data": str(manifest), "model": "fusion_logreg"}),
        tmp_path / "fused",
        progress=False,
    )
    assert fused.card.input == "compare+pooled" and fused.metrics["params"] > 0
    assert fused.card.onnx and (fused.run_dir / "model.onnx").is_file()
    assert fused.metrics["accuracy"] >= 0.75
    probs = Predictor(fused.run_dir).predict_source(read_manifest(manifest)[0].path)
    assert probs.shape == (2,) and abs(float(probs.sum()) - 1) < 1e-5
    cached = sorted((tmp_path / "cache").rglob("*.npy"))
    # the single-kind run finds every vector already computed by the fused one
    train_run(
        TrainConfig.build({"data": str(manifest), "model": "compare_logreg"}),
        tmp_path / "single",
        progress=False,
    )
    assert sorted((tmp_path / "cache").rglob("*.npy")) == cached


def test_speed_views_train_on_every_speed_and_serve_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audioclf.audio import load
    from audioclf.features.handcrafted import POOLED_DIM, pooled_stats
    from audioclf.features.inputs import vectors
    from audioclf.features.speed import at_speed
    from audioclf.models.classical import load_classical

    monkeypatch.setenv("AUDIOCLF_CACHE", str(tmp_path / "cache"))
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=3)
    clips = read_manifest(manifest)
    config = TrainConfig.build({"data": str(manifest), "model": "logreg", "speeds": [0.9, 1.1]})
    result = train_run(config, tmp_path / "run", progress=False)
    assert result.card.speeds == [0.9, 1.1] and result.metrics["speeds"] == [0.9, 1.1]
    assert result.card.onnx and result.metrics["accuracy"] >= 0.75
    assert "speed views" in (result.run_dir / "report.html").read_text()
    # each view's features are costed on their own, with the resampling to the view
    stages = result.metrics["cost"]["ms_per_audio_second"]
    for name in ("pooled@1", "pooled@0.9", "pooled@1.1", "speed@0.9", "speed@1.1", "model"):
        assert stages[name] > 0, name
    # one cached vector per clip and speed
    assert len(list((tmp_path / "cache").rglob("*.npy"))) >= 3 * len(clips)
    estimator = load_classical(result.run_dir / "model.joblib")
    assert estimator.views == 3
    # served: the clip's views, scored by the exported graph, as the estimator scores them
    y = load(clips[0].path, 16_000)
    x = vectors("pooled", [y], 16_000, [0.9, 1.1])
    assert x.shape == (1, 3 * POOLED_DIM)
    np.testing.assert_allclose(x[0, :POOLED_DIM], pooled_stats(y, 16_000), atol=1e-5)
    slower = pooled_stats(at_speed(y, 16_000, 0.9), 16_000)
    np.testing.assert_allclose(x[0, POOLED_DIM : 2 * POOLED_DIM], slower, atol=1e-5)
    served = Predictor(result.run_dir)
    assert served.backend == "onnx"
    np.testing.assert_allclose(
        served.predict_proba([y])[0], estimator.predict_proba(x)[0], atol=1e-4
    )
    np.testing.assert_allclose(served.predict_vectors(x), served.predict_proba([y]), atol=1e-6)
    # the clip itself is cached under the key runs without speeds use
    cached = sorted((tmp_path / "cache").rglob("*.npy"))
    plain = train_run(
        TrainConfig.build({"data": str(manifest), "model": "logreg"}),
        tmp_path / "plain",
        progress=False,
    )
    assert sorted((tmp_path / "cache").rglob("*.npy")) == cached
    assert (
        plain.card.speeds == [] and "speed views" not in (plain.run_dir / "report.html").read_text()
    )


def test_speeds_need_a_classical_model_and_sensible_values(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    with pytest.raises(ValueError, match="speeds apply to the classical models"):
        train_run(_config(manifest, speeds=[0.9]), tmp_path / "run", progress=False)
    with pytest.raises(ValueError, match=r"invalid training config: speeds.*not 1\.0"):
        TrainConfig.build({"speeds": [1.0]})
