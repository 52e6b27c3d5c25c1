"""Cross-corpus emotion: RAVDESS → Emo-DB, Emo-DB → RAVDESS and both pooled, on the
emotions they share.

    .venv/bin/python -m benchmarks.cross_corpus [--model voice_logreg] [--folds 5]

Both corpora are prepared with their recipes (benchmarks/protocols.py, cached under
benchmarks/.work/) and pooled by :mod:`audioclf.train.pooled` on their shared emotions
(angry, disgust, fearful, happy, neutral, sad; RAVDESS's calm and surprised and Emo-DB's
bored are dropped). Then, without and with per-speaker feature normalisation:

- leave one corpus out (``audioclf cv --data R --data E --folds loso --group corpus``):
  each fold trains on one corpus and tests on every clip of the other, so its two folds
  are the two cross-corpus directions; with ``--speaker-norm`` the test corpus's clips are
  standardised per speaker over that speaker's clips, as ``audioclf evaluate`` and the
  server's sessions do;
- pooled training (``audioclf cv --data R --data E --folds K``): speaker folds made
  inside each corpus, every corpus weighing the same in training, WA/UA per corpus over
  the folds;
- each corpus alone on the same classes (``--only within``; ``audioclf cv --data C
  --folds K``, the corpus's clips of the shared emotions written to
  benchmarks/.work/shared-C.jsonl): what pooling gains or costs a corpus;
- the server's sessions replayed (``--only sessions``, after the leave-one-corpus-out
  runs with speaker normalisation): each test speaker's clips in manifest order through
  :class:`audioclf.service.sessions.SessionStore` with the server's default
  ``min_clips``, each clip scored when it arrives — with the training statistics until
  the session has enough clips, then with the statistics of the clips so far — and,
  for comparison, every clip scored alone with the training statistics (no session).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.evaluate.metrics import classification_metrics
from audioclf.features.cache import FeatureCache
from audioclf.features.cached_vectors import clip_vectors
from audioclf.formats.manifest import read_manifest, write_manifest
from audioclf.inference.predictor import Predictor
from audioclf.service.sessions import SessionStore
from audioclf.train.config import TrainConfig
from audioclf.train.cv import LOSO, cross_validate
from audioclf.train.pooled import pool_manifests
from benchmarks.protocols import WORK, manifest_for
from benchmarks.results import ROOT, command_line, record

SECTION = "Cross-corpus emotion (RAVDESS, Emo-DB)"
CORPORA = ("ravdess", "emodb")


def _cv(args: argparse.Namespace, speaker_norm: bool, folds: int | str) -> dict[str, Any]:
    """One cross-validation of the pool of both corpora."""
    pool = [str(manifest_for(name)) for name in CORPORA]
    config = TrainConfig.build(pool=pool, model=args.model, speaker_norm=speaker_norm)
    kind = "loco" if folds == LOSO else f"pooled{folds}"
    out = Path(args.out) / f"{kind}-{args.model}{'-spknorm' if speaker_norm else ''}"
    return cross_validate(
        config,
        out,
        folds=folds,
        group="corpus" if folds == LOSO else "speaker",
        resume=args.resume,
        progress=not args.quiet,
    )


def _command(args: argparse.Namespace, speaker_norm: bool, folds: int | str) -> str:
    """The `audioclf cv` command the row's numbers are those of."""
    data = " ".join(f"--data benchmarks/.work/{name}.jsonl" for name in CORPORA)
    split = "--folds loso --group corpus" if folds == LOSO else f"--folds {folds}"
    norm = " --speaker-norm" if speaker_norm else ""
    return f"audioclf cv {data} {split} -m {args.model}{norm} -o OUT  (via {command_line()})"


def loco_rows(args: argparse.Namespace, speaker_norm: bool) -> None:
    """One row per direction of a leave-one-corpus-out cross-validation."""
    metrics = _cv(args, speaker_norm, LOSO)
    for fold in metrics["folds"]:
        tested = next(name for name, n in fold["corpora"].items() if n["n_test"])
        trained = next(name for name in fold["corpora"] if name != tested)
        row = {
            "train → test": f"{trained} → {tested}",
            "model": args.model,
            "speaker norm": "per test speaker" if speaker_norm else "none",
            "classes": len(fold["labels"]),
            "train clips": fold["n_train"] + fold["n_val"],
            "test clips": fold["n"],
            "WA": round(fold["accuracy"], 3),
            "UA": round(fold["balanced_accuracy"], 3),
            "macro-F1": round(fold["macro_f1"], 3),
            "notes": _load(),
        }
        print(row)
        key = f"{trained}->{tested}/{args.model}/{speaker_norm}"
        record(SECTION, key, row, _command(args, speaker_norm, LOSO))


def pooled_rows(args: argparse.Namespace, speaker_norm: bool) -> None:
    """One row per corpus of a pooled, speaker-independent cross-validation."""
    metrics = _cv(args, speaker_norm, args.folds)
    for name, scores in metrics["per_corpus"].items():
        row = {
            "train → test": f"pooled ravdess+emodb → {name} (unseen speakers)",
            "model": args.model,
            "speaker norm": "per test speaker" if speaker_norm else "none",
            "classes": len(metrics["labels"]),
            "train clips": None,
            "test clips": scores["n"],
            "WA": f"{scores['accuracy']:.3f} ± {scores['accuracy_std']:.3f}",
            "UA": f"{scores['balanced_accuracy']:.3f} ± {scores['balanced_accuracy_std']:.3f}",
            "macro-F1": None,
            "notes": f"{metrics['n_folds']} speaker folds inside each corpus; {_load()}",
        }
        print(row)
        key = f"pooled->{name}/{args.model}/{speaker_norm}"
        record(SECTION, key, row, _command(args, speaker_norm, args.folds))


def within_rows(args: argparse.Namespace, speaker_norm: bool) -> None:
    """One row per corpus cross-validated alone on the shared emotions."""
    pooled, _ = pool_manifests([manifest_for(name) for name in CORPORA])
    for name in CORPORA:
        path = write_manifest(
            pooled.filter(lambda c, n=name: c.corpus == n), WORK / f"shared-{name}.jsonl"
        )
        config = TrainConfig.build(data=str(path), model=args.model, speaker_norm=speaker_norm)
        out = Path(args.out) / f"within-{name}-{args.model}{'-spknorm' if speaker_norm else ''}"
        metrics = cross_validate(
            config, out, folds=args.folds, resume=args.resume, progress=not args.quiet
        )
        mean, std = metrics["mean"], metrics["std"]
        row = {
            "train → test": f"{name} alone → {name} (unseen speakers)",
            "model": args.model,
            "speaker norm": "per test speaker" if speaker_norm else "none",
            "classes": len(metrics["labels"]),
            "train clips": None,
            "test clips": metrics["n"],
            "WA": f"{mean['accuracy']:.3f} ± {std['accuracy']:.3f}",
            "UA": f"{mean['balanced_accuracy']:.3f} ± {std['balanced_accuracy']:.3f}",
            "macro-F1": None,
            "notes": f"{metrics['n_folds']} speaker folds; {_load()}",
        }
        print(row)
        norm = " --speaker-norm" if speaker_norm else ""
        command = (
            f"audioclf cv --data benchmarks/.work/shared-{name}.jsonl --folds {args.folds} "
            f"-m {args.model}{norm} -o OUT  (via {command_line()})"
        )
        record(SECTION, f"within->{name}/{args.model}/{speaker_norm}", row, command)


def session_rows(args: argparse.Namespace) -> None:
    """Each leave-one-corpus-out direction scored as the server scores it: with sessions
    (one per test speaker, clips in order) and without (training statistics)."""
    folder = Path(args.out) / f"loco-{args.model}-spknorm"
    for fold in sorted(folder.glob("fold*")):
        predictor = Predictor(fold)
        test = read_manifest(fold / "splits" / "test.jsonl")
        card = predictor.card
        x = clip_vectors(list(test), card.input, card.sample_rate, card.speeds, FeatureCache())
        labels = predictor.classes_
        y = np.array([labels.index(c.label) for c in test])
        assert predictor.norm_stats is not None
        scored = {
            "session, clips in manifest order": _replayed(predictor, test, x, np.arange(len(x))),
            "session, clips in random order": _replayed(
                predictor, test, x, np.random.default_rng(0).permutation(len(x))
            ),
            "no session (training statistics)": predictor.predict_standardised(
                predictor.norm_stats.apply(x)
            ),
        }
        metrics = json.loads((fold / "metrics.json").read_text())
        tested = next(name for name, n in metrics["corpora"].items() if n["n_test"])
        trained = next(name for name in metrics["corpora"] if name != tested)
        for how, probs in scored.items():
            m = classification_metrics(y, probs, labels)
            row = {
                "train → test": f"{trained} → {tested}",
                "model": args.model,
                "speaker norm": f"served: {how}",
                "classes": len(labels),
                "train clips": metrics["n_train"] + metrics["n_val"],
                "test clips": len(test),
                "WA": round(m["accuracy"], 3),
                "UA": round(m["balanced_accuracy"], 3),
                "macro-F1": round(m["macro_f1"], 3),
                "notes": f"min_clips {SessionStore().min_clips}; {fold.name} of {folder.name}",
            }
            print(row)
            record(SECTION, f"{trained}->{tested}/{args.model}/served/{how}", row, command_line())


def _replayed(predictor: Predictor, test: Any, x: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Probabilities of the clips sent in ``order``, one session per speaker, with the
    server's default ``min_clips`` (rows back in manifest order)."""
    stats = predictor.norm_stats
    assert stats is not None
    store = SessionStore(max_sessions=len(x))
    rows = np.zeros_like(x, dtype=np.float32)
    for i in order:
        rows[i] = store.standardise(test[int(i)].speaker, "m", x[i], stats)[0][0]
    return predictor.predict_standardised(rows)


def _load() -> str:
    return f"loadavg {os.getloadavg()[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="voice_logreg")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "runs" / "bench-cross-corpus"))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--only", choices=("loco", "pooled", "within", "sessions"), default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    for speaker_norm in (False, True):
        if args.only in (None, "loco"):
            loco_rows(args, speaker_norm)
        if args.only in (None, "pooled"):
            pooled_rows(args, speaker_norm)
        if args.only in (None, "within"):
            within_rows(args, speaker_norm)
    if args.only in (None, "sessions"):
        session_rows(args)


if __name__ == "__main__":
    main()
