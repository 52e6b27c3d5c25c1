"""auto's candidate list: checked, classical first, extras that are missing left out."""

from __future__ import annotations

from typing import Any

import pytest

from audioclf.train.auto import candidates as module
from audioclf.train.auto.candidates import SelectionError, candidates, wants_ensemble
from audioclf.train.config import TrainConfig


def test_candidate_list_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    def config(**options: Any) -> TrainConfig:
        return TrainConfig.build({"model": "auto", "model_options": options})

    with pytest.raises(ValueError, match="unknown model 'lgoreg'"):
        candidates(config(candidates=["lgoreg"]))
    with pytest.raises(SelectionError, match="ensemble"):
        wants_ensemble(config(ensemble="yes"))
    assert wants_ensemble(config()) and not wants_ensemble(config(ensemble=False))
    with pytest.raises(SelectionError, match="none of these"):
        candidates(config(candidates=["logreg"], vtlp=0.1))
    with pytest.raises(SelectionError, match="distinct"):
        candidates(config(candidates=["logreg", "logreg"]))
    with pytest.raises(SelectionError, match="classical candidates only"):
        candidates(TrainConfig.build({"model": "auto", "speaker_norm": True}))
    chosen = candidates(config(candidates=["cnn2d_1", "logreg"], cnn2d_1={"n_mels": 32}))
    # classical first, and each candidate gets its own options
    assert [(c.model, c.options) for c in chosen] == [("logreg", {}), ("cnn2d_1", {"n_mels": 32})]
    # the default list leaves out the models whose extra is missing, and says which
    monkeypatch.setattr(module, "find_spec", lambda name: None)
    with module.console.capture() as captured:
        kept = [c.model for c in candidates(config())]
    assert kept == ["speech_embedding_logreg", "logreg", "audioclf_default"]
    note = " ".join(captured.get().split())
    assert "fusion_voice_logreg, voice_logreg, fusion_logreg, compare_logreg" in note
    assert "audioclf[smile,voice]" in note
    # only the voice encoder missing: the openSMILE-only models stay
    monkeypatch.setattr(module, "find_spec", lambda name: None if name == "resemblyzer" else 1)
    assert [c.model for c in candidates(config())] == [
        "speech_embedding_logreg",
        "fusion_logreg",
        "compare_logreg",
        "logreg",
        "audioclf_default",
    ]


def test_the_whisper_extra_is_checked_by_its_weight_distributions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The weight packages have no module to find: their distributions' metadata says
    whether the extra is installed."""
    absent = {"whisper": (("no-such-weights-part1",), "whisper")}
    monkeypatch.setattr(module, "_EXTRA_DATA_PARTS", absent)
    assert module._missing_extras("whisper_logreg") == {"whisper"}
    present = {"whisper": (("numpy", "pytest"), "whisper")}
    monkeypatch.setattr(module, "_EXTRA_DATA_PARTS", present)
    assert module._missing_extras("whisper_logreg") == set()
    assert module._missing_extras("logreg") == set()
