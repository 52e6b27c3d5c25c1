"""The run report: fake run, cv and evaluation folders built from hand-made predictions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audioclf.evaluate.crosscorpus import score_with_label_map
from audioclf.evaluate.metrics import SUMMARY_KEYS, classification_metrics, mean_std
from audioclf.evaluate.report import ReportError, write_eval_report, write_run_report

LABELS = ["angry", "happy", "sad"]
HISTORY = (
    "epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_balanced_accuracy,lr,seconds\n"
    "1,1.1,0.40,1.0,0.50,0.45,0.003,2.0\n"
    "2,0.8,0.65,0.9,0.60,0.62,0.003,2.0\n"
    "3,0.6,0.80,0.95,0.58,0.57,0.001,2.0\n"
)


def _probs(predicted: list[int], n_classes: int = 3) -> np.ndarray:
    probs = np.full((len(predicted), n_classes), 0.15)
    probs[np.arange(len(predicted)), predicted] = 0.7
    return probs


def _test_metrics(seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    pred = np.where(rng.random(len(y)) < 0.7, y, (y + 1) % 3)
    return classification_metrics(y, _probs(pred.tolist()), LABELS)


def _facts(**extra: Any) -> dict[str, Any]:
    return {
        "model": "cnn_small",
        "params": 123_456,
        "train_seconds": 75.3,
        "latency_ms": 4.2,
        "best_epoch": 2,
        "epochs_run": 3,
        "split": "speaker",
        "n_train": 70,
        "n_val": 10,
        "n_test": 10,
        "data": "corpus/manifest.jsonl",
        "skipped": [{"path": "corpus/<broken>.wav", "reason": "not an audio file"}],
    } | extra


def make_run(folder: Path, seed: int = 0, *, history: bool = True) -> dict[str, Any]:
    """A finished-looking run folder: metrics.json, config.yaml, history.csv, report."""
    folder.mkdir(parents=True)
    metrics = _test_metrics(seed) | _facts()
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "config.yaml").write_text(
        "data: corpus/manifest.jsonl\nmodel: cnn_small\nepochs: 3\nlabel_map: {}\n"
        "model_options:\n  width: 32\n"
    )
    if history:
        (folder / "history.csv").write_text(HISTORY)
    return metrics


def _referenced_images(html: str) -> set[str]:
    return set(re.findall(r'<img src="([^"]+)"', html))


def _check_plots(folder: Path, html: str, expected: set[str]) -> None:
    pngs = {f"plots/{p.name}" for p in (folder / "plots").glob("*.png")}
    assert pngs == {f"plots/{name}" for name in expected}
    assert _referenced_images(html) == pngs
    for png in pngs:
        assert (folder / png).stat().st_size > 1000


def test_run_report_has_numbers_tables_and_every_plot(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "emo"
    metrics = make_run(run)
    path = write_run_report(run)
    assert path == run / "report.html"
    html = path.read_text()
    _check_plots(
        run,
        html,
        {
            "confusion_normalized.png",
            "confusion_counts.png",
            "per_class.png",
            "reliability.png",
            "training_curves.png",
        },
    )
    assert f"{100 * metrics['accuracy']:.1f} %" in html
    assert f"{100 * metrics['balanced_accuracy']:.1f} %" in html
    assert f"{metrics['ece']:.3f}" in html
    assert "123.5 k" in html  # params
    assert "1 min 15 s" in html  # train time
    assert "4.2 ms" in html  # latency
    for label in LABELS:
        assert f"<td>{label}</td>" in html
    assert "cnn_small" in html and "width" in html  # config summary
    assert "validation clips" in html
    # the skipped file is listed, and escaped
    assert "corpus/&lt;broken&gt;.wav" in html and "<broken>" not in html
    assert "http" not in html.replace('lang="en"', "")  # no CDN or external resource
    assert "<script" not in html


def test_run_report_tables_the_cost_by_stage_and_member(tmp_path: Path) -> None:
    run = tmp_path / "ens"
    run.mkdir()
    cost = {
        "clips": 4,
        "audio_seconds": 2.5,
        "threads": 1,
        "ms_per_audio_second": {
            "total": 20.0,
            "decode": 1.0,
            "1-cnn/model": 4.0,
            "2-logreg/speech_embedding@0.9": 12.0,
            "combine": 0.5,
            "other": 2.5,
        },
        "ms_per_clip_p50": 11.25,
        "members": {"1-cnn": 4.0, "2-logreg": 12.0},
    }
    (run / "metrics.json").write_text(json.dumps(_facts(skipped=[], cost=cost)))
    html = write_run_report(run).read_text()
    assert "Cost per second of audio" in html and "on 4 of the run" in html
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)", html
    )
    assert ("2-logreg/speech_embedding@0.9", "12.000", "60.0 %") in rows
    assert ("2-logreg", "12.000", "60.0 %") in rows  # the member's subtotal
    assert ("combine", "0.500", "2.5 %") in rows
    assert "20.0 ms" in html  # the headline card
    assert "11.2 ms a clip" in html


def test_run_report_says_why_no_cost_was_measured(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    skipped = {"clips": 0, "skipped": "the run has no test clips"}
    (run / "metrics.json").write_text(json.dumps(_facts(skipped=[], cost=skipped)))
    html = write_run_report(run).read_text()
    assert "Not measured: the run has no test clips." in html


def test_run_report_without_history_or_test_scores(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps(_facts(skipped=[])))
    html = write_run_report(run).read_text()
    assert "No test metrics" in html
    assert "every file was read" in html
    assert _referenced_images(html) == set()


def test_cv_report_shows_folds_with_mean_and_std(tmp_path: Path) -> None:
    cv = tmp_path / "emo-cv"
    folds = [make_run(cv / f"fold{i}", seed=i) for i in range(1, 4)]
    for i in range(1, 4):
        write_run_report(cv / f"fold{i}")
    mean, std = mean_std(folds)
    confusion = np.sum([np.asarray(f["confusion"]) for f in folds], axis=0)
    aggregate = {
        "kind": "cv",
        "model": "cnn_small",
        "params": 123_456,
        "folds": folds,
        "mean": mean,
        "std": std,
        "labels": LABELS,
        "confusion": confusion.tolist(),
        "n": 30,
        "train_seconds": 200.0,
        "latency_ms": 4.0,
        "n_folds": 3,
    } | {key: mean[key] for key in SUMMARY_KEYS}
    (cv / "metrics.json").write_text(json.dumps(aggregate))
    html = write_run_report(cv).read_text()
    _check_plots(
        cv,
        html,
        {
            "confusion_normalized.png",
            "confusion_counts.png",
            "per_class.png",
            "fold_scores.png",
        },
    )
    ua = f"{100 * mean['balanced_accuracy']:.1f} % ± {100 * std['balanced_accuracy']:.1f} %"
    assert ua in html
    assert "mean ± std" in html
    assert html.count("corpus/&lt;broken&gt;.wav") == 1  # skipped in every fold, listed once
    for i in range(1, 4):
        assert f'href="fold{i}/report.html"' in html
    # the pooled per-class support comes from the summed confusion
    assert f'<td class="num">{int(confusion[2].sum())}</td>' in html


def test_eval_report_lists_unknown_labels(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    out.mkdir()
    true = ["angry", "happy", "sad", "sad", "bored", "bored", None]
    metrics = score_with_label_map(true, _probs([0, 1, 2, 0, 2, 1, 0]), LABELS)
    metrics |= _facts(label_map={"wut": "angry", "ekel": None}, run="runs/emo")
    (out / "metrics.json").write_text(json.dumps(metrics))
    html = write_eval_report(out).read_text()
    assert "evaluation report" in html
    assert "<td>bored</td>" in html
    assert "happy 1 (50%), sad 1 (50%)" in html
    assert "1 clips dropped by the label map" in html
    assert "(dropped)" in html
    assert (out / "plots" / "confusion_normalized.png").is_file()


def test_folder_without_metrics_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"no metrics\.json"):
        write_run_report(tmp_path)


def test_a_pooled_run_shows_each_corpus() -> None:
    from audioclf.evaluate.report import _corpus_rows

    run = {
        "corpora": {"a": {"n_train": 8, "n_val": 2, "n_test": 4, "train_repeat": 2}},
        "per_corpus": {"a": {"accuracy": 0.5, "balanced_accuracy": 0.25, "n": 4}},
    }
    assert _corpus_rows(run) == [
        ("corpus a", "8 train · 2 val · 4 test clips, training clips ×2; test WA 0.500, UA 0.250")
    ]
    cv = {
        "per_corpus": {
            "b": {
                "accuracy": 0.5,
                "accuracy_std": 0.1,
                "balanced_accuracy": 0.4,
                "balanced_accuracy_std": 0.0,
                "n": 9,
            }
        }
    }
    assert _corpus_rows(cv) == [("corpus b", "test WA 0.500 ± 0.100, UA 0.400 ± 0.000")]
    assert _corpus_rows({}) == []
