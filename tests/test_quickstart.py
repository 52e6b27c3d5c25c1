"""``audioclf quickstart --no-serve`` end to end on a reduced corpus, then the server."""

from __future__ import annotations

import inspect
import io
import json
from pathlib import Path

import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from audioclf.cli import app
from audioclf.formats.manifest import read_manifest
from audioclf.service.app import create_app
from audioclf.service.settings import Settings


def test_quickstart_no_serve_then_predict(tmp_path: Path) -> None:
    run, data = tmp_path / "runs" / "quickstart", tmp_path / "synth"
    args = ["quickstart", "--out", str(run), "--data-dir", str(data), "--no-serve"]
    args += ["--n-voices", "6", "--per-digit", "1", "--epochs", "1", "--no-progress"]
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "test on held-out voices: accuracy" in first.output
    assert "serving at" not in first.output
    for name in ("metrics.json", "model.json", "report.html", "config.yaml", "labels.json"):
        assert (run / name).is_file(), name
    # the default model: auto, the CNN paired with the best classical candidate and weighted
    # on the validation voices (after one epoch it may get no weight and be left out)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["selected_by"] == "auto"
    assert [c["model"] for c in metrics["selection"]["candidates"]] == [
        "speech_embedding_logreg",
        "logreg",
        "audioclf_default",
    ]
    selection = metrics["selection"]
    assert selection["pair"] == ["audioclf_default", "speech_embedding_logreg"]
    assert sum(selection["weights"].values()) == pytest.approx(1.0)
    kept = [name for name in selection["pair"] if selection["weights"][name] > 0]
    assert selection["members"] == kept
    served = (
        list((run / "members").glob("*/model.onnx")) if len(kept) == 2 else [run / "model.onnx"]
    )
    assert served and all(path.is_file() for path in served)
    # speaker-independent: no synthetic voice on two sides
    sides = {
        s: set(read_manifest(run / "splits" / f"{s}.jsonl").speakers) for s in ("train", "test")
    }
    assert sides["train"] and sides["test"] and not sides["train"] & sides["test"]

    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "(reused)" in again.output and "reused (--retrain" in again.output

    clip = read_manifest(data / "manifest.jsonl")[0]
    audio, sr = sf.read(clip.path, dtype="float32")
    buffer = io.BytesIO()
    sf.write(buffer, audio, sr, format="WAV")
    client = TestClient(create_app(Settings(_env_file=None, runs=[run])))  # type: ignore[call-arg]
    response = client.post(
        "/v1/predict", files={"file": ("digit.wav", buffer.getvalue(), "audio/wav")}
    )
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["labels"] == [str(d) for d in range(10)]
    assert result["top"]["label"] in result["labels"]


def test_cli_defaults_are_the_quickstart_corpus() -> None:
    """`audioclf quickstart` and `audioclf data synth digits` default to the corpus the
    quickstart's accuracy was measured on."""
    from audioclf.cli.data.synth import synth_digits_cmd
    from audioclf.cli.quickstart import quickstart_cmd
    from audioclf.data.synth import SynthConfig
    from audioclf.quickstart import SYNTH

    for command in (quickstart_cmd, synth_digits_cmd):
        parameters = inspect.signature(command).parameters.values()
        options = {p.name: p.default.default for p in parameters}
        assert options["n_voices"] == SYNTH.n_voices == SynthConfig().n_voices
        assert options["per_digit"] == SYNTH.per_digit == SynthConfig().per_digit
