"""The counting models' registrations: ``countnet``'s shapes, ``voice_count`` as a classical
model over the voice encoder's cluster statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from audioclf.features.inputs import vector_function
from audioclf.features.voice_count import DIM, voice_count_stats
from audioclf.models.classical import fit_classical, load_classical, save_classical
from audioclf.models.registry import create_model, list_models, model_info


def test_countnet_maps_waveforms_to_logits() -> None:
    model = create_model("countnet", 4, channels=[8, 16], hidden=8).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 16_000)).shape == (2, 4)


def test_voice_count_is_a_classical_model_on_its_own_vector() -> None:
    info = model_info("voice_count")
    assert (info.family, info.input) == ("classical", "voice_count+voice_encoder")
    assert "voice_count" in list_models("classical")
    assert vector_function("voice_count") is voice_count_stats
    assert vector_function(info.input)(np.zeros(8_000, np.float32), 16_000).shape == (DIM + 1024,)


def test_voice_count_fits_and_predicts_counts(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    dim = DIM + 1024
    centres = rng.standard_normal((3, dim)) * 3
    y = np.repeat(np.array(["1", "2", "3"]), 15)
    x = (centres[np.repeat(np.arange(3), 15)] + rng.standard_normal((45, dim))).astype(np.float32)
    model = fit_classical("voice_count", x, y)
    assert list(model.classes_) == ["1", "2", "3"]
    probs = model.predict_proba(x)
    assert probs.shape == (45, 3) and (model.predict(x) == y).mean() > 0.9
    loaded = load_classical(save_classical(model, tmp_path / "m.joblib"))
    np.testing.assert_allclose(loaded.predict_proba(x), probs, atol=1e-6)
