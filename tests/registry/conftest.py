"""Fixtures of the registry tests: an empty database per backend and tiny trained runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from tests.corpus_factory import make_corpus
from tests.registry.dbs import BACKENDS, temporary_db


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty registry database (SQLite file; PostgreSQL when AUDIOCLF_TEST_PG_URL is set)."""
    yield from temporary_db(request.param, tmp_path)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny two-class corpus with 6 speakers; returns its manifest."""
    return make_corpus(tmp_path_factory.mktemp("registry_corpus"), speakers=6, per_class=2)


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> list[Path]:
    """A finished logreg run on the corpus, listed twice (two versions to register)."""
    root = tmp_path_factory.mktemp("registry_runs")
    old = os.environ.get("AUDIOCLF_CACHE")
    os.environ["AUDIOCLF_CACHE"] = str(root / "cache")
    try:
        config = TrainConfig.build(
            {
                "data": str(corpus),
                "model": "logreg",
                "clip_seconds": 0.5,
                "augment": "none",
                "epochs": 1,
                "test": 0.34,
                "val": 0.17,
            }
        )
        run = train_run(config, root / "run0", progress=False).run_dir
        out = [run, run]
    finally:
        if old is None:
            os.environ.pop("AUDIOCLF_CACHE", None)
        else:
            os.environ["AUDIOCLF_CACHE"] = old
    return out
