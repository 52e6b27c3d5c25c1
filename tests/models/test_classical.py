"""Classical scikit-learn models: fit/predict on separable data, determinism, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audioclf.models.classical import (
    ClassicalModelError,
    fit_classical,
    load_classical,
    save_classical,
)
from audioclf.models.registry import create_model, list_models, model_info

# SVC(probability=True) is deprecated in scikit-learn 1.9; classical.py explains why it stays
pytestmark = pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")

NAMES = ["svm", "logreg", "random_forest"]
SMALL = {"random_forest": {"n_estimators": 20}}


def blobs(n_per_class: int = 20, dim: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated Gaussian blobs (fixed centres, noise drawn from ``seed``),
    unbalanced: the last class is half size."""
    centres = np.random.default_rng(123).standard_normal((3, dim)) * 6
    rng = np.random.default_rng(seed)
    sizes = [n_per_class, n_per_class, n_per_class // 2]
    x = np.concatenate(
        [c + rng.standard_normal((n, dim)) for c, n in zip(centres, sizes, strict=True)]
    )
    y = np.repeat(np.arange(3), sizes)
    return x.astype(np.float32), y


def test_registered_as_classical_pooled() -> None:
    assert set(NAMES) <= set(list_models(family="classical"))
    for name in NAMES:
        info = model_info(name)
        assert (info.family, info.input) == ("classical", "pooled")


@pytest.mark.parametrize("name", NAMES)
def test_fit_predict_separable(name: str) -> None:
    x, y = blobs()
    x_test, y_test = blobs(seed=1)
    model = fit_classical(name, x, y, options=SMALL.get(name))
    proba = model.predict_proba(x_test)
    assert proba.shape == (len(x_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert list(model.classes_) == [0, 1, 2]
    assert (model.classes_[proba.argmax(axis=1)] == y_test).mean() >= 0.95


@pytest.mark.parametrize("name", NAMES)
def test_deterministic(name: str) -> None:
    x, y = blobs()
    a = fit_classical(name, x, y, options=SMALL.get(name)).predict_proba(x)
    b = fit_classical(name, x, y, options=SMALL.get(name)).predict_proba(x)
    np.testing.assert_array_equal(a, b)


def test_pretrained_embedding_model_is_registered() -> None:
    info = model_info("speech_embedding_logreg")
    assert (info.family, info.input) == ("classical", "speech_embedding")
    model = create_model("speech_embedding_logreg", 3)[-1]
    assert (model.C, model.class_weight) == (0.1, "balanced")
    info = model_info("voice_logreg")
    assert (info.family, info.input) == ("classical", "voice_encoder")
    assert create_model("voice_logreg", 3)[-1].C == 0.1
    info = model_info("whisper_logreg")
    assert (info.family, info.input) == ("classical", "whisper")
    assert create_model("whisper_logreg", 3)[-1].C == 0.1


def test_create_model_defaults() -> None:
    svm = create_model("svm", 3)[-1]
    assert (svm.kernel, svm.probability, svm.class_weight) == ("rbf", True, "balanced")
    logreg = create_model("logreg", 3)[-1]
    assert (logreg.max_iter, logreg.class_weight) == (2000, "balanced")
    forest = create_model("random_forest", 3)[-1]
    assert (forest.n_estimators, forest.class_weight) == (300, "balanced_subsample")


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(name: str, tmp_path: Path) -> None:
    x, y = blobs()
    model = fit_classical(name, x, y, options=SMALL.get(name))
    path = save_classical(model, tmp_path / "run" / "model.joblib")
    loaded = load_classical(path)
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))
    assert list(loaded.classes_) == list(model.classes_)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ClassicalModelError, match="no such model file"):
        load_classical(tmp_path / "missing.joblib")
    garbage = tmp_path / "garbage.joblib"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(ClassicalModelError, match=r"garbage\.joblib"):
        load_classical(garbage)


def test_save_unfitted_refused(tmp_path: Path) -> None:
    with pytest.raises(ClassicalModelError, match="not fitted"):
        save_classical(create_model("logreg", 2), tmp_path / "m.joblib")


def test_fit_rejects_bad_training_sets() -> None:
    import audioclf.models.issa  # noqa: F401 - registers issa_cnn

    x, y = blobs()
    with pytest.raises(ClassicalModelError, match="at least two"):
        fit_classical("logreg", x, np.zeros(len(x), dtype=int))
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ClassicalModelError, match="NaN"):
        fit_classical("logreg", bad, y)
    with pytest.raises(ClassicalModelError, match="labels"):
        fit_classical("logreg", x, y[:-1])
    with pytest.raises(ClassicalModelError, match="not a classical"):
        fit_classical("issa_cnn", x, y)
