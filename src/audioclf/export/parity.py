"""What every ONNX export promises: the graph computes what the trained model computes."""

from __future__ import annotations

from pathlib import Path

PARITY_TOLERANCE = 1e-4
"""The largest probability difference an exported graph may show against its model."""


class ExportError(RuntimeError):
    """The ONNX graph could not be written or disagrees with the trained model."""


def check_parity(worst: float, path: str | Path, reference: str, tolerance: float) -> float:
    """``worst`` (the largest probability difference between the ONNX graph at ``path``
    and ``reference``), or :class:`ExportError` when it is above ``tolerance``."""
    if worst > tolerance:
        raise ExportError(
            f"{path}: ONNX probabilities differ from {reference} by {worst:.2e} "
            f"(tolerance {tolerance:.0e})"
        )
    return worst
