"""The static browser app mount and ``audioclf serve`` / ``predict --timeline`` commands."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from audioclf.cli import serve as cli_serve
from audioclf.cli.train import predict_cmd
from audioclf.service.app import create_app
from audioclf.service.settings import Settings
from audioclf.service.slow_clients import SlowClientGuard
from tests.conftest import tone


def test_web_app_served_when_present(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>audioclf</title>")
    (web / "app.js").write_text("console.log('hi')")
    client = TestClient(create_app(make_settings(), web_dir=web))
    r = client.get("/")
    assert r.status_code == 200 and "<title>audioclf</title>" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/static/app.js").text == "console.log('hi')"
    assert client.get("/static/../settings.py").status_code == 404


def test_no_web_app_no_root(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    client = TestClient(create_app(make_settings(), web_dir=tmp_path / "missing"))
    assert client.get("/").status_code == 404


def _serve_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(cli_serve.serve_cmd)
    return app


def test_serve_cmd_runs_uvicorn(runs: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv(cli_serve.RUNS_ENV, raising=False)
    result = CliRunner().invoke(_serve_app(), [*map(str, runs), "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "serving at http://127.0.0.1:8123" in result.output
    app, kw = calls[0]
    assert app.state.pool.names == ["cnn", "logreg"] and kw["port"] == 8123
    assert kw["http"] is SlowClientGuard  # header and body read timeouts in the server
    result = CliRunner().invoke(_serve_app(), [*map(str, runs), "--workers", "2"])
    assert result.exit_code == 0, result.output
    app, kw = calls[1]
    assert app == "audioclf.service.app:app_from_env" and kw["factory"] and kw["workers"] == 2


def test_serve_cmd_serves_another_model_of_an_auto_run(
    runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv(cli_serve.RUNS_ENV, raising=False)
    auto = tmp_path / "auto"
    shutil.copytree(runs[0], auto)
    shutil.copytree(runs[1], auto / "candidates" / "logreg")
    result = CliRunner().invoke(_serve_app(), [str(auto), "--member", "logreg"])
    assert result.exit_code == 0, result.output
    assert calls[0][0].state.pool.names == ["logreg"]
    result = CliRunner().invoke(_serve_app(), [str(auto), "--member", "svm"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "no trained model 'svm'; it has logreg" in said
    result = CliRunner().invoke(_serve_app(), [*map(str, runs), "--member", "logreg"])
    assert result.exit_code == 2 and "exactly one RUN" in " ".join(result.output.split())


def test_serve_cmd_refuses_missing_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(_serve_app(), [str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "not a run folder" in result.output


def test_predict_timeline_prints_segments(runs: list[Path], tmp_path: Path) -> None:
    quiet = np.zeros(16_000, np.float32)
    path = tmp_path / "long.wav"
    sf.write(path, np.concatenate([quiet, tone(2.0), quiet]), 16_000)
    app = typer.Typer()
    app.command()(predict_cmd)
    result = CliRunner().invoke(
        app,
        [str(runs[0]), str(path), "--timeline", "--window", "1", "--hop", "1", "--vad", "energy"],
    )
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "│" in line and "." in line]
    assert len(rows) == 4
    assert "no" in rows[0] and "yes" in rows[1]
