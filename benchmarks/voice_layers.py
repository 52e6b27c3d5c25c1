"""Which layers of the pretrained voice encoder to pool, and how hard to regularise.

For each clip of a protocol's corpus, the mean and standard deviation over time of each
LSTM layer's outputs (audioclf.features.voice_encoder.layer_outputs); then a logistic
regression (StandardScaler → LogisticRegression, balanced classes, as `voice_logreg`) on
several layer choices and values of C, alone and multiplied with a ComParE logistic
regression (as `fusion_voice_logreg`), on the protocol's speaker-grouped folds (all
clips outside the test fold train; no validation split is needed). The chosen default
(`voice_encoder` = layers 2 and 3, C = 0.1) comes from this table.

    .venv/bin/python -m benchmarks.voice_layers emodb ravdess
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from audioclf.console import track
from audioclf.features.cache import FeatureCache
from audioclf.features.smile import compare_functionals
from audioclf.features.voice_encoder import HIDDEN, LAYERS, layer_outputs
from audioclf.formats.manifest import read_manifest
from audioclf.inference.combine import combine_probabilities
from audioclf.models.classical import logreg
from benchmarks.protocols import PROTOCOLS, fold_masks, manifest_for
from benchmarks.results import command_line, record

CHOICES = {"1": (1,), "2": (2,), "3": (3,), "2+3": (2, 3), "1+2+3": (1, 2, 3)}
C_VALUES = (0.03, 0.1, 0.3)
COMPARE_C = 0.01


def _all_layers(y: np.ndarray, sr: int) -> np.ndarray:
    """Mean and std of every layer's outputs, layer by layer: ``(LAYERS * 2 * HIDDEN,)``."""
    outputs = layer_outputs(y, sr)
    return np.concatenate([s for o in outputs for s in (o.mean(axis=0), o.std(axis=0))])


def _columns(layers: tuple[int, ...]) -> np.ndarray:
    width = 2 * HIDDEN
    return np.concatenate([np.arange((i - 1) * width, i * width) for i in layers])


def _out_of_fold(
    x: np.ndarray,
    y: np.ndarray,
    folds: list[np.ndarray],
    n_classes: int,
    C: float,  # noqa: N803
) -> np.ndarray:
    probs = np.zeros((len(y), n_classes))
    for test in folds:
        model = logreg(n_classes, C=C).fit(x[~test], y[~test])
        probs[test] = model.predict_proba(x[test])
    return probs


def run(name: str) -> list[dict[str, Any]]:
    manifest = read_manifest(manifest_for(name))
    cache = FeatureCache()
    clips = list(manifest)
    voice = np.stack(
        [
            cache.features(c, "voice_encoder_layers", {"layers": LAYERS}, _all_layers, 16_000)
            for c in track(clips, description=f"{name}: voice encoder")
        ]
    )
    compare = np.stack(
        [
            cache.features(c, "compare", {}, compare_functionals, 16_000)
            for c in track(clips, description=f"{name}: ComParE")
        ]
    )
    labels = sorted({c.label for c in clips})
    y = np.array([labels.index(c.label) for c in clips])
    folds = fold_masks(name, clips, manifest)
    with_compare = _out_of_fold(compare, y, folds, len(labels), COMPARE_C)
    accuracy = float(np.mean(with_compare.argmax(axis=1) == y))
    rows: list[dict[str, Any]] = [
        {"layers": "— (ComParE alone)", "C": COMPARE_C, "alone": accuracy, "× ComParE": None}
    ]
    for choice, layers in CHOICES.items():
        x = voice[:, _columns(layers)]
        for C in C_VALUES:  # noqa: N806
            probs = _out_of_fold(x, y, folds, len(labels), C)
            rows.append(
                {
                    "layers": choice,
                    "C": C,
                    "alone": float(np.mean(probs.argmax(axis=1) == y)),
                    "× ComParE": float(
                        np.mean(
                            combine_probabilities([probs, with_compare], "product").argmax(axis=1)
                            == y
                        )
                    ),
                }
            )
    for row in rows:
        key = f"{name}/layers {row['layers']}, C {row['C']:g}"
        shown = {
            "corpus": PROTOCOLS[name].description,
            "layers pooled": row["layers"],
            "C": row["C"],
            "WA alone": round(row["alone"], 3),
            "WA × ComParE": None if row["× ComParE"] is None else round(row["× ComParE"], 3),
        }
        record("Voice encoder: layers and regularisation", key, shown, command_line())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocols", nargs="+", choices=sorted(PROTOCOLS))
    args = parser.parse_args()
    for name in args.protocols:
        for row in run(name):
            print(name, row)


if __name__ == "__main__":
    main()
