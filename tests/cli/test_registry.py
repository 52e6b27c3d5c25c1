"""`audioclf registry retrain NAME --every` writes, lists and removes a retraining
schedule; `audioclf serve --training` needs an admin key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audioclf.cli import app
from audioclf.registry import Registry
from audioclf.registry.schedules import list_schedules
from tests.registry.conftest import corpus, trained_runs

__all__ = ["corpus", "trained_runs"]  # fixtures shared with tests/registry


@pytest.fixture
def registered(trained_runs: list[Path], tmp_path: Path) -> tuple[Registry, str]:
    """A registry whose model ``m`` has a production version, and its URL."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    registry = Registry(url)
    registry.add(trained_runs[0], "m")
    registry.promote("m", 1)
    return registry, url


def test_a_schedule_is_written_listed_and_removed(
    registered: tuple[Registry, str], corpus: Path
) -> None:
    registry, db = registered
    runner = CliRunner()
    made = runner.invoke(
        app, ["registry", "retrain", "m", "--data", str(corpus), "--every", "7d", "--db", db]
    )
    assert made.exit_code == 0, made.output
    assert "retrained every 7d" in made.output
    (schedule,) = list_schedules(registry.sessions)
    assert (schedule.name, schedule.every_seconds, schedule.margin) == ("m", 604_800, 0.01)
    listed = runner.invoke(app, ["registry", "schedules", "--db", db])
    assert listed.exit_code == 0 and "+0.010" in listed.output  # the table (narrow here)
    off = runner.invoke(
        app, ["registry", "retrain", "m", "--data", str(corpus), "--every", "off", "--db", db]
    )
    assert "no longer" in off.output and list_schedules(registry.sessions) == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["nope", "--every", "7d"], "no model named 'nope'"),
        (["m", "--every", "soon"], "--every 'soon'"),
    ],
)
def test_bad_schedules_are_refused(
    registered: tuple[Registry, str], corpus: Path, args: list[str], needle: str
) -> None:
    _, db = registered
    name, *rest = args
    result = CliRunner().invoke(
        app, ["registry", "retrain", name, "--data", str(corpus), *rest, "--db", db]
    )
    assert result.exit_code != 0 and needle in result.output


def test_serving_with_training_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDIOCLF_API_KEY", raising=False)
    monkeypatch.setenv("AUDIOCLF_TRAINING", "0")
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    result = CliRunner().invoke(app, ["serve", "--training"])
    assert result.exit_code != 0 and "--training needs an admin key" in result.output
    assert os.environ["AUDIOCLF_TRAINING"] == "0"  # refused before it set anything
