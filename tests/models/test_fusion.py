"""Product-of-experts fusion of classical models over column blocks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from audioclf.features.handcrafted import POOLED_DIM
from audioclf.features.smile import DIMS
from audioclf.features.voice_encoder import DIM as VOICE_DIM
from audioclf.models import create_model, model_info
from audioclf.models.fusion import LateFusion


def _data(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.standard_normal((n, 7))
    x[:, 0] += y  # the first block sees the class a little
    x[:, 4] -= 0.5 * y  # so does the second
    return x, y


def test_probabilities_are_the_normalised_geometric_mean_of_the_experts() -> None:
    x, y = _data()
    fused = LateFusion([(3, LogisticRegression()), (4, LogisticRegression())]).fit(x, y)
    a = LogisticRegression().fit(x[:, :3], y).predict_proba(x[:, :3])
    b = LogisticRegression().fit(x[:, 3:], y).predict_proba(x[:, 3:])
    expected = np.sqrt(a * b)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(fused.predict_proba(x), expected, rtol=1e-6)
    assert (fused.predict(x) == expected.argmax(axis=1)).all()
    assert list(fused.classes_) == [0, 1, 2]
    assert fused.coef_size == 3 * 3 + 3 + 3 * 4 + 3


def test_mean_combination_averages_the_experts() -> None:
    x, y = _data()
    experts = [(3, LogisticRegression()), (4, LogisticRegression())]
    fused = LateFusion(experts, combine="mean").fit(x, y)
    a = LogisticRegression().fit(x[:, :3], y).predict_proba(x[:, :3])
    b = LogisticRegression().fit(x[:, 3:], y).predict_proba(x[:, 3:])
    np.testing.assert_allclose(fused.predict_proba(x), (a + b) / 2, rtol=1e-6)
    with pytest.raises(ValueError, match="combine='max'"):
        LateFusion(experts, combine="max").fit(x, y)


def test_wrong_width_is_refused() -> None:
    x, y = _data()
    model = LateFusion([(3, LogisticRegression()), (3, LogisticRegression())])
    with pytest.raises(ValueError, match=r"expected \(n, 6\) features"):
        model.fit(x, y)


def test_fusion_logreg_is_registered_over_compare_and_pooled() -> None:
    info = model_info("fusion_logreg")
    assert info.family == "classical" and info.input == "compare+pooled"
    model = create_model("fusion_logreg", 2)
    assert [width for width, _ in model.experts] == [DIMS["compare"], POOLED_DIM]


def test_fusion_voice_logreg_is_registered_over_compare_and_the_voice_encoder() -> None:
    info = model_info("fusion_voice_logreg")
    assert info.family == "classical" and info.input == "compare+voice_encoder"
    model = create_model("fusion_voice_logreg", 2, voice_C=0.3)
    assert [width for width, _ in model.experts] == [DIMS["compare"], VOICE_DIM]
    assert [expert[-1].C for _, expert in model.experts] == [0.01, 0.3]
