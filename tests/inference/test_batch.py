"""Batch prediction over a manifest: every clip scored in order, bad clips skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from audioclf.cli import app
from audioclf.formats.manifest import ManifestError
from audioclf.inference.batch import predict_manifest, read_rows
from audioclf.inference.predictor import Predictor
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from tests.corpus_factory import make_corpus


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A logreg run and a prediction manifest: relative paths, no labels, one id
    missing, one corrupt clip and one missing file among them."""
    root = tmp_path_factory.mktemp("batch")
    manifest = make_corpus(root / "corpus", speakers=4, per_class=2)
    config = TrainConfig.build({"data": str(manifest), "model": "logreg", "val": 0.2})
    run = train_run(config, root / "run", progress=False).run_dir
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    (root / "corpus" / "broken.wav").write_bytes(b"RIFF\x00\x00not audio")
    listed = [
        {"id": r["id"], "path": str(Path(r["path"]).relative_to(root / "corpus"))} for r in rows
    ]
    listed[1].pop("id")
    listed.insert(3, {"id": "broken", "path": "broken.wav"})
    listed.append({"id": "gone", "path": "nowhere.wav"})
    to_score = root / "corpus" / "to_score.jsonl"
    to_score.write_text("".join(json.dumps(r) + "\n" for r in listed))
    return run, to_score


def test_every_readable_clip_is_scored_in_order_and_bad_ones_skipped(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    run, manifest = trained
    summary = predict_manifest(run, manifest, tmp_path / "p.jsonl", batch_size=3, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    listed = read_rows(manifest)
    good = [r for r in listed if r["id"] not in ("broken", "gone")]
    assert [r["id"] for r in rows] == [r["id"] for r in good]
    assert summary.scored == len(good) and len(summary.skipped) == 2
    # no id: the path as the manifest wrote it stands for it
    assert rows[1]["id"] == "spk0/low_1.wav" and rows[1]["path"].endswith("/spk0/low_1.wav")
    predictor = Predictor(run)
    for row in rows[:3]:
        expected = predictor.predict_source(row["path"])
        got = np.array([row["probabilities"][label] for label in predictor.classes_])
        assert np.allclose(got, expected, atol=1e-5)
        assert row["label"] == predictor.classes_[int(np.argmax(expected))]
    skipped = (tmp_path / "p.skipped.jsonl").read_text()
    assert "broken.wav" in skipped and "nowhere.wav" in skipped


def test_a_manifest_row_without_a_path_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(ManifestError, match=r"bad\.jsonl:1: .*path"):
        read_rows(bad)


def test_cli_predict_manifest_and_its_argument_errors(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    run, manifest = trained
    out = tmp_path / "p.jsonl"
    args = ["predict", str(run), "--manifest", str(manifest), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "clips scored" in result.output and "2 skipped" in result.output
    assert out.is_file()
    only_manifest = CliRunner().invoke(app, ["predict", str(run), "--manifest", str(manifest)])
    assert only_manifest.exit_code != 0 and "--out" in only_manifest.output
    no_files = CliRunner().invoke(app, ["predict", str(run)])
    assert no_files.exit_code != 0 and "nothing to score" in no_files.output


@pytest.mark.xdist_group("ray")
def test_on_ray_the_rows_equal_the_local_ones(
    trained: tuple[Path, Path], tmp_path: Path, local_ray: Any
) -> None:
    run, manifest = trained
    predict_manifest(run, manifest, tmp_path / "here.jsonl", progress=False)
    summary = predict_manifest(
        run, manifest, tmp_path / "ray.jsonl", batch_size=4, ray=True, concurrency=2
    )
    assert len(summary.skipped) == 2
    here = [json.loads(line) for line in (tmp_path / "here.jsonl").read_text().splitlines()]
    there = [json.loads(line) for line in (tmp_path / "ray.jsonl").read_text().splitlines()]
    assert [r["id"] for r in there] == [r["id"] for r in here]
    for a, b in zip(here, there, strict=True):
        assert a["label"] == b["label"]
        assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-5)
