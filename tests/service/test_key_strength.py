"""Admin-key strength: human patterns and placeholders refused, random keys of 128 bits kept."""

from __future__ import annotations

import base64
import random
import string
import uuid
from collections.abc import Callable

import pytest

from audioclf.service.key_strength import MIN_KEY_BITS, alphabet_size, key_strength

URLSAFE = string.ascii_letters + string.digits + "-_"


def _hex(rng: random.Random, n_bytes: int) -> str:
    return rng.randbytes(n_bytes).hex()


def _urlsafe(rng: random.Random, n_bytes: int) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(n_bytes)).rstrip(b"=").decode()


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "token_hex(16)": lambda rng: _hex(rng, 16),
    "token_hex(16).upper()": lambda rng: _hex(rng, 16).upper(),
    "token_urlsafe(16)": lambda rng: _urlsafe(rng, 16),
    "token_urlsafe(32)": lambda rng: _urlsafe(rng, 32),
    "base64 of 24 bytes": lambda rng: base64.b64encode(rng.randbytes(24)).decode(),
    "uuid4": lambda rng: str(uuid.UUID(bytes=rng.randbytes(16), version=4)),
}


@pytest.mark.parametrize(
    "key",
    [
        "aaaaaaaaaaaaaaaa",
        "0123456789abcdef",
        "0123456789abcdef0123456789abcdef",
        "abcdefghijklmnopqrstuvwxyz",
        "qwertyuiopasdfghjklzxcvbnm1234567890",
        "x" * 100,
        "-_" * 32,
        "!@#$%^&*()" * 4,
        "Password1Password1Password1Password1",
        "correct horse battery staple correct horse",
        "k3y-for-tests-0123456789abcdef",
    ],
)
def test_human_patterns_are_weak(key: str) -> None:
    strength = key_strength(key)
    assert strength.bits < MIN_KEY_BITS and not strength.strong


@pytest.mark.parametrize(
    "key",
    [
        "paste-the-generated-key-here",
        "replace-with-a-random-key-from-secrets-token-urlsafe",
        "my-super-secret-api-key-for-production-2026",
        "PUT_YOUR_API_KEY_HERE",
    ],
)
def test_placeholders_are_refused_however_long(key: str) -> None:
    strength = key_strength(key)
    assert strength.placeholder and not strength.strong


def test_sixty_four_random_bits_are_not_enough() -> None:
    rng = random.Random(1)
    assert all(not key_strength(_hex(rng, 8)).strong for _ in range(50))


@pytest.mark.parametrize("name", GENERATORS)
def test_random_keys_of_128_bits_or_more_pass(name: str) -> None:
    rng = random.Random(name)
    keys = [GENERATORS[name](rng) for _ in range(150)]
    weak = [k for k in keys if not key_strength(k).strong]
    assert weak == []


def test_a_sequence_hidden_behind_separators_is_found() -> None:
    joined = key_strength("abcdefghijklmnopqrstuvwxyz")
    split = key_strength("abc-def-ghi-jkl-mno-pqr-stu-vwx-yz")
    assert split.bits < MIN_KEY_BITS
    assert split.bits < joined.bits + 20


@pytest.mark.parametrize(
    ("chars", "size"),
    [("0123", 10), ("deadbeef01", 16), ("DEADBEEF01", 16), ("DeadBeef", 52), ("abcxyz9", 36)],
)
def test_alphabet_of_random_stretches(chars: str, size: int) -> None:
    assert alphabet_size(chars) == size
