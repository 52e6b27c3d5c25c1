"""``audioclf models`` lists every registered model with its parameter count."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from audioclf.cli.models import models_cmd, models_table, parameter_text
from audioclf.models import list_models


def test_table_has_a_row_per_model() -> None:
    assert models_table().row_count == len(list_models())
    assert "auto (the default)" in str(models_table().caption)
    assert models_table("waveform").row_count == 5


def test_unknown_family_names_the_families() -> None:
    with pytest.raises(ValueError, match=r"families: .*waveform"):
        models_table("nope")


def test_parameter_text() -> None:
    assert parameter_text("m34_res").endswith(" M")
    assert parameter_text("cnn2d_1").endswith(" k")


def test_command_prints_the_table() -> None:
    app = typer.Typer()
    app.command()(models_cmd)
    result = CliRunner().invoke(app, ["--family", "default"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "audioclf_default" in result.output and "m5" not in result.output
    bad = CliRunner().invoke(app, ["--family", "nope"])
    assert bad.exit_code == 2
