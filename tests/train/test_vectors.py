"""Feature-vector splits: one row per readable clip, in manifest order, through the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf.audio import AudioError
from audioclf.features import cached_vectors
from audioclf.features.cache import FeatureCache
from audioclf.features.cached_vectors import clip_vectors
from audioclf.formats.manifest import Clip, Manifest
from audioclf.train.vectors import load_vectors
from tests.conftest import tone

SR = 16_000


def _manifest(tmp_path: Path) -> Manifest:
    clips = []
    for i in range(6):
        path = tmp_path / f"c{i}.wav"
        if i == 3:
            path.write_bytes(b"not audio" * 20)
        else:
            sf.write(path, tone(0.3 + 0.05 * i, SR, 200.0 + 100 * i), SR)
        clips.append(
            Clip(id=f"c{i}", path=str(path), label="low" if i % 2 else "high", speaker=f"s{i}")
        )
    return Manifest(clips)


def test_rows_follow_the_manifest_and_a_bad_file_is_skipped(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    split = load_vectors(manifest, ["high", "low"], SR, "pooled", cache=cache, progress=False)
    assert [c.path for c in split.clips] == [c.path for i, c in enumerate(manifest) if i != 3]
    assert split.targets.tolist() == [0, 1, 0, 0, 1]
    assert [s.path for s in split.skipped] == [manifest[3].path]
    # the same vectors as one clip at a time, in the same order
    one_by_one = [
        cached_vectors.clip_vector(c, cached_vectors.vector_parts("pooled"), SR, cache)
        for c in split.clips
    ]
    np.testing.assert_array_equal(np.stack(split.waves), np.stack(one_by_one))


def test_clip_vectors_raise_the_unreadable_clips_error(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    good = [c for i, c in enumerate(manifest) if i != 3]
    assert clip_vectors(good, "pooled", SR, cache=cache).shape[0] == 5
    with pytest.raises(AudioError, match=r"c3\.wav"):
        clip_vectors(list(manifest), "pooled", SR, cache=cache)
