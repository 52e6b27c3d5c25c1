"""The benchmark table renderer: every figure next to the command that produced it."""

from __future__ import annotations

from benchmarks.results import render


def _row(model: str, wa: float, command: str, **extra: object) -> dict[str, object]:
    return {
        "protocol": "Emo-DB",
        "model": model,
        "WA": wa,
        **extra,
        "command": command,
        "date": "2026-11-28",
    }


def test_one_line_per_command_naming_every_row_it_produced() -> None:
    data = {
        "Protocols": {
            "a": _row("svm", 0.6, "python -m benchmarks.protocols emodb"),
            "b": _row("auto", 0.857, "python -m benchmarks.protocols emodb ravdess"),
            "c": _row("cnn", 0.7, "python -m benchmarks.protocols emodb"),
        }
    }
    text = render(data)
    lines = [line for line in text.splitlines() if line.startswith("- `")]
    assert lines == [
        "- `python -m benchmarks.protocols emodb` (2026-11-28): Emo-DB / svm; Emo-DB / cnn",
        "- `python -m benchmarks.protocols emodb ravdess` (2026-11-28): Emo-DB / auto",
    ]
    assert "| Emo-DB | auto | 0.857 |" in text


def test_a_column_added_later_sits_where_the_newest_row_puts_it() -> None:
    data = {
        "Protocols": {
            "old": _row("svm", 0.6, "cmd1", latency=3.0),
            "new": {
                **_row("auto", 0.857, "cmd2"),
                "wall s/fold": "173 (max 190)",
                "latency": 180.0,
            },
        }
    }
    header = next(line for line in render(data).splitlines() if line.startswith("| protocol"))
    assert header == "| protocol | model | WA | wall s/fold | latency |"
    assert "| Emo-DB | svm | 0.600 |  | 3.000 |" in render(data)
