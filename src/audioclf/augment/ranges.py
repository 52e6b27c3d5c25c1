"""Perturbation SPECs with ranges, drawn once per clip: training's noise views.

``noise=pink,snr=0..20`` is :mod:`audioclf.augment.perturb`'s SPEC with a range where a
number goes: every clip gets its own value, drawn uniformly from the range with a random
generator seeded by the seed, the template and the clip's id, so a clip's view is the
same in every run and can be cached. A template without a range is a plain SPEC.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from audioclf.augment.perturb import Perturbation, PerturbSpecError, parse_perturbation

RANGE = re.compile(r"(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)")
"""``LOW..HIGH``: a number drawn per clip."""


@dataclass(frozen=True)
class SpecTemplate:
    """A perturbation SPEC whose numbers may be ranges (``reverb=0.2..0.8``)."""

    text: str

    def __post_init__(self) -> None:
        for match in RANGE.finditer(self.text):
            if float(match[1]) > float(match[2]):
                raise PerturbSpecError(
                    f"{self.text!r}: range {match[0]} runs downwards; write LOW..HIGH"
                )
        # both ends of every range must make a valid SPEC
        parse_perturbation(RANGE.sub(lambda m: m[1], self.text))
        parse_perturbation(RANGE.sub(lambda m: m[2], self.text))

    @property
    def babbles(self) -> bool:
        """Whether its views are mixed with babble (other speakers' clips)."""
        return parse_perturbation(RANGE.sub(lambda m: m[1], self.text)).babbles

    def draw(self, clip_id: str, seed: int = 0) -> Perturbation:
        """The clip's perturbation: each range replaced by its value for this clip."""
        rng = np.random.default_rng(
            [seed, zlib.crc32(self.text.encode()), zlib.crc32(clip_id.encode())]
        )

        def value(match: re.Match[str]) -> str:
            return f"{rng.uniform(float(match[1]), float(match[2])):.2f}"

        return parse_perturbation(RANGE.sub(value, self.text))
