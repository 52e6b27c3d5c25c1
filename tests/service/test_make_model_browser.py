"""The "Make a model" page in Debian's Chromium, against a server with training on.

One walk through the page: a two-class dataset made in the page, the "tone" class
recorded from the fake microphone (a 300 Hz tone) and the "noise" class uploaded as
generated white noise; a job cancelled, then one trained with a quick model and followed
over its event stream to the end; the metrics and the confusion table; "Try it" by
upload and by microphone; promotion into the registry; and the monitoring page's
retraining section. With AUDIOCLF_SCREENSHOTS=1 it also saves docs/img/make-model*.png.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from audioclf.service.settings import Settings
from tests.service.conftest import STRONG_KEY
from tests.service.test_browser import CSP_PROBE, TIMEOUT_MS, Watched, chromium, fake_mic_wav
from tests.service.threaded_server import serve_in_thread

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request

__all__ = ["chromium", "fake_mic_wav"]  # fixtures shared with test_browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
SCREENSHOTS = os.environ.get("AUDIOCLF_SCREENSHOTS") == "1"
MIN_CLIPS = 3
JOB_TIMEOUT_MS = 60_000


pytestmark = pytest.mark.xdist_group("training-jobs")  # jobs are processes: not all at once


def _serve(root: Path, **overrides: Any) -> Iterator[str]:
    """The app (admin key set, files under ``root``) under uvicorn in a background thread,
    on a free port of 127.0.0.1; yields its URL."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        api_key=STRONG_KEY,
        db_url=f"sqlite:///{root / 'registry.db'}",
        datasets_dir=root / "datasets",
        job_runs_dir=root / "job-runs",
        feedback_dir=root / "feedback",
        rate_limit_per_minute=0,
        **overrides,
    )
    yield from serve_in_thread(settings, join_seconds=15)


@pytest.fixture(scope="module")
def training_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with training on; it serves no model until a job is done."""
    root = tmp_path_factory.mktemp("training_server")
    yield from _serve(root, training=True, job_min_clips_per_class=MIN_CLIPS, job_cores=2)


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with training off (the default) and no model."""
    yield from _serve(tmp_path_factory.mktemp("plain_server"))


def _watch(browser: Browser, url: str) -> Iterator[tuple[Watched, list[str]]]:
    """A fresh 1280 px wide context on ``url``; yields the page and the API calls it made."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    watched = Watched(page)
    requests: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    def on_request(request: Request) -> None:
        path = httpx.URL(request.url).path
        if path.startswith("/v1/"):
            requests.append(f"{request.method} {path}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    page.on("request", on_request)
    page.goto(url)
    yield watched, requests
    context.close()


@pytest.fixture
def make_page(chromium: Browser, training_server: str) -> Iterator[tuple[Watched, list[str]]]:
    """The page at /make of the training server."""
    yield from _watch(chromium, f"{training_server}/make")


def _http_errors(watched: Watched) -> set[int]:
    """The statuses of the failed requests the browser logged."""
    found = (re.search(r"status of (\d{3})", e) for e in watched.console_errors)
    return {int(m[1]) for m in found if m}


def _noise(path: Path, seconds: float, seed: int) -> Path:
    """White noise, 16 kHz mono 16-bit: nothing like the microphone's tone."""
    rng = np.random.default_rng(seed)
    y = 0.3 * rng.standard_normal(int(seconds * 16_000))
    sf.write(path, np.clip(y, -1, 1).astype(np.float32), 16_000, subtype="PCM_16")
    return path


def _card(page: Page, label: str) -> Locator:
    return page.locator(f'.class-card[data-class="{label}"]')


def _count(page: Page, label: str, n: int) -> None:
    page.wait_for_selector(f'.class-card[data-class="{label}"][data-count="{n}"]')


def _record(page: Page, button: Locator, elapsed: Locator, shot: Path | None = None) -> None:
    """Press ``button``, let the fake microphone play for a second, press it again."""
    button.click()
    page.wait_for_function(
        "b => b.getAttribute('aria-pressed') === 'true'", arg=button.element_handle()
    )
    page.wait_for_function("e => e.textContent === '0:01'", arg=elapsed.element_handle())
    if shot is not None:
        page.locator("#classes-section").screenshot(path=str(shot), animations="disabled")
    button.click()
    page.wait_for_function(
        "b => b.getAttribute('aria-pressed') === 'false'", arg=button.element_handle()
    )


def _message(page: Page) -> str:
    message = page.locator("#message")
    message.wait_for(state="visible")
    return message.inner_text()


def test_make_a_model_from_recordings_and_uploads(
    make_page: tuple[Watched, list[str]], training_server: str, tmp_path: Path
) -> None:
    watched, requests = make_page
    page = watched.page
    if SCREENSHOTS:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)

    # the key: a wrong one is refused with the server's reason, the right one opens step 2
    page.fill("#api-key", "wrong-key-0123456789")
    page.click("#key-form button[type=submit]")
    assert "admin key was refused" in _message(page)
    assert page.locator("#dataset-section").is_hidden()
    page.fill("#api-key", STRONG_KEY)
    page.click("#key-form button[type=submit]")
    page.locator("#dataset-section").wait_for(state="visible")
    assert page.locator("#message").is_hidden()

    # a new dataset of two classes ("Add class" adds a third input, which is removed again)
    page.fill("#dataset-name", "beep-or-hiss")
    page.click("#add-class-input")
    inputs = page.locator("#class-inputs input")
    assert inputs.count() == 3
    page.locator("#class-inputs li").nth(2).get_by_role("button", name="Remove class 3").click()
    assert inputs.count() == 2
    inputs.nth(0).fill("tone")
    inputs.nth(1).fill("noise")
    page.click("#create-button")
    page.locator("#classes-section").wait_for(state="visible")
    assert page.locator("#dataset-title").inner_text() == "beep-or-hiss"
    assert page.locator(".class-card").count() == 2
    for label in ("tone", "noise"):
        assert "3 more" in _card(page, label).locator(".warning").inner_text()
    train = page.locator("#train-button")
    assert train.is_disabled()
    assert f"at least {MIN_CLIPS} clips" in page.locator("#train-reason").inner_text()

    # the same name again: the server's 409 detail is shown
    page.fill("#dataset-name", "beep-or-hiss")
    page.locator("#class-inputs input").nth(0).fill("a")
    page.locator("#class-inputs input").nth(1).fill("b")
    page.click("#create-button")
    assert "beep-or-hiss" in _message(page)
    assert page.locator("#dataset-select option").count() == 1
    for field in (
        "#dataset-name",
        "#class-inputs li:nth-child(1) input",
        "#class-inputs li:nth-child(2) input",
    ):
        page.fill(field, "")

    # "tone": three recordings from the fake microphone, by speaker alice
    page.fill("#speaker", "alice")
    tone_card = _card(page, "tone")
    record = tone_card.locator("button.record")
    assert record.get_attribute("aria-label") == "Record “tone” (up to 5 s)"
    for i in range(MIN_CLIPS):
        shot = DOCS_IMG / "make-model-record.png" if SCREENSHOTS and i == 0 else None
        _record(page, record, tone_card.locator(".elapsed"), shot)
        _count(page, "tone", i + 1)
    assert tone_card.locator(".warning").is_hidden()
    names = tone_card.locator(".clip-name").all_inner_texts()
    assert len(names) == MIN_CLIPS
    for name in names:
        match = re.fullmatch(r"#\d · (\d+\.\d) s · alice", name)
        assert match and 0.5 <= float(match[1]) <= 5.0, name
    assert "alice" in page.locator("#speakers-so-far").inner_text()

    # "noise": four uploads at once by bob, then one deleted
    page.fill("#speaker", "bob")
    noise_card = _card(page, "noise")
    files = [_noise(tmp_path / f"noise{i}.wav", 1.0 + 0.1 * i, seed=i) for i in range(4)]
    noise_card.locator("input[type=file]").set_input_files([str(f) for f in files])
    _count(page, "noise", 4)
    assert "bob" in noise_card.locator(".clip-name").first.inner_text()
    noise_card.get_by_role("button", name="Delete clip 4 of “noise”").click()
    _count(page, "noise", MIN_CLIPS)

    # play a clip back: fetched with the key into a blob: URL
    tone_card.get_by_role("button", name="Play clip 1 of “tone”").click()
    audio = tone_card.locator("audio").first
    audio.wait_for(state="attached")
    assert (audio.get_attribute("src") or "").startswith("blob:")
    page.wait_for_function("a => a.readyState >= 1 && a.duration > 0.5", arg=audio.element_handle())

    # train: a job with the automatic search is queued, then cancelled
    page.wait_for_function("() => !document.getElementById('train-button').disabled")
    assert page.locator("#train-reason").inner_text().startswith("Ready")
    page.select_option("#budget", "1")
    train.click()
    cancel = page.locator("#cancel-button")
    cancel.wait_for(state="visible")
    cancel.click()
    page.wait_for_selector('#train-section[data-state="cancelled"]')
    assert "cancelled" in _message(page)
    assert cancel.is_hidden()

    # then one with a quick model, followed over the event stream to the end
    page.click("#advanced summary")
    page.fill("#train-model", "logreg")
    page.wait_for_function("() => !document.getElementById('train-button').disabled")
    train.click()
    page.wait_for_selector('#train-section[data-state="done"]', timeout=JOB_TIMEOUT_MS)
    assert page.locator("#job-bar").evaluate("b => b.value") == 1
    assert page.locator("#job-percent").inner_text() == "100%"
    assert page.locator("#message").is_hidden()
    events = [r for r in requests if r.endswith("/events")]
    assert len(events) == 2  # one stream per job
    polled = [r for r in requests if re.fullmatch(r"GET /v1/jobs/[^/]+", r)]
    assert polled == []  # the stream was enough: no polling fallback

    result = page.locator("#result-section")
    result.wait_for(state="visible")
    assert page.locator("#result-model").inner_text() == "beep-or-hiss"
    for key in ("accuracy", "balanced_accuracy", "macro_f1"):
        value = result.locator(f'.metric[data-metric="{key}"] dd').inner_text()
        assert re.fullmatch(r"\d{1,3}\.\d%", value), (key, value)
    n_test = int(result.locator('.metric[data-metric="n_test"] dd').inner_text())
    assert n_test >= 1
    assert result.locator("#notes li").count() >= 1
    table = page.locator("#confusion")
    columns = table.locator("thead th[scope=col]").all_inner_texts()
    rows = table.locator("tbody th[scope=row]").all_inner_texts()
    assert sorted(columns) == ["noise", "tone"] and rows == columns
    assert "each row is a true class" in table.locator("caption").inner_text()
    cells = [int(c) for c in table.locator("tbody td").all_inner_texts()]
    assert len(cells) == 4 and sum(cells) == n_test

    # try it: an uploaded noise clip, then the microphone's tone
    page.locator("#try-file").set_input_files(str(_noise(tmp_path / "try.wav", 1.2, seed=99)))
    page.wait_for_selector('#try-result .try-top[data-label="noise"]')
    bars = page.locator("#try-result .bar")
    assert sorted(bars.evaluate_all("els => els.map(e => e.dataset.label)")) == ["noise", "tone"]
    _record(page, page.locator("#try-record"), page.locator("#try-elapsed"))
    page.wait_for_selector('#try-result .try-top[data-label="tone"]')
    assert page.locator("#try-summary").inner_text().startswith("Recording:")

    # promote: version 1 of "beep-or-hiss" in the registry
    page.click("#promote-button")
    page.wait_for_selector('#promote-status[data-version="1"]')
    assert "version 1" in page.locator("#promote-status").inner_text()
    assert page.locator("#promote-button").is_disabled()
    if SCREENSHOTS:
        page.click("#advanced summary")  # folded again: the picture shows the default page
        page.mouse.move(0, 0)
        page.screenshot(path=str(DOCS_IMG / "make-model.png"), full_page=True)

    # a phone: nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # the key only in this tab's sessionStorage, never in localStorage
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("sessionStorage.getItem('audioclf.adminKey')") == STRONG_KEY

    # a reload reopens the dataset and shows the finished job again
    page.reload()
    page.locator("#result-section").wait_for(state="visible")
    assert page.locator(".class-card").count() == 2
    assert page.locator("#promote-status").get_attribute("data-version") == "1"
    watched.assert_clean(allow_http_errors=True)
    assert _http_errors(watched) == {401, 409}  # the wrong key, the taken name

    # the monitoring page lists the (empty) retraining schedule
    page.goto(f"{training_server}/static/monitor.html")
    page.fill("#api-key", STRONG_KEY)
    page.click("#key-form button")
    page.locator("#retrains").wait_for(state="visible")
    assert "No retraining is scheduled." in page.locator("#retrain-schedules").inner_text()
    assert "No retraining attempt yet." in page.locator("#retrain-attempts").inner_text()
    assert "no registry" in page.locator("#status").inner_text()  # no /v1/admin/monitoring
    assert page.locator("#message").is_hidden()
    watched.assert_clean(allow_http_errors=True)


def test_with_training_off_the_pages_say_so(chromium: Browser, plain_server: str) -> None:
    assert '<a href="/make">Make a model (admin)</a>' in httpx.get(plain_server).text
    for watched, requests in _watch(chromium, f"{plain_server}/static/make.html"):
        page = watched.page
        # /healthz says training is off: the page says so at once and takes no key
        page.wait_for_function("() => document.getElementById('api-key').disabled")
        assert _message(page).startswith("Training is off on this server")
        assert page.locator("#dataset-section").is_hidden()
        assert page.evaluate("sessionStorage.length + localStorage.length") == 0
        assert requests == []

        # the monitoring page shows no retraining section
        page.goto(f"{plain_server}/static/monitor.html")
        page.fill("#api-key", STRONG_KEY)
        page.click("#key-form button")
        page.wait_for_function("() => document.getElementById('status').textContent !== 'Loading…'")
        page.wait_for_function(
            "() => performance.getEntriesByType('resource')"
            ".some((e) => e.name.endsWith('/v1/admin/retrains'))"
        )
        assert page.locator("#retrains").is_hidden()
        assert page.locator("#message").is_hidden()
        watched.assert_clean(allow_http_errors=True)
        assert _http_errors(watched) == {404}
