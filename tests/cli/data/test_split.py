"""``audioclf data split`` and ``audioclf data relabel`` round trips through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from audioclf.cli.data import data_app
from audioclf.data.split import LeakageWarning
from audioclf.formats.manifest import Clip, Manifest, read_manifest, write_manifest

runner = CliRunner()
EMOTIONS = ("angry", "calm", "happy", "neutral", "surprised")


def write_corpus(tmp_path: Path, n_speakers: int = 10) -> Path:
    clips = [
        Clip(
            id=f"s{s}_{j}",
            path=f"s{s}_{j}.wav",
            label=EMOTIONS[j % len(EMOTIONS)],
            speaker=f"s{s}",
            gender="female" if s % 2 else "male",
        )
        for s in range(n_speakers)
        for j in range(10)
    ]
    return write_manifest(Manifest(clips), tmp_path / "corpus.jsonl")


def test_split_by_speaker_round_trip(tmp_path: Path) -> None:
    manifest = write_corpus(tmp_path)
    out = tmp_path / "splits"
    result = runner.invoke(
        data_app, ["split", str(manifest), "--by", "speaker", "--seed", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    parts = {name: read_manifest(out / f"{name}.jsonl") for name in ("train", "val", "test")}
    assert sum(len(p) for p in parts.values()) == 100
    assert not set(parts["train"].speakers) & set(parts["test"].speakers)
    assert "no speaker is in two splits" in result.output
    assert "clips" in result.output


def test_split_random_shows_the_leakage_panel(tmp_path: Path) -> None:
    manifest = write_corpus(tmp_path)
    with pytest.warns(LeakageWarning):
        result = runner.invoke(
            data_app, ["split", str(manifest), "--by", "random", "--out", str(tmp_path / "r")]
        )
    assert result.exit_code == 0, result.output
    assert "NOT speaker-independent" in result.output
    assert (tmp_path / "r" / "test.jsonl").is_file()


def test_split_kfold_writes_every_fold(tmp_path: Path) -> None:
    manifest = write_corpus(tmp_path)
    out = tmp_path / "cv"
    result = runner.invoke(
        data_app, ["split", str(manifest), "--kfold", "5", "--val", "0.1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    tested: list[str] = []
    for i in range(1, 6):
        assert {p.name for p in (out / f"fold{i}").iterdir()} >= {
            "train.jsonl",
            "val.jsonl",
            "test.jsonl",
        }
        tested += read_manifest(out / f"fold{i}" / "test.jsonl").speakers
    assert sorted(tested) == [f"s{s}" for s in range(10)]


def test_split_errors_are_one_friendly_line(tmp_path: Path) -> None:
    manifest = write_corpus(tmp_path)
    result = runner.invoke(
        data_app, ["split", str(manifest), "--by", "fold", "--out", str(tmp_path / "f")]
    )
    assert result.exit_code == 2
    assert "--by fold needs" in result.output
    assert "Traceback" not in result.output


def test_relabel_round_trip(tmp_path: Path) -> None:
    manifest = write_corpus(tmp_path)
    label_map = tmp_path / "map.yaml"
    label_map.write_text("angry: anger\n", encoding="utf-8")
    out = tmp_path / "relabelled.jsonl"
    result = runner.invoke(
        data_app,
        [
            "relabel",
            str(manifest),
            "--out",
            str(out),
            "--label-map",
            str(label_map),
            "--shared-emotions",
            "--calm-as-neutral",
            "--map",
            "surprised=",
            "--drop",
            "happy",
        ],
    )
    assert result.exit_code == 0, result.output
    relabelled = read_manifest(out)
    assert relabelled.label_counts() == {"angry": 20, "neutral": 40}
    assert "before" in result.output and "after" in result.output


def test_relabel_typo_is_an_error(tmp_path: Path) -> None:
    manifest = write_corpus(tmp_path)
    result = runner.invoke(
        data_app, ["relabel", str(manifest), "--out", str(tmp_path / "o.jsonl"), "--keep", "hapy"]
    )
    assert result.exit_code == 2
    assert "unknown label" in result.output
    assert not (tmp_path / "o.jsonl").exists()
