"""``audioclf export RUN --target web --out DIR``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from audioclf.cli import app
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from tests.corpus_factory import make_corpus


def _run(tmp_path: Path, model: str) -> Path:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    config = TrainConfig.build(
        {"data": str(manifest), "model": model, "clip_seconds": 0.5, "epochs": 1, "augment": "none"}
    )
    return train_run(config, tmp_path / model, progress=False, web=False).run_dir


def test_export_web_writes_graph_and_card(tmp_path: Path) -> None:
    run = _run(tmp_path, "cnn2d_1")
    result = CliRunner().invoke(app, ["export", str(run), "--out", str(tmp_path / "web")])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "web" / "card.json").read_text())
    assert "web export of" in result.output and "held-out accuracy" in result.output
    assert (tmp_path / "web" / "model.onnx").stat().st_size == card["bytes"]


def test_bad_target_and_classical_run_are_one_line_errors(tmp_path: Path) -> None:
    run = _run(tmp_path, "logreg")
    bad = CliRunner().invoke(app, ["export", str(run), "--target", "tflite", "--out", "x"])
    assert bad.exit_code == 2 and "--target must be one of web" in bad.output
    refused = CliRunner().invoke(app, ["export", str(run), "--out", str(tmp_path / "web")])
    assert refused.exit_code == 2
    assert "no part of this model can run in a browser" in refused.output
    assert "Traceback" not in refused.output
