"""BLAS runs on one thread inside ``one_blas_thread`` and as before after it."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info

from audioclf.features.threads import one_blas_thread, one_torch_thread


def _blas_threads() -> list[int]:
    return [int(info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas"]


def test_blas_has_one_thread_inside_and_its_own_count_after() -> None:
    import numpy  # noqa: F401 — loads OpenBLAS

    before = _blas_threads()
    assert before  # NumPy's BLAS is loaded
    with one_blas_thread():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_torch_has_one_thread_inside_and_its_count_after_even_on_error() -> None:
    import torch

    before = torch.get_num_threads()
    with one_torch_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"), one_torch_thread():
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before
