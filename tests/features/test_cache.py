"""FeatureCache: decode once per content, recover from corrupt files, never cache errors as data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf import audio
from audioclf.audio import AudioError, EmptyAudioError, NotAudioError
from audioclf.features.cache import FeatureCache, map_readable
from audioclf.formats.manifest import Clip
from tests.conftest import tone

SR = 16_000


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of every audio.load call made through the cache."""
    calls: list[str] = []
    real = audio.load

    def counting(source: object, sample_rate: int | None = 16_000, **kw: object) -> np.ndarray:
        calls.append(str(kw.get("name")))
        return real(source, sample_rate, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(audio, "load", counting)
    return calls


def _wav(path: Path, y: np.ndarray, sr: int = SR) -> Path:
    sf.write(path, y, sr)
    return path


def test_default_root_follows_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIOCLF_CACHE", str(tmp_path / "here"))
    assert FeatureCache().root == tmp_path / "here"


def test_second_call_and_second_run_do_not_decode(tmp_path: Path, decodes: list[str]) -> None:
    path = _wav(tmp_path / "a.wav", tone(0.3, sr=8_000), sr=8_000)
    first = FeatureCache(tmp_path / "cache").load(path, SR)
    again = FeatureCache(tmp_path / "cache").load(Clip("a", str(path), "x"), SR)
    assert len(decodes) == 1
    assert first.dtype == np.float32 and len(first) == round(0.3 * SR)
    np.testing.assert_array_equal(first, again)
    # another sample rate is another entry
    assert len(FeatureCache(tmp_path / "cache").load(path, 8_000)) == round(0.3 * 8_000)
    assert len(decodes) == 2


def test_same_content_elsewhere_is_a_hit(tmp_path: Path, decodes: list[str]) -> None:
    cache = FeatureCache(tmp_path / "cache")
    a = _wav(tmp_path / "a.wav", tone(0.2))
    b = tmp_path / "moved" / "b.wav"
    b.parent.mkdir()
    b.write_bytes(a.read_bytes())
    cache.load(a, SR)
    cache.load(b, SR)
    assert len(decodes) == 1


def test_changed_file_is_decoded_again(tmp_path: Path, decodes: list[str]) -> None:
    cache = FeatureCache(tmp_path / "cache")
    path = _wav(tmp_path / "a.wav", tone(0.2, freq=440))
    old = cache.load(path, SR)
    stat = path.stat()
    _wav(path, tone(0.2, freq=880))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    new = cache.load(path, SR)
    assert len(decodes) == 2
    assert not np.allclose(old, new)
    np.testing.assert_allclose(new, tone(0.2, freq=880), atol=1e-4)


def test_corrupt_cache_file_is_recomputed(tmp_path: Path, decodes: list[str]) -> None:
    cache = FeatureCache(tmp_path / "cache")
    path = _wav(tmp_path / "a.wav", tone(0.2))
    good = cache.load(path, SR)
    stored = list((tmp_path / "cache").glob("??/*.npy"))
    assert len(stored) == 1
    stored[0].write_bytes(b"\x93NUMPY garbage")
    np.testing.assert_array_equal(cache.load(path, SR), good)
    assert len(decodes) == 2
    np.testing.assert_array_equal(cache.load(path, SR), good)
    assert len(decodes) == 2


def test_load_many_returns_errors_in_place(tmp_path: Path, decodes: list[str]) -> None:
    good = [_wav(tmp_path / f"g{i}.wav", tone(0.1 * (i + 1))) for i in range(3)]
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 10)
    items = [good[0], empty, good[1], junk, good[2], tmp_path / "missing.wav"]
    cache = FeatureCache(tmp_path / "cache")

    results = cache.load_many(items, SR, progress=False)
    assert [type(r).__name__ for r in results] == [
        "ndarray", "EmptyAudioError", "ndarray", "NotAudioError", "ndarray", "AudioError",
    ]  # fmt: skip
    for i, r in zip((0, 2, 4), results[::2], strict=True):
        assert isinstance(r, np.ndarray) and len(r) == round(0.1 * (i // 2 + 1) * SR)
    assert str(junk) in str(results[3])
    calls = len(decodes)

    # second run: good clips from disk, bad clips from their negative records
    again = FeatureCache(tmp_path / "cache").load_many(items, SR, progress=False)
    assert len(decodes) == calls
    assert isinstance(again[1], EmptyAudioError) and isinstance(again[3], NotAudioError)
    assert str(junk) in str(again[3])


def test_load_raises_audio_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF0000WAVEnope")
    with pytest.raises(AudioError, match=r"junk\.wav"):
        FeatureCache(tmp_path / "cache").load(junk, SR)


def test_features_are_cached_per_name_and_params(tmp_path: Path, decodes: list[str]) -> None:
    cache = FeatureCache(tmp_path / "cache")
    path = _wav(tmp_path / "a.wav", tone(0.2, amp=0.5))
    computed: list[dict[str, float]] = []

    def make(scale: float) -> object:
        def fn(y: np.ndarray, sr: int) -> np.ndarray:
            computed.append({"scale": scale})
            return np.array([scale * float(np.sqrt(np.mean(y**2))), sr], dtype=np.float32)

        return fn

    v1 = cache.features(path, "rms", {"scale": 1.0}, make(1.0), SR)  # type: ignore[arg-type]
    v1b = cache.features(path, "rms", {"scale": 1.0}, make(1.0), SR)  # type: ignore[arg-type]
    v2 = cache.features(path, "rms", {"scale": 2.0}, make(2.0), SR)  # type: ignore[arg-type]
    cache.features(path, "other", {"scale": 1.0}, make(1.0), SR)  # type: ignore[arg-type]
    assert len(computed) == 3
    np.testing.assert_array_equal(v1, v1b)
    assert v1[0] == pytest.approx(0.5 / np.sqrt(2), rel=1e-3) and v2[0] == pytest.approx(2 * v1[0])
    assert len(decodes) == 1  # the waveform itself is cached too


def test_clear_and_size(tmp_path: Path, decodes: list[str]) -> None:
    cache = FeatureCache(tmp_path / "cache")
    assert cache.size_bytes() == 0
    path = _wav(tmp_path / "a.wav", tone(0.5))
    cache.load(path, SR)
    assert cache.size_bytes() >= 4 * round(0.5 * SR)
    cache.clear()
    assert cache.size_bytes() == 0
    cache.load(path, SR)
    assert len(decodes) == 2


def test_map_readable_keeps_order_and_returns_audio_errors_in_place() -> None:
    def one(i: int) -> int:
        if i == 2:
            raise EmptyAudioError(f"clip {i} is empty")
        return i * 10

    results = map_readable(one, list(range(6)), description="x", progress=False)
    assert results[:2] == [0, 10] and results[3:] == [30, 40, 50]
    assert isinstance(results[2], EmptyAudioError) and "clip 2" in str(results[2])


def test_map_readable_lets_other_errors_through() -> None:
    def one(i: int) -> int:
        raise RuntimeError("a bug, not a bad file")

    with pytest.raises(RuntimeError, match="a bug"):
        map_readable(one, [1, 2], description="x", progress=False)
