"""The model pool: names, unknown and duplicate models, micro-batching off the event loop."""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from audioclf.service.engine import (
    Batcher,
    DuplicateModelError,
    ModelNotServedError,
    ModelPool,
    ModelResult,
)
from audioclf.service.registry_models import make_pool
from audioclf.service.settings import Settings
from tests.conftest import tone


def test_pool_names_are_run_folder_names(runs: list[Path]) -> None:
    pool = ModelPool(runs)
    assert pool.names == ["cnn", "logreg"]
    assert [p.name for p in pool.select("all")] == ["cnn", "logreg"]
    assert pool.metrics["cnn"]["accuracy"] is not None


def test_unknown_model_lists_loaded_ones(runs: list[Path]) -> None:
    pool = ModelPool(runs)
    with pytest.raises(ModelNotServedError, match=r"'nope'.*cnn, logreg"):
        pool.select("nope")


def test_duplicate_names_are_refused(runs: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "cnn"
    shutil.copytree(runs[0], copy)
    with pytest.raises(DuplicateModelError, match="rename one"):
        ModelPool([runs[0], copy])


def test_predict_all_resamples_to_each_model(runs: list[Path]) -> None:
    pool = ModelPool(runs)

    async def go() -> list[ModelResult]:
        results = await pool.predict("all", tone(1.0, 48_000), 48_000)
        await pool.close()
        return results

    results = asyncio.run(go())
    assert len(results) == 2
    for r in results:
        assert sum(r.probabilities.tolist()) == pytest.approx(1.0, abs=1e-4)
        # the resampling is timed with the batch's own stages
        assert next(iter(r.stages)) == "resample" and r.stages["resample"] > 0
        assert r.stages["model"] > 0


class SlowPredictor:
    """Records the batches it gets and the thread it runs on."""

    name = "slow"

    def __init__(self) -> None:
        self.classes_ = ["a", "b"]
        self.calls: list[int] = []
        self.threads: set[int] = set()

    def predict_proba(self, waves: list[np.ndarray]) -> np.ndarray:
        self.calls.append(len(waves))
        self.threads.add(threading.get_ident())
        return np.array([[float(w[0]), 1 - float(w[0])] for w in waves], dtype=np.float32)


def test_concurrent_requests_are_batched_off_the_loop() -> None:
    predictor = SlowPredictor()
    batcher = Batcher(predictor, wait_ms=50, max_batch=8)  # type: ignore[arg-type]

    async def go() -> list[float]:
        waves = [np.full(10, i / 10, dtype=np.float32) for i in range(5)]
        results = await asyncio.gather(*(batcher.predict(w) for w in waves))
        await batcher.close()
        assert all(stages == {} for _, _, stages in results)  # it marks no stage
        return [float(p[0]) for p, _, _ in results]

    firsts = asyncio.run(go())
    assert firsts == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])  # each gets its own row
    assert predictor.calls == [5]  # one call for all five
    assert threading.get_ident() not in predictor.threads


def test_max_batch_splits_and_errors_reach_every_caller() -> None:
    predictor = SlowPredictor()
    batcher = Batcher(predictor, wait_ms=50, max_batch=2)  # type: ignore[arg-type]

    async def go() -> None:
        waves = [np.full(4, 0.5, dtype=np.float32) for _ in range(5)]
        await asyncio.gather(*(batcher.predict(w) for w in waves))
        with pytest.raises(IndexError):
            await batcher.predict(np.zeros(0, dtype=np.float32))  # w[0] fails in the thread
        await batcher.close()

    asyncio.run(go())
    assert predictor.calls[:3] == [2, 2, 1]


def test_pool_and_registry_pool_give_every_model_the_settings_workers(runs: list[Path]) -> None:
    pool = make_pool(Settings(runs=runs, inference_workers=3))
    assert {name: p.workers for name, p in pool.models.items()} == {"cnn": 3, "logreg": 3}
    assert ModelPool(runs).models["logreg"].workers == 1


def test_added_models_replace_their_name_are_bounded_and_survive_reload(
    runs: list[Path],
) -> None:
    pool = ModelPool(runs[:1])
    assert pool.add("job-a", runs[1], keep=2) == []
    replaced = pool.add("job-a", runs[0], keep=2)
    assert len(replaced) == 1 and pool.get("job-a").run.root == runs[0]
    pool.add("job-b", runs[1], keep=2)
    dropped = pool.add("job-c", runs[1], keep=2)  # the oldest added model goes
    assert len(dropped) == 1 and list(pool.added) == ["job-b", "job-c"]
    assert pool.names == ["cnn", "job-b", "job-c"]
    pool.reload()
    assert pool.names == ["cnn", "job-b", "job-c"] and pool.get("job-b").name == "job-b"
