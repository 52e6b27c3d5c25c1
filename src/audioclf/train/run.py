"""Train a run: the one entry of training, ``train_run(config, out_dir)``.

``--model auto`` (the default) goes to :mod:`audioclf.train.auto`, which trains several
candidates with :func:`audioclf.train.single.train_single` and keeps the best; any model
of the zoo goes straight to :func:`~audioclf.train.single.train_single`. Either way the
result is a finished run folder.
"""

from __future__ import annotations

from pathlib import Path

from audioclf.formats.manifest import Manifest
from audioclf.formats.runfolder import RunFolder
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
) -> RunResult:
    """Train ``config`` into ``out_dir``; ``resume`` continues a killed run (its own
    config.yaml wins over ``config``) with the same splits. ``splits`` (train/val/test)
    overrides splitting."""
    run = RunFolder(Path(out_dir))
    run.root.mkdir(parents=True, exist_ok=True)
    if resume and run.config.is_file():
        config = TrainConfig.from_yaml(run.config)
    if config.model == AUTO:
        return select_run(config, run, resume=resume, progress=progress, splits=splits)
    return train_single(config, run, resume=resume, progress=progress, splits=splits)
