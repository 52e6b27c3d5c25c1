"""A disk cache of decoded audio and derived features, keyed on file content.

Decoding a corpus (and computing hand-crafted vectors or embeddings from it) is the slow
part of every run after the first, so each result is stored once as ``.npy`` under
``root/<2-char prefix>/<key>.npy``. The key is a hash of the file's *content* (blake2b of
its bytes), the sample rate, a cache version and — for features — the feature name and
the canonical JSON of its parameters: renaming or moving a corpus keeps its cache, editing
a file invalidates it.

So that a warm run does not re-hash gigabytes either, a small SQLite index maps
``(absolute path, size, mtime_ns)`` to the content hash. SQLite serialises writers from
concurrent processes; array files are written to a temporary name and moved into place
with an atomic rename, so a reader never sees half a file. A cache file that cannot be
read is deleted and recomputed. Unreadable audio is not cached as a value, but a small
negative record (the error class and detail, keyed on the content hash) spares decoding
the same broken bytes again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from audioclf import audio, jobs
from audioclf.audio import AudioError
from audioclf.console import track
from audioclf.features.threads import one_blas_thread
from audioclf.formats.atomic import atomic_path, is_temporary
from audioclf.formats.manifest import Clip

CACHE_VERSION = 1
"""Bump when the decoder or the stored layout changes, to invalidate old entries."""

INDEX_NAME = "index.sqlite"
CACHE_ENV = "AUDIOCLF_CACHE"
WORKERS = 2
"""Clips decoded or featurised at once (the machine this is built for has two cores)."""
_CHUNK = 1 << 20
SHARD_MIN = 32
"""Fewer items than this are mapped here even under a distributed executor (a job costs
tens of milliseconds to schedule)."""
SHARDS_PER_CPU = 2
"""Shards per cluster CPU: enough that a slow shard does not hold the rest back."""

# numpy parses a .npy header with ast.literal_eval, and CPython 3.11's AST constructor is
# not safe to run in two threads at once ("SystemError: AST constructor recursion depth
# mismatch", seen with two threads reading this cache): reads take turns. They are short
# next to decoding or extracting, which stay parallel.
_NPY_READ = threading.Lock()

ClipOrPath = Clip | str | os.PathLike[str]
T = TypeVar("T")
R = TypeVar("R")
Compute = Callable[[np.ndarray, int], np.ndarray]


def map_readable(
    one: Callable[[T], R],
    items: Sequence[T],
    *,
    description: str,
    progress: bool = True,
) -> list[R | AudioError]:
    """``one(item)`` for every item, in order, :data:`WORKERS` at a time; an item whose
    audio cannot be read comes back as its AudioError instead of stopping the rest.

    Threads, not processes: decoding, resampling, openSMILE, ONNX Runtime and torch release
    the GIL for their heavy part, and the extractors and this cache are shared in memory.
    Under a distributed executor (``--ray``) a list of :data:`SHARD_MIN` items or more is
    cut into shards, each a job that maps its items this way on a node; ``one`` then
    travels to the nodes, with the cache it closes over (which pickles as its root).
    """

    def guarded(item: T) -> R | AudioError:
        try:
            return one(item)
        except AudioError as err:
            return err

    executor = jobs.current()
    if executor.distributed and len(items) >= SHARD_MIN:
        parts = executor.map(
            partial(_map_here, guarded, description=description, progress=False),
            jobs.shards(items, executor.cores() * SHARDS_PER_CPU),
            description=description,
            cpus=1,
            progress=progress,
        )
        return [result for part in parts for result in part]
    return _map_here(guarded, items, description=description, progress=progress)


def _map_here(
    one: Callable[[T], R], items: Sequence[T], *, description: str, progress: bool
) -> list[R]:
    """``one(item)`` for every item, in order, :data:`WORKERS` at a time in this process."""
    with one_blas_thread(), ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = pool.map(one, items)
        return list(track(done, description, total=len(items), enabled=progress))


def default_cache_root() -> Path:
    """``$AUDIOCLF_CACHE`` when set, else ``~/.cache/audioclf``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "audioclf"


def content_hash(data: bytes) -> str:
    """The blake2b digest (32 hex characters) of some bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _canonical(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _path_of(item: ClipOrPath) -> Path:
    raw = item.path if isinstance(item, Clip) else os.fspath(item)
    return Path(raw).expanduser().absolute()


def _error_class(name: str) -> type[AudioError]:
    found = getattr(audio, name, None)
    if isinstance(found, type) and issubclass(found, AudioError):
        return found
    return AudioError


class FeatureCache:
    """Content-addressed cache of waveforms and derived features under ``root``."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_root()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.root)!r})"

    def __getstate__(self) -> dict[str, Any]:
        # a job on another node gets the same root and opens its own index connection
        return {"root": self.root}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["root"])  # type: ignore[misc]

    # -- public API -------------------------------------------------------------------

    def load(self, clip_or_path: ClipOrPath, sample_rate: int) -> np.ndarray:
        """Mono float32 audio at ``sample_rate``, decoded once and then read from disk.

        Raises the :class:`~audioclf.audio.AudioError` of a file that cannot be decoded.
        """
        path = _path_of(clip_or_path)
        digest, data = self._digest(path)
        key = self._key({"kind": "wave", "audio": digest, "sr": int(sample_rate)})
        cached = self._read(key)
        if cached is not None:
            return cached
        self._raise_known_error(digest, path)
        if data is None:
            data = self._read_bytes(path)
        try:
            samples = audio.load(data, sample_rate, name=str(path))
        except AudioError as err:
            self._remember_error(digest, err)
            raise
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        self._write(key, samples)
        return samples

    def load_many(
        self,
        clips: Sequence[ClipOrPath],
        sample_rate: int,
        *,
        progress: bool = True,
        description: str = "decoding",
    ) -> list[np.ndarray | AudioError]:
        """Load every clip, in order; an unreadable one comes back as its AudioError.

        Two threads decode (soundfile, soxr and numpy release the GIL for the heavy part).
        """
        return map_readable(
            lambda item: self.load(item, sample_rate),
            clips,
            description=description,
            progress=progress,
        )

    def features(
        self,
        clip_or_path: ClipOrPath,
        name: str,
        params: Mapping[str, Any],
        compute: Compute,
        sample_rate: int,
    ) -> np.ndarray:
        """``compute(waveform, sample_rate)`` for a clip, computed once per content + params.

        ``compute`` must be deterministic: its result is reused whenever the same file
        content, ``name``, ``params`` and ``sample_rate`` come again.
        """
        path = _path_of(clip_or_path)
        digest, _ = self._digest(path)
        key = self._key(
            {
                "kind": "feature",
                "audio": digest,
                "sr": int(sample_rate),
                "name": name,
                "params": dict(params),
            }
        )
        cached = self._read(key)
        if cached is not None:
            return cached
        waveform = self.load(path, sample_rate)
        value = np.asarray(compute(waveform, sample_rate))
        self._write(key, value)
        return value

    def clear(self) -> None:
        """Delete every cached array, negative record and the hash index."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if folder.is_dir() and len(folder.name) == 2:
                for file in folder.glob("*.npy"):
                    file.unlink(missing_ok=True)
                for tmp in folder.glob(".*"):
                    if is_temporary(tmp):
                        tmp.unlink(missing_ok=True)
                if not any(folder.iterdir()):
                    folder.rmdir()
        for file in self.root.glob(INDEX_NAME + "*"):
            file.unlink(missing_ok=True)

    def size_bytes(self) -> int:
        """Bytes used by the cache on disk."""
        if not self.root.is_dir():
            return 0
        return sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())

    # -- content hashes and the path index ---------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.root.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.root / INDEX_NAME,
                timeout=30.0,
                isolation_level=None,
                check_same_thread=False,
            )
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER,"
                " mtime_ns INTEGER, digest TEXT)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS errors (digest TEXT, version INTEGER,"
                " cls TEXT, detail TEXT, PRIMARY KEY (digest, version))"
            )
            self._db = db
        return self._db

    def _query(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        try:
            with self._lock:
                row = self._connect().execute(sql, args).fetchone()
        except sqlite3.DatabaseError:
            return None  # an unusable index only costs re-hashing
        return tuple(row) if row is not None else None

    def _execute(self, sql: str, args: tuple[Any, ...]) -> None:
        try:
            with self._lock:
                self._connect().execute(sql, args)
        except sqlite3.DatabaseError:
            pass  # the cache is an optimisation; never fail a run over it

    @staticmethod
    def _read_bytes(path: Path) -> bytes:
        if not path.is_file():
            raise AudioError(str(path), "no such file")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise AudioError(str(path), f"cannot read the file: {exc}") from exc

    def _digest(self, path: Path) -> tuple[str, bytes | None]:
        """The content hash of ``path`` (and its bytes when they had to be read)."""
        try:
            stat = path.stat()
        except OSError as exc:
            raise AudioError(str(path), "no such file") from exc
        row = self._query("SELECT size, mtime_ns, digest FROM files WHERE path = ?", (str(path),))
        if row is not None and row[0] == stat.st_size and row[1] == stat.st_mtime_ns:
            return str(row[2]), None
        data = self._read_bytes(path)
        digest = content_hash(data)
        self._execute(
            "INSERT OR REPLACE INTO files (path, size, mtime_ns, digest) VALUES (?, ?, ?, ?)",
            (str(path), stat.st_size, stat.st_mtime_ns, digest),
        )
        return digest, data

    # -- negative records ---------------------------------------------------------------

    def _raise_known_error(self, digest: str, path: Path) -> None:
        row = self._query(
            "SELECT cls, detail FROM errors WHERE digest = ? AND version = ?",
            (digest, CACHE_VERSION),
        )
        if row is not None:
            raise _error_class(str(row[0]))(str(path), str(row[1]))

    def _remember_error(self, digest: str, err: AudioError) -> None:
        self._execute(
            "INSERT OR REPLACE INTO errors (digest, version, cls, detail) VALUES (?, ?, ?, ?)",
            (digest, CACHE_VERSION, type(err).__name__, err.detail),
        )

    # -- array files ----------------------------------------------------------------------

    @staticmethod
    def _key(spec: Mapping[str, Any]) -> str:
        return content_hash(_canonical({"v": CACHE_VERSION, **spec}).encode())

    def _file(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def _read(self, key: str) -> np.ndarray | None:
        file = self._file(key)
        if not file.is_file():
            return None
        try:
            with _NPY_READ:
                return np.load(file, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            file.unlink(missing_ok=True)  # corrupt: drop it and recompute
            return None

    def _write(self, key: str, value: np.ndarray) -> None:
        file = self._file(key)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(file) as tmp, tmp.open("wb") as f:
                np.save(f, value, allow_pickle=False)
        except OSError:
            pass  # a full or read-only disk only costs speed
