"""The synthetic spoken-digit corpus: eSpeak NG voices, manifest, determinism, reuse."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from audioclf.cli import app
from audioclf.data.espeak import EspeakError, LibraryEngine, Prosody, load_engine
from audioclf.data.synth import ACCENTS, VARIANTS, SynthConfig, pick_voices, synth_digits
from audioclf.formats.manifest import read_manifest

SMALL = SynthConfig(n_voices=3, per_digit=1, seed=7)


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_espeak_library_from_pypi_is_loaded() -> None:
    engine = load_engine()
    assert isinstance(engine, LibraryEngine), (
        "eSpeak NG's library (PyPI package espeakng-loader, a dependency of audioclf) did not "
        f"load; got {engine.name}. Reinstall: pip install espeakng-loader"
    )
    assert engine.sample_rate > 0
    assert engine.variant_gender("f3") == "female" and engine.variant_gender("m3") == "male"


def test_engine_speaks_with_prosody() -> None:
    engine = load_engine()
    a = engine.speak("seven", "en-us+whisper", Prosody(), seed=1)
    b = engine.speak("seven", "en-us+whisper", Prosody(), seed=1)
    assert a.dtype == np.float32 and 0.2 < len(a) / engine.sample_rate < 2.0
    # the same words; bytes may differ within one process (eSpeak's flutter phase carries
    # over), which is why the corpus is spoken in fresh worker processes
    assert abs(len(a) - len(b)) < 0.2 * len(a)
    assert 0.01 < float(np.abs(a).max()) <= 1.0
    slow = engine.speak("seven", "en-us+m1", Prosody(rate=90), seed=1)
    fast = engine.speak("seven", "en-us+m1", Prosody(rate=300), seed=1)
    assert len(slow) > 1.5 * len(fast)


def test_unknown_voice_is_a_clear_error() -> None:
    with pytest.raises(EspeakError, match="no voice 'xx-nowhere'"):
        load_engine().speak("one", "xx-nowhere", Prosody(), seed=0)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first = synth_digits(tmp_path / "a", SMALL, progress=False)
    second = synth_digits(tmp_path / "b", SMALL, progress=False)
    assert not first.reused and not second.reused
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    other = SynthConfig(n_voices=3, per_digit=1, seed=8)
    synth_digits(tmp_path / "c", other, progress=False)
    assert _digests(tmp_path / "c") != _digests(tmp_path / "a")


def test_manifest_fields_and_clips(tmp_path: Path) -> None:
    result = synth_digits(tmp_path / "digits", SMALL, progress=False)
    manifest = read_manifest(result.manifest_path)
    assert len(manifest) == 3 * 10 * 1
    assert manifest.labels == [str(d) for d in range(10)]
    assert len(manifest.speakers) == 3
    for clip in manifest:
        assert clip.corpus == "synth-digits" and clip.channels == 1
        assert clip.sample_rate == 16_000
        accent, variant = clip.speaker.split("+")  # type: ignore[union-attr]
        assert accent in ACCENTS and variant in VARIANTS
        assert clip.meta["accent"] == accent and clip.meta["variant"] == variant
        assert clip.meta["text"] in (
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
        )
        assert clip.gender in ("female", "male", None)
        for key in ("espeak_rate", "espeak_pitch", "espeak_range", "espeak_volume"):
            assert isinstance(clip.meta[key], int)
        audio, sr = sf.read(clip.path, dtype="float32")
        assert sr == 16_000 and audio.ndim == 1
        assert len(audio) / sr == pytest.approx(clip.duration, abs=1e-3)
        assert clip.duration >= 1.0  # type: ignore[operator]
        assert 0.05 < float(np.abs(audio).max()) < 1.0
        # speech stands out from the light noise: loudest 50 ms vs quietest 50 ms
        frames = audio[: len(audio) // 800 * 800].reshape(-1, 800)
        energy = np.sqrt((frames**2).mean(axis=1))
        assert energy.max() > 5 * max(energy.min(), 1e-6)


def test_voices_are_distinct_and_varied() -> None:
    engine = load_engine()
    voices = pick_voices(len(VARIANTS) + 10, 0, engine)
    ids = [v.id for v in voices]
    assert len(set(ids)) == len(ids)
    assert len({v.variant for v in voices[: len(VARIANTS)]}) == len(VARIANTS)
    assert len({v.accent for v in voices}) == len(ACCENTS)
    assert {v.gender for v in voices} >= {"female", "male"}
    assert len({(v.prosody.rate, v.prosody.pitch) for v in voices}) > len(voices) // 2
    assert [v.id for v in pick_voices(5, 0, engine)] == ids[:5]


def test_rerun_reuses_and_other_settings_refuse(tmp_path: Path) -> None:
    out = tmp_path / "digits"
    synth_digits(out, SMALL, progress=False)
    saved = json.loads((out / "synth.json").read_text())
    assert saved["seed"] == 7 and saved["n_voices"] == 3
    again = synth_digits(out, SMALL, progress=False)
    assert again.reused and len(again.manifest) == 30
    # an interrupted run (manifest missing) completes with the same bytes
    before = _digests(out)
    (out / "manifest.jsonl").unlink()
    next(iter((out / "clips").iterdir())).joinpath("3_0.wav").unlink()
    resumed = synth_digits(out, SMALL, progress=False)
    assert not resumed.reused and _digests(out) == before
    with pytest.raises(FileExistsError, match="other settings"):
        synth_digits(out, SynthConfig(n_voices=4, per_digit=1, seed=7), progress=False)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        synth_digits(tmp_path / "busy", SMALL, progress=False)


@pytest.mark.parametrize(
    ("config", "option"),
    [
        (SynthConfig(n_voices=1), "--n-voices"),
        (SynthConfig(per_digit=0), "--per-digit"),
        (SynthConfig(sample_rate=4000), "--sample-rate"),
        (SynthConfig(clip_seconds=9.0), "--clip-seconds"),
    ],
)
def test_bad_settings_name_the_option(tmp_path: Path, config: SynthConfig, option: str) -> None:
    with pytest.raises(ValueError, match=option):
        synth_digits(tmp_path / "x", config, progress=False)


def test_cli_synth_digits(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["data", "synth", "digits", "--out", str(tmp_path / "d"), "--n-voices", "2"]
    result = runner.invoke(app, [*args, "--per-digit", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "20 clips" in result.output
    assert len(read_manifest(tmp_path / "d" / "manifest.jsonl")) == 20
    bad = runner.invoke(app, [*args[:-1], "0", "--no-progress"])
    assert bad.exit_code == 2 and "--n-voices" in bad.output
