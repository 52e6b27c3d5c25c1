"""A pretrained voice encoder's hidden states, pooled into one clip vector.

Resemblyzer's voice encoder (Resemble AI; the GE2E speaker encoder of Wan et al.,
"Generalized end-to-end loss for speaker verification", ICASSP 2018) is a three-layer
LSTM over a 40-band mel spectrogram (25 ms windows, 10 ms hop, 16 kHz), trained by its
authors to tell speakers apart (speaker verification). Its final embedding is made
to ignore what a voice does and keep who it is — but its second and third layers, on the
way there, describe how the voice sounds moment to moment: pitch, effort, voice quality,
tempo, which is what emotion changes. A logistic regression on their statistics beat the
openSMILE ComParE functionals on both emotion corpora of docs/benchmarks.md, and the two
together beat either.

The ``resemblyzer`` package (Apache-2.0, the ``voice`` extra) ships the weights
(``pretrained.pt``, 17 MB). We read that file and run the LSTM with torch ourselves:
importing the package would pull in its voice-activity detector and print on load, and
the layers we pool are not exposed by its API.

A clip becomes the mean and standard deviation over time of the outputs of LSTM layers 2
and 3 (:data:`DIM` = 1024 values). The waveform is resampled to 16 kHz and scaled to
-30 dBFS (the level the encoder was trained on) first, so the vector does not depend on
recording gain; clips shorter than :data:`MIN_SECONDS` are centred in silence.

The LSTM runs on one torch intra-op thread: a 300-step recurrence of 256-wide layers
gains nothing from a second thread, and callers run several clips at once instead (the
feature cache's workers, the server's extraction threads), which a shared thread pool
would oversubscribe. The shipped layers are loaded once and shared by every thread.
:func:`voice_encoder_stats_batch` runs several clips through the LSTM as one padded
batch, which costs far less per clip than one at a time and gives the same vectors.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.features.mel_power import power_mel
from audioclf.features.pretrained_input import at_least, mono_at
from audioclf.features.threads import one_torch_thread

SAMPLE_RATE = 16_000
N_MELS = 40
N_FFT = 400
"""25 ms windows at 16 kHz."""
HOP = 160
"""10 ms hop."""
HIDDEN = 256
LAYERS = 3
POOLED_LAYERS = (2, 3)
"""The LSTM layers (1-based) whose outputs are pooled."""
DIM = 2 * HIDDEN * len(POOLED_LAYERS)
TARGET_DBFS = -30.0
BATCH_FRAMES = 12_000
"""Most padded frames (10 ms each) run through the LSTM in one batch: two minutes of
audio, about 36 MB of layer outputs."""
MIN_SECONDS = 0.5
PACKAGE = "resemblyzer"
WEIGHTS = "pretrained.pt"

_layers: list[Any] = []
_lock = threading.Lock()


class VoiceEncoderUnavailableError(ValueError):
    """The package that ships the weights is missing (the CLI prints it as one line)."""


def weights_file() -> Path:
    """``pretrained.pt`` of the installed ``resemblyzer`` package (found without importing
    it)."""
    spec = find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise VoiceEncoderUnavailableError(
            "the voice_encoder features need the weights shipped by the resemblyzer "
            "package: pip install 'audioclf[voice]'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / WEIGHTS
    if not path.is_file():
        raise VoiceEncoderUnavailableError(
            f"{path} is missing: reinstall resemblyzer (pip install --force-reinstall resemblyzer)"
        )
    return path


def _load() -> list[Any]:
    """One single-layer ``torch.nn.LSTM`` per encoder layer (so each layer's outputs can be
    read), with the shipped weights."""
    with _lock:
        if not _layers:
            _layers.extend(_read_layers())
        return _layers


def _read_layers() -> list[Any]:
    import torch

    state = torch.load(weights_file(), map_location="cpu", weights_only=True)
    state = state.get("model_state", state)
    layers = []
    for i in range(max(POOLED_LAYERS)):
        lstm = torch.nn.LSTM(N_MELS if i == 0 else HIDDEN, HIDDEN, batch_first=True)
        lstm.load_state_dict(
            {
                f"{name}_l0": state[f"lstm.{name}_l{i}"]
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            }
        )
        layers.append(lstm.eval())
    return layers


def _prepare(y: np.ndarray, sr: int) -> np.ndarray:
    y = mono_at(y, sr, SAMPLE_RATE)
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if len(y) else 0.0
    if rms > 1e-6:
        y = y * np.float32(10 ** (TARGET_DBFS / 20) / rms)
    return at_least(y, int(MIN_SECONDS * SAMPLE_RATE))


def encoder_input(y: np.ndarray, sr: int) -> np.ndarray:
    """The encoder's input for ``y``: the power mel spectrogram (not its logarithm),
    ``(frames, 40)`` float32."""
    audio = _prepare(y, sr)
    return power_mel(audio, SAMPLE_RATE, n_fft=N_FFT, hop=HOP, n_mels=N_MELS).T.copy()


def layer_outputs(y: np.ndarray, sr: int) -> list[np.ndarray]:
    """The outputs of the encoder's layers up to the last pooled one for the mono waveform
    ``y``: one ``(frames, 256)`` float32 array per layer, a frame every 10 ms."""
    return run_layers([encoder_input(y, sr)])[0]


def run_layers(mels: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Each spectrogram's layer outputs, the spectrograms run as one batch (padded at the
    end to the longest: a step's state depends only on the steps before it, so the
    padding changes nothing before a sequence's end, and each output is cut to its own
    length)."""
    import torch

    lengths = [len(mel) for mel in mels]
    batch = np.zeros((len(mels), max(lengths), N_MELS), dtype=np.float32)
    for row, mel in zip(batch, mels, strict=True):
        row[: len(mel)] = mel
    layers = _load()
    outputs: list[list[np.ndarray]] = [[] for _ in mels]
    with one_torch_thread(), torch.inference_mode():
        h = torch.from_numpy(batch)
        for lstm in layers:
            h, _ = lstm(h)
            for out, frames, n in zip(outputs, h.numpy(), lengths, strict=True):
                out.append(frames[:n].copy())
    return outputs


def _pooled(outputs: list[np.ndarray]) -> np.ndarray:
    parts = []
    for layer in POOLED_LAYERS:
        frames = outputs[layer - 1]
        parts += [frames.mean(axis=0), frames.std(axis=0)]
    stats = np.concatenate(parts)
    return np.nan_to_num(stats, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def voice_encoder_stats(y: np.ndarray, sr: int) -> np.ndarray:
    """Mean and standard deviation over time of the pooled layers' outputs, ``(1024,)``."""
    return _pooled(layer_outputs(y, sr))


def voice_encoder_stats_batch(waves: Sequence[np.ndarray], sr: int) -> list[np.ndarray]:
    """:func:`voice_encoder_stats` of each waveform, the clips run through the LSTM
    together: its recurrent step is a matrix-vector product bound by reading the
    weights, and several sequences share each read (four 3-s clips at once cost about
    twice one, not four times). Clips are grouped by length so that padding stays small,
    and a group holds at most :data:`BATCH_FRAMES` padded frames."""
    mels = [encoder_input(y, sr) for y in waves]
    out: list[np.ndarray] = [np.empty(0, np.float32)] * len(mels)
    for group in length_groups([len(mel) for mel in mels]):
        for i, outputs in zip(group, run_layers([mels[i] for i in group]), strict=True):
            out[i] = _pooled(outputs)
    return out


def length_groups(lengths: Sequence[int]) -> list[list[int]]:
    """Indices of ``lengths`` in batches of similar length, each of at most
    :data:`BATCH_FRAMES` frames once padded to its longest."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    groups: list[list[int]] = []
    current: list[int] = []
    for i in order:  # ascending, so the newest member is the longest
        if current and (len(current) + 1) * lengths[i] > BATCH_FRAMES:
            groups.append(current)
            current = []
        current.append(i)
    return [*groups, current] if current else groups
