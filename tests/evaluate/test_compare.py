"""The leaderboard: ordering, Markdown format, cv mean ± std and the compare command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from audioclf.evaluate.compare import (
    RunSummaryError,
    leaderboard,
    load_run_summary,
    sort_runs,
    to_markdown,
)


def _write(folder: Path, metrics: dict[str, Any]) -> Path:
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def _run(folder: Path, ua: float, *, params: int, latency: float, acc: float = 0.5) -> Path:
    return _write(
        folder,
        {
            "model": f"model_{folder.name}",
            "params": params,
            "train_seconds": 30.0,
            "latency_ms": latency,
            "accuracy": acc,
            "balanced_accuracy": ua,
            "macro_f1": ua - 0.05,
            "n": 40,
            "cost": {"clips": 4, "ms_per_audio_second": {"total": 2.0 * latency, "model": 1.0}},
        },
    )


def _cv(folder: Path) -> Path:
    return _write(
        folder,
        {
            "kind": "cv",
            "model": "cnn_small",
            "params": 2_500_000,
            "train_seconds": 600.0,
            "latency_ms": 8.0,
            "folds": [
                {"accuracy": 0.6, "cost": {"ms_per_audio_second": {"total": 3.0}}},
                {"accuracy": 0.7, "cost": {"ms_per_audio_second": {"total": 5.0}}},
            ],
            "mean": {"accuracy": 0.65, "balanced_accuracy": 0.62, "macro_f1": 0.6},
            "std": {"accuracy": 0.05, "balanced_accuracy": 0.031, "macro_f1": 0.04},
            "accuracy": 0.65,
            "balanced_accuracy": 0.62,
            "macro_f1": 0.6,
            "n": 80,
        },
    )


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    return [
        _run(tmp_path / "small", 0.55, params=900, latency=1.0, acc=0.9),
        _run(tmp_path / "big", 0.70, params=1_200_000, latency=9.0, acc=0.6),
        _cv(tmp_path / "cnn-cv"),
    ]


def test_load_run_summary_reads_run_and_cv(runs: list[Path]) -> None:
    small, _, cv = (load_run_summary(r) for r in runs)
    assert (small.name, small.kind, small.params, small.balanced_accuracy) == (
        "small",
        "run",
        900,
        0.55,
    )
    assert small.std == {}
    assert cv.kind == "cv"
    assert cv.balanced_accuracy == pytest.approx(0.62)
    assert cv.std["balanced_accuracy"] == pytest.approx(0.031)
    # cost per second of audio: the run's total, or the mean over the folds
    assert small.ms_per_audio_second == 2.0 and cv.ms_per_audio_second == 4.0


def test_missing_metrics_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "unfinished").mkdir()
    with pytest.raises(RunSummaryError, match="unfinished: no metrics"):
        load_run_summary(tmp_path / "unfinished")


def test_sort_orders_scores_descending_and_costs_ascending(runs: list[Path]) -> None:
    summaries = [load_run_summary(r) for r in runs]
    assert [r.name for r in sort_runs(summaries)] == ["big", "cnn-cv", "small"]
    assert [r.name for r in sort_runs(summaries, "accuracy")] == ["small", "cnn-cv", "big"]
    assert [r.name for r in sort_runs(summaries, "latency_ms")] == ["small", "cnn-cv", "big"]
    cheapest = ["small", "cnn-cv", "big"]
    assert [r.name for r in sort_runs(summaries, "ms_per_audio_second")] == cheapest
    with pytest.raises(ValueError, match="cannot sort by 'speed'"):
        sort_runs(summaries, "speed")


def test_runs_without_a_score_sort_last(tmp_path: Path, runs: list[Path]) -> None:
    empty = _write(tmp_path / "empty", {"model": "logreg", "params": 10})
    summaries = [load_run_summary(r) for r in [empty, *runs]]
    assert sort_runs(summaries)[-1].name == "empty"
    assert sort_runs(summaries, "ms_per_audio_second")[-1].name == "empty"
    assert load_run_summary(empty).ms_per_audio_second is None


def test_markdown_table(runs: list[Path]) -> None:
    text = to_markdown([load_run_summary(r) for r in runs])
    lines = text.strip().splitlines()
    assert lines[0] == (
        "| # | run | model | kind | WA | UA | macro-F1 | params | train time | latency "
        "| ms / s audio |"
    )
    assert lines[1] == "|---:|:---|:---|:---|---:|---:|---:|---:|---:|---:|---:|"
    assert len(lines) == 5
    assert lines[2].startswith("| 1 | big | model_big | run | 60.0 | 70.0 | 65.0 | 1.20 M |")
    assert "| 2 | cnn-cv | cnn_small | cv | 65.0 ± 5.0 | 62.0 ± 3.1 | 60.0 ± 4.0 |" in lines[3]
    assert "10.0 min" in lines[3]
    assert lines[2].endswith("| 9.0 ms | 18.0 |") and lines[3].endswith("| 8.0 ms | 4.0 |")
    assert all(line.count("|") == 12 for line in lines)


def test_leaderboard_table(runs: list[Path]) -> None:
    table = leaderboard([load_run_summary(r) for r in runs], sort_by="params")
    console = Console(width=200, record=True)
    console.print(table)
    text = console.export_text()
    assert text.index("small") < text.index("big")
    assert "62.0 ± 3.1" in text


def test_compare_command_skips_unfinished_folders(tmp_path: Path, runs: list[Path]) -> None:
    import typer

    from audioclf.cli.models import compare_cmd

    app = typer.Typer()
    app.command()(compare_cmd)
    (tmp_path / "unfinished").mkdir()
    args = [*map(str, runs), str(tmp_path / "unfinished"), "--markdown", "--sort", "macro_f1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    flat = "".join(result.output.split())  # Rich wraps long paths at the terminal width
    assert "skipped" in flat and "unfinished" in flat
    assert "| 1 | big |" in result.output
    bad = CliRunner().invoke(app, [str(tmp_path / "unfinished")])
    assert bad.exit_code == 2
    assert "none of the given folders" in bad.output
