"""Speaker-count mixtures on generated voices: pools, labels, levels, determinism, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf.data.mix import MixConfig, MixError, count_label, make_mixtures, parse_range
from audioclf.formats.manifest import Clip, Manifest, read_manifest, write_manifest

SR = 16_000


def _voices(root: Path, speakers: int = 16, per_speaker: int = 2) -> Path:
    """Each "speaker" a harmonic tone of its own pitch in bursts, with silence around them."""
    rng = np.random.default_rng(0)
    clips = []
    for s in range(speakers):
        f0 = 110.0 + 17.0 * s
        for u in range(per_speaker):
            t = np.arange(int(2.0 * SR)) / SR
            voice = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 5))
            envelope = ((t > 0.3) & (t < 1.7)).astype(float)
            y = 0.2 * voice * envelope + 0.001 * rng.standard_normal(len(t))
            path = root / f"spk{s}" / f"{u}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, y.astype(np.float32), SR)
            clips.append(
                Clip(
                    id=f"v/spk{s}/{u}",
                    path=str(path),
                    label="speech",
                    speaker=f"spk{s}",
                    gender="female" if s % 2 else "male",
                    duration=2.0,
                    sample_rate=SR,
                    channels=1,
                )
            )
    return write_manifest(Manifest(clips), root / "voices.jsonl")


def _noise_dir(root: Path) -> Path:
    folder = root / "noise"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    sf.write(folder / "hum.wav", (0.05 * rng.standard_normal(SR)).astype(np.float32), SR)
    return folder


def _config(**changes: object) -> MixConfig:
    base: dict[str, object] = {
        "speakers": (1, 3),
        "n": 60,
        "split_speakers": (0.5, 0.25, 0.25),
        "vad": "energy",
    }
    return MixConfig(**(base | changes))  # type: ignore[arg-type]


def test_pools_are_disjoint_and_labels_match_the_mixed_speakers(tmp_path: Path) -> None:
    source = _voices(tmp_path / "src")
    result = make_mixtures(source, tmp_path / "mix", _config(), progress=False)
    pools = {name: set(speakers) for name, speakers in result.pools.items()}
    assert not pools["train"] & pools["val"]
    assert not pools["train"] & pools["test"]
    assert not pools["val"] & pools["test"]
    assert all(len(p) >= 3 for p in pools.values())
    everything = read_manifest(result.manifests["all"])
    assert len(everything) == 60
    for name in ("train", "val", "test"):
        part = read_manifest(result.manifests[name])
        counts = part.label_counts()
        assert max(counts.values()) - min(counts.values()) <= 1  # balanced
        for clip in part:
            k = int(clip.label)
            assert clip.meta["pool"] == clip.meta["split"] == name
            assert len(clip.meta["speakers"]) == len(set(clip.meta["speakers"])) == k
            assert set(clip.meta["speakers"]) <= pools[name]
            assert clip.meta["n_female"] + clip.meta["n_male"] == k
            assert clip.meta["n_female"] == clip.meta["genders"].count("female")
            y, sr = sf.read(clip.path)
            assert sr == SR and len(y) == SR
            assert np.max(np.abs(y)) < 1.0 and np.sqrt(np.mean(y**2)) > 0.01


def test_same_seed_same_clips_other_seed_other_clips(tmp_path: Path) -> None:
    source = _voices(tmp_path / "src")
    a = make_mixtures(source, tmp_path / "a", _config(), progress=False)
    b = make_mixtures(source, tmp_path / "b", _config(), progress=False)
    c = make_mixtures(source, tmp_path / "c", _config(seed=1), progress=False)
    rows_a = (tmp_path / "a" / "all.jsonl").read_text()
    assert rows_a == (tmp_path / "b" / "all.jsonl").read_text()
    assert rows_a != (tmp_path / "c" / "all.jsonl").read_text()
    first = read_manifest(a.manifests["test"])[0].path
    twin = read_manifest(b.manifests["test"])[0].path
    assert np.array_equal(sf.read(first)[0], sf.read(twin)[0])
    assert c.pools != a.pools or rows_a != (tmp_path / "c" / "all.jsonl").read_text()


def test_levels_stay_within_the_range(tmp_path: Path) -> None:
    source = _voices(tmp_path / "src")
    config = _config(mode="levels", level_db=(-12.0, -3.0), speakers=(2, 3))
    result = make_mixtures(source, tmp_path / "mix", config, progress=False)
    levels = [v for c in read_manifest(result.manifests["all"]) for v in c.meta["levels_db"]]
    assert len(levels) > 60
    assert min(levels) >= -12.0 and max(levels) <= -3.0
    assert max(levels) - min(levels) > 4  # really drawn, not a constant


def test_zero_speakers_is_background_only_with_snr_for_speech(tmp_path: Path) -> None:
    source = _voices(tmp_path / "src")
    config = _config(speakers=(0, 2), noise_dir=str(_noise_dir(tmp_path)), snr_db=(5.0, 15.0))
    result = make_mixtures(source, tmp_path / "mix", config, progress=False)
    clips = list(read_manifest(result.manifests["all"]))
    empty = [c for c in clips if c.label == "0"]
    assert len(empty) == 20
    assert all(c.meta["speakers"] == [] and c.meta["snr_db"] is None for c in empty)
    assert all(5.0 <= c.meta["snr_db"] <= 15.0 for c in clips if c.label != "0")


def test_resume_keeps_clips_and_other_settings_are_refused(tmp_path: Path) -> None:
    source = _voices(tmp_path / "src")
    make_mixtures(source, tmp_path / "mix", _config(), progress=False)
    clip = tmp_path / "mix" / "clips" / "train" / "train-000000.wav"
    stamp = clip.stat().st_mtime_ns
    make_mixtures(source, tmp_path / "mix", _config(), progress=False)
    assert clip.stat().st_mtime_ns == stamp
    with pytest.raises(MixError, match="other settings"):
        make_mixtures(source, tmp_path / "mix", _config(n=61), progress=False)
    settings = json.loads((tmp_path / "mix" / "mix.json").read_text())
    assert settings["n"] == 60


def test_word_labels() -> None:
    assert [count_label(k, "words") for k in (0, 1, 2)] == ["0 speakers", "1 speaker", "2 speakers"]
    assert count_label(3) == "3"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"speakers": (3, 1)}, "--speakers 3-1"),
        ({"speakers": (0, 2)}, "--noise-dir"),
        ({"split_speakers": (0.8, 0.2, 0.0)}, "--split-speakers"),
        ({"n": 0}, "--n must be"),
        ({"seconds": 0.0}, "--seconds"),
        ({"speakers": (1, 9)}, "lower --speakers"),
    ],
)
def test_bad_settings_say_what_to_change(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    source = _voices(tmp_path / "src", speakers=8, per_speaker=1)
    with pytest.raises(MixError, match=message):
        make_mixtures(source, tmp_path / "mix", _config(**changes), progress=False)


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(MixError, match="MIN-MAX"):
        parse_range("one-three")
    assert parse_range("0-5") == (0, 5) and parse_range("2") == (2, 2)
    source = _voices(tmp_path / "src", speakers=8, per_speaker=1)
    with pytest.raises(MixError, match="no such folder"):
        make_mixtures(
            source, tmp_path / "m", _config(speakers=(0, 1), noise_dir="nope"), progress=False
        )


def test_cli_writes_manifests_and_reports_bad_options(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    source = _voices(tmp_path / "src")
    runner = CliRunner()
    args = ["data", "mix", str(source), "--n", "12", "--vad", "energy", "--no-progress"]
    ok = runner.invoke(
        app, [*args, "--split-speakers", "0.5,0.25,0.25", "--out", str(tmp_path / "m")]
    )
    assert ok.exit_code == 0, ok.output
    assert len(read_manifest(tmp_path / "m" / "all.jsonl")) == 12
    bad = runner.invoke(app, [*args, "--mode", "loud", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2
    assert "--mode must be average or levels" in bad.output
