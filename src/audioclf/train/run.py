"""Train a run: the one entry of training, ``train_run(config, out_dir)``.

``--model auto`` (the default) goes to :mod:`audioclf.train.auto`, which trains several
candidates with :func:`audioclf.train.single.train_single` and keeps the best; any model
of the zoo goes straight to :func:`~audioclf.train.single.train_single`. Either way the
result is a finished run folder, with a browser export (``web/``, :mod:`audioclf.export.
web`) when its model can run in a page.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from audioclf.console import console
from audioclf.export.parity import ExportError
from audioclf.export.web import WebExportError, export_web
from audioclf.formats.manifest import Manifest
from audioclf.formats.runfolder import RunFolder
from audioclf.formats.webcard import web_folder
from audioclf.train.auto.select import select_run
from audioclf.train.config import AUTO, TrainConfig
from audioclf.train.single import RunResult, train_single


def train_run(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    splits: dict[str, Manifest] | None = None,
    web: bool = True,
) -> RunResult:
    """Train ``config`` into ``out_dir``; ``resume`` continues a killed run (its own
    config.yaml wins over ``config``) with the same splits. ``splits`` (train/val/test)
    overrides splitting; ``web=False`` skips the browser export."""
    run = RunFolder(Path(out_dir))
    run.root.mkdir(parents=True, exist_ok=True)
    if resume and run.config.is_file():
        config = TrainConfig.from_yaml(run.config)
    if config.model == AUTO:
        result = select_run(config, run, resume=resume, progress=progress, splits=splits)
    else:
        result = train_single(config, run, resume=resume, progress=progress, splits=splits)
    if web:
        write_web_export(run, progress=progress)
    return result


def write_web_export(run: RunFolder, *, progress: bool = True) -> None:
    """Replace the run's ``web/`` with a browser export of its model, or remove it when
    no part of the model can run in a page or the graph disagrees with PyTorch (said on
    the console: the run itself is complete either way)."""
    target = web_folder(run.root)
    shutil.rmtree(target, ignore_errors=True)
    try:
        export = export_web(run.root, target)
    except (WebExportError, ExportError) as err:
        shutil.rmtree(target, ignore_errors=True)
        if progress:
            console.print(f"web: no browser export ({err})", highlight=False)
        return
    if progress:
        console.print(f"web: browser export {export.onnx} ({_web_summary(export.card)})")


def _web_summary(card: dict[str, Any]) -> str:
    """What the browser export holds, in a few words."""
    size = f"{card['bytes'] / 1e6:.1f} MB"
    if card["candidate"]:
        return (
            f"{size}: candidate {card['candidate']}; the served {card['served_model']} "
            "runs only on the server"
        )
    left = ", ".join(m["member"] for m in card["left_out"])
    return f"{size}; without {left}, which run only on the server" if left else size
