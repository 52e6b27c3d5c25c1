"""The browser export: crops as eval_crops cuts them, the graph equal to the run's own
predictor, ensembles without their server-only members, the size cap and int8 rule."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from audioclf.export.web import (
    CoveringCrops,
    WebExportError,
    WebGraph,
    WebMember,
    export_graph,
    export_web,
    held_out_accuracy,
    verify_graph,
)
from audioclf.features.crops import eval_crops
from audioclf.formats.runfolder import RunFolder
from audioclf.formats.webcard import WebCardError, read_web_card
from audioclf.inference.predictor import Predictor
from audioclf.models import create_model
from audioclf.train.config import TrainConfig
from audioclf.train.ensemble import build_ensemble
from audioclf.train.run import train_run
from tests.corpus_factory import make_corpus


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(1, 5_000),
    n_samples=st.integers(1, 1_200),
    hop=st.sampled_from([0.25, 0.5, 0.37, 1.0]),
)
def test_covering_crops_are_eval_crops(length: int, n_samples: int, hop: float) -> None:
    y = np.arange(1, length + 1, dtype=np.float32)
    expected = np.stack(eval_crops(y, n_samples, hop=hop))
    got = CoveringCrops(n_samples, hop)(torch.from_numpy(y)[None]).numpy()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["audioclf_default", "cnn_lstm", "m5", "countnet"])
def test_every_kind_of_network_exports_with_its_crops(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = create_model(name, 3, sample_rate=16_000).eval()
    graph = WebGraph([WebMember(name, module, 4_000, 0.5, [2, 0, 1], 1.0)], "product").eval()
    path = export_graph(graph, tmp_path / "web.onnx", 4_000)
    assert verify_graph(graph, path, (100, 4_000, 9_001)) <= 1e-4


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Trained tiny runs (no browser export written by training: the tests make them)."""
    root = tmp_path_factory.mktemp("web_runs")
    old = os.environ.get("AUDIOCLF_CACHE")
    os.environ["AUDIOCLF_CACHE"] = str(root / "cache")
    manifest = make_corpus(root / "corpus", classes=("low", "mid", "high"), speakers=4)
    out = {}
    for name in ("cnn2d_2", "student", "logreg"):
        config = TrainConfig.build(
            {
                "data": str(manifest),
                "model": name,
                "clip_seconds": 0.5,
                "epochs": 2,
                "augment": "none",
            }
        )
        out[name] = train_run(config, root / name, progress=False, web=False).run_dir
    yield out
    if old is None:
        os.environ.pop("AUDIOCLF_CACHE", None)
    else:
        os.environ["AUDIOCLF_CACHE"] = old


def _clips(seed: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    # shorter than a crop, exactly one, a crop and a sample, several with an uneven end
    lengths = (1_200, 8_000, 8_001, 27_345)
    return [(rng.standard_normal(n) * 0.1).astype(np.float32) for n in lengths]


def _web_probs(onnx: Path, clips: list[np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    rows = [session.run(["probabilities"], {"waveform": y[None]})[0][0] for y in clips]
    return np.stack(rows)


@pytest.mark.parametrize("model", ["cnn2d_2", "student"])
def test_graph_equals_the_runs_predictor(runs: dict[str, Path], model: str, tmp_path: Path) -> None:
    export = export_web(runs[model], tmp_path / "web")
    clips = _clips()
    expected = Predictor(runs[model]).predict_proba(clips)
    assert np.abs(_web_probs(export.onnx, clips) - expected).max() <= 1e-4
    card = read_web_card(tmp_path)  # the folder written is web/ of tmp_path
    assert card == export.card
    assert card["labels"] == Predictor(runs[model]).classes_
    assert card["sample_rate"] == 16_000 and card["left_out"] == []
    assert card["bytes"] == export.onnx.stat().st_size
    # scored on the run's own test split, as training scored it
    assert card["accuracy"] == pytest.approx(card["run_accuracy"])
    assert card["source_accuracy"] == card["run_accuracy"]
    assert card["test_clips"] == len(list(RunFolder(runs[model]).split("test").open()))


def test_ensemble_exports_the_members_that_run_in_a_page(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    ensemble = tmp_path / "ensemble"
    build_ensemble([runs["cnn2d_2"], runs["logreg"]], ensemble, progress=False)
    export = export_web(ensemble, tmp_path / "web")
    left = export.card["left_out"]
    assert [m["model"] for m in left] == ["logreg"]
    assert "only on the server" in left[0]["reason"]
    cnn_metrics = json.loads((runs["cnn2d_2"] / "metrics.json").read_text())
    assert export.card["source_accuracy"] == cnn_metrics["accuracy"]
    clips = _clips()
    # without the classical member the graph is the CNN alone
    expected = Predictor(runs["cnn2d_2"]).predict_proba(clips)
    assert np.abs(_web_probs(export.onnx, clips) - expected).max() <= 1e-4


@pytest.mark.parametrize("combine", ["product", "mean"])
def test_ensemble_of_networks_combines_like_the_server(
    runs: dict[str, Path], tmp_path: Path, combine: str
) -> None:
    ensemble = tmp_path / "ensemble"
    build_ensemble(
        [runs["cnn2d_2"], runs["student"]],
        ensemble,
        combine=combine,  # type: ignore[arg-type]
        weights=[0.3, 0.7],
        progress=False,
    )
    export = export_web(ensemble, tmp_path / "web")
    assert len(export.card["members"]) == 2 and export.card["left_out"] == []
    clips = _clips(seed=5)
    expected = Predictor(ensemble).predict_proba(clips)
    assert np.abs(_web_probs(export.onnx, clips) - expected).max() <= 1e-4


def test_classical_run_is_refused_naming_why(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(WebExportError, match=r"logreg.*only on the server"):
        export_web(runs["logreg"], tmp_path / "web")
    with pytest.raises(WebCardError, match="audioclf export"):
        read_web_card(runs["logreg"])


def test_size_cap_refuses_a_member_over_it(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(WebExportError, match=r"exceed the 0.1 MB cap"):
        export_web(runs["cnn2d_2"], tmp_path / "web", max_mb=0.1)


def test_int8_is_kept_only_within_tolerance(runs: dict[str, Path], tmp_path: Path) -> None:
    export = export_web(runs["cnn2d_2"], tmp_path / "web", quantize=True)
    record = export.card["quantization"]
    run = RunFolder(runs["cnn2d_2"])
    held_out, _ = held_out_accuracy(export.onnx, run.split("test"), run.read_card())
    drop = record["float32_accuracy"] - record["int8_accuracy"]
    assert record["kept"] is (drop <= 0.005)
    assert export.card["quantized"] is record["kept"]
    kept_accuracy = record["int8_accuracy"] if record["kept"] else record["float32_accuracy"]
    assert held_out == pytest.approx(kept_accuracy)
    assert export.card["accuracy"] == pytest.approx(kept_accuracy)
    assert json.loads((tmp_path / "web" / "card.json").read_text())["quantization"] == record


def test_auto_run_serving_a_classical_model_exports_its_best_network(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    auto = tmp_path / "auto"
    shutil.copytree(runs["logreg"], auto)
    for name in ("cnn2d_2", "student", "logreg"):
        shutil.copytree(runs[name], auto / "candidates" / name)
    scores = {
        name: json.loads((runs[name] / "metrics.json").read_text())["val_balanced_accuracy"]
        for name in ("cnn2d_2", "student")
    }
    best = max(scores, key=lambda name: scores[name])
    export = export_web(auto, tmp_path / "web")
    card = export.card
    assert card["candidate"] == best and card["served_model"] == "logreg"
    best_metrics = json.loads((runs[best] / "metrics.json").read_text())
    assert card["source_accuracy"] == best_metrics["accuracy"]
    assert card["model"] == "auto" and [m["model"] for m in card["left_out"]] == ["logreg"]
    clips = _clips()
    expected = Predictor(runs[best]).predict_proba(clips)
    assert np.abs(_web_probs(export.onnx, clips) - expected).max() <= 1e-4
    # with no network among its candidates it is refused, saying it looked
    shutil.rmtree(auto / "candidates" / "cnn2d_2")
    shutil.rmtree(auto / "candidates" / "student")
    with pytest.raises(WebExportError, match="nor can any candidate"):
        export_web(auto, tmp_path / "web2")
