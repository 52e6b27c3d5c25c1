"""The feedback pool: clips users consented to give, with a manifest, outside the web root.

```
POOL/
  clips/<prediction id><suffix>   the uploaded bytes, as received
  manifest.jsonl                  one row per clip: label, source "feedback", prediction id,
                                  model name
```
Rows are appended under an exclusive ``flock`` so concurrent server workers never
interleave lines; clip files are written to a temporary name and renamed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

from audioclf.formats.atomic import write_bytes
from audioclf.formats.manifest import Manifest, read_manifest

MANIFEST = "manifest.jsonl"
SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,5}$")


def pool_manifest(pool_dir: Path) -> Path:
    return pool_dir / MANIFEST


def add_clip(
    pool_dir: Path, prediction_id: str, data: bytes, label: str, model: str, filename: str = ""
) -> Path:
    """Store one consented clip and its manifest row; return the clip's path."""
    clips = pool_dir / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    suffix = Path(filename).suffix
    path = clips / f"{prediction_id}{suffix if SAFE_SUFFIX.match(suffix) else '.bin'}"
    write_bytes(path, data)
    row = {
        "id": f"feedback/{prediction_id}",
        "path": str(path.resolve()),
        "label": label,
        "source": "feedback",
        "prediction_id": prediction_id,
        "model": model,
    }
    with pool_manifest(pool_dir).open("a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
    return path


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
