"""Ray for a command over a manifest: every node checked for the manifest's clips, the
run folder and the feature cache, and every job pointed at the same cache."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from audioclf.features.cache import CACHE_ENV, FeatureCache
from audioclf.formats.manifest import read_manifest
from audioclf.jobs.cluster import ray_jobs


def ray_for(
    data: str | Path | None, out_dir: str | Path, *, job_cpus: float = 1
) -> AbstractContextManager[Any]:
    """:func:`audioclf.jobs.cluster.ray_jobs` for a run of ``data`` into ``out_dir``: the
    nodes must read the manifest and its clips (those this machine reads: a clip missing
    everywhere is a bad clip, skipped as without Ray) and write the run folder and the
    feature cache, whose root every job uses whatever a node's own home folder is."""
    clips = [c.path for c in read_manifest(data) if Path(c.path).is_file()] if data else []
    reads = [data, *clips] if data else []
    cache = FeatureCache().root.expanduser().resolve()
    return ray_jobs(reads, [out_dir, cache], job_cpus=job_cpus, env={CACHE_ENV: str(cache)})
