"""``audioclf registry add|list|promote|rollback|retrain|schedules``; ``retrain`` is also
``audioclf retrain``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from audioclf.cli.common import friendly_errors
from audioclf.console import console, out

if TYPE_CHECKING:
    from audioclf.registry import Registry

registry_app = typer.Typer(
    help="Versioned models: register run folders, promote one to production, roll back.",
    no_args_is_help=True,
)

DB_HELP = "Registry database URL (default: $AUDIOCLF_DB_URL, else sqlite:///audioclf.db)."


def _registry(db: str | None) -> Registry:
    # deferred: the registry loads SQLAlchemy; `audioclf --help` must not
    from audioclf.registry import Registry

    return Registry(db)


@registry_app.command("add")
@friendly_errors
def add_cmd(
    run: Path = typer.Argument(..., help="A finished run folder."),
    name: str = typer.Option(..., "--name", help="Model name; the run becomes its next version."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Register a run folder as the next version of NAME (stage: candidate)."""
    info = _registry(db).add(run, name)
    out.print(f"{info.name} v{info.version} registered ({info.stage}): {info.run_dir}")


@registry_app.command("list")
@friendly_errors
def list_cmd(
    name: str | None = typer.Argument(None, help="Only this model."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Every registered version with its stage and test scores."""
    versions = _registry(db).list(name)
    if not versions:
        out.print("no models registered; add one with `audioclf registry add RUN --name NAME`")
        return
    table = Table("name", "version", "stage", "bal. acc.", "acc.", "created", "run folder")
    for v in versions:
        bacc, acc = v.metrics.get("balanced_accuracy"), v.metrics.get("accuracy")
        table.add_row(
            v.name,
            str(v.version),
            v.stage,
            "–" if bacc is None else f"{bacc:.3f}",
            "–" if acc is None else f"{acc:.3f}",
            f"{v.created:%Y-%m-%d %H:%M}",
            str(v.run_dir),
        )
    console.print(table)


@registry_app.command("promote")
@friendly_errors
def promote_cmd(
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Argument(..., help="Version to put in production."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Make VERSION the production version of NAME (the previous one is archived)."""
    info = _registry(db).promote(name, version)
    out.print(
        f"{info.name} v{info.version} is in production; running servers pick it up on "
        "POST /v1/admin/reload"
    )


@registry_app.command("rollback")
@friendly_errors
def rollback_cmd(
    name: str = typer.Argument(..., help="Model name."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Archive the production version of NAME and restore the one promoted before it."""
    info = _registry(db).rollback(name)
    out.print(f"{info.name} v{info.version} is back in production")


@friendly_errors
def retrain_cmd(
    name: str = typer.Argument(..., help="Registered model to retrain."),
    data: Path = typer.Option(..., "--data", help="Base manifest (JSON Lines)."),
    promote_if_better: float = typer.Option(
        0.01, "--promote-if-better", help="Promote if balanced accuracy gains at least this."
    ),
    feedback_dir: Path | None = typer.Option(
        None,
        "--feedback-dir",
        help="Feedback pool (default: $AUDIOCLF_FEEDBACK_DIR or ./feedback-pool).",
    ),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Where the candidate run folder goes (default: beside production's)."
    ),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Override the epochs."),
    every: str | None = typer.Option(
        None,
        "--every",
        help="Instead of now, retrain on a schedule (30m, 12h, 7d, 2w) run by every "
        "`audioclf serve --training` on this database; `--every off` stops it.",
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Train a candidate on base data + feedback, compare it with production on the same
    test split, and promote it only if it is better by the margin (safe to run from cron)."""
    # deferred: retraining loads SQLAlchemy and pydantic; `audioclf --help` must not
    from audioclf.registry.feedback_pool import default_pool_dir
    from audioclf.registry.retrain import retrain

    if every is not None:
        _schedule(name, data, every, promote_if_better, db)
        return

    result = retrain(
        name,
        data,
        registry=_registry(db),
        feedback_dir=feedback_dir or default_pool_dir(),
        margin=promote_if_better,
        out_dir=out_dir,
        epochs=epochs,
    )
    verdict = "promoted to production" if result.promoted else "kept as candidate"
    out.print(
        f"{name}: production v{result.production_version} {result.production_score:.4f} vs "
        f"candidate v{result.candidate_version} {result.candidate_score:.4f} balanced accuracy "
        f"→ v{result.candidate_version} {verdict}; report: "
        f"{Path(result.candidate_run) / 'comparison' / 'comparison.md'}",
        highlight=False,
    )


def _schedule(name: str, data: Path, every: str, margin: float, db: str | None) -> None:
    """Write (or, with ``off``, remove) the retraining schedule of ``name``."""
    # deferred: the registry loads SQLAlchemy; `audioclf --help` must not
    from audioclf.registry.schedules import parse_every, remove_schedule, set_schedule

    registry = _registry(db)
    if every.strip().lower() == "off":
        removed = remove_schedule(registry.sessions, name)
        out.print(f"{name}: {'no longer' if removed else 'was not'} retrained on a schedule")
        return
    registry.production(name)  # fail now on an unknown name or no production version
    if not data.is_file():
        raise ValueError(f"{data}: no such manifest")
    schedule = set_schedule(
        registry.sessions, name, str(data.resolve()), parse_every(every), margin
    )
    out.print(
        f"{name}: retrained every {every} on {schedule.data} plus consented feedback, "
        f"first at {schedule.next_run:%Y-%m-%d %H:%M} UTC, by `audioclf serve --training` "
        "on this database (attempts on the monitoring page)",
        highlight=False,
    )


@registry_app.command("schedules")
@friendly_errors
def schedules_cmd(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """List the retraining schedules (`audioclf registry retrain NAME --every 7d`)."""
    # deferred: the registry loads SQLAlchemy; `audioclf --help` must not
    from audioclf.registry.schedules import format_every, list_schedules

    schedules = list_schedules(_registry(db).sessions)
    if not schedules:
        out.print("no retraining schedules")
        return
    table = Table("model", "every", "next run (UTC)", "data", "promote if better by")
    for s in schedules:
        table.add_row(
            s.name,
            format_every(s.every_seconds),
            f"{s.next_run:%Y-%m-%d %H:%M}",
            s.data,
            f"{s.margin:+.3f}",
        )
    out.print(table)
