"""Each evaluation plot writes a non-empty PNG and closes its figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from audioclf.evaluate import plots
from audioclf.evaluate.metrics import classification_metrics


def _metrics(n_classes: int, n: int = 200, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    labels = [f"class_{i:02d}_long_name" for i in range(n_classes)]
    y = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_classes))
    logits[np.arange(n), y] += 2.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return classification_metrics(y, probs, labels)


def _png(path: Path) -> None:
    assert path.is_file()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 1000


@pytest.mark.parametrize("n_classes", [3, 35])
@pytest.mark.parametrize("normalized", [True, False])
def test_confusion(tmp_path: Path, n_classes: int, normalized: bool) -> None:
    m = _metrics(n_classes)
    out = plots.plot_confusion(
        m["confusion"], m["labels"], tmp_path / "c.png", normalized=normalized, title="t"
    )
    _png(out)
    assert plt.get_fignums() == []


def test_confusion_rejects_wrong_shape(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not match"):
        plots.plot_confusion(
            [[1, 0], [0, 1]], ["a", "b", "c"], tmp_path / "c.png", normalized=True, title="t"
        )


def test_reliability_and_per_class(tmp_path: Path) -> None:
    m = _metrics(35)
    _png(plots.plot_reliability(m["reliability"], tmp_path / "r.png", m["ece"]))
    _png(plots.plot_per_class(m, tmp_path / "sub" / "p.png"))
    assert plt.get_fignums() == []


def test_training_curves_with_and_without_validation(tmp_path: Path) -> None:
    full = tmp_path / "history.csv"
    full.write_text(
        "epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_balanced_accuracy,lr,seconds\n"
        "1,1.2,0.4,1.1,0.45,0.40,0.001,1.0\n"
        "2,0.9,0.6,0.8,0.65,0.70,0.001,1.0\n"
        "3,0.7,0.7,0.9,0.60,0.55,0.001,1.0\n"
    )
    _png(plots.plot_training_curves(full, tmp_path / "t.png"))
    no_val = tmp_path / "history2.csv"
    no_val.write_text(
        "epoch,train_loss,train_accuracy,lr,seconds\n1,1.0,0.5,0.1,1\n2,0.8,0.6,0.1,1\n"
    )
    _png(plots.plot_training_curves(no_val, tmp_path / "t2.png"))


def test_best_epoch_prefers_validation_ua() -> None:
    history = {
        "epoch": [1.0, 2.0, 3.0],
        "val_balanced_accuracy": [0.4, 0.7, 0.55],
        "val_loss": [1.0, 1.1, 0.5],
    }
    assert plots.best_epoch(history) == 2
    assert plots.best_epoch({"epoch": [1.0, 2.0], "train_loss": [0.9, 0.3]}) == 2
    assert plots.best_epoch({}) is None


def test_training_curves_without_epochs_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "history.csv"
    empty.write_text("epoch,train_loss\n")
    with pytest.raises(ValueError, match="no epochs"):
        plots.plot_training_curves(empty, tmp_path / "t.png")


def test_fold_scores(tmp_path: Path) -> None:
    folds = [_metrics(4, seed=s) for s in range(5)]
    _png(plots.plot_fold_scores(folds, tmp_path / "f.png"))
