"""Perturbation SPECs: parsing, and each corruption doing what it says, seeded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf.augment.perturb import (
    PerturbSpecError,
    TalkerPool,
    parse_perturbation,
    perturb_clips,
)

SR = 16_000


def _tone(freq: float, seconds: float = 1.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _band_energy(y: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum())


def _snr(clean: np.ndarray, noisy: np.ndarray) -> float:
    noise = noisy - clean
    return float(10 * np.log10(np.mean(clean**2) / np.mean(noise**2)))


def _one(spec: str, y: np.ndarray, **kwargs: object) -> np.ndarray:
    return perturb_clips(parse_perturbation(spec), [y], SR, ids=["a"], **kwargs)[0]  # type: ignore[arg-type]


def test_spec_is_parsed_into_ordered_steps() -> None:
    p = parse_perturbation("noise=Pink, snr=10, reverb=0.6")
    assert [s.kind for s in p.steps] == ["noise", "reverb"]
    assert p.snr == 10.0
    assert p.spec == "noise=Pink,snr=10,reverb=0.6"
    assert p.family == "noise=Pink,reverb=0.6"
    assert parse_perturbation("opus=12k").steps[0].params == {"codec": "opus", "bitrate": 12_000}
    assert parse_perturbation("telephone").snr is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("noise=pink", "needs snr"),
        ("snr=10", "no perturbation"),
        ("talkers=3,reverb=0.2", "belongs to a noise"),
        ("noise=pink,snr=10,talkers=2", "for noise=babble"),
        ("noise=/no/such/folder,snr=5", "neither white"),
        ("noise=pink,snr=200", "outside"),
        ("reverb=9", "outside"),
        ("reverb", "needs a value"),
        ("opus=1k", "outside"),
        ("mp3=fast", "must be a number"),
        ("telephone=yes", "takes no value"),
        ("gain=1,gain=2", "twice"),
        ("echo=1", "unknown step"),
        ("", "empty step"),
        ("gain=-6,", "empty step"),
    ],
)
def test_bad_specs_are_refused_with_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(PerturbSpecError, match=message):
        parse_perturbation(spec)


@pytest.mark.parametrize("colour", ["white", "pink", "brown"])
@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 30.0])
def test_coloured_noise_is_added_at_exactly_the_snr(colour: str, snr: float) -> None:
    y = _tone(440)
    out = _one(f"noise={colour},snr={snr:g}", y)
    assert out.shape == y.shape and out.dtype == np.float32
    assert _snr(y, out) == pytest.approx(snr, abs=0.01)


def test_pink_noise_has_less_high_frequency_energy_than_white() -> None:
    silent_tone = _tone(440, amp=0.3)
    white = _one("noise=white,snr=0", silent_tone) - silent_tone
    pink = _one("noise=pink,snr=0", silent_tone) - silent_tone

    def tilt(noise: np.ndarray) -> float:
        return _band_energy(noise, 4000, 8000) / _band_energy(noise, 100, 1000)

    assert tilt(pink) < tilt(white) / 3


def test_babble_is_made_of_other_speakers_clips() -> None:
    mine, same_speaker, other = _tone(440), _tone(1000), _tone(3000)
    p = parse_perturbation("noise=babble,snr=0,talkers=4")
    out = perturb_clips(
        p, [mine, same_speaker, other], SR, ids=["a", "b", "c"], speakers=["s1", "s1", "s2"]
    )[0]
    noise = out - mine
    assert _snr(mine, out) == pytest.approx(0.0, abs=0.01)
    assert _band_energy(noise, 2900, 3100) > 100 * _band_energy(noise, 900, 1100)


def test_babble_without_another_speaker_is_refused() -> None:
    p = parse_perturbation("noise=babble,snr=5")
    with pytest.raises(PerturbSpecError, match="other speakers"):
        perturb_clips(p, [_tone(440), _tone(500)], SR, ids=["a", "b"], speakers=["s", "s"])


def test_babble_from_a_pool_of_other_speech_never_the_clip_itself() -> None:
    mine = _tone(440)
    pool = TalkerPool([_tone(3000), mine], ["s2", None], ["p", "a"])
    p = parse_perturbation("noise=babble,snr=0,talkers=2")
    out = perturb_clips(p, [mine], SR, ids=["a"], speakers=["s1"], talkers=pool)[0]
    noise = out - mine
    # the pool's copy of clip "a" is left out: the babble is the 3 kHz talker alone
    assert _band_energy(noise, 2900, 3100) > 100 * _band_energy(noise, 400, 480)
    assert pool.audible == [1, 0]  # by id: "a" before "p"
    assert not parse_perturbation("noise=pink,snr=1").babbles
    assert p.babbles


def test_noise_from_a_folder_of_recordings(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    sf.write(tmp_path / "hum.wav", 0.1 * rng.standard_normal(SR // 2), SR)
    y = _tone(440)
    out = _one(f"noise={tmp_path},snr=5", y)
    assert _snr(y, out) == pytest.approx(5.0, abs=0.01)


def test_same_seed_same_clips_whatever_the_order() -> None:
    waves = [_tone(300), _tone(600), _tone(900)]
    ids, speakers = ["a", "b", "c"], ["x", "y", "z"]
    p = parse_perturbation("noise=babble,snr=5,reverb=0.4")
    forward = perturb_clips(p, waves, SR, ids=ids, speakers=speakers, seed=3)
    backward = perturb_clips(p, waves[::-1], SR, ids=ids[::-1], speakers=speakers[::-1], seed=3)
    for got, expected in zip(backward[::-1], forward, strict=True):
        np.testing.assert_array_equal(got, expected)
    other_seed = perturb_clips(p, waves, SR, ids=ids, speakers=speakers, seed=4)
    assert not np.array_equal(other_seed[0], forward[0])


def test_reverb_leaves_a_tail_at_the_dry_level() -> None:
    y = np.zeros(SR, dtype=np.float32)
    y[: SR // 10] = _tone(500, 0.1)
    out = _one("reverb=0.8", y)
    assert np.sqrt(np.mean(out**2)) == pytest.approx(np.sqrt(np.mean(y**2)), rel=1e-3)
    assert np.abs(out[SR // 5 :]).max() > 0.01  # the room rings after the burst


def test_telephone_keeps_the_voice_band_only() -> None:
    inside, above, below = _tone(1000), _tone(5000), _tone(100)
    assert _band_energy(_one("telephone", inside), 900, 1100) > 0.5 * _band_energy(
        inside, 900, 1100
    )
    assert _band_energy(_one("telephone", above), 4000, 8000) < 0.001 * _band_energy(
        above, 4000, 8000
    )
    assert _band_energy(_one("telephone", below), 50, 150) < 0.1 * _band_energy(below, 50, 150)


@pytest.mark.parametrize("spec", ["opus=12k", "opus=64k", "mp3=32k"])
def test_codec_round_trip_keeps_length_and_tone_but_changes_samples(spec: str) -> None:
    y = _tone(700)
    out = _one(spec, y)
    assert out.shape == y.shape
    assert not np.array_equal(out, y)
    assert _band_energy(out, 650, 750) > 0.5 * _band_energy(y, 650, 750)


def test_low_bitrate_loses_more_than_high_bitrate() -> None:
    rng = np.random.default_rng(0)
    y = (0.2 * rng.standard_normal(SR)).astype(np.float32)
    low, high = _one("opus=8k", y), _one("opus=128k", y)
    assert _band_energy(low, 6000, 8000) < _band_energy(high, 6000, 8000)


def test_gain_scales_and_clips_like_an_adc() -> None:
    y = _tone(440, amp=0.5)
    quiet = _one("gain=-20", y)
    np.testing.assert_allclose(quiet, y * 0.1, rtol=1e-5, atol=1e-7)
    loud = _one("gain=20", y)
    assert np.abs(loud).max() == pytest.approx(1.0)
    assert (np.abs(loud) == 1.0).mean() > 0.5


def test_clip_limits_at_a_fraction_of_the_peak() -> None:
    y = _tone(440, amp=0.5)
    out = _one("clip=0.3", y)
    assert np.abs(out).max() == pytest.approx(0.15, rel=1e-5)


def test_silent_clip_survives_every_step() -> None:
    silent = np.zeros(SR, dtype=np.float32)
    for spec in ("noise=pink,snr=10", "reverb=0.5", "telephone", "opus=12k", "gain=10", "clip=0.5"):
        out = _one(spec, silent)
        assert out.shape == silent.shape
        assert np.isfinite(out).all()
