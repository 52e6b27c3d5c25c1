"""One fit per estimator, parameters and training data within a process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from audioclf.models import create_model, shared_fits
from audioclf.models.fusion import LateFusion
from audioclf.models.shared_fits import fit_key, fit_shared, sharing


@pytest.fixture
def shared() -> Iterator[None]:
    """The test runs inside one sharing() block, as an auto selection does."""
    with sharing():
        yield
    assert not shared_fits._fits  # dropped with the block


class Counting(LogisticRegression):
    fits = 0

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Counting:  # noqa: N803
        Counting.fits += 1
        return super().fit(X, y, sample_weight)


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


@pytest.mark.usefixtures("shared")
def test_same_parameters_and_data_fit_once() -> None:
    Counting.fits = 0
    x, y = _data()
    first = fit_shared(Counting(C=0.1), x, y)
    again = fit_shared(Counting(C=0.1), x.copy(), y.copy())
    assert Counting.fits == 1
    np.testing.assert_array_equal(first.predict_proba(x), again.predict_proba(x))
    # a copy: changing one does not change what the cache hands out next
    again.coef_[:] = 0
    np.testing.assert_array_equal(fit_shared(Counting(C=0.1), x, y).coef_, first.coef_)
    # another C, other rows or other labels are other fits
    fit_shared(Counting(C=1.0), x, y)
    fit_shared(Counting(C=0.1), x[:30], y[:30])
    fit_shared(Counting(C=0.1), x, 1 - y)
    assert Counting.fits == 4


def test_nested_parameters_are_part_of_the_key() -> None:
    """A fusion's experts are a list, which get_params(deep=True) does not open."""
    x, y = _data()
    a = create_model("fusion_logreg", 2, compare_C=0.01)
    b = create_model("fusion_logreg", 2, compare_C=0.1)
    assert fit_key(a, x, y) != fit_key(b, x, y)
    assert fit_key(a, x, y) == fit_key(create_model("fusion_logreg", 2), x, y)
    assert fit_key(create_model("logreg", 2, C=0.1), x, y) != fit_key(
        create_model("logreg", 2, C=0.2), x, y
    )


@pytest.mark.usefixtures("shared")
def test_a_fusion_expert_reuses_the_single_models_fit() -> None:
    Counting.fits = 0
    x, y = _data()
    fit_shared(Counting(C=0.1), x[:, :4], y)
    fusion = LateFusion([(4, Counting(C=0.1)), (2, Counting(C=0.1))]).fit(x, y)
    assert Counting.fits == 2  # the first block's expert came from the cache
    assert fusion.predict_proba(x).shape == (40, 2)


@pytest.mark.usefixtures("shared")
def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_fits, "MAX_FITS", 2)
    Counting.fits = 0
    x, y = _data()
    for c in (0.1, 0.2, 0.3):
        fit_shared(Counting(C=c), x, y)
    fit_shared(Counting(C=0.1), x, y)  # the oldest went out: fitted again
    fit_shared(Counting(C=0.3), x, y)  # still there
    assert Counting.fits == 4


def test_the_fusions_compare_expert_is_compare_logreg() -> None:
    """Same class and parameters, so auto fits it once for all three candidates."""
    from audioclf.features.smile import DIMS

    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, DIMS["compare"])).astype(np.float32)
    y = np.arange(12) % 2
    single = create_model("compare_logreg", 2)
    assert single[-1].tol == 1e-4 and single[-1].C == 0.01
    for name in ("fusion_logreg", "fusion_voice_logreg"):
        expert = create_model(name, 2).experts[0][1]
        assert fit_key(expert, x, y) == fit_key(single, x, y), name
    assert create_model("compare_logreg", 2, tol=1e-5)[-1].tol == 1e-5


def test_outside_sharing_every_fit_is_made_and_nothing_is_kept() -> None:
    Counting.fits = 0
    x, y = _data()
    fit_shared(Counting(C=0.1), x, y)
    fit_shared(Counting(C=0.1), x, y)
    assert Counting.fits == 2 and not shared_fits._fits
    with sharing():
        with sharing():  # blocks nest
            fit_shared(Counting(C=0.1), x, y)
        fit_shared(Counting(C=0.1), x, y)
        assert Counting.fits == 3 and shared_fits._fits
    assert not shared_fits._fits


class _RecordsBlasThreads:
    """An estimator whose fit records how many threads BLAS has."""

    def get_params(self, deep: bool = True) -> dict[str, object]:
        return {}

    def fit(self, x: np.ndarray, y: np.ndarray) -> _RecordsBlasThreads:
        from threadpoolctl import threadpool_info

        self.threads_ = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        return self


def test_every_fit_runs_on_one_blas_thread_so_it_is_the_same_on_any_machine() -> None:
    x, y = np.ones((4, 2)), np.array([0, 1, 0, 1])
    alone = fit_shared(_RecordsBlasThreads(), x, y)
    with sharing():
        shared = fit_shared(_RecordsBlasThreads(), x, y)
    assert alone.threads_ and set(alone.threads_) == {1}
    assert set(shared.threads_) == {1}
