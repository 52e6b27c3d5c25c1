"""openSMILE functionals: dimensions, finite values on awkward input, determinism."""

from __future__ import annotations

import importlib.util
import sys
import threading

import numpy as np
import pytest

from audioclf.features import smile
from audioclf.features.inputs import vector_function, vectors
from audioclf.features.smile import DIMS, SmileUnavailableError, smile_functionals
from tests.conftest import tone


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opensmile", None)  # makes `import opensmile` fail
    monkeypatch.setattr(smile, "_local", threading.local())
    with pytest.raises(SmileUnavailableError, match=r"pip install 'audioclf\[smile\]'"):
        smile_functionals("egemaps", np.zeros(1600, np.float32), 16_000)


needs_opensmile = pytest.mark.skipif(
    importlib.util.find_spec("opensmile") is None, reason="opensmile not installed"
)


@needs_opensmile
@pytest.mark.parametrize("kind", ["compare", "egemaps"])
def test_dimensions_and_finite(kind: str) -> None:
    v = smile_functionals(kind, tone(1.0, 16_000, 440.0), 16_000)
    assert v.shape == (DIMS[kind],) and v.dtype == np.float32
    assert np.isfinite(v).all() and np.abs(v).sum() > 0


@needs_opensmile
@pytest.mark.parametrize("n", [0, 50, 16_000])
def test_short_and_silent_clips_give_finite_vectors(n: int) -> None:
    v = smile_functionals("egemaps", np.zeros(n, np.float32), 16_000)
    assert v.shape == (88,) and np.isfinite(v).all()


@needs_opensmile
def test_deterministic_and_discriminative() -> None:
    low, high = tone(1.0, 16_000, 200.0), tone(1.0, 16_000, 2000.0)
    a = vectors("egemaps", [low, high], 16_000)
    b = vectors("egemaps", [low, high], 16_000)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[0], a[1])


@needs_opensmile
def test_input_kinds_and_errors() -> None:
    assert vector_function("compare")(tone(0.5, 16_000, 300.0), 16_000).shape == (6373,)
    with pytest.raises(ValueError, match="mono"):
        smile_functionals("egemaps", np.zeros((2, 100), np.float32), 16_000)
    with pytest.raises(ValueError, match="unknown openSMILE input kind"):
        smile_functionals("gemaps", np.zeros(100, np.float32), 16_000)


@needs_opensmile
def test_composite_input_concatenates_its_parts_in_order() -> None:
    from audioclf.features.handcrafted import pooled_stats
    from audioclf.features.smile import compare_functionals

    y = tone(0.5, 16_000, 300.0)
    joined = vector_function("compare+pooled")(y, 16_000)
    expected = np.concatenate([compare_functionals(y, 16_000), pooled_stats(y, 16_000)])
    np.testing.assert_allclose(joined, expected, rtol=1e-6)
    assert joined.dtype == np.float32
    with pytest.raises(ValueError, match="joined with"):
        vector_function("compare+nothing")


@needs_opensmile
def test_threads_extracting_at_once_get_what_one_thread_gets() -> None:
    """Each thread has its own extractor (openSMILE's are not re-entrant): clips
    extracted two at a time give exactly the serial vectors."""
    from concurrent.futures import ThreadPoolExecutor

    clips = [tone(0.5 + 0.1 * i, 16_000, 150.0 * (i + 1)) for i in range(6)]
    serial = [smile_functionals("egemaps", y, 16_000) for y in clips]
    with ThreadPoolExecutor(max_workers=2) as pool:
        parallel = list(pool.map(lambda y: smile_functionals("egemaps", y, 16_000), clips * 2))
    for got, want in zip(parallel, serial * 2, strict=True):
        np.testing.assert_array_equal(got, want)
