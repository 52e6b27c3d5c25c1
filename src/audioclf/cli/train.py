"""``audioclf train | cv | evaluate | predict``: from a manifest to a measured model."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer
from rich.table import Table

from audioclf.cli.common import friendly_errors
from audioclf.console import console, out

if TYPE_CHECKING:
    from audioclf.inference.timeline import Segment

SPLITS = ("speaker", "random", "fold", "corpus")
POOL_CLASSES = ("shared", "all")


def _data(paths: list[Path]) -> dict[str, Any]:
    """``--data`` given once: the manifest; several times: the pool of manifests."""
    if len(paths) > 1:
        return {"pool": [str(p) for p in paths]}
    return {"data": str(paths[0]) if paths else None}


def _pool_options(
    pool_classes: str | None, shared_emotions: bool | None, balance: bool | None
) -> dict[str, Any]:
    """The pooling options given on the command line (checked)."""
    if pool_classes is not None and pool_classes not in POOL_CLASSES:
        raise ValueError(f"--pool-classes must be shared or all, not {pool_classes!r}")
    return {
        "pool_classes": pool_classes,
        "shared_emotions": shared_emotions,
        "balance_corpora": balance,
    }


def _sources(config: Any) -> str:
    return " + ".join(config.sources)


def _config(config_file: Path | None, **overrides: Any) -> Any:
    # deferred: audioclf.train.config loads pydantic and numpy; `audioclf --help` must not
    from audioclf.train.config import TrainConfig

    if config_file is not None:
        return TrainConfig.from_yaml(config_file, **overrides)
    return TrainConfig.build(**overrides)


def _speeds(text: str | None) -> list[float] | None:
    """``--speeds 0.9,1.1`` as a list; ``none`` as no speeds; None when not given."""
    if text is None:
        return None
    if text.strip().lower() in ("", "none"):
        return []
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--speeds takes numbers separated by commas, not {text!r}") from None


def _noise_views(values: list[str] | None) -> list[str] | None:
    """``--noise-view SPEC`` (repeatable) as a list; ``none`` as none; None when not given."""
    if not values:
        return None
    if [v.strip().lower() for v in values] == ["none"]:
        return []
    return list(values)


def _jobs(ray: bool, data: str | None, out_dir: Path, cpus_per_job: float) -> Any:
    """The executor a command runs its jobs with: Ray's after checking that every node
    reads the manifest's clips (those this machine reads) and writes the run folder and
    the feature cache, else this process (a no-op context)."""
    if not ray:
        return nullcontext()
    # deferred: the cluster helper loads numpy and the feature cache; `--help` must not
    from audioclf.train.cluster import ray_for

    return ray_for(data, out_dir, job_cpus=cpus_per_job)


def _headline(metrics: dict[str, Any]) -> str:
    parts = [
        f"{key} {metrics[key]:.3f}"
        for key in ("accuracy", "balanced_accuracy", "macro_f1")
        if isinstance(metrics.get(key), float)
    ]
    return "  ".join(parts)


def _kept(metrics: dict[str, Any], model: str) -> str:
    """The model a run serves: ``auto → A+B`` for a selection."""
    selection = metrics.get("selection") or {}
    return f"auto → {selection['chosen']}" if selection.get("chosen") else model


def _contents(run_dir: Path) -> str:
    """What a user opens first in a run folder (an ensemble keeps its ONNX per member)."""
    names = ("report.html", "metrics.json", "model.onnx", "members")
    return ", ".join(n + ("/" if n == "members" else "") for n in names if (run_dir / n).exists())


@friendly_errors
def train_cmd(
    data: list[Path] = typer.Option(
        [],
        "--data",
        "-d",
        metavar="MANIFEST",
        help="Manifest (.jsonl) to train on; repeat to pool several corpora (their shared "
        "classes, speakers kept apart by corpus, each corpus weighing the same).",
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model name (`audioclf models`); default auto: candidates tried on one split, "
        "the best neural and classical one kept together (4-minute budget).",
    ),
    split: str | None = typer.Option(
        None, "--split", help="speaker | random | fold | corpus (test on --test-corpus)."
    ),
    test_corpus: str | None = typer.Option(
        None, "--test-corpus", help="--split corpus: the corpus to test on (others train)."
    ),
    pool_classes: str | None = typer.Option(
        None,
        "--pool-classes",
        help="Several --data: the classes every corpus has (shared, default) or all.",
    ),
    shared_emotions: bool | None = typer.Option(
        None,
        "--shared-emotions/--no-shared-emotions",
        help="Several --data: map labels onto the shared emotion vocabulary (default: when "
        "the label sets differ and all are emotions).",
    ),
    balance_corpora: bool | None = typer.Option(
        None,
        "--balance-corpora/--no-balance-corpora",
        help="Several --data: repeat a smaller corpus's training clips to weigh the same "
        "(default on).",
    ),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Run folder to write, e.g. runs/NAME."),
    epochs: int | None = typer.Option(None, "--epochs", help="Maximum epochs."),
    time_budget: float | None = typer.Option(
        None,
        "--time-budget",
        help="Minutes of training: epochs are cut to fit (auto: 4 unless given).",
    ),
    config_file: Path | None = typer.Option(None, "--config", help="YAML training config."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed."),
    speaker_norm: bool | None = typer.Option(
        None,
        "--speaker-norm/--no-speaker-norm",
        help="Classical models: standardise features per speaker (evaluate-only runs).",
    ),
    speeds: str | None = typer.Option(
        None,
        "--speeds",
        help="Classical models: extra playback speeds to train and score at, e.g. 0.9,1.1 "
        "(`none` for none).",
    ),
    noise_view: list[str] | None = typer.Option(
        None,
        "--noise-view",
        help="Classical models: train on a noisy copy of every clip too (never scored): a "
        "SPEC as `evaluate --perturb`, whose numbers may be ranges drawn per clip, e.g. "
        "noise=pink,snr=0..20 (repeatable; `none` for none; auto's default: pink noise, "
        "babble and a room).",
    ),
    serve: str | None = typer.Option(
        None,
        "--serve",
        help="auto: serve the `fastest` model within --tolerance of the best validation UA "
        "(default) or the `best`.",
    ),
    tolerance: float | None = typer.Option(
        None, "--tolerance", help="auto: UA a faster model may give up (default 0.01)."
    ),
    latency_budget: float | None = typer.Option(
        None,
        "--latency-budget",
        help="auto: serve the most accurate model answering a clip within MS milliseconds.",
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed run in --out."),
    ray: bool = typer.Option(
        False,
        "--ray",
        help="Run on Ray: feature extraction in shards, auto's neural candidates as jobs "
        "(the cluster at RAY_ADDRESS, else one `ray start` began on this machine, else a "
        "local Ray for this command).",
    ),
    cpus_per_job: float = typer.Option(
        1,
        "--cpus-per-job",
        min=0.1,
        help="--ray: CPUs each neural candidate holds while it trains.",
    ),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Train a model on a manifest (speaker-independent split by default) into a run folder."""
    # deferred: the training stack loads torch and scikit-learn; `audioclf --help` must not
    from audioclf.train.run import train_run

    if split is not None and split not in SPLITS:
        raise ValueError(f"--split must be one of {', '.join(SPLITS)}, not {split!r}")
    if resume and (out_dir / "config.yaml").is_file():
        config = _config(out_dir / "config.yaml")
    else:
        config = _config(
            config_file,
            **_data(data),
            **_pool_options(pool_classes, shared_emotions, balance_corpora),
            model=model,
            split=split,
            test_corpus=test_corpus,
            epochs=epochs,
            time_budget=time_budget,
            seed=seed,
            speaker_norm=speaker_norm,
            speeds=_speeds(speeds),
            noise_views=_noise_views(noise_view),
            serve=serve,
            tolerance=tolerance,
            latency_budget=latency_budget,
        )
    with _jobs(ray, (config.sources or [None])[0], out_dir, cpus_per_job):
        result = train_run(config, out_dir, resume=resume, progress=progress)
    kept = _kept(result.metrics, result.card.model)
    out.print(f"[bold]{kept}[/] on {_sources(config)}: {_headline(result.metrics)}")
    for name, scores in (result.metrics.get("per_corpus") or {}).items():
        out.print(f"  {name}: {_headline(scores)}  (n={scores['n']})", highlight=False)
    out.print(f"run folder {result.run_dir} ({_contents(result.run_dir)})")


@friendly_errors
def cv_cmd(
    data: list[Path] = typer.Option(
        ...,
        "--data",
        "-d",
        metavar="MANIFEST",
        help="Manifest (.jsonl); repeat to pool corpora (speaker folds inside each corpus; "
        "--folds loso --group corpus: leave one corpus out).",
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model name (`audioclf models`); default auto (4-minute budget per fold).",
    ),
    folds: str = typer.Option("5", "--folds", "-k", help="Number of folds, or `loso`."),
    group: str = typer.Option(
        "speaker", "--group", help="Group clips by this field (speaker, corpus, gender, meta)."
    ),
    pool_classes: str | None = typer.Option(
        None, "--pool-classes", help="Several --data: shared (default) or all classes."
    ),
    shared_emotions: bool | None = typer.Option(
        None,
        "--shared-emotions/--no-shared-emotions",
        help="Several --data: map labels onto the shared emotion vocabulary (default: when "
        "the label sets differ and all are emotions).",
    ),
    balance_corpora: bool | None = typer.Option(
        None,
        "--balance-corpora/--no-balance-corpora",
        help="Several --data: repeat a smaller corpus's training clips (default on).",
    ),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for the folds and summary."),
    epochs: int | None = typer.Option(None, "--epochs", help="Maximum epochs per fold."),
    time_budget: float | None = typer.Option(
        None,
        "--time-budget",
        help="Minutes of training per fold: epochs are cut to fit (auto: 4 unless given).",
    ),
    config_file: Path | None = typer.Option(None, "--config", help="YAML training config."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed."),
    speaker_norm: bool | None = typer.Option(
        None,
        "--speaker-norm/--no-speaker-norm",
        help="Classical models: standardise features per speaker (evaluate-only runs).",
    ),
    speeds: str | None = typer.Option(
        None,
        "--speeds",
        help="Classical models: extra playback speeds to train and score at, e.g. 0.9,1.1 "
        "(`none` for none).",
    ),
    noise_view: list[str] | None = typer.Option(
        None,
        "--noise-view",
        help="Classical models: train on a noisy copy of every clip too (never scored): a "
        "SPEC as `evaluate --perturb`, whose numbers may be ranges drawn per clip, e.g. "
        "noise=pink,snr=0..20 (repeatable; `none` for none; auto's default: pink noise, "
        "babble and a room).",
    ),
    serve: str | None = typer.Option(
        None,
        "--serve",
        help="auto: serve the `fastest` model within --tolerance of the best validation UA "
        "(default) or the `best`.",
    ),
    tolerance: float | None = typer.Option(
        None, "--tolerance", help="auto: UA a faster model may give up (default 0.01)."
    ),
    latency_budget: float | None = typer.Option(
        None,
        "--latency-budget",
        help="auto: serve the most accurate model answering a clip within MS milliseconds.",
    ),
    resume: bool = typer.Option(False, "--resume", help="Reuse finished folds, resume the rest."),
    perturb: list[str] = typer.Option(
        [],
        "--perturb",
        help="Also score each fold's test clips under a corruption (repeatable; the SPECs of "
        "`audioclf evaluate --perturb`): mean ± std over folds.",
    ),
    perturb_seed: int = typer.Option(0, "--perturb-seed", help="Seed of the perturbations."),
    babble: Path | None = typer.Option(
        None,
        "--babble",
        help="Manifest of speech to make noise=babble from (default: each fold's test clips, "
        "or its training clips when the test clips hold one speaker).",
    ),
    ray: bool = typer.Option(
        False,
        "--ray",
        help="Run on Ray: every fold a job (the cluster at RAY_ADDRESS, else one `ray start` began "
        "on this machine, else a local Ray for this command).",
    ),
    cpus_per_job: float = typer.Option(
        1, "--cpus-per-job", min=0.1, help="--ray: CPUs each fold holds while it trains."
    ),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Grouped k-fold cross-validation (no speaker in train and test of a fold): mean ± std."""
    # deferred: the training stack loads torch and scikit-learn; `audioclf --help` must not
    from audioclf.train.cv import LOSO, cross_validate

    if folds != LOSO and not folds.isdigit():
        raise ValueError(f"--folds must be a number or `loso`, not {folds!r}")
    config = _config(
        config_file,
        **_data(data),
        **_pool_options(pool_classes, shared_emotions, balance_corpora),
        model=model,
        epochs=epochs,
        time_budget=time_budget,
        seed=seed,
        speaker_norm=speaker_norm,
        speeds=_speeds(speeds),
        noise_views=_noise_views(noise_view),
        serve=serve,
        tolerance=tolerance,
        latency_budget=latency_budget,
    )
    with _jobs(ray, (config.sources or [None])[0], out_dir, cpus_per_job):
        metrics = cross_validate(
            config,
            out_dir,
            folds=folds if folds == LOSO else int(folds),
            group=group,
            resume=resume,
            progress=progress,
            perturb=perturb,
            perturb_seed=perturb_seed,
            babble=babble,
        )
    table = Table("metric", "mean", "std", title=f"{metrics['n_folds']} folds by {group}")
    for key, value in metrics["mean"].items():
        table.add_row(key, f"{value:.3f}", f"{metrics['std'][key]:.3f}")
    for row in metrics.get("perturbations") or []:
        table.add_row(
            f"accuracy @ {row['spec']}", f"{row['accuracy']:.3f}", f"{row['accuracy_std']:.3f}"
        )
    for name, scores in (metrics.get("per_corpus") or {}).items():
        for key in ("accuracy", "balanced_accuracy"):
            table.add_row(f"{key} on {name}", f"{scores[key]:.3f}", f"{scores[f'{key}_std']:.3f}")
    out.print(table)
    out.print(f"summary in {out_dir}/metrics.json and {out_dir}/report.html")


@friendly_errors
def evaluate_cmd(
    run: Path = typer.Argument(..., help="A run folder."),
    data: Path = typer.Option(..., "--data", "-d", help="Manifest to score."),
    label_map: Path | None = typer.Option(
        None, "--label-map", help="YAML {corpus label: model label}; null drops a class."
    ),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for metrics and report."),
    perturb: list[str] = typer.Option(
        [],
        "--perturb",
        help="Also score the clips under a corruption (repeatable): noise=pink,snr=10 · "
        "noise=babble,snr=5 · noise=DIR,snr=0 · reverb=0.6 · telephone · opus=12k · "
        "mp3=32k · gain=-20 · clip=0.3 (steps joined by commas apply in order).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the perturbations' randomness."),
    babble: Path | None = typer.Option(
        None,
        "--babble",
        help="Manifest of speech to make noise=babble from (default: the scored clips' "
        "other speakers, or the run's training clips when they hold one speaker).",
    ),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Score a trained run on a manifest (cross-corpus with a label map, under
    corruptions with --perturb)."""
    # deferred: scoring loads scikit-learn, scipy and pandas; `audioclf --help` must not
    from audioclf.evaluate.evaluate_run import evaluate_run

    metrics = evaluate_run(
        run,
        data,
        out_dir,
        label_map=label_map,
        perturb=perturb,
        seed=seed,
        babble=babble,
        progress=progress,
    )
    out.print(f"{run} on {data}: {_headline(metrics)}  (n={metrics.get('n_scored', 0)})")
    for label, info in (metrics.get("unknown_labels") or {}).items():
        out.print(f"[yellow]unknown to the model:[/] {label} ({info['n']} clips)")
    for row in metrics.get("perturbations") or []:
        out.print(f"  {row['spec']}: {_headline(row)}  (WA {row.get('accuracy_change', 0):+.3f})")
    out.print(f"report {out_dir}/report.html")


def _timeline_table(segments: list[Segment], title: str) -> Table:
    """One row per timeline window: start, end, voiced, top label and its probability."""
    table = Table("start", "end", "voiced", "top", "probability", title=title)
    for seg in segments:
        p = seg.probabilities[seg.top] if seg.probabilities and seg.top else None
        table.add_row(
            f"{seg.start:.2f}",
            f"{seg.end:.2f}",
            "yes" if seg.voiced else "no",
            seg.top or "-",
            f"{p:.3f}" if p is not None else "-",
        )
    return table


@friendly_errors
def predict_cmd(
    run: Path = typer.Argument(..., help="A run folder."),
    files: list[Path] | None = typer.Argument(None, help="Audio files (any format)."),
    top: int = typer.Option(5, "--top", help="Probabilities to show per file."),
    timeline: bool = typer.Option(
        False, "--timeline", help="Sliding windows with voice detection: a table per file."
    ),
    window: float = typer.Option(2.0, "--window", help="Timeline window (seconds)."),
    hop: float = typer.Option(1.0, "--hop", help="Timeline hop (seconds)."),
    vad: str | None = typer.Option(
        None, "--vad", help="silero | energy | none (default: silero for speech models)."
    ),
    manifest: Path | None = typer.Option(
        None, "--manifest", help="Score every clip of a manifest (.jsonl rows with a path)."
    ),
    out_file: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="--manifest: JSON Lines to write (id, path, label, probabilities).",
    ),
    batch_size: int = typer.Option(32, "--batch-size", help="--manifest: clips scored at once."),
    ray: bool = typer.Option(
        False, "--ray", help="--manifest: score on Ray (Ray Data map_batches over the clips)."
    ),
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        help="--manifest --ray: scoring actors (default: the cluster's CPUs).",
    ),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Top label and class probabilities for audio files (or a timeline of long ones), or
    for every clip of a manifest (--manifest M --out P)."""
    if manifest is not None or out_file is not None:
        if manifest is None or out_file is None or files:
            raise ValueError(
                "batch prediction takes --manifest M.jsonl and --out P.jsonl, no files"
            )
        _predict_manifest(run, manifest, out_file, batch_size, ray, concurrency, progress)
        return
    if ray:
        raise ValueError("--ray scores a manifest: give --manifest M.jsonl --out P.jsonl")
    if not files:
        raise ValueError("nothing to score: give audio files, or --manifest M.jsonl --out P.jsonl")
    import numpy as np

    # deferred: audio and inference load numpy and soundfile; `audioclf --help` must not
    from audioclf.audio import AudioError, load
    from audioclf.features.vad import VAD_METHODS, VadMethod
    from audioclf.inference.predictor import Predictor
    from audioclf.inference.timeline import default_vad
    from audioclf.inference.timeline import timeline as make_timeline

    if vad is not None and vad not in VAD_METHODS:
        raise ValueError(f"--vad must be one of {', '.join(VAD_METHODS)}, not {vad!r}")
    predictor = Predictor(run)
    failed = 0
    for path in files:
        if timeline:
            try:
                y = load(path, predictor.sample_rate)
            except (AudioError, FileNotFoundError) as err:
                console.print(f"[red]error:[/] {err}", highlight=False)
                failed += 1
                continue
            method = cast("VadMethod", vad or default_vad(predictor.card))
            segments = make_timeline(predictor, y, window=window, hop=hop, vad=method)
            out.print(_timeline_table(segments, f"{path} ({method} VAD)"))
            continue
        try:
            probs = predictor.predict_source(path)
        except (AudioError, FileNotFoundError) as err:
            console.print(f"[red]error:[/] {err}", highlight=False)
            failed += 1
            continue
        order = np.argsort(probs)[::-1][:top]
        shown = ", ".join(f"{predictor.classes_[i]} {probs[i]:.3f}" for i in order)
        out.print(f"{path}: [bold]{predictor.classes_[order[0]]}[/]  ({shown})", highlight=False)
    if failed:
        raise typer.Exit(code=2)


def _predict_manifest(
    run: Path,
    manifest: Path,
    out_file: Path,
    batch_size: int,
    ray: bool,
    concurrency: int | None,
    progress: bool,
) -> None:
    """Every clip of ``manifest`` scored into ``out_file``; unreadable clips reported."""
    # deferred: inference loads numpy and ONNX Runtime; `audioclf --help` must not
    from audioclf.inference.batch import predict_manifest

    summary = predict_manifest(
        run,
        manifest,
        out_file,
        batch_size=batch_size,
        ray=ray,
        concurrency=concurrency,
        progress=progress,
    )
    for skipped in summary.skipped[:10]:
        console.print(f"[yellow]skipped:[/] {skipped.reason}", highlight=False)
    if len(summary.skipped) > 10:
        console.print(f"[yellow]... and {len(summary.skipped) - 10} more[/]")
    note = f", {len(summary.skipped)} skipped ({summary.skipped_file})" if summary.skipped else ""
    out.print(f"{summary.scored} clips scored into {summary.out}{note}", highlight=False)
