"""Feedback tokens: signed for one prediction, refused when altered, foreign or expired."""

from __future__ import annotations

import pytest

from audioclf.service.feedback_tokens import FeedbackTokenError, check_token, sign_prediction

SECRET = "a-server-secret-for-the-tests"


def test_a_fresh_token_of_the_prediction_passes() -> None:
    check_token(SECRET, sign_prediction(SECRET, "p1"), "p1", max_age=60)


BAD_TOKENS = {
    "missing": (lambda: "", "needs the `feedback_token`"),
    "garbage": (lambda: "p1.garbage", "not valid"),
    "other secret": (lambda: sign_prediction("another secret", "p1"), "not valid"),
    "other prediction": (lambda: sign_prediction(SECRET, "p2"), "another prediction"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_are_refused(case: str) -> None:
    make_token, says = BAD_TOKENS[case]
    with pytest.raises(FeedbackTokenError, match=says.replace("`", ".")):
        check_token(SECRET, make_token(), "p1", max_age=60)


def test_an_old_token_has_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    import itsdangerous.timed

    token = sign_prediction(SECRET, "p1")
    now = itsdangerous.timed.time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now + 3601)
    with pytest.raises(FeedbackTokenError, match="expired"):
        check_token(SECRET, token, "p1", max_age=3600)
    check_token(SECRET, token, "p1", max_age=7200)
