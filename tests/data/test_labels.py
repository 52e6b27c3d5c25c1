"""Label operations, YAML label maps and the shared emotion vocabulary."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.data.labels import (
    EMOTIONS,
    LabelError,
    LabelMap,
    apply_label_ops,
    canonical_emotion,
    label_count_changes,
    parse_label_ops,
    to_shared_emotions,
)
from audioclf.formats.manifest import Clip, Manifest


def make(labels: list[str]) -> Manifest:
    return Manifest(Clip(id=f"c{i}", path=f"{i}.wav", label=lab) for i, lab in enumerate(labels))


EMO = make(["neutral", "calm", "happy", "happy", "sad", "surprised", "angry"])


def test_drop_removes_only_that_label() -> None:
    result = apply_label_ops(EMO, drop=["happy"])
    assert result.labels == ["angry", "calm", "neutral", "sad", "surprised"]
    assert len(result) == 5
    assert [c.id for c in result] == ["c0", "c1", "c4", "c5", "c6"]


def test_keep_keeps_only_those_labels() -> None:
    result = apply_label_ops(EMO, keep=["happy", "sad"])
    assert result.label_counts() == {"happy": 2, "sad": 1}


def test_merge_several_labels_into_one() -> None:
    result = apply_label_ops(EMO, mapping={"calm": "neutral", "surprised": "happy"})
    assert result.label_counts() == {"neutral": 2, "happy": 3, "sad": 1, "angry": 1}
    assert result[1].label == "neutral" and result[1].id == "c1"


def test_rename_and_drop_by_none() -> None:
    result = apply_label_ops(EMO, mapping={"angry": "anger", "surprised": None})
    assert "anger" in result.labels and "angry" not in result.labels
    assert "surprised" not in result.labels
    assert len(result) == len(EMO) - 1


def test_drop_and_keep_name_labels_after_mapping() -> None:
    result = apply_label_ops(EMO, mapping={"calm": "neutral"}, keep=["neutral"])
    assert len(result) == 2 and result.labels == ["neutral"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"drop": ["suprised"]},
        {"keep": ["Happy"]},
        {"mapping": {"clam": "neutral"}},
    ],
)
def test_typos_raise_listing_existing_labels(kwargs: dict[str, object]) -> None:
    with pytest.raises(LabelError) as info:
        apply_label_ops(EMO, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "unknown label" in message
    assert "angry, calm, happy, neutral, sad, surprised" in message


def test_non_strict_mapping_ignores_absent_keys() -> None:
    result = apply_label_ops(EMO, mapping={"clam": "neutral", "calm": "neutral"}, strict=False)
    assert result.label_counts()["neutral"] == 2


def test_dropping_everything_is_an_error() -> None:
    with pytest.raises(LabelError, match="drop all 7 clips"):
        apply_label_ops(EMO, drop=EMO.labels)


def test_label_map_from_yaml_with_null(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("calm: neutral\nsurprised: null\nangry:\nyes: affirmative\n", encoding="utf-8")
    label_map = LabelMap.from_yaml(path)
    assert label_map.mapping == {
        "calm": "neutral",
        "surprised": None,
        "angry": None,
        "yes": "affirmative",
    }
    assert label_map.map("calm") == "neutral"
    assert label_map.map("surprised") is None
    assert label_map.map("sad") == "sad"
    result = label_map.apply(make(["calm", "surprised", "angry", "yes", "no", "sad"]))
    assert [c.label for c in result] == ["neutral", "affirmative", "no", "sad"]


def test_label_map_round_trips_through_yaml(tmp_path: Path) -> None:
    label_map = LabelMap({"no": None, "off": "stop"})
    assert LabelMap.from_yaml(label_map.to_yaml(tmp_path / "m.yaml")) == label_map


@pytest.mark.parametrize("text", ["- calm\n- neutral\n", "calm: [neutral, sad]\n", "a: [\n"])
def test_bad_label_map_files_name_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LabelError, match=r"bad\.yaml"):
        LabelMap.from_yaml(path)


def test_missing_label_map_file(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match="no such label map"):
        LabelMap.from_yaml(tmp_path / "nope.yaml")


def test_shared_vocabulary_unifies_corpus_names() -> None:
    ravdess = make(["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"])
    emodb = make(["anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"])
    emodb_codes = make(["W", "L", "E", "T", "N"])
    crema = make(["ANG", "DIS", "FEA", "HAP", "NEU", "SAD"])
    tess = make(["angry", "disgust", "fear", "happy", "neutral", "ps", "sad"])
    for manifest in (ravdess, emodb, emodb_codes, crema, tess):
        shared = to_shared_emotions(manifest)
        assert set(shared.labels) <= set(EMOTIONS)
        assert len(shared) == len(manifest)
    assert to_shared_emotions(emodb).labels == [
        "angry",
        "bored",
        "disgust",
        "fearful",
        "happy",
        "neutral",
        "sad",
    ]
    assert [c.label for c in to_shared_emotions(emodb_codes)] == [
        "angry",
        "bored",
        "disgust",
        "sad",
        "neutral",
    ]
    assert to_shared_emotions(tess)[5].label == "surprised"


def test_calm_as_neutral() -> None:
    assert to_shared_emotions(EMO).label_counts()["calm"] == 1
    merged = to_shared_emotions(EMO, calm_as_neutral=True)
    assert "calm" not in merged.labels
    assert merged.label_counts()["neutral"] == 2


def test_unknown_emotions_strict_and_lenient() -> None:
    manifest = make(["happy", "frustrated", "sad"])
    with pytest.raises(LabelError, match=r"'frustrated' \(1 clips\)"):
        to_shared_emotions(manifest)
    assert [c.label for c in to_shared_emotions(manifest, strict=False)] == ["happy", "sad"]


def test_ambiguous_letters_are_not_guessed() -> None:
    assert canonical_emotion("A") is None  # SAVEE anger, EmoDB Angst (fear)
    assert canonical_emotion("Pleasant Surprise") == "surprised"


def test_parse_label_ops() -> None:
    assert parse_label_ops(["calm=neutral", "surprised=", "a, b=c"]) == {
        "calm": "neutral",
        "surprised": None,
        "a": "c",
        "b": "c",
    }
    for bad in (["calm"], ["=neutral"]):
        with pytest.raises(LabelError, match="FROM=TO"):
            parse_label_ops(bad)
    with pytest.raises(LabelError, match="mapped twice"):
        parse_label_ops(["calm=neutral", "calm=sad"])


def test_label_count_changes() -> None:
    after = apply_label_ops(EMO, mapping={"calm": "neutral"})
    changes = dict((label, (b, a)) for label, b, a in label_count_changes(EMO, after))
    assert changes["calm"] == (1, 0)
    assert changes["neutral"] == (1, 2)
