"""``audioclf models``, ``audioclf compare RUN…`` and ``audioclf ensemble RUN RUN…``:
the registered models as a table, a leaderboard of run folders (optionally as
Markdown), and finished runs combined into one servable run."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from audioclf.cli.common import friendly_errors
from audioclf.console import console, out
from audioclf.evaluate.compare import (
    SORT_KEYS,
    RunSummary,
    RunSummaryError,
    leaderboard,
    load_run_summary,
    to_markdown,
)

_NOT_BUILT = {"pretrained"}
"""Families not instantiated to count parameters (building them may load large weights)."""


def parameter_text(name: str, n_classes: int = 8, sample_rate: int = 16_000) -> str:
    """Trainable parameters of ``name`` built for ``n_classes`` at ``sample_rate``, as
    ``"1.23 M"`` / ``"45.6 k"``, or ``"—"`` when it is not a torch model or is not built."""
    # deferred: the model zoo loads torch and scikit-learn; `audioclf --help` must not
    from audioclf.models import count_parameters, create_model, model_info

    if model_info(name).family in _NOT_BUILT:
        return "—"
    try:
        n = count_parameters(create_model(name, n_classes, sample_rate=sample_rate))
    except (ValueError, RuntimeError, OSError):
        return "—"
    if n == 0:
        return "—"
    return f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.1f} k"


def models_table(family: str | None = None) -> Table:
    """A Rich table of the registered models (of ``family`` when given)."""
    # deferred: the model zoo loads torch and scikit-learn; `audioclf --help` must not
    from audioclf.models import list_models, model_info

    names = list_models(family)
    if not names:
        families = sorted({model_info(n).family for n in list_models()})
        raise ValueError(f"no models in family {family!r}; families: {', '.join(families)}")
    # deferred: the auto candidates load torch and scikit-learn; `audioclf --help` must not
    from audioclf.train.auto.candidates import CANDIDATES

    caption = (
        f"auto (the default): train {', '.join(CANDIDATES)} on one split and serve the "
        "best neural and the best classical one (held-out voices) together"
        if family is None
        else None
    )
    table = Table(title="audioclf models", header_style="bold", caption=caption)
    table.add_column("name", style="cyan", no_wrap=True)
    table.add_column("family")
    table.add_column("input")
    table.add_column("params (8 cls, 16 kHz)", justify="right")
    table.add_column("description")
    for name in names:
        info = model_info(name)
        table.add_row(name, info.family, info.input, parameter_text(name), info.description)
    return table


@friendly_errors
def models_cmd(
    family: str | None = typer.Option(
        None, "--family", "-f", help="Only this family (waveform, spectrogram, default, ...)."
    ),
) -> None:
    """List the models `audioclf train --model NAME` can train."""
    out.print(models_table(family))


@friendly_errors
def compare_cmd(
    runs: list[Path] = typer.Argument(..., help="Run folders (runs/NAME, runs/NAME-cv, …)."),
    markdown: bool = typer.Option(
        False, "--markdown", help="Also print a GitHub Markdown table (to stdout)."
    ),
    sort: str = typer.Option(
        "balanced_accuracy", "--sort", help=f"Sort by one of: {', '.join(SORT_KEYS)}."
    ),
) -> None:
    """Compare finished runs side by side, best first (cross-validation as mean ± std)."""
    if sort not in SORT_KEYS:
        raise ValueError(f"cannot sort by {sort!r}; choose one of {', '.join(SORT_KEYS)}")
    summaries: list[RunSummary] = []
    for run in runs:
        try:
            summaries.append(load_run_summary(run))
        except RunSummaryError as exc:
            console.print(f"[yellow]skipped[/] {exc}", highlight=False)
    if not summaries:
        raise ValueError(
            "none of the given folders has a metrics.json; pass finished run folders (e.g. runs/*)"
        )
    out.print(leaderboard(summaries, sort_by=sort))
    if markdown:
        out.print(to_markdown(summaries, sort_by=sort), markup=False, highlight=False, end="")


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
    # deferred: ensembles load scikit-learn and matplotlib; `audioclf --help` must not
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
