"""Tests for audioclf.data.quality: measures on signals with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf.data.quality import measure_clip, measure_manifest, silence_ratio
from audioclf.formats.manifest import Clip, Manifest, SkippedFile, write_manifest, write_skipped
from tests.conftest import tone

SR = 16_000


def test_clipped_sine_has_the_analytic_clipping_ratio() -> None:
    t = np.arange(SR) / SR
    y = np.clip(2.0 * np.sin(2 * np.pi * 37.3 * t), -1.0, 1.0).astype(np.float32)
    q = measure_clip(y, SR)
    # |2 sin| >= 0.999 on a fraction 1 - (2/pi) asin(0.4995) of a period.
    expected = 1 - 2 / np.pi * np.arcsin(0.999 / 2)
    assert q.clipping_ratio == pytest.approx(expected, abs=0.002)
    assert q.peak == pytest.approx(1.0)


def test_full_scale_square_wave_is_all_clipped_and_quiet_tone_is_not() -> None:
    square = np.sign(np.sin(2 * np.pi * 50 * np.arange(SR) / SR + 0.1)).astype(np.float32)
    assert measure_clip(square, SR).clipping_ratio == pytest.approx(1.0)
    assert measure_clip(tone(1.0, SR, amp=0.5), SR).clipping_ratio == 0.0


def test_half_silence_half_tone() -> None:
    y = np.concatenate([np.zeros(SR, np.float32), tone(1.0, SR, amp=0.5)])
    clip = Clip(id="a", path="a.wav", label="yes", speaker="s1", gender="female")
    q = measure_clip(y, SR, clip=clip, channels=2)
    assert q.silence_ratio == pytest.approx(0.5)
    assert q.duration == pytest.approx(2.0)
    assert q.trimmed_duration == pytest.approx(1.0, abs=0.05)
    # RMS of a 0.5 sine over half the clip: 0.5/sqrt(2)/sqrt(2) = 0.25 → −12.04 dBFS.
    assert q.rms_dbfs == pytest.approx(20 * np.log10(0.25), abs=0.05)
    assert (q.id, q.label, q.speaker, q.gender, q.channels) == ("a", "yes", "s1", "female", 2)


def test_silence_is_relative_to_the_loudest_frame() -> None:
    rng = np.random.default_rng(0)
    hiss = rng.standard_normal(SR)
    hiss *= 10 ** (-35 / 20) / np.sqrt(np.mean(hiss**2))  # −35 dBFS
    loud = tone(1.0, SR, amp=0.9).astype(np.float64)  # about −4 dBFS: hiss is 31 dB under it
    assert silence_ratio(hiss, SR) == 0.0
    assert silence_ratio(np.concatenate([hiss, loud]), SR) == pytest.approx(0.5)
    # A quietly recorded clip (−50 dBFS throughout) is quiet, not silent.
    quiet = tone(1.0, SR, amp=0.0045).astype(np.float64)
    assert silence_ratio(quiet, SR) == 0.0
    assert silence_ratio(np.concatenate([quiet, np.zeros(SR // 2)]), SR) == pytest.approx(1 / 3)


def test_dc_offset_and_digital_silence() -> None:
    y = tone(1.0, SR, amp=0.2) + np.float32(0.1)
    assert measure_clip(y, SR).dc_offset == pytest.approx(0.1, abs=1e-4)
    q = measure_clip(np.zeros(SR, np.float32), SR)
    assert (q.silence_ratio, q.trimmed_duration, q.peak, q.rms_dbfs) == (1.0, 0.0, 0.0, -120.0)


def test_measure_manifest_reports_corrupt_files_and_the_prepare_sidecar(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", tone(0.5, 8_000), 8_000)
    stereo = np.stack([tone(0.25, 22_050), tone(0.25, 22_050)], axis=1)
    sf.write(tmp_path / "b.flac", stereo, 22_050)
    (tmp_path / "bad.wav").write_bytes(b"this is not audio at all, just text bytes")
    manifest_path = tmp_path / "m.jsonl"
    write_manifest(
        [
            Clip(id="a", path="a.wav", label="x"),
            Clip(id="b", path="b.flac", label="y"),
            Clip(id="bad", path="bad.wav", label="y"),
        ],
        manifest_path,
    )
    write_skipped([SkippedFile("gone.wav", "the file is empty (0 bytes)")], manifest_path)

    qualities, skipped = measure_manifest(manifest_path, progress=False)

    assert [(q.id, q.sample_rate, q.channels) for q in qualities] == [
        ("a", 8_000, 1),
        ("b", 22_050, 2),
    ]
    assert qualities[1].duration == pytest.approx(0.25, abs=1e-3)
    assert skipped[0] == SkippedFile("gone.wav", "the file is empty (0 bytes)")
    assert skipped[1].path.endswith("bad.wav")
    assert "not a recognised audio format" in skipped[1].reason
    # A Manifest object has no sidecar: only the read failure is reported.
    _, skipped_only = measure_manifest(Manifest([Clip("c", str(tmp_path / "c.wav"), "x")]))
    assert skipped_only == [SkippedFile(str(tmp_path / "c.wav"), "unreadable audio (no such file)")]
