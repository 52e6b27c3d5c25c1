"""The CTranslate2 model.bin reader, on files written by ctranslate2's own writer."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from audioclf.features.ct2_weights import CT2FormatError, read_ct2
from tests.whisper_factory import write_tiny_whisper

pytest.importorskip("ctranslate2")


def test_reads_every_variable_and_resolves_aliases(tmp_path: Path) -> None:
    written = write_tiny_whisper(tmp_path)
    model = read_ct2(tmp_path / "model.bin")
    assert (model.spec, model.revision) == ("WhisperSpec", 3)
    assert set(written) <= set(model.variables)
    for name in ("encoder/conv1/weight", "encoder/layer_1/ffn/linear_0/bias"):
        np.testing.assert_array_equal(model.variables[name], written[name])
        assert model.variables[name].dtype == np.float32
    # the tied projection is stored once, as an alias of the embeddings
    np.testing.assert_array_equal(
        model.variables["decoder/projection/weight"], written["decoder/embeddings/weight"]
    )
    assert int(model.variables["encoder/num_heads"]) == 2


def test_prefix_reads_only_matching_variables_and_float16_keeps_its_type(
    tmp_path: Path,
) -> None:
    written = write_tiny_whisper(tmp_path, quantization="float16")
    encoder = read_ct2(tmp_path / "model.bin", prefix="encoder/").variables
    assert encoder and all(name.startswith("encoder/") for name in encoder)
    weight = encoder["encoder/conv2/weight"]
    assert weight.dtype == np.float16
    np.testing.assert_allclose(weight, written["encoder/conv2/weight"], rtol=1e-3, atol=1e-4)


def test_truncated_file_and_other_versions_are_clear_errors(tmp_path: Path) -> None:
    write_tiny_whisper(tmp_path)
    data = (tmp_path / "model.bin").read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CT2FormatError, match="truncated"):
        read_ct2(cut)
    old = tmp_path / "old.bin"
    old.write_bytes(struct.pack("<I", 3) + data[4:])
    with pytest.raises(CT2FormatError, match="binary version 3"):
        read_ct2(old)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(struct.pack("<I", 6) + b"\x04\x00" + b"abc!" + b"x" * 10)
    with pytest.raises(CT2FormatError, match="not NUL-terminated"):
        read_ct2(junk)
    empty = tmp_path / "empty.bin"
    empty.touch()
    with pytest.raises(CT2FormatError, match="empty"):
        read_ct2(empty)
