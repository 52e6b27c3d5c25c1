"""The model registry: names → small constructor functions, in the style of timm.

A family module decorates each constructor with :func:`register_model`; the constructor
only sets architecture arguments and forwards user options. :func:`create_model` is the
one way to build a model by name, and rejects unknown names and options with messages
that say what exists.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from torch import nn

Constructor = Callable[..., Any]
C = TypeVar("C", bound=Constructor)

_FIXED_ARGUMENTS = {"self", "n_classes", "sample_rate"}


@dataclass(frozen=True)
class ModelInfo:
    """What a registered model is: its family, the input it takes and a one-line summary.

    ``input`` is ``"waveform"`` for models that take raw audio ``(batch, samples)``; other
    values name a feature vector computed outside the model (e.g. ``"pooled"``).
    """

    name: str
    family: str
    input: str
    description: str


@dataclass(frozen=True)
class _Entry:
    info: ModelInfo
    constructor: Constructor


_REGISTRY: dict[str, _Entry] = {}


class UnknownModelError(ValueError):
    """A model name that is not registered; the message lists the names."""


class ModelOptionError(ValueError):
    """A model option the model does not take; the message lists the options it does."""


def register_model(
    name: str, *, family: str, input: str = "waveform", description: str
) -> Callable[[C], C]:
    """Decorator registering ``constructor(n_classes, *, sample_rate, **options)`` as ``name``."""

    def decorate(constructor: C) -> C:
        if name in _REGISTRY and _REGISTRY[name].constructor is not constructor:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = _Entry(ModelInfo(name, family, input, description), constructor)
        return constructor

    return decorate


def _entry(name: str) -> _Entry:
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownModelError(
            f"unknown model {name!r}.{hint} Known models: {', '.join(sorted(_REGISTRY))} "
            "(`audioclf models` describes them)"
        ) from None


def list_models(family: str | None = None) -> list[str]:
    """Registered model names, sorted; only those of ``family`` when given."""
    return sorted(n for n, e in _REGISTRY.items() if family is None or e.info.family == family)


def model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of a registered model (raises :class:`UnknownModelError`)."""
    return _entry(name).info


def accepted_options(target: Callable[..., Any]) -> set[str] | None:
    """Keyword options ``target`` takes besides ``n_classes``/``sample_rate``; ``None``
    when it takes ``**kwargs`` (then the callee checks them)."""
    parameters = inspect.signature(target).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {
        p.name
        for p in parameters
        if p.name not in _FIXED_ARGUMENTS
        and p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }


def check_options(model: str, options: dict[str, Any], allowed: set[str]) -> None:
    """Raise :class:`ModelOptionError` if ``options`` has a key not in ``allowed``."""
    unknown = sorted(set(options) - allowed)
    if unknown:
        hints = [
            f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key)
            for key in unknown
            for close in [difflib.get_close_matches(key, list(allowed), n=1)]
        ]
        known = ", ".join(sorted(allowed)) or "none"
        raise ModelOptionError(
            f"model {model!r} has no option {', '.join(hints)}; its options are: {known}"
        )


def build(
    model_class: Callable[..., nn.Module],
    n_classes: int,
    sample_rate: int,
    options: dict[str, Any],
    *,
    name: str,
    **architecture: Any,
) -> nn.Module:
    """``model_class(n_classes, sample_rate=..., **architecture, **options)``, after checking
    that ``options`` are arguments of ``model_class`` not already fixed by ``architecture``."""
    allowed = accepted_options(model_class)
    if allowed is not None:
        check_options(name, options, allowed - set(architecture))
    return model_class(n_classes, sample_rate=sample_rate, **architecture, **options)


def create_model(name: str, n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> Any:
    """Build the registered model ``name`` for ``n_classes`` classes at ``sample_rate``.

    Torch models take ``(batch, samples)`` float32 audio and return ``(batch, n_classes)``
    logits. Raises :class:`UnknownModelError` or :class:`ModelOptionError`.
    """
    entry = _entry(name)
    if n_classes < 1:
        raise ValueError(f"model {name!r} needs n_classes >= 1, got {n_classes}")
    allowed = accepted_options(entry.constructor)
    if allowed is not None:
        check_options(name, options, allowed)
    return entry.constructor(n_classes, sample_rate=sample_rate, **options)


def count_parameters(model: Any) -> int:
    """Number of trainable parameters of a torch model (0 for anything else)."""
    if not isinstance(model, nn.Module):
        return 0
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
