"""The ``audioclf`` command line: each command parses its arguments and forwards.

Errors a user can act on (bad audio, a malformed manifest, an unknown recipe, an
impossible split) are printed as one red line without a traceback; ``--debug`` shows it.
"""

from __future__ import annotations

import typer

from audioclf import __version__
from audioclf.cli.common import state
from audioclf.cli.data import data_app
from audioclf.cli.export import export_cmd
from audioclf.cli.models import compare_cmd, ensemble_cmd, models_cmd
from audioclf.cli.quickstart import quickstart_cmd
from audioclf.cli.registry import registry_app, retrain_cmd
from audioclf.cli.serve import serve_cmd
from audioclf.cli.train import cv_cmd, evaluate_cmd, predict_cmd, train_cmd
from audioclf.console import console

app = typer.Typer(
    name="audioclf",
    help="Train, evaluate and serve audio classifiers on a CPU.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
app.command("train")(train_cmd)
app.command("cv")(cv_cmd)
app.command("evaluate")(evaluate_cmd)
app.command("predict")(predict_cmd)
app.command("compare")(compare_cmd)
app.command("ensemble")(ensemble_cmd)
app.command("export")(export_cmd)
app.command("models")(models_cmd)
app.command("serve")(serve_cmd)
app.command("quickstart")(quickstart_cmd)
app.add_typer(registry_app, name="registry")
app.command("retrain")(retrain_cmd)
registry_app.command("retrain")(retrain_cmd)


def _version(value: bool) -> None:
    if value:
        console.print(f"audioclf {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """audioclf: from a folder of labelled audio to a measured model and an HTTP API."""
    state["debug"] = debug
