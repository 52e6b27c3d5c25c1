"""`audioclf serve` with several workers gives them one feedback-token key."""

from __future__ import annotations

import os

import pytest

from audioclf.cli.serve import FEEDBACK_SECRET_ENV, share_feedback_secret


def test_workers_share_a_key_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FEEDBACK_SECRET_ENV, raising=False)
    share_feedback_secret(None)

    drawn = os.environ[FEEDBACK_SECRET_ENV]
    assert len(drawn) >= 32
    share_feedback_secret(None)
    assert os.environ[FEEDBACK_SECRET_ENV] == drawn


def test_a_configured_key_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FEEDBACK_SECRET_ENV, raising=False)
    share_feedback_secret("from-the-dotenv-file")

    assert FEEDBACK_SECRET_ENV not in os.environ
