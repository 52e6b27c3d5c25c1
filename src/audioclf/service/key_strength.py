"""How guessable an admin key is: refuses words, sequences, repeats, placeholders, short keys.

The patterns a person types (dictionary words and names, l33t spellings, keyboard walks,
``0123…``/``abcd…`` runs, repeats, dates) are found by zxcvbn, the well-kept estimator made
for exactly this. Three things about keys (rather than passwords) are handled around it:

- zxcvbn prices the stretches that match no pattern at ten guesses per character whatever
  the characters, which undervalues random keys from a larger alphabet (a
  ``secrets.token_hex(16)`` key rates ~102 bits). Those stretches are repriced at the key's
  own alphabet: 10 symbols for digits, 16 for hex, else 26 per letter case present plus 10
  if digits appear.
- zxcvbn misses words split by separators (``paste-the-generated-key-here`` keeps
  ``-the-`` as random characters). The letters and digits are scored joined up, and the
  other characters on their own, each random one priced as a choice among the distinct
  ones the key uses.
- Instructions left in place of a key (``paste-the-generated-key-here``,
  ``replace-with-your-api-key``) are placeholders however long: two or more of their cue
  words between separators refuse a key.

The floor is 80 estimated bits rather than 96 because zxcvbn is conservative with random
keys: a 128-bit random key (``token_hex(16)``, ``token_urlsafe(16)``, 16 bytes in base64)
rates 96 bits or more in over 99 draws in 100, but chance hands some a word or a date that
brings them to ~90. An admin key is guessed over the network, where 80 bits is out of
reach; 64-bit keys (``token_hex(8)``) rate at most 64 and are refused.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass

from zxcvbn import zxcvbn

MIN_KEY_BITS = 80.0
# words a key for this server is likely to be built from
_CONTEXT_WORDS = ["audioclf", "audio", "admin", "api", "key", "secret", "token", "server"]
_PLACEHOLDER_CUES = frozenset(
    "paste replace insert put change changeme your my here generated generate random "  # noqa: SIM905
    "example placeholder dummy todo fixme set key apikey secret token password".split()
)
_ALNUM = frozenset(string.ascii_letters + string.digits)
_HEX = frozenset(string.hexdigits.lower())


@dataclass(frozen=True)
class KeyStrength:
    """A key's estimated guessing cost and why it is cheap, when a reason is known."""

    bits: float
    warning: str
    placeholder: bool = False

    @property
    def strong(self) -> bool:
        return self.bits >= MIN_KEY_BITS and not self.placeholder


def alphabet_size(chars: str) -> int:
    """The number of symbols random letters and digits like ``chars`` are drawn from."""
    if not chars or chars.isdigit():
        return 10
    if set(chars.lower()) <= _HEX and (chars.islower() or chars.isupper()):
        return 16
    size = 26 if any(c in string.ascii_lowercase for c in chars) else 0
    size += 26 if any(c in string.ascii_uppercase for c in chars) else 0
    size += 10 if any(c in string.digits for c in chars) else 0
    return size


def pattern_bits(chars: str, bits_per_random_char: float) -> tuple[float, str]:
    """Bits of zxcvbn's cheapest reading of ``chars``, its random stretches repriced."""
    if not chars:
        return 0.0, ""
    result = zxcvbn(chars, user_inputs=_CONTEXT_WORDS, max_length=max(72, len(chars)))
    bits = 0.0
    for match in result["sequence"]:
        if match["pattern"] == "bruteforce":
            bits += len(match["token"]) * bits_per_random_char
        else:
            bits += math.log2(max(float(match["guesses"]), 1.0))
    return bits, str(result.get("feedback", {}).get("warning") or "")


def is_placeholder(key: str) -> bool:
    """Whether ``key`` reads like an instruction to put a key here."""
    words = [w for w in re.split(r"[^a-z]+", key.lower()) if w]
    return sum(w in _PLACEHOLDER_CUES for w in words) >= 2


def key_strength(key: str) -> KeyStrength:
    """Estimate how many bits of guessing ``key`` resists."""
    letters = "".join(c for c in key if c in _ALNUM)
    others = "".join(c for c in key if c not in _ALNUM)
    letter_bits, warning = pattern_bits(letters, math.log2(alphabet_size(letters)))
    other_bits, other_warning = pattern_bits(others, math.log2(1 + len(set(others))))
    return KeyStrength(
        bits=letter_bits + other_bits,
        warning=warning if len(letters) >= len(others) else other_warning,
        placeholder=is_placeholder(key),
    )
