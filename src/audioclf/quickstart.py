"""The quickstart: synthesise spoken digits, train the default model, then serve it.

No download and no dataset of the user's own: :func:`run_quickstart` makes the
synthetic digit corpus (:mod:`audioclf.data.synth`, reused when it already exists),
trains the default model (``auto``) on it with a speaker-independent split (whole
synthetic voices are held out for validation and test) and leaves an ordinary run folder
(config.yaml, model.json, metrics.json, report.html, the candidates…). A finished run with the same
config is reused rather than retrained, so running the demo twice goes straight to the
server.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from audioclf.data.synth import SynthConfig, SynthResult, synth_digits
from audioclf.formats.runfolder import RunFolder
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run

DEFAULT_OUT = Path("runs/quickstart")
DEFAULT_DATA = Path("data/synth-digits")
SYNTH = SynthConfig(n_voices=80, per_digit=1, seed=0)
"""80 voices x 10 digits x 1 take = 800 one-second clips. At the same size, more voices
beat more takes per voice: with 12 epochs, held-out-voice accuracy 0.94-0.95 / 0.994 /
0.994 (synth seeds 0 / 1 / 2) against 0.956 for 40 voices x 2 takes; 15 epochs lift seed
0 to 0.9625 (measured on two idle cores; multi-threaded training is not bit-exact, so
repeated runs differ by a few clips: 0.956-0.975 for the final settings below, with
the CNN alone). The default model on these settings: 0.975-0.988 held out, and 0.870-0.879
on the real voices of FSDD (benchmarks/quickstart_time.py, benchmarks/synth_to_real.py)."""
TRAINING: dict[str, Any] = {
    "model": "auto",
    "clip_seconds": 1.0,
    "model_options": {
        "candidates": ["speech_embedding_logreg", "logreg", "audioclf_default"],
        "audioclf_default": {"n_mels": 40},
    },
    "epochs": 15,
    "patience": 15,
    "lr": 3e-3,
    "augment": "light",
    "speeds": [],
    # no noise views either: time to a served model is the quickstart's point, and its
    # figures were measured without them
    "noise_views": [],
    "serve": "best",
    "val": 0.15,
    "test": 0.2,
    "task": "spoken digit (0-9)",
    "threads": None,
}
"""Overrides of the trainer defaults: the default model (``auto``) with the candidates
for spoken words named, so the run is the same whether or not the openSMILE extra is
installed (its ComParE features would add minutes and are not made for words); for the
CNN one-second crops (every clip is ~1 s), 40 mel bands (the usual keyword-spotting
front end; a training step takes 0.22 s instead of 0.38 s with 64, and held-out accuracy
was 0.975 against 0.9625 for seed 0) and a short schedule; the split stays
speaker-independent. No speed views for the classical candidates (``auto`` has them
by default): they would triple the demo's feature extraction, and its figures below were
measured without them. Torch uses every core: on two idle cores an epoch took
about 40 % less time with two threads than with one; on cores busy with other jobs two
threads can be far slower (set ``threads: 1`` in a config of your own there).
``serve: best``: the synthetic validation voices are easy enough that every candidate
ties near 1.0 on them, so the "fastest within a point" rule cannot tell the candidates
apart and serves the CNN alone, which generalises worse to real voices (0.613 on FSDD
against 0.879 for the pair it serves with ``best``, benchmarks/synth_to_real.py)."""


@dataclass(frozen=True)
class QuickstartResult:
    """What the quickstart made: the corpus, the run folder and its test metrics."""

    corpus: SynthResult
    run_dir: Path
    metrics: dict[str, Any]
    reused_run: bool


def quickstart_config(manifest: Path, *, epochs: int | None = None, seed: int = 0) -> TrainConfig:
    """The training config of the quickstart for a synthetic corpus manifest."""
    values = {**TRAINING, "data": str(manifest), "seed": seed}
    if epochs is not None:
        values |= {"epochs": epochs, "patience": epochs}
    config = TrainConfig.build(values)
    if config.split != "speaker":
        raise ValueError("the quickstart must split by speaker")
    return config


def _finished_run(run_dir: Path, config: TrainConfig) -> dict[str, Any] | None:
    """The metrics of a complete run in ``run_dir`` trained with ``config``, else None."""
    run = RunFolder(run_dir)
    needed = (run.config, run.metrics, run.card)
    if not all(p.is_file() for p in needed):
        return None
    saved = yaml.safe_load(run.config.read_text()) or {}
    if saved != config.model_dump(mode="json"):
        return None
    return run.read_metrics()


def run_quickstart(
    out_dir: str | Path = DEFAULT_OUT,
    *,
    data_dir: str | Path = DEFAULT_DATA,
    synth: SynthConfig = SYNTH,
    epochs: int | None = None,
    retrain: bool = False,
    progress: bool = True,
) -> QuickstartResult:
    """Synthesise (or reuse) the corpus and train (or reuse) the run in ``out_dir``."""
    corpus = synth_digits(data_dir, synth, progress=progress)
    config = quickstart_config(corpus.manifest_path.resolve(), epochs=epochs, seed=synth.seed)
    run_dir = Path(out_dir)
    if not retrain:
        metrics = _finished_run(run_dir, config)
        if metrics is not None:
            return QuickstartResult(corpus, run_dir, metrics, True)
    result = train_run(config, run_dir, progress=progress)
    return QuickstartResult(corpus, result.run_dir, result.metrics, False)


def small_synth(n_voices: int, per_digit: int = 1) -> SynthConfig:
    """The quickstart corpus at a reduced size (for tests and quick looks)."""
    return replace(SYNTH, n_voices=n_voices, per_digit=per_digit)
