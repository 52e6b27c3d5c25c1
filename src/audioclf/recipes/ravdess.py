"""RAVDESS: the Ryerson Audio-Visual Database of Emotional Speech and Song.

24 professional actors (12 female, 12 male) say two neutral statements ("Kids are talking
by the door", "Dogs are sitting by the door") in 8 emotions at 2 intensities, spoken and
sung. Licence: CC BY-NC-SA 4.0 (Livingstone & Russo 2018, Zenodo 1188976).

Layout: ``Actor_01/ .. Actor_24/``, one file per take. Naming scheme, seven 2-digit fields
``MM-VV-EE-II-SS-RR-AA`` (e.g. ``03-01-05-01-02-01-12.wav``): modality (01 audio-video,
02 video, 03 audio), vocal channel (01 speech, 02 song), emotion (01 neutral, 02 calm,
03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised), intensity (01 normal,
02 strong), statement (01 kids, 02 dogs), repetition (01, 02), actor (odd = male,
even = female).
"""

from __future__ import annotations

import re
from pathlib import Path

from audioclf.formats.manifest import SkippedFile
from audioclf.recipes._common import (
    FoundFile,
    PrepareResult,
    as_choice,
    audio_files,
    build_manifest,
    off_scheme,
    require_dir,
)

CORPUS = "ravdess"
EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
VOCAL_CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "kids", "02": "dogs"}
_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_SCHEME = "MM-VV-EE-II-SS-RR-AA (e.g. 03-01-05-01-02-01-12.wav)"


def prepare_ravdess(
    source: str | Path, *, progress: bool = True, vocal_channel: str = "speech"
) -> PrepareResult:
    """RAVDESS: 24 actors, 8 emotions, speech and song (Actor_XX/03-01-EE-II-SS-RR-AA.wav).

    ``vocal_channel`` keeps ``speech`` (default), ``song`` or ``all`` takes.
    """
    root = require_dir(source, CORPUS)
    channel = as_choice("vocal_channel", vocal_channel, ("speech", "song", "all"))
    candidates: list[FoundFile] = []
    skipped: list[SkippedFile] = []
    for path in audio_files(root):
        cand = _parse(path)
        if cand is None:
            skipped.append(off_scheme(path, _SCHEME))
        elif channel in ("all", cand.meta["vocal_channel"]):
            candidates.append(cand)
    return build_manifest(candidates, root, CORPUS, progress=progress, skipped=skipped)


def _parse(path: Path) -> FoundFile | None:
    """Label, speaker, gender and metadata from a RAVDESS file name (None: off-scheme)."""
    match = _NAME.match(path.stem)
    if match is None:
        return None
    _modality, vocal, emotion, intensity, statement, repetition, actor = match.groups()
    if (
        emotion not in EMOTIONS
        or vocal not in VOCAL_CHANNELS
        or intensity not in INTENSITIES
        or statement not in STATEMENTS
    ):
        return None
    number = int(actor)
    return FoundFile(
        path=path,
        label=EMOTIONS[emotion],
        speaker=f"{CORPUS}/{actor}",
        gender="male" if number % 2 else "female",
        meta={
            "intensity": INTENSITIES[intensity],
            "statement": STATEMENTS[statement],
            "repetition": int(repetition),
            "vocal_channel": VOCAL_CHANNELS[vocal],
            "actor": number,
        },
    )
