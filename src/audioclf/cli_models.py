"""``audioclf models``: the registered models as a table."""

from __future__ import annotations

import typer
from rich.table import Table

from audioclf.cli_common import friendly_errors
from audioclf.console import out

_NOT_BUILT = {"pretrained"}
"""Families not instantiated to count parameters (building them may load large weights)."""


def parameter_text(name: str, n_classes: int = 8, sample_rate: int = 16_000) -> str:
    """Trainable parameters of ``name`` built for ``n_classes`` at ``sample_rate``, as
    ``"1.23 M"`` / ``"45.6 k"``, or ``"—"`` when it is not a torch model or is not built."""
    from audioclf.models import count_parameters, create_model, model_info

    if model_info(name).family in _NOT_BUILT:
        return "—"
    try:
        n = count_parameters(create_model(name, n_classes, sample_rate=sample_rate))
    except (ValueError, RuntimeError, OSError):
        return "—"
    if n == 0:
        return "—"
    return f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.1f} k"


def models_table(family: str | None = None) -> Table:
    """A Rich table of the registered models (of ``family`` when given)."""
    from audioclf.models import list_models, model_info

    names = list_models(family)
    if not names:
        families = sorted({model_info(n).family for n in list_models()})
        raise ValueError(f"no models in family {family!r}; families: {', '.join(families)}")
    from audioclf.train.auto.select import CANDIDATES

    caption = (
        f"auto (the default): train {', '.join(CANDIDATES)} on one split and serve the "
        "best neural and the best classical one (held-out voices) together"
        if family is None
        else None
    )
    table = Table(title="audioclf models", header_style="bold", caption=caption)
    table.add_column("name", style="cyan", no_wrap=True)
    table.add_column("family")
    table.add_column("input")
    table.add_column("params (8 cls, 16 kHz)", justify="right")
    table.add_column("description")
    for name in names:
        info = model_info(name)
        table.add_row(name, info.family, info.input, parameter_text(name), info.description)
    return table


@friendly_errors
def models_cmd(
    family: str | None = typer.Option(
        None, "--family", "-f", help="Only this family (waveform, spectrogram, default, ...)."
    ),
) -> None:
    """List the models `audioclf train --model NAME` can train."""
    out.print(models_table(family))
