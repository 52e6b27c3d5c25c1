"""Noise views: noisy copies of the training clips train a classical model, and are
never scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audioclf.audio import load
from audioclf.features.cache import FeatureCache
from audioclf.features.handcrafted import POOLED_DIM
from audioclf.features.inputs import vectors
from audioclf.formats.manifest import read_manifest
from audioclf.inference.predictor import Predictor
from audioclf.models.classical import load_classical
from audioclf.train.config import TrainConfig
from audioclf.train.noise_views import noise_views
from audioclf.train.run import train_run
from tests.corpus_factory import make_corpus

SR = 16_000
VIEWS = ["noise=pink,snr=0..20", "noise=babble,snr=0..20"]


def _npy(root: Path) -> set[Path]:
    return set(root.rglob("*.npy"))


def test_a_run_trains_on_noise_views_and_serves_the_clean_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIOCLF_CACHE", str(tmp_path / "cache"))
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=3)
    config = TrainConfig.build({"data": str(manifest), "model": "logreg", "noise_views": VIEWS})
    result = train_run(config, tmp_path / "run", progress=False)
    assert result.card.train_noise == VIEWS and result.card.speeds == []
    assert result.metrics["noise_views"] == VIEWS
    assert "noise views" in (result.run_dir / "report.html").read_text()
    estimator = load_classical(result.run_dir / "model.joblib")
    assert (estimator.views, estimator.train_only, estimator.n_scored) == (3, 2, 1)
    # served: the clean clip's one vector, by the exported graph, as the estimator scores it
    y = load(read_manifest(manifest)[0].path, SR)
    x = vectors("pooled", [y], SR)
    assert x.shape == (1, POOLED_DIM)
    served = Predictor(result.run_dir)
    assert served.backend == "onnx"
    np.testing.assert_allclose(
        served.predict_proba([y])[0], estimator.predict_proba(x)[0], atol=1e-4
    )
    # the noisy views are cached: the same run again computes no feature
    cached = _npy(tmp_path / "cache")
    train_run(config, tmp_path / "again", progress=False)
    assert _npy(tmp_path / "cache") == cached


def test_noise_views_differ_from_the_clip_and_from_each_other(tmp_path: Path) -> None:
    clips = list(read_manifest(make_corpus(tmp_path / "corpus", speakers=3, per_class=2)))
    cache = FeatureCache(tmp_path / "cache")
    views = noise_views(VIEWS, clips, SR, cache, seed=0)
    assert views is not None
    pink, babble = views.blocks(clips[0], "pooled")
    clean = vectors("pooled", [load(clips[0].path, SR)], SR)[0]
    assert not np.allclose(pink, clean) and not np.allclose(babble, clean)
    assert not np.allclose(pink, babble)
    # repeatable: another set of the same views gives the same vectors
    again = noise_views(VIEWS, clips, SR, FeatureCache(tmp_path / "other"), seed=0)
    assert again is not None
    np.testing.assert_allclose(again.blocks(clips[0], "pooled")[0], pink, atol=1e-6)


def test_one_speaker_has_no_babble_to_train_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clips = list(read_manifest(make_corpus(tmp_path / "corpus", speakers=1, per_class=3)))
    views = noise_views(VIEWS, clips, SR, FeatureCache(tmp_path / "cache"))
    assert views is not None and [t.text for t in views.templates] == VIEWS[:1]
    assert "no babble views" in capsys.readouterr().err
    assert noise_views(VIEWS[1:], clips, SR, FeatureCache(tmp_path / "cache")) is None


def test_noise_views_are_checked_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"invalid training config: noise_views.*downwards"):
        TrainConfig.build({"noise_views": ["noise=pink,snr=20..0"]})
    with pytest.raises(ValueError, match="repeats a SPEC"):
        TrainConfig.build({"noise_views": VIEWS[:1] * 2})
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    neural = TrainConfig.build(
        {"data": str(manifest), "model": "cnn2d_2", "noise_views": VIEWS[:1]}
    )
    with pytest.raises(ValueError, match="noise_views apply to the classical models"):
        train_run(neural, tmp_path / "run", progress=False)
