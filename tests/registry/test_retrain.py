from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from audioclf.formats.manifest import read_manifest
from audioclf.registry import Registry, RegistryError
from audioclf.registry.feedback_pool import add_clip
from audioclf.registry.lock import Lease, LockHeldError
from audioclf.registry.retrain import retrain
from audioclf.registry.tables import LockRow


@pytest.fixture
def production(db_url: str, trained_runs: list[Path], tmp_path: Path) -> Registry:
    """A registry with v1 of ``m`` in production (a copy of the trained run)."""
    run = tmp_path / "runs" / "m-v1"
    shutil.copytree(trained_runs[0], run)
    reg = Registry(db_url)
    reg.add(run, "m")
    reg.promote("m", 1)
    return reg


def _feedback_clip(pool: Path) -> str:
    t = np.arange(8000) / 16000
    add_clip(
        pool, "pred-1", (0.3 * np.sin(2 * np.pi * 2400 * t)).astype(np.float32), 16000, "high", "m"
    )
    return "feedback/pred-1"


def test_retrain_keeps_or_promotes_by_margin_on_the_fixed_test_split(
    production: Registry, corpus: Path, tmp_path: Path
) -> None:
    pool = tmp_path / "pool"
    feedback_id = _feedback_clip(pool)
    prod_test = read_manifest(production.production("m").run_dir / "splits" / "test.jsonl")

    kept = retrain(
        "m",
        corpus,
        registry=production,
        feedback_dir=pool,
        margin=1.0,
        out_dir=tmp_path / "cand",
        progress=False,
    )
    assert not kept.promoted
    assert kept.n_feedback == 1
    assert production.production("m").version == 1
    assert production.get("m", 2).stage == "candidate"
    cand = Path(kept.candidate_run)
    train = read_manifest(cand / "splits" / "train.jsonl")
    test = read_manifest(cand / "splits" / "test.jsonl")
    assert feedback_id in {c.id for c in train}  # the pool trains ...
    assert [c.id for c in test] == [c.id for c in prod_test]  # ... and never tests
    assert not set(train.speakers) & set(test.speakers)
    report = json.loads((cand / "comparison" / "comparison.json").read_text())
    assert report["promoted"] is False
    assert "stays candidate" in (cand / "comparison" / "comparison.md").read_text()

    promoted = retrain(
        "m",
        corpus,
        registry=production,
        feedback_dir=pool,
        margin=-1.0,
        out_dir=tmp_path / "cand",
        progress=False,
    )
    assert promoted.promoted and promoted.candidate_version == 3
    assert production.production("m").version == 3
    with production.sessions() as s:
        assert s.query(LockRow).count() == 0  # released


def test_a_second_retrain_is_refused_while_one_runs(
    production: Registry, corpus: Path, tmp_path: Path
) -> None:
    with Lease(production.sessions, "retrain:m"), pytest.raises(LockHeldError):
        retrain("m", corpus, registry=production, feedback_dir=tmp_path, progress=False)
    assert [v.version for v in production.list("m")] == [1]


def test_a_crash_leaves_production_untouched_and_frees_the_lock(
    production: Registry, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed mid-training")

    monkeypatch.setattr("audioclf.registry.retrain.train_run", crash)
    with pytest.raises(RuntimeError, match="killed"):
        retrain("m", corpus, registry=production, feedback_dir=tmp_path, progress=False)
    assert production.production("m").version == 1
    assert [v.version for v in production.list("m")] == [1]
    with production.sessions() as s:
        assert s.query(LockRow).count() == 0


def test_retrain_needs_a_production_version(db_url: str, corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no model named"):
        retrain("m", corpus, registry=Registry(db_url), feedback_dir=tmp_path, progress=False)
