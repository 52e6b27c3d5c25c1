"""A run scored under perturbations: rows in metrics.json, the report's table and plots,
the command line, and bad SPECs refused before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audioclf.augment.perturb import PerturbSpecError
from audioclf.cli import app
from audioclf.evaluate.evaluate_run import evaluate_run
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from tests.corpus_factory import make_corpus


@pytest.fixture(scope="module")
def run_and_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("robust")
    manifest = make_corpus(root / "data", classes=("low", "high"), speakers=4)
    run = train_run(
        TrainConfig.build({"data": str(manifest), "model": "logreg"}),
        root / "run",
        progress=False,
    ).run_dir
    return run, manifest


def test_perturbations_are_scored_next_to_clean(
    run_and_data: tuple[Path, Path], tmp_path: Path
) -> None:
    run, data = run_and_data
    specs = ["noise=white,snr=30", "noise=white,snr=-20", "gain=-6", "telephone"]
    metrics = evaluate_run(run, data, tmp_path / "eval", perturb=specs, progress=False)
    rows = metrics["perturbations"]
    assert [r["spec"] for r in rows] == specs
    assert [r["snr"] for r in rows] == [30.0, -20.0, None, None]
    for row in rows:
        assert row["n_scored"] == metrics["n_scored"]
        assert 0.0 <= row["accuracy"] <= 1.0
        assert row["accuracy_change"] == pytest.approx(
            row["accuracy"] - metrics["accuracy"], abs=1e-4
        )
    # noise far above the signal hurts; noise far below it does not
    assert rows[1]["accuracy"] < rows[0]["accuracy"]
    assert rows[0]["accuracy"] >= metrics["accuracy"] - 0.1
    saved = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert saved["perturbations"] == rows
    html = (tmp_path / "eval" / "report.html").read_text()
    assert "Under perturbations" in html and "noise=white,snr=-20" in html
    assert (tmp_path / "eval" / "plots" / "accuracy_vs_snr.png").stat().st_size > 1000
    assert (tmp_path / "eval" / "plots" / "perturbations.png").stat().st_size > 1000


def test_babble_comes_from_the_run_s_training_clips_when_the_set_has_one_speaker(
    run_and_data: tuple[Path, Path], tmp_path: Path
) -> None:
    run, data = run_and_data
    one_speaker = tmp_path / "one.jsonl"
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    first = rows[0]["speaker"]
    one_speaker.write_text("".join(json.dumps(r) + "\n" for r in rows if r["speaker"] == first))
    spec = ["noise=babble,snr=5"]
    metrics = evaluate_run(run, one_speaker, tmp_path / "a", perturb=spec, progress=False)
    assert metrics["babble_from"] == str(run / "splits" / "train.jsonl")
    assert 0.0 <= metrics["perturbations"][0]["accuracy"] <= 1.0
    given = evaluate_run(
        run, one_speaker, tmp_path / "b", perturb=spec, babble=data, progress=False
    )
    assert given["babble_from"] == str(data)
    several = evaluate_run(run, data, tmp_path / "c", perturb=spec, progress=False)
    assert several["babble_from"] == "the scored clips"
    assert "babble_from" not in evaluate_run(
        run, data, tmp_path / "d", perturb=["gain=-6"], progress=False
    )


def test_same_seed_reproduces_the_scores(run_and_data: tuple[Path, Path], tmp_path: Path) -> None:
    run, data = run_and_data
    spec = ["noise=pink,snr=0"]
    first = evaluate_run(run, data, tmp_path / "a", perturb=spec, seed=5, progress=False)
    again = evaluate_run(run, data, tmp_path / "b", perturb=spec, seed=5, progress=False)
    assert first["perturbations"] == again["perturbations"]


def test_bad_spec_fails_before_anything_is_written(
    run_and_data: tuple[Path, Path], tmp_path: Path
) -> None:
    run, data = run_and_data
    with pytest.raises(PerturbSpecError, match="needs snr"):
        evaluate_run(run, data, tmp_path / "eval", perturb=["noise=pink"], progress=False)
    assert not (tmp_path / "eval").exists()


def test_cli_prints_each_perturbation_and_refuses_a_bad_one(
    run_and_data: tuple[Path, Path], tmp_path: Path
) -> None:
    run, data = run_and_data
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "evaluate",
            str(run),
            "--data",
            str(data),
            "--out",
            str(tmp_path / "e"),
            "--perturb",
            "noise=pink,snr=10",
            "--perturb",
            "opus=12k",
            "--no-progress",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "noise=pink,snr=10:" in ok.output and "opus=12k:" in ok.output
    bad = runner.invoke(
        app,
        [
            "evaluate",
            str(run),
            "--data",
            str(data),
            "--out",
            str(tmp_path / "f"),
            "--perturb",
            "reverb=99",
            "--no-progress",
        ],
    )
    assert bad.exit_code != 0
    assert "outside" in bad.output
