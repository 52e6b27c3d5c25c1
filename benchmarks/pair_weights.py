"""What weighting auto's pair on the validation clips changed, fold by fold.

Reads the default-model runs that `benchmarks.protocols` left in runs/bench/NAME-auto/
(run it first) and, for each fold, scores the test clips with the pair's two candidates
(the CNN and the best classical model, from `candidates/`) combined with fixed neural
weights: 0 is the classical model alone, 0.5 the plain product auto served before, 1 the
CNN alone. The row puts the weight auto chose (on the validation clips; the test clips
played no part) next to the fixed ones. Nothing is trained; the members' test
predictions are recomputed from their run folders.

    .venv/bin/python -m benchmarks.pair_weights emodb ravdess fsdd speechcommands
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.features.cache import FeatureCache
from audioclf.formats.manifest import Manifest, read_manifest
from audioclf.inference.combine import combine_probabilities
from audioclf.inference.predictor import Predictor
from audioclf.train.vectors import load_vectors
from benchmarks.protocols import PROTOCOLS, ROOT
from benchmarks.results import command_line, record

SECTION = "Weighting auto's pair on the validation clips"
FIXED = (0.0, 0.25, 0.5, 0.75, 1.0)


def fold_accuracies(fold: Path) -> tuple[float, dict[float, float], float] | None:
    """The neural weight auto chose in ``fold``, the test accuracy of each weight of
    :data:`FIXED` and the weight of :func:`best_score_weight`, or None when the fold
    kept no pair (one family ran)."""
    selection = json.loads((fold / "metrics.json").read_text())["selection"]
    pair = selection.get("pair")
    if not pair or "weights" not in selection:
        return None
    neural, classical = (Predictor(fold / "candidates" / name) for name in pair)
    labels = neural.classes_
    test = [c for c in read_manifest(fold / "splits" / "test.jsonl") if c.label in labels]
    cache = FeatureCache()
    waves = [cache.load(c, neural.sample_rate) for c in test]
    targets = np.array([labels.index(c.label) for c in test])
    p_neural = neural.predict_proba(waves)
    order = [classical.classes_.index(label) for label in labels]
    # the classical member's vectors through the feature cache the runs filled (with
    # speed views, recomputing them would take minutes a fold)
    vectors = load_vectors(
        Manifest(test),
        classical.classes_,
        classical.sample_rate,
        classical.input_kind,
        cache=cache,
        progress=False,
        speeds=classical.card.speeds,
    )
    if len(vectors.clips) != len(test):
        raise RuntimeError(f"{fold}: {len(vectors.skipped)} test clips could not be read")
    p_classical = classical.predict_vectors(np.stack(vectors.waves))[:, order]
    accuracies = {
        w: float(
            np.mean(
                combine_probabilities([p_neural, p_classical], "product", [w, 1 - w]).argmax(1)
                == targets
            )
        )
        for w in FIXED
    }
    return float(selection["weights"][pair[0]]), accuracies, best_score_weight(selection)


def best_score_weight(selection: dict[str, Any]) -> float:
    """The CNN's share by validation score alone, without auto's significance test (the
    rule auto used before it): the best of ``weight_scores``, ties to 0.5."""
    scores = {float(w): float(v) for w, v in selection["weight_scores"].items()}
    return max(scores, key=lambda w: (scores[w], -abs(w - 0.5)))


def run(name: str, runs: Path) -> dict[str, Any] | None:
    folds = sorted((runs / f"{name}-auto").glob("fold*"), key=lambda p: int(p.name[4:]))
    results = [r for r in (fold_accuracies(f) for f in folds) if r is not None]
    if not results:
        print(
            f"{name}: no fold of {runs / f'{name}-auto'} kept a weighted pair; run "
            f"`.venv/bin/python -m benchmarks.protocols {name}` first"
        )
        return None
    chosen = [acc[w] for w, acc, _ in results]

    def cell(values: list[float]) -> str:
        return f"{np.mean(values):.3f} ± {np.std(values):.3f}"

    row: dict[str, Any] = {
        "protocol": PROTOCOLS[name].description,
        "folds": len(results),
        "CNN weight chosen": " ".join(f"{w:g}" for w, _, _ in results),
        "WA chosen": cell(chosen),
    }
    for w, label in ((0.5, "product (0.5)"), (0.0, "classical alone (0)"), (1.0, "CNN alone (1)")):
        row[f"WA {label}"] = cell([acc[w] for _, acc, _ in results])
    row["CNN weight by score alone"] = " ".join(f"{s:g}" for _, _, s in results)
    row["WA by score alone"] = cell([acc[s] for _, acc, s in results])
    record(SECTION, name, row, command_line())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocols", nargs="+", choices=sorted(PROTOCOLS))
    parser.add_argument("--runs", default=str(ROOT / "runs" / "bench"))
    args = parser.parse_args()
    for name in args.protocols:
        print(name, run(name, Path(args.runs)))


if __name__ == "__main__":
    main()
