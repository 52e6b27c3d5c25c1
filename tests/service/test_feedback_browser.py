"""The feedback control and the monitoring page in Debian's Chromium, against a server
that serves a registry (SQLite file in tmp_path)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf.registry import Registry
from audioclf.service.settings import Settings
from tests.conftest import tone
from tests.service.conftest import STRONG_KEY
from tests.service.test_browser import Watched, _open, chromium, fake_mic_wav
from tests.service.threaded_server import serve_in_thread

__all__ = ["chromium", "fake_mic_wav"]  # fixtures shared with test_browser


@pytest.fixture(scope="module")
def registry_server(
    runs: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The app serving registry model ``m`` (the logreg run) under uvicorn; yields the URL
    and the feedback pool folder."""
    root = tmp_path_factory.mktemp("registry_server")
    url = f"sqlite:///{root / 'registry.db'}"
    reg = Registry(url)
    reg.add(runs[1], "m")
    reg.promote("m", 1)
    pool = root / "pool"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        registry=["m"],
        db_url=url,
        feedback_dir=pool,
        api_key=STRONG_KEY,
        rate_limit_per_minute=0,
    )
    for url in serve_in_thread(settings):
        yield url, pool


@pytest.fixture
def page(chromium, registry_server: tuple[str, Path]) -> Iterator[Watched]:  # type: ignore[no-untyped-def]
    yield from _open(chromium, registry_server[0])


def test_correct_a_result_with_consent_then_see_it_on_the_monitoring_page(
    page: Watched, registry_server: tuple[str, Path], tmp_path: Path
) -> None:
    url, pool = registry_server
    clip = tmp_path / "clip.wav"
    sf.write(clip, tone(0.6, 16_000, freq=300.0), 16_000)
    p = page.page
    p.set_input_files("#file-input", str(clip))
    control = p.locator(".model-result .feedback")
    control.wait_for()
    predicted = p.locator(".model-result .bar.top").get_attribute("data-label")
    control.locator("summary").click()
    choice = control.locator("select").input_value()
    assert choice and choice != predicted
    control.locator("input[type=checkbox]").check()
    control.locator("button").click()
    p.wait_for_selector("text=clip kept for retraining")
    # the pool keeps the clip's decoded samples (FLAC), the same audio the page sent
    (kept,) = (pool / "clips").iterdir()
    samples, rate = sf.read(kept, dtype="float32")
    sent, sent_rate = sf.read(clip, dtype="float32")
    assert kept.suffix == ".flac" and rate == sent_rate
    np.testing.assert_allclose(samples, sent, atol=1e-4)
    page.assert_clean()

    p.goto(f"{url}/static/monitor.html")
    p.fill("#api-key", "wrong-key-0123456789")
    p.click("#key-form button")
    p.wait_for_selector("text=Wrong API key.")
    p.fill("#api-key", STRONG_KEY)
    p.click("#key-form button")
    p.wait_for_selector("h2:has-text('m — production v1')")
    rows = p.locator("table").last.locator("tbody tr").all_inner_texts()
    assert rows == [f"{predicted}\t1\t1\t100.0%"]
    assert p.evaluate("localStorage.length + sessionStorage.length") == 0
    page.assert_clean(allow_http_errors=True)
