"""How ``auto`` judges its candidates: balanced accuracy (UA) on voices they did not
train on, never the test split.

A classical candidate is judged by grouped k-fold CV inside train + validation
(:mod:`audioclf.train.auto.inner_cv`), a neural one by its best epoch's validation score
(one training is all the budget allows). :func:`ensemble_pair` names the best of each
family, the pair ``auto`` serves together.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from audioclf.train.single import RunResult

# balanced accuracy (UA), the figure the trainer picks epochs on, estimated without the
# test split: inner grouped CV when the candidate has it, else the validation split
SELECTION_KEYS = ("cv_balanced_accuracy", "val_balanced_accuracy")


def estimate_key(metrics: dict[str, Any]) -> str | None:
    """The held-out estimate a candidate is judged by: inner grouped CV where the run has
    one (classical models), else the validation split (the best epoch of a torch model)."""
    return next((key for key in SELECTION_KEYS if metrics.get(key) is not None), None)


def held_out_score(metrics: dict[str, Any]) -> float:
    key = estimate_key(metrics)
    return float(metrics[key]) if key else float("-inf")


def best_of(results: dict[str, RunResult], names: Iterable[str]) -> str | None:
    """The one of ``names`` with the best held-out estimate (ties go to the earlier, i.e.
    cheaper, candidate), or None when none has an estimate."""
    scored = [name for name in names if held_out_score(results[name].metrics) > float("-inf")]
    return max(scored, key=lambda name: held_out_score(results[name].metrics)) if scored else None


def candidate_rows(results: dict[str, RunResult]) -> list[dict[str, Any]]:
    """Every candidate's estimate, how it was made, and its cost."""
    return [
        {
            "model": name,
            "score": result.metrics.get(estimate_key(result.metrics) or ""),
            "estimate": estimate_key(result.metrics),
            **{key: result.metrics.get(key) for key in (*SELECTION_KEYS, "val_accuracy")},
            "train_seconds": result.metrics.get("train_seconds"),
            "latency_ms": result.metrics.get("latency_ms"),
            "ms_per_audio_second": _cost_total(result.metrics),
            "params": result.metrics.get("params"),
        }
        for name, result in results.items()
    ]


def _cost_total(metrics: dict[str, Any]) -> float | None:
    """The candidate's inference ms per second of audio (``cost``), None when unmeasured."""
    total = ((metrics.get("cost") or {}).get("ms_per_audio_second") or {}).get("total")
    return float(total) if isinstance(total, int | float) else None


def ensemble_pair(results: dict[str, RunResult]) -> tuple[str, str] | None:
    """The best neural and the best classical candidate by their held-out estimates, or
    None when one family did not run (or has no estimate)."""
    classical = {name for name, result in results.items() if result.card.family == "classical"}
    neural = best_of(results, [name for name in results if name not in classical])
    best_classical = best_of(results, [name for name in results if name in classical])
    return (neural, best_classical) if neural and best_classical else None
