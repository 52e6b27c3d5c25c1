"""Which hidden states of the Whisper-base encoder to pool, and how hard to regularise.

For each clip of a protocol's corpus, the mean and standard deviation over time of every
hidden state of the encoder (audioclf.features.whisper_encoder.hidden_states: 0 = the
embedded input, 1-6 the blocks, 6 after the final layer norm); then a logistic
regression (StandardScaler → LogisticRegression, balanced classes, as `whisper_logreg`)
on several layer choices and values of C, on the protocol's speaker-grouped folds (all
clips outside the test fold train; no validation split is needed). Reports the pooled
accuracy (WA) and the mean per-class recall (UA) over all clips. The chosen default
(`whisper` = states 3 and 4, C = 0.1) comes from this table.

    .venv/bin/python -m benchmarks.whisper_layers emodb ravdess
    .venv/bin/python -m benchmarks.whisper_layers emodb --states 1 1+2 --C 0.1 0.3
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from audioclf.audio import AudioError
from audioclf.features.cache import FeatureCache, map_readable
from audioclf.features.whisper_encoder import WIDTH, hidden_states, pooled
from audioclf.formats.manifest import read_manifest
from audioclf.models.classical import logreg
from benchmarks.protocols import PROTOCOLS, fold_masks, manifest_for
from benchmarks.results import command_line, record

STATES = tuple(range(7))
CHOICES = {
    "1": (1,),
    "2": (2,),
    "3": (3,),
    "4": (4,),
    "5": (5,),
    "6": (6,),
    "1+2": (1, 2),
    "2+3": (2, 3),
    "3+4": (3, 4),
    "4+5": (4, 5),
    "3+4+5": (3, 4, 5),
}
C_VALUES = (0.03, 0.1, 0.3)


def _all_states(y: np.ndarray, sr: int) -> np.ndarray:
    """Mean and std of every hidden state, state by state: ``(7 * 2 * WIDTH,)``."""
    return pooled(hidden_states(y, sr), STATES)


def _columns(layers: tuple[int, ...]) -> np.ndarray:
    width = 2 * WIDTH
    return np.concatenate([np.arange(i * width, (i + 1) * width) for i in layers])


def _out_of_fold(
    x: np.ndarray,
    y: np.ndarray,
    folds: list[np.ndarray],
    n_classes: int,
    C: float,  # noqa: N803
) -> np.ndarray:
    predicted = np.zeros(len(y), dtype=int)
    for test in folds:
        model = logreg(n_classes, C=C).fit(x[~test], y[~test])
        predicted[test] = model.predict(x[test])
    return predicted


def _readable(result: np.ndarray | AudioError) -> np.ndarray:
    if isinstance(result, AudioError):
        raise result
    return result


def _unweighted(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean([np.mean(predicted[y == k] == k) for k in np.unique(y)]))


def run(name: str, choices: list[str], c_values: list[float]) -> list[dict[str, Any]]:
    manifest = read_manifest(manifest_for(name))
    cache = FeatureCache()
    clips = list(manifest)
    states = np.stack(
        [
            _readable(result)
            for result in map_readable(
                lambda c: cache.features(
                    c, "whisper_states", {"states": len(STATES)}, _all_states, 16_000
                ),
                clips,
                description=f"{name}: whisper encoder",
            )
        ]
    )
    labels = sorted({c.label for c in clips})
    y = np.array([labels.index(c.label) for c in clips])
    folds = fold_masks(name, clips, manifest)
    rows = []
    for choice in choices:
        x = states[:, _columns(CHOICES[choice])]
        for C in c_values:  # noqa: N806
            predicted = _out_of_fold(x, y, folds, len(labels), C)
            row = {
                "corpus": PROTOCOLS[name].description,
                "states pooled": choice,
                "C": C,
                "WA": round(float(np.mean(predicted == y)), 3),
                "UA": round(_unweighted(y, predicted), 3),
            }
            record(
                "Whisper encoder: layers and regularisation",
                f"{name}/states {choice}, C {C:g}",
                row,
                command_line(),
            )
            print(name, row, flush=True)
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocols", nargs="+", choices=sorted(PROTOCOLS))
    parser.add_argument("--states", nargs="+", choices=list(CHOICES), default=list(CHOICES))
    parser.add_argument("--C", nargs="+", type=float, default=list(C_VALUES), dest="c_values")
    args = parser.parse_args()
    for name in args.protocols:
        run(name, args.states, args.c_values)


if __name__ == "__main__":
    main()
