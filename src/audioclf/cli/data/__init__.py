"""``audioclf data ...``: prepare manifests from corpora, relabel, split, report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from audioclf.cli.common import friendly_errors
from audioclf.cli.data.mix import mix_cmd
from audioclf.cli.data.report import report_cmd
from audioclf.cli.data.split import relabel_cmd, split_cmd
from audioclf.cli.data.summary import summary_table
from audioclf.cli.data.synth import synth_app
from audioclf.console import console, out
from audioclf.formats.manifest import write_manifest, write_skipped

data_app = typer.Typer(
    help="Datasets: corpus folder → manifest, relabel, split, report.", no_args_is_help=True
)


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs; values are YAML (``words=[yes,no]``, ``lowercase=false``)."""
    import yaml

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"option {pair!r} is not KEY=VALUE")
        options[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return options


@friendly_errors
def prepare_cmd(
    recipe: str = typer.Argument(..., help="Corpus recipe; `audioclf data recipes` lists them."),
    source: Path = typer.Argument(..., help="The corpus folder (or CSV file for `csv`)."),
    out_path: Path = typer.Option(..., "--out", "-o", help="Manifest to write (.jsonl)."),
    option: list[str] = typer.Option(
        [], "--option", "-O", help="Recipe option KEY=VALUE, e.g. vocal_channel=speech."
    ),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Turn a corpus folder into a manifest, reporting (and skipping) unreadable files."""
    # deferred: the recipes load numpy and soundfile; `audioclf --help` must not
    from audioclf.recipes import prepare

    result = prepare(recipe, source, progress=progress, **_parse_options(option))
    write_manifest(result.manifest, out_path)
    skipped_file = write_skipped(result.skipped, out_path)
    out.print(summary_table(result.manifest, f"{recipe}: {source}"))
    out.print(
        f"{len(result.manifest)} rows, {len(result.manifest.labels)} classes, "
        f"{len(result.manifest.speakers)} speakers, "
        f"{result.manifest.total_duration / 3600:.2f} h, {len(result.skipped)} skipped"
    )
    for item in result.skipped[:20]:
        console.print(f"[yellow]skipped[/] {item.path}: {item.reason}", highlight=False)
    if len(result.skipped) > 20:
        console.print(f"[yellow]… and {len(result.skipped) - 20} more[/]")
    if skipped_file:
        console.print(f"skipped files listed in {skipped_file}")
    console.print(f"[green]wrote[/] {out_path}")


def recipes_cmd() -> None:
    """List the corpus recipes."""
    # deferred: importing the recipes loads numpy and soundfile; `audioclf --help` must not
    from audioclf.recipes import RECIPES

    table = Table("recipe", "corpus")
    for name, fn in sorted(RECIPES.items()):
        doc = (fn.__doc__ or "").strip().splitlines()
        table.add_row(name, doc[0] if doc else "")
    out.print(table)


# the order of `audioclf data --help`
data_app.command("prepare")(prepare_cmd)
data_app.command("recipes")(recipes_cmd)
data_app.command("mix")(mix_cmd)
data_app.command("report")(report_cmd)
data_app.command("split")(split_cmd)
data_app.command("relabel")(relabel_cmd)
data_app.add_typer(synth_app, name="synth")
