"""The browser export's layout in a run folder: ``web/model.onnx`` and ``web/card.json``.

:mod:`audioclf.export.web` writes it; the server reads it here without loading torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WEB_DIR = "web"
"""The folder of a run that holds its browser export."""
WEB_FORMAT = "audioclf-web"
WEB_VERSION = 1
"""The card layout this release writes and reads."""


class WebCardError(ValueError):
    """A folder without a readable browser export, and what to do."""


def web_folder(run_root: Path) -> Path:
    """Where the run at ``run_root`` keeps its browser export."""
    return Path(run_root) / WEB_DIR


def has_web_export(run_root: Path) -> bool:
    folder = web_folder(run_root)
    return (folder / "model.onnx").is_file() and (folder / "card.json").is_file()


def read_web_card(run_root: Path) -> dict[str, Any]:
    """The card of the run's browser export; a :class:`WebCardError` when it has none or
    it was written by a newer audioclf."""
    folder = web_folder(run_root)
    if not has_web_export(run_root):
        raise WebCardError(
            f"{Path(run_root).name} has no browser export; make one with "
            f"`audioclf export {run_root} --target web --out {folder}`"
        )
    data = json.loads((folder / "card.json").read_text())
    if not isinstance(data, dict) or data.get("format") != WEB_FORMAT:
        raise WebCardError(f"{folder / 'card.json'}: not a browser export card")
    if not isinstance(data.get("version"), int) or data["version"] > WEB_VERSION:
        raise WebCardError(
            f"{folder / 'card.json'}: written by a newer audioclf (card version "
            f"{data.get('version')!r}); upgrade audioclf"
        )
    return data
