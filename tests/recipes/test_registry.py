"""audioclf.recipes: the registry, prepare(), option checking and source errors."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from audioclf.formats.manifest import read_manifest, write_manifest
from audioclf.recipes import RECIPES, PrepareResult, RecipeError, prepare, recipe_options
from tests.recipes.fake import tree

EXPECTED = {
    "ravdess", "crema-d", "tess", "savee", "emodb", "aesdd", "fsdd", "speechcommands",
    "esc50", "gtzan", "librispeech", "folder", "csv",
}  # fmt: skip


def test_registry_names_and_docstrings() -> None:
    assert set(RECIPES) == EXPECTED
    for name, fn in RECIPES.items():
        first = (fn.__doc__ or "").strip().splitlines()[0]
        assert len(first) > 20, name
        assert fn.__name__.startswith("prepare_")
        params = inspect.signature(fn).parameters
        assert params["progress"].kind is inspect.Parameter.KEYWORD_ONLY
        assert inspect.getmodule(fn).__doc__, f"{name} module has no docstring"


def test_unknown_recipe_lists_valid_names(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"unknown recipe 'nope'.*crema-d.*ravdess"):
        prepare("nope", tmp_path)


def test_recipe_name_aliases(tmp_path: Path) -> None:
    tree(tmp_path, ["AudioWAV/1001_DFA_ANG_XX.wav"])
    assert len(prepare("crema_d", tmp_path, progress=False).manifest) == 1
    assert len(prepare("CREMA-D", tmp_path, progress=False).manifest) == 1


def test_unknown_option_is_named(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"no option 'colour'.*vocal_channel"):
        prepare("ravdess", tmp_path, colour="red")
    with pytest.raises(RecipeError, match=r"no option 'x'.*none"):
        prepare("emodb", tmp_path, x=1)


def test_recipe_options_lists_defaults() -> None:
    assert recipe_options("ravdess") == {"vocal_channel": "speech"}
    assert recipe_options("speechcommands")["unknown"] is True
    assert recipe_options("emodb") == {}


@pytest.mark.parametrize("name", sorted(EXPECTED - {"csv"}))
def test_missing_source_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(RecipeError, match="no such folder"):
        prepare(name, tmp_path / "absent")


def test_source_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    target.write_text("x")
    with pytest.raises(RecipeError, match="is a file, not a folder"):
        prepare("fsdd", target)


def test_manifest_round_trip(tmp_path: Path) -> None:
    tree(tmp_path / "c", ["0_theo_1.wav", "1_theo_2.flac"])
    result = prepare("fsdd", tmp_path / "c", progress=False)
    assert isinstance(result, PrepareResult)
    back = read_manifest(write_manifest(result.manifest, tmp_path / "m.jsonl"))
    assert back == result.manifest
