"""Distillation: the KD loss, the transfer set, the teacher cache, and a student run end to end."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

from audioclf.features.cache import FeatureCache
from audioclf.formats.manifest import Clip, Manifest
from audioclf.formats.runfolder import RunFolder, read_val_predictions
from audioclf.inference.predictor import Predictor
from audioclf.models import create_model
from audioclf.train.config import TrainConfig
from audioclf.train.data import LoadedSplit, train_batches
from audioclf.train.distill import (
    TeacherCache,
    augmented_view,
    build_transfer_set,
    clip_seed,
    distill_student,
    distillation_loss,
    score_with_teacher,
    soften,
    teacher_identity,
    transfer_batches,
    views_within,
)
from audioclf.train.run import train_run
from audioclf.train.trainer import Batch, fit
from tests.corpus_factory import make_corpus

SR = 16_000
FAST = {"clip_seconds": 0.5, "batch_size": 8, "augment": "none", "lr": 0.01}


# ---------------------------------------------------------------- the loss


def test_with_alpha_zero_the_loss_is_the_cross_entropy() -> None:
    torch.manual_seed(0)
    logits = torch.randn(6, 4)
    y = torch.tensor([0, 1, 2, 3, 1, 0])
    hard = F.one_hot(y, 4).float()
    teacher = torch.softmax(torch.randn(6, 4), dim=-1)
    loss = distillation_loss(logits, teacher, hard, temperature=3.0, alpha=0.0)
    assert torch.allclose(loss, F.cross_entropy(logits, y))
    weights = torch.tensor([0.5, 1.0, 1.5, 1.0])
    weighted = distillation_loss(
        logits, teacher, hard, temperature=3.0, alpha=0.0, class_weights=weights
    )
    # class-weighted cross-entropy over target rows (PyTorch's mean over the batch)
    assert torch.allclose(weighted, F.cross_entropy(logits, hard, weight=weights))
    assert not torch.allclose(weighted, loss)


def test_the_kd_term_is_zero_for_a_student_that_matches_the_teacher() -> None:
    torch.manual_seed(1)
    logits = torch.randn(5, 3)
    teacher = torch.from_numpy(soften(torch.softmax(logits, dim=-1).numpy(), 2.0))
    zeros = torch.zeros(5, 3)
    loss = distillation_loss(logits, teacher, zeros, temperature=2.0, alpha=1.0)
    assert abs(float(loss)) < 1e-5
    other = torch.from_numpy(soften(torch.softmax(-logits, dim=-1).numpy(), 2.0))
    assert float(distillation_loss(logits, other, zeros, temperature=2.0, alpha=1.0)) > 0.1


def test_the_kd_gradient_is_hintons() -> None:
    """d/dz of T²·KL(q ‖ softmax(z/T)) is T·(softmax(z/T) − q) (Hinton et al. 2015)."""
    torch.manual_seed(2)
    logits = torch.randn(4, 5, requires_grad=True)
    q = torch.softmax(torch.randn(4, 5), dim=-1)
    t = 4.0
    distillation_loss(logits, q, torch.zeros(4, 5), temperature=t, alpha=1.0).backward()
    expected = t * (torch.softmax(logits.detach() / t, dim=-1) - q) / 4  # mean over 4 rows
    assert logits.grad is not None
    assert torch.allclose(logits.grad, expected, atol=1e-6)


def test_unlabelled_rows_carry_only_the_kd_term() -> None:
    torch.manual_seed(3)
    logits = torch.randn(2, 3)
    q = torch.softmax(torch.randn(2, 3), dim=-1)
    kd_only = distillation_loss(logits, q, torch.zeros(2, 3), temperature=2.0, alpha=1.0)
    mixed = distillation_loss(logits, q, torch.zeros(2, 3), temperature=2.0, alpha=0.6)
    assert torch.allclose(mixed, 0.6 * kd_only)


def test_soften_keeps_the_order_and_flattens() -> None:
    p = np.array([[0.7, 0.2, 0.1], [0.05, 0.05, 0.9]], dtype=np.float32)
    np.testing.assert_allclose(soften(p, 1.0), p, atol=1e-6)
    warm = soften(p, 3.0)
    np.testing.assert_allclose(warm.sum(axis=1), 1.0, atol=1e-6)
    assert (warm.argmax(axis=1) == p.argmax(axis=1)).all()
    assert (warm.max(axis=1) < p.max(axis=1)).all()


# ---------------------------------------------------------------- the transfer set


def _tone(seconds: float, freq: float, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    noise = 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.3 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


def test_views_are_seeded_by_the_clip_not_by_its_place() -> None:
    a, b = _tone(0.7, 300.0), _tone(0.4, 900.0)
    first = augmented_view(a, SR, 8_000, clip_seed(a, 0, 1))
    assert first.shape == (8_000,) and first.dtype == np.float32
    np.testing.assert_array_equal(first, augmented_view(a, SR, 8_000, clip_seed(a, 0, 1)))
    assert not np.array_equal(first, augmented_view(a, SR, 8_000, clip_seed(a, 0, 2)))
    assert not np.array_equal(first, augmented_view(a, SR, 8_000, clip_seed(a, 1, 1)))
    # the same views whatever the clips' order in the split
    clips = [Clip(id=i, path=f"{i}.wav", label="x") for i in ("a", "b")]
    one = build_transfer_set(
        LoadedSplit(clips, [a, b], np.array([0, 1])),
        [],
        sample_rate=SR,
        n_samples=8_000,
        views=2,
        seed=0,
        progress=False,
    )
    two = build_transfer_set(
        LoadedSplit(clips[::-1], [b, a], np.array([1, 0])),
        [],
        sample_rate=SR,
        n_samples=8_000,
        views=2,
        seed=0,
        progress=False,
    )
    by_id = {c.id: w for c, w in zip(two.clips, two.windows, strict=True)}
    for clip, window in zip(one.clips, one.windows, strict=True):
        np.testing.assert_array_equal(window, by_id[clip.id])
    # a 0.7 s clip at a 0.5 s crop is two covering windows, the 0.4 s clip one
    assert one.counts() == {"clip": 3, "view": 4, "unlabelled": 0}
    assert one.windows.shape == (7, 8_000)


def test_transfer_batches_yield_each_window_with_its_rows_once_per_epoch() -> None:
    windows = np.arange(5 * 4, dtype=np.float32).reshape(5, 4)
    transfer = build_transfer_set(
        LoadedSplit([Clip(id="c", path="c.wav", label="x")], [windows[0]], np.array([0])),
        [],
        sample_rate=SR,
        n_samples=4,
        views=0,
        seed=0,
        progress=False,
    )
    transfer.windows = windows
    transfer.targets = np.arange(5)
    rows = np.arange(5 * 6, dtype=np.float32).reshape(5, 6)
    epoch = transfer_batches(transfer, rows, np.arange(5), batch_size=2)
    seen = []
    for x, y, target in epoch(np.random.default_rng(0)):
        for i, row in enumerate(y.tolist()):
            assert torch.equal(x[i], torch.from_numpy(windows[row]))
            assert torch.equal(target[i], torch.from_numpy(rows[row]))
        seen.extend(y.tolist())
    # five items in batches of two: the last batch of one is dropped, as in train_batches
    assert len(seen) == 4 and len(set(seen)) == 4


def test_fit_with_label_batches_and_cross_entropy_passed_in_is_fit(tmp_path: Path) -> None:
    """The ``batches``/``criterion`` hooks replace exactly the default path."""
    rng = np.random.default_rng(0)
    waves = [_tone(0.5, f, seed=i) for i, f in enumerate(rng.uniform(200, 2000, 8))]
    clips = [Clip(id=str(i), path=f"{i}.wav", label=str(i % 2)) for i in range(8)]
    split = LoadedSplit(clips, waves, np.array([i % 2 for i in range(8)]))
    config = TrainConfig.build({"model": "cnn2d_1", **FAST, "epochs": 2, "mixup": 0.4})

    def run(folder: str, **hooks: object) -> dict[str, torch.Tensor]:
        torch.manual_seed(0)
        model = create_model("cnn2d_1", 2)
        result = fit(
            model, split, split, config, tmp_path / folder, n_classes=2, n_samples=8_000,
            progress=False, **hooks,  # type: ignore[arg-type]
        )  # fmt: skip
        return result.best_state

    def label_batches(generator: np.random.Generator) -> Iterator[Batch]:
        for x, y in train_batches(split, 8, 8_000, SR, generator):
            yield x, y, F.one_hot(y, 2).float()

    weights = torch.ones(2)  # class_weights of a balanced split
    hooked = run(
        "hooked",
        batches=label_batches,
        criterion=torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=0.1),
    )
    plain = run("plain")
    assert all(torch.equal(plain[k], hooked[k]) for k in plain)


def test_views_within_a_scoring_budget() -> None:
    # 1000 clips at 60 ms on two threads: 30 s a pass over them
    assert views_within(150.0, n_clips=1000, teacher_ms=60.0) == 4
    assert views_within(95.0, n_clips=1000, teacher_ms=60.0) == 2
    assert views_within(20.0, n_clips=1000, teacher_ms=60.0) == 0
    assert views_within(1e6, n_clips=1000, teacher_ms=60.0, most=6) == 6


# ---------------------------------------------------------------- the teacher


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A teacher run trained in seconds on a tiny corpus (its own feature cache)."""
    root = tmp_path_factory.mktemp("teacher")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUDIOCLF_CACHE", str(root / "cache"))
        manifest = make_corpus(root / "corpus", speakers=6, per_class=3)
        config = TrainConfig.build(
            {"data": str(manifest), "model": "cnn2d_2", **FAST, "epochs": 4, "threads": 2}
        )
        train_run(config, root / "teacher", progress=False)
    yield root / "teacher", root / "corpus"


def test_teacher_identity_follows_the_content_not_the_folder(
    teacher: tuple[Path, Path], tmp_path: Path
) -> None:
    run_dir, _ = teacher
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    assert teacher_identity(copy) == teacher_identity(run_dir)
    weights = copy / "model.onnx"
    weights.write_bytes(weights.read_bytes() + b"\0")
    assert teacher_identity(copy) != teacher_identity(run_dir)


def test_the_teacher_cache_scores_an_input_once(teacher: tuple[Path, Path], tmp_path: Path) -> None:
    run_dir, _ = teacher
    predictor = Predictor(run_dir, threads=1)
    cache = TeacherCache(tmp_path / "teacher.sqlite")
    waves = [_tone(0.5, 300.0), _tone(0.5, 2400.0), _tone(0.5, 300.0)]
    first = score_with_teacher(
        predictor, waves, sample_rate=SR, identity="t1", cache=cache, progress=False
    )
    assert (first.scored, first.cached) == (2, 1)  # the repeated input is scored once
    np.testing.assert_allclose(first.probs, predictor.predict_proba(waves), atol=1e-6)
    again = score_with_teacher(
        predictor, waves, sample_rate=SR, identity="t1", cache=cache, progress=False
    )
    assert (again.scored, again.cached) == (0, 3)
    np.testing.assert_array_equal(again.probs, first.probs)
    other = score_with_teacher(
        predictor, waves[:1], sample_rate=SR, identity="t2", cache=cache, progress=False
    )
    assert other.scored == 1  # another teacher's probabilities are not reused


# ---------------------------------------------------------------- a distilled run


def _splits(run_dir: Path) -> dict[str, Manifest]:
    return RunFolder(run_dir).read_splits()


def _unlabelled(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"u{i}.wav"
        sf.write(path, _tone(0.6, 500.0 + 300 * i, seed=10 + i), SR)
        paths.append(path)
    return paths


def test_distill_student_writes_a_run_that_serves_and_a_second_run_is_warm(
    teacher: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    teacher_dir, _ = teacher
    splits = _splits(teacher_dir)
    test_paths = [Path(c.path) for c in splits["test"]][:2]
    unlabelled = [*_unlabelled(tmp_path / "unlabelled", 3), *test_paths]
    config = TrainConfig.build({"model": "student", **FAST, "epochs": 6, "threads": 2})
    cache = FeatureCache(tmp_path / "cache")
    first = distill_student(
        teacher_dir,
        config,
        RunFolder(tmp_path / "student"),
        splits=splits,
        unlabelled=unlabelled,
        progress=False,
        views=2,
        cache=cache,
    )
    run = first.run_dir
    for name in ("config.yaml", "model.json", "model.pt", "model.onnx", "history.csv"):
        assert (run / name).is_file(), name
    for name in ("metrics.json", "report.html", "val_predictions.npz"):
        assert (run / name).is_file(), name
    card = RunFolder(run).read_card()
    assert (card.model, card.family, card.onnx) == ("student", "default", True)
    assert card.labels == json.loads((teacher_dir / "labels.json").read_text())
    metrics = first.metrics
    n_train = len(splits["train"])
    # 0.6 s ± 20 % clips at a 0.5 s crop: one or two covering windows each
    assert metrics["transfer"]["view"] == 2 * n_train
    assert metrics["transfer"]["unlabelled"] == 3  # the test clips among them are left out
    assert metrics["transfer_size"] == sum(metrics["transfer"].values())
    assert metrics["teacher_scored"] > 0
    assert metrics["distilled_from"] == "teacher"
    assert (metrics["temperature"], metrics["alpha"]) == (2.0, 0.7)
    assert 0.0 <= metrics["teacher_agreement_val"] <= 1.0
    assert metrics["n"] == len(splits["test"])  # test metrics like every run
    for key in ("accuracy", "balanced_accuracy", "val_balanced_accuracy", "latency_ms"):
        assert key in metrics, key
    # the tones are easy: a student that learnt from the teacher gets them
    assert metrics["teacher_agreement_val"] >= 0.75
    assert metrics["accuracy"] >= 0.75
    predictions = read_val_predictions(RunFolder(run))
    assert predictions is not None and len(predictions.ids) == len(splits["val"])

    clips = [np.asarray(sf.read(c.path, dtype="float32")[0]) for c in splits["test"]]
    onnx = Predictor(run).predict_proba(clips)
    torch_probs = Predictor(run, backend="torch").predict_proba(clips)
    np.testing.assert_allclose(onnx, torch_probs, atol=1e-4)

    # the second run with the same teacher (one epoch: the transfer set does not depend
    # on the epochs) reads every probability from the cache
    scored_by: list[Path] = []
    original = Predictor.predict_proba

    def recording(self: Predictor, *args: object, **kwargs: object) -> np.ndarray:
        scored_by.append(self.run.root.resolve())
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Predictor, "predict_proba", recording)
    second = distill_student(
        teacher_dir,
        config.model_copy(update={"epochs": 1}),
        RunFolder(tmp_path / "again"),
        splits=splits,
        unlabelled=unlabelled,
        progress=False,
        views=2,
        cache=cache,
    )
    assert second.metrics["teacher_scored"] == 0
    assert second.metrics["teacher_cached"] == metrics["transfer_size"]
    assert teacher_dir.resolve() not in scored_by
    assert second.metrics["transfer"] == metrics["transfer"]


def test_a_teacher_that_trained_on_the_held_out_clips_is_refused(
    teacher: tuple[Path, Path], tmp_path: Path
) -> None:
    teacher_dir, _ = teacher
    splits = _splits(teacher_dir)
    swapped = {"train": splits["test"], "val": splits["val"], "test": splits["train"]}
    config = TrainConfig.build({"model": "student", **FAST, "epochs": 1})
    with pytest.raises(ValueError, match=r"trained on .* validation/test"):
        distill_student(
            teacher_dir, config, RunFolder(tmp_path / "student"), splits=swapped, progress=False
        )


def test_bad_settings_are_refused(teacher: tuple[Path, Path], tmp_path: Path) -> None:
    teacher_dir, _ = teacher
    config = TrainConfig.build({"model": "student", **FAST})
    out = RunFolder(tmp_path / "student")
    for bad in ({"views": -1}, {"temperature": 0.0}, {"alpha": 1.5}):
        with pytest.raises(ValueError):
            distill_student(teacher_dir, config, out, progress=False, **bad)
