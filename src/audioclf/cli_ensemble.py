"""``audioclf ensemble RUN RUN… --out DIR``: finished runs combined into one servable run."""

from __future__ import annotations

from pathlib import Path

import typer

from audioclf.cli_common import friendly_errors
from audioclf.console import out


@friendly_errors
def ensemble_cmd(
    runs: list[Path] = typer.Argument(..., help="Two or more finished run folders."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Run folder for the ensemble."),
    combine: str = typer.Option(
        "product", "--combine", help="product (geometric mean) | mean (soft voting)."
    ),
    weights: str | None = typer.Option(
        None,
        "--weights",
        help="One weight per run, comma-separated (e.g. 1,3); equal when not given.",
    ),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Serve several runs as one model: their class probabilities combined."""
    from audioclf.inference.combine import COMBINES
    from audioclf.train.ensemble import build_ensemble

    if combine not in COMBINES:
        raise ValueError(f"--combine must be one of {', '.join(COMBINES)}, not {combine!r}")
    shares = _parse_weights(weights)
    metrics = build_ensemble(runs, out_dir, combine=combine, weights=shares, progress=progress)
    scored = metrics.get("accuracy")
    how = combine if shares is None else f"{combine}, weights {weights}"
    line = f"ensemble of {len(runs)} runs ({how}) in {out_dir}"
    if isinstance(scored, float):
        line += (
            f": accuracy {scored:.3f} UA {metrics['balanced_accuracy']:.3f} on the members' "
            f"common test split ({metrics.get('n_test')} clips)"
        )
    else:
        line += " (the members share no test split: score it with `audioclf evaluate`)"
    out.print(line, highlight=False)


def _parse_weights(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--weights takes numbers separated by commas, not {text!r}") from None
