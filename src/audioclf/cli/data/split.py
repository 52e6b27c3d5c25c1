"""``audioclf data split`` and ``audioclf data relabel``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from audioclf.cli.common import friendly_errors
from audioclf.console import console, out
from audioclf.formats.manifest import read_manifest, write_manifest

if TYPE_CHECKING:
    from audioclf.data.split import Splits


class SplitBy(StrEnum):
    """How ``data split`` partitions clips."""

    speaker = "speaker"
    random = "random"
    fold = "fold"


def _report_leakage(splits: Splits, by: SplitBy) -> None:
    """One green line when speaker-independent (the loud panel comes from the split itself)."""
    # deferred: audioclf.data.split loads numpy; `audioclf --help` must not
    from audioclf.data.split import check_leakage

    if not check_leakage(splits) and any(p.speakers for _, p in splits.items()):
        console.print("[green]leakage check:[/] no speaker is in two splits")
    elif not any(p.speakers for _, p in splits.items()):
        console.print(f"[yellow]leakage check:[/] clips have no speakers (split by {by.value})")


@friendly_errors
def split_cmd(
    manifest_path: Path = typer.Argument(..., metavar="MANIFEST", help="Manifest (.jsonl)."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for train/val/test.jsonl."),
    by: SplitBy = typer.Option(
        SplitBy.speaker, "--by", help="speaker (independent), random (stratified), fold."
    ),
    val: float = typer.Option(0.1, "--val", help="Fraction of clips for validation."),
    test: float = typer.Option(0.2, "--test", help="Fraction of clips for test."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    kfold: int | None = typer.Option(
        None,
        "--kfold",
        "-k",
        help="Write K speaker-disjoint folds (corpus folds with --by fold) to OUT/fold1…foldK.",
    ),
    test_fold: list[str] = typer.Option(
        [], "--test-fold", help="With --by fold: the fold(s) to test on (default: the last)."
    ),
    val_fold: list[str] = typer.Option(
        [], "--val-fold", help="With --by fold: validation fold(s) (default: the one before)."
    ),
) -> None:
    """Split a manifest into train/val/test manifests (or K folds) and check for leakage."""
    # deferred: audioclf.data.split loads numpy; `audioclf --help` must not
    from audioclf.data.split import SplitError, grouped_kfold, split_manifest, split_summary

    manifest = read_manifest(manifest_path)
    if kfold is not None:
        if by is SplitBy.random:
            raise SplitError(
                "--kfold makes group-disjoint folds; use --by speaker (or --by fold to "
                "cross-validate over the corpus's own folds)"
            )
        group = "speaker" if by is SplitBy.speaker else "fold"
        folds = grouped_kfold(manifest, kfold, group=group, seed=seed, val=val)
        for i, splits in enumerate(folds, 1):
            splits.write(out_dir / f"fold{i}")
            table = split_summary(splits)
            table.title = f"fold {i} of {len(folds)}"
            out.print(table)
        console.print(f"[green]wrote[/] {len(folds)} folds to {out_dir}/fold1 … fold{len(folds)}")
        return
    splits = split_manifest(
        manifest,
        by=by.value,
        val=val,
        test=test,
        seed=seed,
        test_folds=test_fold or None,
        val_folds=val_fold or None,
    )
    written = splits.write(out_dir)
    out.print(split_summary(splits))
    _report_leakage(splits, by)
    console.print(f"[green]wrote[/] {', '.join(str(p) for p in written.values())}")


@friendly_errors
def relabel_cmd(
    manifest_path: Path = typer.Argument(..., metavar="MANIFEST", help="Manifest (.jsonl)."),
    out_path: Path = typer.Option(..., "--out", "-o", help="Relabelled manifest to write."),
    drop: list[str] = typer.Option([], "--drop", help="Drop clips of this label."),
    keep: list[str] = typer.Option([], "--keep", help="Keep only these labels."),
    map_: list[str] = typer.Option(
        [], "--map", help="Rename/merge FROM=TO (FROM= drops); e.g. calm=neutral."
    ),
    label_map: Path | None = typer.Option(
        None, "--label-map", help="YAML file of `from: to` lines (null drops)."
    ),
    shared_emotions: bool = typer.Option(
        False, "--shared-emotions", help="Rename emotions to the shared vocabulary."
    ),
    calm_as_neutral: bool = typer.Option(
        False, "--calm-as-neutral", help="With --shared-emotions: merge calm into neutral."
    ),
) -> None:
    """Drop, keep, rename or merge labels. Order: --label-map, --shared-emotions, --map,
    then --drop and --keep (which name labels after renaming)."""
    # deferred: audioclf.data.labels loads PyYAML for label maps; `audioclf --help` need not
    from audioclf.data.labels import (
        LabelMap,
        apply_label_ops,
        label_count_changes,
        parse_label_ops,
        to_shared_emotions,
    )

    if calm_as_neutral and not shared_emotions:
        raise typer.BadParameter("--calm-as-neutral only applies with --shared-emotions")
    before = read_manifest(manifest_path)
    manifest = before
    if label_map is not None:
        manifest = LabelMap.from_yaml(label_map).apply(manifest)
    if shared_emotions:
        manifest = to_shared_emotions(manifest, calm_as_neutral=calm_as_neutral)
    manifest = apply_label_ops(manifest, drop=drop, keep=keep, mapping=parse_label_ops(map_))
    write_manifest(manifest, out_path)
    table = Table(title=f"labels: {manifest_path.name} → {out_path.name}", header_style="bold")
    table.add_column("label")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    for label, n_before, n_after in label_count_changes(before, manifest):
        table.add_row(label, str(n_before or ""), str(n_after or ""))
    table.add_section()
    table.add_row(
        f"[bold]{len(before.labels)} → {len(manifest.labels)} classes",
        f"[bold]{len(before)}",
        f"[bold]{len(manifest)}",
    )
    out.print(table)
    console.print(f"[green]wrote[/] {out_path}")
