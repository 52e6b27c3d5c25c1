"""``audioclf quickstart``: synthetic digits → trained default model → the browser app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from audioclf.cli.common import friendly_errors
from audioclf.console import out


def _summary(metrics: dict[str, Any]) -> str:
    parts = [
        f"{key.replace('_', ' ')} {metrics[key]:.3f}"
        for key in ("accuracy", "balanced_accuracy", "macro_f1")
        if isinstance(metrics.get(key), float)
    ]
    return "  ".join(parts)


@friendly_errors
def quickstart_cmd(
    out_dir: Path = typer.Option(Path("runs/quickstart"), "--out", "-o", help="Run folder."),
    data_dir: Path = typer.Option(
        Path("data/synth-digits"), "--data-dir", help="Where the synthetic corpus is kept."
    ),
    n_voices: int = typer.Option(80, "--n-voices", help="Synthetic voices (speakers)."),
    per_digit: int = typer.Option(1, "--per-digit", help="Takes of each digit per voice."),
    epochs: int | None = typer.Option(None, "--epochs", help="Override the quickstart epochs."),
    retrain: bool = typer.Option(False, "--retrain", help="Train even if --out has a run."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the server afterwards."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Synthesise spoken digits, train the default model on them, then serve it (try it
    in the browser: say a digit into the microphone)."""
    from dataclasses import replace

    # deferred: the quickstart loads torch and librosa; `audioclf --help` must not
    from audioclf.quickstart import SYNTH, run_quickstart

    synth = replace(SYNTH, n_voices=n_voices, per_digit=per_digit)
    result = run_quickstart(
        out_dir, data_dir=data_dir, synth=synth, epochs=epochs, retrain=retrain, progress=progress
    )
    corpus = result.corpus
    state = "reused" if corpus.reused else "synthesised"
    out.print(
        f"data: {len(corpus.manifest)} clips, {len(corpus.manifest.speakers)} voices "
        f"({state}) in {corpus.manifest_path}",
        highlight=False,
    )
    trained = "reused (--retrain to train again)" if result.reused_run else "trained"
    out.print(f"model: {result.run_dir} {trained}", highlight=False)
    out.print(
        f"[bold]test on held-out voices:[/] {_summary(result.metrics)}  "
        f"(report: {result.run_dir / 'report.html'})",
        highlight=False,
    )
    if serve:
        _serve(result.run_dir, host, port)


def _serve(run_dir: Path, host: str, port: int) -> None:
    import uvicorn

    # deferred: the service loads FastAPI, pydantic and SQLAlchemy; `audioclf --help` must not
    from audioclf.service.app import create_app
    from audioclf.service.settings import Settings

    app = create_app(Settings(runs=[run_dir.resolve()]))
    out.print(f"serving at http://{host}:{port}  (Ctrl+C stops)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")
