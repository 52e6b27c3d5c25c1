"""``audioclf export RUN --target web --out DIR``: a run as one ONNX graph for the browser."""

from __future__ import annotations

from pathlib import Path

import typer

from audioclf.cli.common import friendly_errors
from audioclf.console import out

TARGETS = ("web",)


@friendly_errors
def export_cmd(
    run: Path = typer.Argument(..., help="A finished run folder."),
    target: str = typer.Option(
        "web", "--target", help="web: raw 16-kHz audio in, probabilities out (ONNX Runtime Web)."
    ),
    out_dir: Path = typer.Option(
        ..., "--out", "-o", help="Folder for model.onnx and card.json (created)."
    ),
    quantize: bool = typer.Option(
        False,
        "--quantize",
        help="Try int8 weights; kept only if held-out accuracy drops by at most 0.005.",
    ),
    max_mb: float = typer.Option(
        5.0, "--max-mb", min=0.1, help="Largest graph (and member weights) a page may download."
    ),
) -> None:
    """Export a run for on-device inference in the browser app."""
    if target not in TARGETS:
        raise ValueError(f"--target must be one of {', '.join(TARGETS)}, not {target!r}")
    # deferred: the export loads torch and ONNX Runtime's quantiser; `audioclf --help` must not
    from audioclf.export.web import export_web

    card = export_web(run, out_dir, quantize=quantize, max_mb=max_mb).card
    accuracy = card["accuracy"]
    scored = (
        f"held-out accuracy {accuracy:.3f} on {card['test_clips']} test clips"
        if accuracy is not None
        else "not scored (the run's test clips are not readable here)"
    )
    out.print(
        f"web export of {run} in {out_dir}: {card['bytes'] / 1e6:.2f} MB, {scored}", highlight=False
    )
    if card["candidate"]:
        out.print(
            f"  the served {card['served_model']} runs only on the server: this is the "
            f"candidate {card['candidate']}",
            highlight=False,
        )
    for member in card["left_out"]:
        out.print(
            f"  left out {member['member']} ({member['model']}): {member['reason']}",
            highlight=False,
        )
    quantization = card["quantization"]
    if quantization is not None:
        kept = "kept" if quantization["kept"] else f"not kept: {quantization.get('why')}"
        out.print(
            f"  int8: {kept} (held-out accuracy float32 {_fmt(quantization['float32_accuracy'])}"
            f", int8 {_fmt(quantization['int8_accuracy'])})",
            highlight=False,
        )


def _fmt(value: float | None) -> str:
    return "unmeasured" if value is None else f"{value:.3f}"
