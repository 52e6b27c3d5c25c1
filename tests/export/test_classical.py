"""ONNX export of the classical models: same probabilities as scikit-learn, or an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from audioclf.export.classical import export_classical_onnx, verify_classical_onnx
from audioclf.export.parity import ExportError
from audioclf.models import create_model
from audioclf.models.classical import logreg, svm
from audioclf.models.fusion import LateFusion
from audioclf.models.multiview import MultiView


def _data(dim: int, n_classes: int = 4, n: int = 160) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.arange(n) % n_classes
    x = rng.standard_normal((n, dim)).astype(np.float32) * 3 + 5  # not standardised
    x[:, 0] += 2 * y
    x[:, -1] -= 2 * y
    return x, y


def _session_outputs(path: Path, x: np.ndarray) -> list[Any]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["features"]
    assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
    return list(session.run(None, {"features": x}))


@pytest.mark.parametrize(
    "estimator",
    [
        create_model("logreg", 4),
        create_model("svm", 4),  # RBF kernel, libsvm's Platt scaling
        create_model("compare_svm", 4),  # linear kernel
        create_model("random_forest", 4, n_estimators=20),
        LateFusion([(12, logreg(4, C=0.1)), (8, svm(4))]),
        LateFusion([(12, logreg(4)), (8, logreg(4, C=0.1))], combine="mean"),
        MultiView(logreg(4), views=2),  # speed views: 2 × 10 columns
        MultiView(LateFusion([(3, logreg(4)), (2, svm(4))]), views=4),
    ],
    ids=[
        "logreg",
        "svm-rbf",
        "svm-linear",
        "random-forest",
        "fusion-product",
        "fusion-mean",
        "views-logreg",
        "views-fusion",
    ],
)
def test_every_classical_kind_exports_with_the_same_probabilities(
    estimator: Any, tmp_path: Path
) -> None:
    x, y = _data(20)
    estimator.fit(x, y)
    path = export_classical_onnx(estimator, tmp_path / "model.onnx", 20)
    assert verify_classical_onnx(estimator, path, x) <= 1e-4
    label, probs = _session_outputs(path, x)
    np.testing.assert_allclose(probs, estimator.predict_proba(x), atol=1e-4)
    assert probs.shape == (len(x), 4)
    # the label is scikit-learn's predict (for an SVM its one-vs-one vote, which can
    # differ from the most probable class after Platt scaling)
    assert (label == estimator.predict(x)).all()
    assert not list(tmp_path.glob("*.tmp"))


def test_a_model_that_never_saw_a_class_is_not_exported(tmp_path: Path) -> None:
    x, y = _data(6)
    model = create_model("logreg", 4).fit(x[y != 1], y[y != 1])  # classes 0, 2, 3
    with pytest.raises(ExportError, match=r"not 0\.\.K-1"):
        export_classical_onnx(model, tmp_path / "model.onnx", 6)
    assert not (tmp_path / "model.onnx").exists()


def test_a_graph_that_disagrees_is_caught(tmp_path: Path) -> None:
    x, y = _data(6)
    exported = create_model("logreg", 4).fit(x, y)
    other = create_model("logreg", 4).fit(x, (y + 1) % 4)
    path = export_classical_onnx(exported, tmp_path / "model.onnx", 6)
    with pytest.raises(ExportError, match="differ from scikit-learn"):
        verify_classical_onnx(other, path, x)


def test_fusion_blocks_must_cover_the_features(tmp_path: Path) -> None:
    x, y = _data(20)
    fusion = LateFusion([(12, logreg(4)), (8, logreg(4))]).fit(x, y)
    with pytest.raises(ExportError, match="do not cover 21"):
        export_classical_onnx(fusion, tmp_path / "model.onnx", 21)


def test_views_must_divide_the_features(tmp_path: Path) -> None:
    x, y = _data(20)
    wrapped = MultiView(logreg(4), views=2).fit(x, y)
    with pytest.raises(ExportError, match="do not split into 3 views"):
        export_classical_onnx(MultiView(logreg(4), views=3).fit(x[:, :18], y), tmp_path / "m", 20)
    assert wrapped.views == 2


def test_a_model_scoring_the_clip_alone_exports_one_view_in(tmp_path: Path) -> None:
    x, y = _data(20)
    wrapped = MultiView(logreg(4), views=2, scored_views=1).fit(x, y)
    export_classical_onnx(wrapped, tmp_path / "model.onnx", 10)
    _, probs = _session_outputs(tmp_path / "model.onnx", x[:, :10])
    np.testing.assert_allclose(probs, wrapped.estimator_.predict_proba(x[:, :10]), atol=1e-5)
    assert verify_classical_onnx(wrapped, tmp_path / "model.onnx", x[:, :10]) < 1e-5
