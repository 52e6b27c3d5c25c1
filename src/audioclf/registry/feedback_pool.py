"""The feedback pool: clips users consented to give, with a manifest, outside the web root.

```
POOL/
  clips/<prediction id>.flac   the decoded samples, re-encoded (16-bit FLAC at the clip's
                               own rate): whatever else the upload carried (tags, appended
                               bytes, another container) is not kept
  manifest.jsonl               one row per clip: label, source "feedback", prediction id,
                               model name, its size in bytes and the client it came from
                               (a salted hash, never the address)
```
The pool is bounded: a clip that would take the pool past ``max_bytes``, or its client
past ``client_bytes``, is refused (:class:`PoolFullError`) and nothing is written. The
quota is checked and the row appended under one exclusive ``flock`` of the manifest, so
concurrent server workers can neither interleave lines nor overshoot the quota together;
clip files are written to a temporary name and renamed.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import soundfile as sf

from audioclf.formats.atomic import write_bytes
from audioclf.formats.manifest import Manifest, read_manifest

MANIFEST = "manifest.jsonl"
SUFFIX = ".flac"


class PoolFullError(ValueError):
    """A clip the pool's quota has no room for; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PoolQuota:
    """The most bytes the pool holds, and the most one client's clips may take of it."""

    max_bytes: int = 1024**3
    client_bytes: int = 50 * 1024**2


def pool_manifest(pool_dir: Path) -> Path:
    return pool_dir / MANIFEST


def client_id(address: str, salt: str) -> str:
    """What the manifest records of a client: a salted hash of its address, enough to
    count its share and not enough to find it."""
    return hashlib.sha256(f"{salt}\0{address}".encode()).hexdigest()[:16]


def encode_flac(samples: np.ndarray, sample_rate: int) -> bytes:
    """Mono float samples as 16-bit FLAC bytes."""
    buffer = io.BytesIO()
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    sf.write(buffer, clipped, sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def add_clip(
    pool_dir: Path,
    prediction_id: str,
    samples: np.ndarray,
    sample_rate: int,
    label: str,
    model: str,
    *,
    client: str = "",
    quota: PoolQuota | None = None,
) -> Path:
    """Store one consented clip (decoded ``samples``) and its manifest row within
    ``quota``; return the clip's path. Raises :class:`PoolFullError` and writes nothing
    when the quota has no room."""
    quota = quota or PoolQuota()
    data = encode_flac(samples, sample_rate)
    clips = pool_dir / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    path = clips / f"{prediction_id}{SUFFIX}"
    row = {
        "id": f"feedback/{prediction_id}",
        "path": str(path.resolve()),
        "label": label,
        "source": "feedback",
        "prediction_id": prediction_id,
        "model": model,
        "bytes": len(data),
        "client": client,
    }
    with pool_manifest(pool_dir).open("a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            _check_room(f, len(data), client, quota)
            write_bytes(path, data)
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
    return path


def _check_room(manifest: IO[str], size: int, client: str, quota: PoolQuota) -> None:
    """Raise :class:`PoolFullError` when ``size`` more bytes would overshoot the pool's
    quota or ``client``'s share, as the manifest (open, locked) records them."""
    manifest.seek(0)
    total = mine = 0
    for line in manifest:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict):
            continue
        used = int(row.get("bytes") or 0)
        total += used
        if client and row.get("client") == client:
            mine += used
    if total + size > quota.max_bytes:
        raise PoolFullError(
            "the feedback pool is full; the correction can be sent without the clip", 507
        )
    if client and mine + size > quota.client_bytes:
        raise PoolFullError(
            "this client has given as many clips as the pool keeps from one client; "
            "the correction can be sent without the clip",
            429,
        )


def read_pool(pool_dir: Path, model: str) -> Manifest:
    """The consented clips given as feedback on ``model`` (empty when there are none)."""
    path = pool_manifest(pool_dir)
    if not path.is_file():
        return Manifest()
    return read_manifest(path).filter(lambda c: c.meta.get("model") == model)


POOL_ENV = "AUDIOCLF_FEEDBACK_DIR"
DEFAULT_POOL = Path("feedback-pool")


def default_pool_dir() -> Path:
    """``$AUDIOCLF_FEEDBACK_DIR``, else ``feedback-pool`` in the working folder."""
    return Path(os.environ.get(POOL_ENV) or DEFAULT_POOL)
