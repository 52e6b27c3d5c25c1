"""Fit a scikit-learn estimator once for the same parameters and data, while sharing.

Several classical models contain the same model (``compare_logreg`` is the ComParE
expert of ``fusion_logreg`` and of ``fusion_voice_logreg``), and a caller that trains
several of them on one split (``auto``, :mod:`audioclf.train.auto`) would fit it again for
every one. Inside :func:`sharing`, :func:`fit_shared` remembers fitted estimators by a
digest of their class, parameters and training data and hands out a copy when the same fit
comes again; outside it, :func:`fit_shared` is a plain ``fit``. The estimators that call it
(:class:`~audioclf.models.fusion.LateFusion`'s experts,
:class:`~audioclf.models.multiview.MultiView`'s views) therefore need to know nothing of
who trains them.

scikit-learn's ``Pipeline(memory=...)`` caches transformers only, not the final
classifier, and lives on disk; this memo is in memory, bounded (:data:`MAX_FITS`, least
recently used out) and dropped when the outermost :func:`sharing` ends. It is one memo for
the whole process while active (threads that fit inner folds share it). The estimators it
is used with are deterministic (fixed ``random_state``), so a remembered fit is the fit
that would be made.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from audioclf.features.threads import one_blas_thread

MAX_FITS = 64

_fits: OrderedDict[bytes, Any] = OrderedDict()
_lock = threading.Lock()
_depth = 0  # how many sharing() blocks are open; the memo is used while above 0


@contextmanager
def sharing() -> Iterator[None]:
    """Share fits among the calls of :func:`fit_shared` made until the block ends (blocks
    nest; the memo is cleared when the outermost one ends)."""
    global _depth
    with _lock:
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _fits.clear()


def _plain(value: Any) -> Any:
    """A parameter value as comparable data: an estimator (also one inside a list, such
    as a pipeline's steps or a fusion's experts) by its class and its own parameters."""
    if hasattr(value, "get_params"):
        params = value.get_params(deep=False)
        return (type(value).__qualname__, tuple((k, _plain(params[k])) for k in sorted(params)))
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value


def fit_key(estimator: Any, x: np.ndarray, y: np.ndarray) -> bytes:
    """A digest of the estimator's class and parameters and of the training data."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(repr(_plain(estimator)).encode())
    for array in (np.ascontiguousarray(x), np.ascontiguousarray(y)):
        digest.update(f"|{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)  # the buffer itself, not a copy
    return digest.digest()


def _fit(estimator: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """``estimator.fit`` on one BLAS thread. OpenBLAS's summation order depends on its
    thread count, and L-BFGS carries that rounding into coefficients that differed by up
    to 2 % (a RAVDESS fold's fusion model fitted with two threads, and in a one-CPU Ray
    job with one), so every fit uses one thread: the same fit on any machine, in any
    executor."""
    with one_blas_thread():
        return estimator.fit(x, y)


def fit_shared(estimator: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """``estimator.fit(x, y)``, or, inside :func:`sharing`, a copy of the same fit made
    earlier there.

    Use the returned estimator (it may not be ``estimator`` itself)."""
    with _lock:
        active = _depth > 0
    if not active:
        return _fit(estimator, x, y)
    key = fit_key(estimator, x, y)
    with _lock:
        if key in _fits:
            _fits.move_to_end(key)
            return copy.deepcopy(_fits[key])
    fitted = _fit(estimator, x, y)
    with _lock:
        if _depth == 0:
            return fitted
        _fits[key] = copy.deepcopy(fitted)
        while len(_fits) > MAX_FITS:
            _fits.popitem(last=False)
    return fitted


def clear() -> None:
    """Forget every remembered fit."""
    with _lock:
        _fits.clear()
