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

The registry database is the record of what the pool holds: feedback is inserted in a
transaction that writes the clip before it commits (registry/feedback.py), so a failed
insert can leave a clip and its row behind but never a database row without its clip.
:func:`prune` removes such leftovers (rows the registry does not know, and files no row
names) once they are older than a grace period, so a write still in progress in another
server process is never taken for one.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import soundfile as sf

from audioclf.formats.atomic import write_bytes
from audioclf.formats.manifest import Manifest, read_manifest

MANIFEST = "manifest.jsonl"
SUFFIX = ".flac"
GRACE_SECONDS = 600.0


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


def clip_file(pool_dir: Path, prediction_id: str) -> Path:
    """Where the pool keeps the clip of ``prediction_id``."""
    return pool_dir / "clips" / f"{prediction_id}{SUFFIX}"


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
    path = clip_file(pool_dir, prediction_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {
        "id": f"feedback/{prediction_id}",
        "path": str(path.resolve()),
        "label": label,
        "source": "feedback",
        "prediction_id": prediction_id,
        "model": model,
        "bytes": len(data),
        "client": client,
        "added": time.time(),
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
    for row in _rows(manifest):
        used = _int(row.get("bytes"))
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


def prune(
    pool_dir: Path,
    known: Callable[[Iterable[str]], set[str]],
    *,
    grace_seconds: float = GRACE_SECONDS,
) -> list[str]:
    """Drop the manifest rows whose prediction ``known`` (a look-up in the registry: the ids
    it has feedback with a clip for) does not list, and the clip files no kept row names,
    when older than ``grace_seconds``; return the prediction ids removed."""
    path = pool_manifest(pool_dir)
    if not path.is_file():
        return []
    cutoff = time.time() - grace_seconds
    with path.open("r+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            rows = _rows(f)
            registered = known([str(r.get("prediction_id")) for r in rows])
            keep = [_keep(r, registered, pool_dir, cutoff) for r in rows]
            kept = [r for r, k in zip(rows, keep, strict=True) if k]
            removed = [
                str(r.get("prediction_id")) for r, k in zip(rows, keep, strict=True) if not k
            ]
            if removed:
                f.seek(0)
                f.truncate()
                f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in kept)
                f.flush()
                os.fsync(f.fileno())
            named = {clip_file(pool_dir, str(r.get("prediction_id"))) for r in kept}
            for clip in (pool_dir / "clips").glob(f"*{SUFFIX}"):
                if clip not in named and _modified(clip) < cutoff:
                    clip.unlink(missing_ok=True)
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
    return removed


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _rows(manifest: IO[str]) -> list[dict[str, object]]:
    rows = []
    for line in manifest:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _keep(row: dict[str, object], registered: set[str], pool_dir: Path, cutoff: float) -> bool:
    prediction_id = str(row.get("prediction_id"))
    if prediction_id in registered:
        return True
    added = row.get("added")
    when = (
        float(added)
        if isinstance(added, int | float)
        else _modified(clip_file(pool_dir, prediction_id))
    )
    return when >= cutoff


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


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
