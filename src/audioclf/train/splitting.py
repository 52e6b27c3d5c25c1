"""From the configured manifest to train/val/test: label map, then the configured split."""

from __future__ import annotations

from audioclf.data.labels import apply_label_ops
from audioclf.data.split import split_manifest, warn_leakage
from audioclf.formats.manifest import Manifest
from audioclf.train.config import TrainConfig


def make_splits(config: TrainConfig, manifest: Manifest) -> dict[str, Manifest]:
    """Apply ``config.label_map`` and split by ``config.split`` (speaker-independent by
    default); a split that shares speakers between sides is announced loudly."""
    if config.label_map:
        manifest = apply_label_ops(manifest, mapping=config.label_map)
    splits = split_manifest(
        manifest, by=config.split, val=config.val, test=config.test, seed=config.seed
    )
    warn_leakage(splits)
    return {"train": splits.train, "val": splits.val, "test": splits.test}
