"""Tests for the data report: stats.json values, the HTML page, plots and the CLI command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from audioclf.cli.data import data_app
from audioclf.data.quality import measure_clip
from audioclf.data.report import find_warnings, write_report
from audioclf.data.report_plots import (
    plot_class_counts,
    plot_class_speaker_heatmap,
    plot_gender_by_class,
    plot_speaker_counts,
)
from audioclf.formats.manifest import Clip, SkippedFile, write_manifest, write_skipped
from tests.conftest import tone


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """8 readable clips (2 classes, 3 speakers, one clipped, one at 8 kHz), 1 corrupt, 1 skipped."""
    audio = tmp_path / "audio"
    audio.mkdir()
    clips: list[Clip] = []
    plan = [
        ("yes", "s1", "female"),
        ("yes", "s1", "female"),
        ("yes", "s2", "male"),
        ("yes", "s2", "male"),
        ("yes", "s3", "female"),
        ("yes", "s3", "female"),
        ("no", "s2", "male"),
        ("no", "s2", "male"),
    ]
    for i, (label, speaker, gender) in enumerate(plan):
        sr = 8_000 if i == 7 else 16_000
        y = tone(0.5 + 0.1 * i, sr, freq=300 + 50 * i, amp=0.4)
        if i == 0:
            y = np.clip(y * 4, -1.0, 1.0)
        sf.write(audio / f"c{i}.wav", y, sr, subtype="PCM_16")
        clips.append(
            Clip(id=f"c{i}", path=f"audio/c{i}.wav", label=label, speaker=speaker, gender=gender)
        )
    (audio / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00garbage that is not a wave file")
    clips.append(Clip(id="broken", path="audio/broken.wav", label="no", speaker="s3"))
    manifest = tmp_path / "corpus.jsonl"
    write_manifest(clips, manifest)
    write_skipped([SkippedFile("audio/empty.wav", "the file is empty (0 bytes)")], manifest)
    return manifest


def test_report_writes_html_stats_and_plots(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = write_report(corpus, out, progress=False)

    assert result.html == out / "report.html"
    assert (result.clips, result.unreadable) == (8, 2)
    assert set(result.plots) == {
        "class_counts",
        "speaker_counts",
        "gender_by_class",
        "class_speaker",
        "durations",
        "formats",
        "quality",
    }
    for png in result.plots.values():
        assert png.parent == out
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    stats = json.loads(result.stats.read_text(encoding="utf-8"))
    totals = stats["totals"]
    assert (totals["rows"], totals["clips"], totals["classes"], totals["speakers"]) == (9, 8, 2, 3)
    expected_seconds = sum(0.5 + 0.1 * i for i in range(8))
    assert totals["hours"] == pytest.approx(expected_seconds / 3600, abs=1e-4)
    assert stats["classes"]["yes"]["clips"] == 6
    assert stats["classes"]["no"] == {
        "clips": 2,
        "seconds": pytest.approx(1.1 + 1.2, abs=1e-3),
        "median_duration": pytest.approx(1.15, abs=1e-3),
        "speakers": 1,
        "genders": {"male": 2},
    }
    assert stats["genders"] == {"female": 4, "male": 4}
    assert stats["speakers"] == {"s1": 2, "s2": 4, "s3": 2}
    assert stats["sample_rates"] == {"8000": 1, "16000": 7}
    assert stats["channels"] == {"1": 8}
    assert [c["id"] for c in stats["quality"]["clipped_clips"]] == ["c0"]
    assert stats["quality"]["clipping_ratio"]["median"] == 0.0
    unreadable = {Path(row["path"]).name: row for row in stats["unreadable"]}
    assert unreadable["empty.wav"]["stage"] == "prepare"
    assert unreadable["broken.wav"]["stage"] == "report"
    assert unreadable["broken.wav"]["reason"]

    html = result.html.read_text(encoding="utf-8")
    for png in result.plots.values():
        assert f'src="{png.name}"' in html
    assert "<td>yes</td>" in html and "<td>no</td>" in html
    assert "broken.wav" in html and "empty.wav" in html
    assert "the file is empty (0 bytes)" in html
    assert "mixed sample rates" in html
    assert "http" not in html.lower().replace("http-equiv", "")  # nothing loaded from the web


def test_report_escapes_labels_and_says_none_without_unreadable_files(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", tone(0.5), 16_000)
    sf.write(tmp_path / "b.wav", tone(0.5, freq=220), 16_000)
    manifest = write_manifest(
        [Clip("a", "a.wav", "<script>x</script>"), Clip("b", "b.wav", "calm")],
        tmp_path / "m.jsonl",
    )
    result = write_report(manifest, tmp_path / "out", progress=False)
    html = result.html.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<h2>Unreadable files</h2>\n\n<p>none</p>" in html
    assert "speaker_counts" not in result.plots  # no speakers: no per-speaker plots
    assert "class_speaker" not in result.plots


def test_warnings_name_imbalance_single_class_speakers_and_silence() -> None:
    silent = np.zeros(16_000, np.float32)
    loud = tone(1.0)
    qualities = [
        measure_clip(loud, 16_000, clip=Clip(f"a{i}", "x", "big", speaker=f"s{i}"))
        for i in range(10)
    ] + [measure_clip(silent, 16_000, clip=Clip("b", "x", "small", speaker="s0"))]
    warnings = find_warnings(qualities, [])
    text = "\n".join(warnings)
    assert "class 'small' has 10.0× fewer clips than class 'big'" in text
    assert "9 speaker(s) have only one class" in text
    assert "1 clip(s) are more than 80 % silence" in text
    assert "mixed sample rates" not in text
    assert "have no speaker on any clip" not in text


def test_warnings_say_a_speakerless_class_is_split_clip_by_clip() -> None:
    loud = tone(1.0)
    qualities = [
        measure_clip(loud, 16_000, clip=Clip(f"a{i}", "x", "yes", speaker=f"s{i % 3}"))
        for i in range(6)
    ] + [measure_clip(loud, 16_000, clip=Clip(f"n{i}", "x", "_silence_")) for i in range(3)]
    text = "\n".join(find_warnings(qualities, []))
    assert "class(es) _silence_ have no speaker on any clip" in text
    assert "group of its own" in text


def test_cli_report(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli-report"
    result = CliRunner().invoke(
        data_app, ["report", str(corpus), "--out", str(out), "--no-progress", "--top-db", "25"]
    )
    assert result.exit_code == 0, result.output
    assert "8 clips, 2 classes, 3 speakers" in result.output
    assert "report.html" in result.output
    assert json.loads((out / "stats.json").read_text(encoding="utf-8"))["top_db"] == 25.0


def test_cli_report_missing_manifest_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        data_app, ["report", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "no such manifest file" in result.output
    assert "Traceback" not in result.output


def test_report_with_no_readable_clip_lists_the_files_and_draws_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.wav").write_bytes(b"")
    manifest = write_manifest([Clip("a", "a.wav", "x")], tmp_path / "m.jsonl")
    result = write_report(manifest, tmp_path / "out", progress=False)
    assert (result.clips, result.unreadable, result.plots) == (0, 1, {})
    html = result.html.read_text(encoding="utf-8")
    assert "No plots: no clip could be read." in html
    assert "the file is empty (0 bytes)" in html


def test_many_speakers_get_a_histogram_and_no_heat_map(tmp_path: Path) -> None:
    y = tone(0.2)
    qualities = [
        measure_clip(y, 16_000, clip=Clip(f"c{i}", "x", f"word{i % 35}", speaker=f"s{i % 80}"))
        for i in range(160)
    ]
    assert plot_class_speaker_heatmap(qualities, tmp_path / "heat.png") is None
    path = plot_speaker_counts(qualities, tmp_path / "speakers.png")
    assert path is not None and path.stat().st_size > 1000
    assert plot_class_counts(qualities, tmp_path / "classes.png").stat().st_size > 1000
    assert plot_gender_by_class(qualities, tmp_path / "gender.png") is None  # no genders
