"""Corpus recipes: a corpus folder in, a manifest (and the files left out) back.

Each module describes one corpus and has one public ``prepare_<corpus>(source, *,
progress=True, ...options)``; :data:`RECIPES` maps the recipe names used on the command
line (``audioclf data prepare RECIPE SOURCE``) to those functions, and :func:`prepare`
looks one up, checks the options against its signature and runs it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from audioclf.recipes._common import PrepareResult, RecipeError
from audioclf.recipes.aesdd import prepare_aesdd
from audioclf.recipes.crema_d import prepare_crema_d
from audioclf.recipes.csv_list import prepare_csv
from audioclf.recipes.emodb import prepare_emodb
from audioclf.recipes.esc50 import prepare_esc50
from audioclf.recipes.folder import prepare_folder
from audioclf.recipes.fsdd import prepare_fsdd
from audioclf.recipes.gtzan import prepare_gtzan
from audioclf.recipes.librispeech import prepare_librispeech
from audioclf.recipes.ravdess import prepare_ravdess
from audioclf.recipes.savee import prepare_savee
from audioclf.recipes.speechcommands import prepare_speechcommands
from audioclf.recipes.tess import prepare_tess

__all__ = ["RECIPES", "PrepareResult", "RecipeError", "prepare", "recipe_options"]

RECIPES: dict[str, Callable[..., PrepareResult]] = {
    "ravdess": prepare_ravdess,
    "crema-d": prepare_crema_d,
    "tess": prepare_tess,
    "savee": prepare_savee,
    "emodb": prepare_emodb,
    "aesdd": prepare_aesdd,
    "fsdd": prepare_fsdd,
    "speechcommands": prepare_speechcommands,
    "esc50": prepare_esc50,
    "gtzan": prepare_gtzan,
    "librispeech": prepare_librispeech,
    "folder": prepare_folder,
    "csv": prepare_csv,
}
"""Recipe name → ``prepare_<corpus>`` function (its docstring's first line names the corpus)."""


def _lookup(recipe: str) -> Callable[..., PrepareResult]:
    key = recipe.strip().lower().replace("_", "-")
    fn = RECIPES.get(key) or RECIPES.get(key.replace("-", ""))
    if fn is None:
        raise RecipeError(f"unknown recipe {recipe!r}; choose one of: {', '.join(sorted(RECIPES))}")
    return fn


def recipe_options(recipe: str) -> dict[str, Any]:
    """The options a recipe accepts, with their defaults (``progress`` excluded)."""
    params = inspect.signature(_lookup(recipe)).parameters.values()
    return {
        p.name: p.default
        for p in params
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "progress"
    }


def prepare(
    recipe: str, source: str | Path, *, progress: bool = True, **options: Any
) -> PrepareResult:
    """Run ``recipe`` on ``source`` with ``options``; unknown recipe or option → RecipeError."""
    fn = _lookup(recipe)
    allowed = recipe_options(recipe)
    for name in options:
        if name not in allowed:
            valid = ", ".join(sorted(allowed)) or "none"
            raise RecipeError(f"recipe {recipe!r} has no option {name!r}; its options are: {valid}")
    return fn(source, progress=progress, **options)
