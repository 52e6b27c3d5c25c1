"""Export a run for the browser: one ONNX graph from the raw waveform to class probabilities.

The graph takes ``waveform`` — float32 ``(1, samples)`` of mono audio at the run's sample
rate, any length — and returns ``probabilities`` ``(1, n_classes)`` in the run's label
order. Everything the server does after decoding is inside it, so the page re-implements
no signal processing: the covering crops of the training length that
:func:`audioclf.features.crops.eval_crops` cuts (a short clip centred and zero-padded, a
long one in overlapping windows, the last ending at the clip's end), each member's
log-mel front end and network, the average over crops, and an ensemble's combination
rule. The crops are a gather with indices computed from the input's length, so the
graph has no control flow and runs in any ONNX runtime.

A member can run in the page when it is a torch model over the waveform (its front end
is a layer of the network) and its weights fit ``max_mb``. Classical members (openSMILE,
the voice encoder, the speech-embedding network feed them) run only on the server: an
ensemble exports the members that can, renormalises their weights and names the ones it
left out; an ``auto`` run whose served model runs only on the server exports instead its
best candidate (by validation UA) that runs in a page whole, and its card says so
(``candidate``, ``served_model``). The export is checked against PyTorch on generated
clips and scored on the run's held-out test clips (``accuracy`` in the card, next to
``source_accuracy``, what the run recorded for the same model); with ``quantize`` the int8 graph
(ONNX Runtime dynamic quantisation) is kept only when its held-out accuracy is within
:data:`INT8_TOLERANCE` of the float32 graph's.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from audioclf.audio import AudioError
from audioclf.export.parity import PARITY_TOLERANCE, check_parity
from audioclf.features.cache import FeatureCache
from audioclf.formats.atomic import atomic_path, write_json
from audioclf.formats.manifest import read_manifest
from audioclf.formats.runfolder import (
    CANDIDATES,
    MEMBERS,
    ModelCard,
    RunFolder,
    RunFolderError,
)
from audioclf.formats.webcard import WEB_FORMAT, WEB_VERSION
from audioclf.models.build import load_torch_model

DEFAULT_MAX_MB = 5.0
INT8_TOLERANCE = 0.005
"""The held-out accuracy an int8 graph may lose against float32 and still be kept."""
MAX_SECONDS = 30.0
"""The longest clip the page classifies at once (it cuts longer recordings to this)."""
_FLOOR = 1e-12


class WebExportError(ValueError):
    """A run (or member) that cannot run in the browser, and why."""


@dataclass(frozen=True)
class WebMember:
    """One network of the graph: its module, crop policy and label order."""

    name: str
    module: nn.Module
    n_samples: int
    hop: float
    order: list[int]
    """For each of the run's labels, its column in this member's output."""
    weight: float


@dataclass
class WebExport:
    """A written export: its folder and the card saved beside the graph."""

    out_dir: Path
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def onnx(self) -> Path:
        return self.out_dir / "model.onnx"


class CoveringCrops(nn.Module):
    """``(1, samples)`` → ``(crops, n_samples)``: :func:`~audioclf.features.crops.
    eval_crops` as index arithmetic on the input's length (no data-dependent branches)."""

    positions: torch.Tensor

    def __init__(self, n_samples: int, hop: float) -> None:
        super().__init__()
        self.n_samples = n_samples
        self.step = max(1, round(n_samples * hop))
        self.register_buffer("positions", torch.arange(n_samples, dtype=torch.int64))

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        y = waveform[0]
        length = torch.ones_like(y, dtype=torch.int64).sum()  # the length, traced as a tensor
        pad = torch.clamp(self.n_samples - length, min=0)
        left = torch.div(pad, 2, rounding_mode="floor")
        last = length + pad - self.n_samples
        count = torch.div(last + self.step - 1, self.step, rounding_mode="floor") + 1
        starts = torch.minimum(torch.arange(count) * self.step, last)  # type: ignore[call-overload]
        index = starts[:, None] + self.positions[None, :] - left
        inside = (index >= 0) & (index < length)
        padded = torch.cat([y, torch.zeros(1, dtype=y.dtype)])
        return padded[torch.where(inside, index, length)]


class WebGraph(nn.Module):
    """The members' crop-averaged probabilities, combined by the run's rule."""

    def __init__(self, members: Sequence[WebMember], combine: str) -> None:
        super().__init__()
        self.networks = nn.ModuleList(m.module for m in members)
        self.crops = nn.ModuleList(CoveringCrops(m.n_samples, m.hop) for m in members)
        self.orders = [m.order for m in members]
        total = sum(m.weight for m in members)
        self.weights = [m.weight / total for m in members]
        self.combine = combine

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        parts = []
        for network, crops, order in zip(self.networks, self.crops, self.orders, strict=True):
            probs = torch.softmax(network(crops(waveform)), dim=-1).mean(dim=0, keepdim=True)
            parts.append(probs[:, order])
        if len(parts) == 1:
            return parts[0]
        if self.combine == "mean":
            mixed = sum(w * p for w, p in zip(self.weights, parts, strict=True))
            assert isinstance(mixed, torch.Tensor)
            return mixed / mixed.sum(dim=-1, keepdim=True)
        logs = sum(
            w * torch.log(torch.clamp(p, _FLOOR, 1.0))
            for w, p in zip(self.weights, parts, strict=True)
        )
        assert isinstance(logs, torch.Tensor)
        return torch.softmax(logs, dim=-1)


def web_members(
    run: RunFolder, card: ModelCard, *, max_mb: float = DEFAULT_MAX_MB
) -> tuple[list[WebMember], list[dict[str, str]]]:
    """The members of ``run`` that can run in the page, and the others with the reason."""
    if card.family == "ensemble":
        names = list(card.options["members"])
        weights = card.options.get("weights") or [1.0] * len(names)
        folders = [RunFolder(run.root / MEMBERS / name) for name in names]
    else:
        names, weights, folders = [run.name], [1.0], [run]
    members, left_out = [], []
    for name, weight, folder in zip(names, weights, folders, strict=True):
        member_card = folder.read_card()
        reason = _refusal(folder, member_card)
        module = None if reason else load_torch_model(folder.root, member_card)
        if module is not None and _megabytes(module) > max_mb:
            reason = (
                f"its {_megabytes(module):.1f} MB of weights exceed the {max_mb:g} MB cap "
                "(--max-mb)"
            )
        if module is None or reason:
            left_out.append({"member": name, "model": member_card.model, "reason": reason})
            continue
        order = [member_card.labels.index(label) for label in card.labels]
        members.append(
            WebMember(
                name, module, member_card.n_samples, member_card.eval_hop, order, float(weight)
            )
        )
    return members, left_out


def _refusal(folder: RunFolder, card: ModelCard) -> str:
    """Why this single model cannot run in the page ('' when it may, size aside)."""
    if card.input != "waveform":
        return f"its {card.input} features are computed only on the server"
    if card.family == "classical" or not (folder.root / card.weights).is_file():
        return "it has no PyTorch weights to export"
    return ""


def _megabytes(module: nn.Module) -> float:
    """The float32 size of a network's weights and fixed buffers (DFT basis, mel bank)."""
    return sum(t.numel() for t in module.state_dict().values()) * 4 / 1e6


def export_graph(graph: WebGraph, path: Path, n_samples: int, *, opset: int = 17) -> Path:
    """Write ``graph`` as ONNX with a dynamic number of samples."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph.eval(),
            (torch.zeros(1, n_samples),),
            str(path),
            input_names=["waveform"],
            output_names=["probabilities"],
            dynamic_axes={"waveform": {1: "samples"}},
            opset_version=opset,
            dynamo=False,
        )
    return path


def verify_graph(graph: WebGraph, path: Path, lengths: Sequence[int], *, seed: int = 0) -> float:
    """Largest probability difference between ``graph`` in PyTorch and its ONNX file on
    random clips of ``lengths`` samples; an :class:`ExportError` above the tolerance."""
    session = _session(path)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for length in lengths:
        x = (rng.standard_normal((1, length)) * 0.1).astype(np.float32)
        with torch.no_grad():
            expected = graph(torch.from_numpy(x)).numpy()
        got = session.run(["probabilities"], {"waveform": x})[0]
        worst = max(worst, float(np.abs(expected - got).max()))
    return check_parity(worst, path, "PyTorch", PARITY_TOLERANCE)


def _session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def held_out_accuracy(path: Path, test: Path, card: ModelCard) -> tuple[float | None, int]:
    """Accuracy of the graph at ``path`` on the clips of the manifest ``test`` it can read
    (clips of classes the card knows, no longer than the page classifies at once), and
    how many it scored; ``None`` when none are. Clips are read through the feature cache,
    where training left them decoded."""
    if not test.is_file():
        return None, 0
    session = _session(path)
    cache = FeatureCache()
    longest = MAX_SECONDS * card.sample_rate
    hits = scored = 0
    for clip in read_manifest(test):
        if clip.label not in card.labels:
            continue
        try:
            y = cache.load(clip, card.sample_rate)
        except (AudioError, OSError):
            continue
        if len(y) > longest:
            continue
        probs = session.run(["probabilities"], {"waveform": y[None, :].astype(np.float32)})[0]
        hits += int(card.labels[int(np.argmax(probs[0]))] == clip.label)
        scored += 1
    return (hits / scored if scored else None), scored


def _quantized(path: Path, out: Path) -> Path:
    """int8 weights for the networks; the front ends (the DFT basis and mel filterbank,
    whose small coefficients int8 would flatten) stay float32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    frontend = [n.name for n in onnx.load(str(path)).graph.node if "/frontend/" in n.name]
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its advice to pre-process the model, once per tensor
    try:
        quantize_dynamic(
            str(path), str(out), weight_type=QuantType.QInt8, nodes_to_exclude=frontend
        )
    finally:
        quiet.setLevel(level)
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class WebSource:
    """What a run's browser export holds: the folder whose model it is (the run, or for
    an ``auto`` run whose served model runs only on the server, its best candidate that
    can run in a page), the members it takes and those it leaves out."""

    folder: RunFolder
    card: ModelCard
    members: list[WebMember]
    left_out: list[dict[str, str]]
    candidate: str = ""


def web_source(run: RunFolder, *, max_mb: float = DEFAULT_MAX_MB) -> WebSource:
    """The model of ``run`` to export for the page; a :class:`WebExportError` naming every
    member, and the candidates tried, when nothing of it can run there."""
    card = run.read_card()
    members, left_out = web_members(run, card, max_mb=max_mb)
    if members:
        return WebSource(run, card, members, left_out)
    candidate = _best_web_candidate(run, max_mb)
    if candidate is not None:
        candidate.left_out = left_out
        return candidate
    reasons = "; ".join(f"{m['member']} ({m['model']}): {m['reason']}" for m in left_out)
    tried = " (nor can any candidate it trained)" if (run.root / CANDIDATES).is_dir() else ""
    raise WebExportError(
        f"{run.root}: no part of this model can run in a browser{tried} — {reasons}"
    )


def _best_web_candidate(run: RunFolder, max_mb: float) -> WebSource | None:
    """Of an ``auto`` run's candidates that run in a page whole, the one with the best
    validation UA (the held-out estimate every neural candidate has). Candidates are
    ranked from their cards and metrics; only the networks of the one taken are loaded."""
    folder = run.root / CANDIDATES
    ranked: list[tuple[float, RunFolder]] = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        candidate = RunFolder(path)
        score = _metric(candidate, "val_balanced_accuracy")
        if candidate.card.is_file() and score is not None and _may_run_whole(candidate):
            ranked.append((score, candidate))
    for _, candidate in sorted(ranked, key=lambda item: -item[0]):
        card = candidate.read_card()
        members, left_out = web_members(candidate, card, max_mb=max_mb)
        if members and not left_out:
            return WebSource(candidate, card, members, [], candidate=candidate.root.name)
    return None


def _may_run_whole(run: RunFolder) -> bool:
    """Whether every member of the run may run in a page, size aside (no weights loaded)."""
    card = run.read_card()
    if card.family != "ensemble":
        return not _refusal(run, card)
    folders = [RunFolder(run.root / MEMBERS / name) for name in card.options["members"]]
    return all(not _refusal(f, f.read_card()) for f in folders)


def export_web(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    quantize: bool = False,
    max_mb: float = DEFAULT_MAX_MB,
) -> WebExport:
    """Write ``out_dir/model.onnx`` and ``out_dir/card.json`` for the run at ``run_dir``
    (see :func:`web_source` for what it holds)."""
    run = RunFolder(Path(run_dir))
    source = web_source(run, max_mb=max_mb)
    graph = WebGraph(source.members, str(source.card.options.get("combine", "product"))).eval()
    n_samples = max(m.n_samples for m in source.members)
    test = source.folder.split("test")
    test = test if test.is_file() else run.split("test")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        float_path = export_graph(graph, Path(tmp) / "float32.onnx", n_samples)
        worst = verify_graph(graph, float_path, (n_samples // 3, n_samples, 2 * n_samples + 7))
        accuracy, scored = held_out_accuracy(float_path, test, source.card)
        chosen, quantization = float_path, None
        if quantize:
            chosen, quantization = _choose_int8(float_path, test, source.card, accuracy)
            if quantization["kept"]:
                accuracy = quantization["int8_accuracy"]
        size = chosen.stat().st_size
        if size > max_mb * 1e6:
            raise WebExportError(
                f"{run.root}: the browser graph is {size / 1e6:.1f} MB, over the "
                f"{max_mb:g} MB cap; raise --max-mb or export a smaller model"
            )
        with atomic_path(out / "model.onnx") as target:
            target.write_bytes(chosen.read_bytes())
    web_card = _card(run, source, out / "model.onnx")
    web_card |= {
        "accuracy": accuracy,
        "test_clips": scored,
        "run_accuracy": _metric(run, "accuracy"),
        "source_accuracy": _source_accuracy(source),
        "parity_max_abs_diff": worst,
        "quantization": quantization,
        "quantized": bool(quantization and quantization["kept"]),
    }
    write_json(out / "card.json", web_card)
    return WebExport(out, web_card)


def _choose_int8(
    float_path: Path, test: Path, card: ModelCard, float_accuracy: float | None
) -> tuple[Path, dict[str, Any]]:
    """The int8 graph when it holds the held-out accuracy, else the float32 one."""
    int8_path = _quantized(float_path, float_path.with_name("int8.onnx"))
    int8_accuracy, _ = held_out_accuracy(int8_path, test, card)
    record: dict[str, Any] = {
        "float32_accuracy": float_accuracy,
        "int8_accuracy": int8_accuracy,
        "float32_bytes": float_path.stat().st_size,
        "int8_bytes": int8_path.stat().st_size,
    }
    if float_accuracy is None or int8_accuracy is None:
        return float_path, record | {"kept": False, "why": "no readable test clips to check it"}
    if float_accuracy - int8_accuracy > INT8_TOLERANCE:
        why = f"int8 loses {float_accuracy - int8_accuracy:.3f} held-out accuracy"
        return float_path, record | {"kept": False, "why": why}
    return int8_path, record | {"kept": True}


def _metric(run: RunFolder, key: str) -> float | None:
    """A number of the run's metrics.json (None when it has none)."""
    try:
        value = run.read_metrics().get(key)
    except RunFolderError:
        return None
    return float(value) if isinstance(value, int | float) else None


def _source_accuracy(source: WebSource) -> float | None:
    """The test accuracy the run recorded for exactly the model exported (the run, its
    candidate, or the one member of an ensemble kept), which ``accuracy`` should equal;
    None for several members without the rest (no run scored that combination)."""
    if source.candidate or not source.left_out:
        return _metric(source.folder, "accuracy")
    if len(source.members) == 1 and source.card.family == "ensemble":
        member = RunFolder(source.folder.root / MEMBERS / source.members[0].name)
        return _metric(member, "accuracy")
    return None


def _card(run: RunFolder, source: WebSource, onnx: Path) -> dict[str, Any]:
    card, members = source.card, source.members
    served = run.read_card()
    return {
        "format": WEB_FORMAT,
        "version": WEB_VERSION,
        "model": run.name,
        "task": card.task,
        "labels": list(card.labels),
        "sample_rate": card.sample_rate,
        "input": "waveform",
        "output": "probabilities",
        "max_seconds": MAX_SECONDS,
        "clip_seconds": max(m.n_samples for m in members) / card.sample_rate,
        "served_model": served.model,
        "candidate": source.candidate,
        "members": [m.name for m in members] if card.family == "ensemble" else [],
        "left_out": source.left_out,
        "bytes": onnx.stat().st_size,
        "sha256": _sha256(onnx),
    }
