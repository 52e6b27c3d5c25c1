"""Read the variables of a CTranslate2 ``model.bin`` into NumPy arrays.

CTranslate2 stores a converted model as one little-endian binary file (the layout its
Python writer, ``ctranslate2.specs.model_spec.ModelSpec._serialize``, produces at binary
version 6): the version, the spec's name and revision, then each variable as its name,
rank, dimensions, data type id and byte count followed by the raw values, then aliases
(a name that stands for another variable, e.g. a projection tied to the embeddings).
Strings are a ``uint16`` length (counting a trailing NUL) and UTF-8 bytes.

Written here rather than taken from ``ctranslate2``: its runtime runs a whole model but
exposes neither the weights nor the hidden states of inner layers, and the feature
extractor needs both (:mod:`audioclf.features.whisper_encoder` rebuilds the encoder in
torch). The file is memory-mapped, so reading only the encoder's variables touches only
their pages.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BINARY_VERSIONS = (6,)
"""The layout versions this reader knows (the one ctranslate2 4.x writes)."""
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
"""Data type ids, in the order of CTranslate2's ``DataType`` enum."""


class CT2FormatError(ValueError):
    """The file is not a CTranslate2 model this reader can parse."""


@dataclass(frozen=True)
class CT2Model:
    """A parsed ``model.bin``: its spec name and revision and the variables read."""

    spec: str
    revision: int
    variables: dict[str, np.ndarray]


class _Cursor:
    """Sequential little-endian reads over a mapped file, with a clear error past its
    end. Values are unpacked or copied out at an offset, so no view of the mapping
    outlives a read (the mapping can then always be closed, even after an error)."""

    def __init__(self, mapped: mmap.mmap, path: Path) -> None:
        self.mapped = mapped
        self.offset = 0
        self.path = path

    def skip(self, n: int) -> int:
        """Move past ``n`` bytes; returns where they start."""
        start, end = self.offset, self.offset + n
        if end > len(self.mapped):
            raise CT2FormatError(f"{self.path} ends inside a record: truncated or not a model")
        self.offset = end
        return start

    def unpack(self, fmt: str) -> int:
        start = self.skip(struct.calcsize("<" + fmt))
        return int(struct.unpack_from("<" + fmt, self.mapped, start)[0])

    def string(self) -> str:
        n = self.unpack("H")
        raw = self.mapped[self.skip(n) : self.offset]
        if not raw.endswith(b"\0"):
            raise CT2FormatError(f"{self.path}: a name is not NUL-terminated (not a model?)")
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise CT2FormatError(f"{self.path}: a name is not UTF-8 (not a model?)") from None

    def array(self, n_bytes: int, dtype_id: int, shape: tuple[int, ...]) -> np.ndarray:
        """The next ``n_bytes`` as an array of ``shape`` (bfloat16 widened to float32,
        which NumPy has no type for)."""
        if dtype_id >= len(_DTYPES):
            raise CT2FormatError(f"{self.path}: unknown data type id {dtype_id}")
        name = _DTYPES[dtype_id]
        stored = np.dtype("<u2" if name == "bfloat16" else np.dtype(name).newbyteorder("<"))
        if n_bytes != stored.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise CT2FormatError(f"{self.path}: {n_bytes} bytes do not fill {name} {shape}")
        start = self.skip(n_bytes)
        values = np.frombuffer(self.mapped, stored, n_bytes // stored.itemsize, start).copy()
        if name == "bfloat16":
            values = (values.astype(np.uint32) << 16).view(np.float32)
        return values.reshape(shape)


def read_ct2(path: str | Path, prefix: str = "") -> CT2Model:
    """The variables of the CTranslate2 model file ``path`` whose names start with
    ``prefix`` (all of them by default), aliases resolved; raises :class:`CT2FormatError`
    for a file of another layout or a truncated one."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise CT2FormatError(f"{path} is empty, not a model")
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        return _parse(_Cursor(mapped, path), prefix)


def _parse(cursor: _Cursor, prefix: str) -> CT2Model:
    version = cursor.unpack("I")
    if version not in BINARY_VERSIONS:
        raise CT2FormatError(
            f"{cursor.path}: CTranslate2 binary version {version}, this reader knows "
            f"{list(BINARY_VERSIONS)} (re-convert the model with ctranslate2 4.x)"
        )
    spec = cursor.string()
    revision = cursor.unpack("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(cursor.unpack("I")):
        name = cursor.string()
        shape = tuple(cursor.unpack("I") for _ in range(cursor.unpack("B")))
        dtype_id = cursor.unpack("B")
        n_bytes = cursor.unpack("I")
        if name.startswith(prefix):
            variables[name] = cursor.array(n_bytes, dtype_id, shape)
        else:
            cursor.skip(n_bytes)
    for _ in range(cursor.unpack("I")):
        alias, target = cursor.string(), cursor.string()
        if alias.startswith(prefix) and target in variables:
            variables[alias] = variables[target]
    return CT2Model(spec, revision, variables)
