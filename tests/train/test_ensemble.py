"""Ensembles: runs combined into one servable run folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from audioclf.features import cached_vectors, inputs
from audioclf.features.cache import FeatureCache
from audioclf.formats.manifest import read_manifest
from audioclf.inference.combine import EnsembleError
from audioclf.inference.predictor import Predictor
from audioclf.train.config import TrainConfig
from audioclf.train.ensemble import build_ensemble
from audioclf.train.run import train_run
from tests.corpus_factory import make_corpus

CNN = {"model": "cnn2d_2", "clip_seconds": 0.5, "batch_size": 8, "augment": "none", "epochs": 2}


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("ensemble")
    manifest = make_corpus(root / "corpus")
    splits = None
    runs = []
    for name, values in (("cnn", CNN), ("logreg", {"model": "logreg"})):
        result = train_run(
            TrainConfig.build({"data": str(manifest), **values}),
            root / name,
            progress=False,
            splits=splits,
        )
        splits = {
            n: read_manifest(result.run_dir / "splits" / f"{n}.jsonl")
            for n in ("train", "val", "test")
        }
        runs.append(result.run_dir)
    return manifest, runs


def test_ensemble_serves_the_combined_probabilities(
    tmp_path: Path, members: tuple[Path, list[Path]]
) -> None:
    manifest, runs = members
    metrics = build_ensemble(runs, tmp_path / "ens", combine="mean", progress=False)
    # members are copied: the ensemble folder serves on its own
    assert sorted(p.name for p in (tmp_path / "ens" / "members").iterdir()) == ["1-cnn", "2-logreg"]
    predictor = Predictor(tmp_path / "ens")
    assert predictor.backend == "ensemble" and predictor.card.family == "ensemble"
    clip = read_manifest(manifest)[0].path
    parts = [Predictor(r).predict_source(clip) for r in runs]
    np.testing.assert_allclose(predictor.predict_source(clip), (parts[0] + parts[1]) / 2, atol=1e-5)
    # scored on the members' common test split
    test = read_manifest(runs[0] / "splits" / "test.jsonl")
    assert metrics["n_test"] == len(test) and 0 <= metrics["accuracy"] <= 1
    # costed member by member, with the combining
    cost = metrics["cost"]
    stages = cost["ms_per_audio_second"]
    assert {"1-cnn/model", "2-logreg/pooled@1", "2-logreg/model", "combine"} <= set(stages)
    assert set(cost["members"]) == {"1-cnn", "2-logreg"}
    member = stages["1-cnn/crops"] + stages["1-cnn/model"]
    assert cost["members"]["1-cnn"] == pytest.approx(member, abs=1e-3)
    assert metrics["latency_ms"] > 0 and metrics["params"] > 0
    saved = json.loads((tmp_path / "ens" / "metrics.json").read_text())
    assert [m["model"] for m in saved["members"]] == ["cnn2d_2", "logreg"]
    assert (tmp_path / "ens" / "report.html").is_file()


def test_ensemble_scores_a_manifest_through_the_feature_cache(
    tmp_path: Path, members: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest, runs = members
    build_ensemble(runs, tmp_path / "ens", combine="product", weights=[1, 3], progress=False)
    predictor = Predictor(tmp_path / "ens")
    clips = list(read_manifest(manifest))[:6]
    cache = FeatureCache()
    waves = [cache.load(clip, predictor.sample_rate) for clip in clips]
    expected = predictor.predict_proba(waves)
    np.testing.assert_allclose(
        predictor.predict_clips(clips, waves, cache=cache), expected, atol=1e-5
    )

    # the classical member's vectors now come from the cache, not from the waveforms
    def failing(part: str) -> Callable[[np.ndarray, int], np.ndarray]:
        def compute(y: np.ndarray, sample_rate: int) -> np.ndarray:
            raise AssertionError(f"{part} computed again")

        return compute

    monkeypatch.setattr(cached_vectors, "vector_function", failing)
    monkeypatch.setattr(inputs, "vector_function", failing)
    np.testing.assert_allclose(
        predictor.predict_clips(clips, waves, cache=cache), expected, atol=1e-5
    )
    with pytest.raises(AssertionError, match="computed again"):
        predictor.predict_clips(clips, waves)  # no cache: the waveform path


def test_members_must_agree(tmp_path: Path, members: tuple[Path, list[Path]]) -> None:
    _, runs = members
    with pytest.raises(EnsembleError, match="at least two"):
        build_ensemble(runs[:1], tmp_path / "one", progress=False)
    other = make_corpus(tmp_path / "other", classes=("x", "y"), speakers=4, per_class=2)
    odd = train_run(
        TrainConfig.build({"data": str(other), "model": "logreg"}), tmp_path / "odd", progress=False
    )
    with pytest.raises(EnsembleError, match="differ"):
        build_ensemble([runs[1], odd.run_dir], tmp_path / "bad", progress=False)
    with pytest.raises(EnsembleError, match="over a member"):
        build_ensemble(runs, runs[0], progress=False)


def test_cli_ensemble(tmp_path: Path, members: tuple[Path, list[Path]]) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    _, runs = members
    args = ["ensemble", *map(str, runs), "--out", str(tmp_path / "ens"), "--no-progress"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "common test split" in result.output
    bad = CliRunner().invoke(app, [*args[:-1], "--combine", "max"])
    assert bad.exit_code != 0 and "--combine must be one of" in bad.output
    # weighted: stored in the card, used when serving
    weighted = [*args, "--weights", "1,3"]
    result = CliRunner().invoke(app, weighted, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "weights 1,3" in result.output
    card = json.loads((tmp_path / "ens" / "model.json").read_text())
    assert card["options"]["weights"] == [0.25, 0.75]
    for text, message in (("1,x", "numbers separated by commas"), ("1,2,3", "one each")):
        bad = CliRunner().invoke(app, [*args, "--weights", text], env={"COLUMNS": "200"})
        assert bad.exit_code != 0 and message in bad.output, bad.output
