"""From the configured manifest(s) to train/val/test: label map, then the configured split.

One manifest (``data``) is read as it is; several (``pool``) are pooled first
(:mod:`audioclf.train.pooled`), and a pool's speaker split is made inside each corpus.
"""

from __future__ import annotations

from typing import Any

from audioclf.data.labels import apply_label_ops
from audioclf.data.split import split_manifest, warn_leakage
from audioclf.formats.manifest import Manifest, read_manifest
from audioclf.train.config import TrainConfig
from audioclf.train.pooled import corpus_split, pool_manifests, split_within_corpora


def read_training_data(config: TrainConfig) -> tuple[Manifest, dict[str, Any] | None]:
    """The run's clips (pooled from ``config.pool``, else read from ``config.data``), with
    ``config.label_map`` applied, and the pool's report (None for one manifest)."""
    report = None
    if config.pool:
        manifest, pooled = pool_manifests(
            config.pool, pool_classes=config.pool_classes, shared_emotions=config.shared_emotions
        )
        report = pooled.as_dict()
    elif config.data is not None:
        manifest = read_manifest(config.data)
    else:
        raise ValueError("no training data: give --data MANIFEST.jsonl")
    if config.label_map:
        manifest = apply_label_ops(manifest, mapping=config.label_map)
    return manifest, report


def make_splits(config: TrainConfig, manifest: Manifest) -> dict[str, Manifest]:
    """Split by ``config.split`` (speaker-independent by default; a pool's inside each
    corpus; ``corpus``: test on ``config.test_corpus``); a split that shares speakers
    between sides is announced loudly."""
    several = len({c.corpus for c in manifest}) > 1
    if config.split == "corpus":
        splits = corpus_split(manifest, str(config.test_corpus), val=config.val, seed=config.seed)
    elif config.split == "speaker" and config.pool and several:
        splits = split_within_corpora(manifest, val=config.val, test=config.test, seed=config.seed)
    else:
        splits = split_manifest(
            manifest, by=config.split, val=config.val, test=config.test, seed=config.seed
        )
    warn_leakage(splits)
    return {"train": splits.train, "val": splits.val, "test": splits.test}
