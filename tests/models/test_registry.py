"""The registry: lookup, errors that say what exists, options checked against signatures."""

from __future__ import annotations

import pytest
from torch import nn

from audioclf.models import (
    ModelOptionError,
    UnknownModelError,
    count_parameters,
    create_model,
    list_models,
    model_info,
    register_model,
    registry,
)


def test_list_and_info() -> None:
    names = list_models()
    assert names == sorted(names)
    assert list_models("waveform") == ["m11", "m18", "m3", "m34_res", "m5"]
    assert list_models("no-such-family") == []
    info = model_info("audioclf_default")
    assert (info.name, info.family, info.input) == ("audioclf_default", "default", "waveform")
    assert info.description


def test_unknown_model_suggests_a_close_name() -> None:
    with pytest.raises(UnknownModelError, match="Did you mean 'm34_res'") as error:
        create_model("m34res", 3)
    assert "audioclf_default" in str(error.value)
    assert isinstance(error.value, ValueError)
    with pytest.raises(UnknownModelError):
        model_info("nope")


def test_unknown_option_lists_the_options() -> None:
    with pytest.raises(ModelOptionError, match=r"'dropot' \(did you mean 'dropout'\?\)") as error:
        create_model("m5", 3, dropot=0.2)
    assert "clip_seconds" in str(error.value)


def test_architecture_arguments_are_not_options() -> None:
    with pytest.raises(ModelOptionError, match="'stem'"):
        create_model("m5", 3, stem=32)


def test_n_classes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="n_classes"):
        create_model("m5", 0)


def test_options_of_an_explicit_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @register_model("tiny_linear", family="test", input="pooled", description="a test model")
    def tiny_linear(n_classes: int, *, sample_rate: int = 16_000, width: int = 4) -> nn.Module:
        return nn.Linear(width, n_classes)

    model = create_model("tiny_linear", 2, width=7)
    assert count_parameters(model) == 7 * 2 + 2
    assert list_models("test") == ["tiny_linear"]
    with pytest.raises(ModelOptionError, match="its options are: width"):
        create_model("tiny_linear", 2, depth=3)
    with pytest.raises(ValueError, match="registered twice"):
        register_model("tiny_linear", family="test", description="again")(lambda n: None)


def test_count_parameters_ignores_frozen_and_non_torch() -> None:
    layer = nn.Linear(3, 2)
    layer.bias.requires_grad_(False)
    assert count_parameters(layer) == 6
    assert count_parameters(object()) == 0
