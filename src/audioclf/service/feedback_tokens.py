"""Feedback tokens: a prediction id signed with the server's secret and a time stamp.

``POST /v1/predict`` hands one out with every logged prediction; ``POST /v1/feedback``
accepts a correction only with a valid, unexpired token for that prediction, so feedback
cannot be sent for predictions the client never received (ids guessed or harvested from
elsewhere) nor long after. itsdangerous' ``TimestampSigner`` (HMAC-SHA256) does the
signing and the expiry check; this module names the errors as the API answers them.
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

SALT = "audioclf.feedback"


class FeedbackTokenError(ValueError):
    """A token that is missing, forged, for another prediction or expired."""


def _signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt=SALT, digest_method=hashlib.sha256)


def sign_prediction(secret: str, prediction_id: str) -> str:
    """The feedback token of ``prediction_id``: the id, a time stamp and their HMAC."""
    return _signer(secret).sign(prediction_id).decode()


def check_token(secret: str, token: str, prediction_id: str, max_age: int) -> None:
    """Raise :class:`FeedbackTokenError` unless ``token`` was signed by this server for
    ``prediction_id`` at most ``max_age`` seconds ago."""
    if not token:
        raise FeedbackTokenError(
            "feedback needs the `feedback_token` that /v1/predict returned with the prediction"
        )
    try:
        signed_id = _signer(secret).unsign(token, max_age=max_age).decode()
    except SignatureExpired:
        raise FeedbackTokenError(
            f"the feedback token has expired (tokens last {max_age:g} s); "
            "classify the clip again to get a new one"
        ) from None
    except BadSignature:
        raise FeedbackTokenError(
            "the feedback token is not valid (not signed by this server, altered, or from "
            "before a restart without AUDIOCLF_FEEDBACK_SECRET)"
        ) from None
    if signed_id != prediction_id:
        raise FeedbackTokenError("the feedback token belongs to another prediction")
