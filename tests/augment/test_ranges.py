"""Perturbation templates: a range drawn once per clip, the same in every run."""

from __future__ import annotations

import pytest

from audioclf.augment.perturb import PerturbSpecError
from audioclf.augment.ranges import SpecTemplate


def test_a_range_is_drawn_per_clip_within_its_ends_and_repeatably() -> None:
    template = SpecTemplate("noise=pink,snr=0..20")
    snrs = [template.draw(f"clip{i}", seed=0).snr for i in range(50)]
    assert all(snr is not None and 0.0 <= snr <= 20.0 for snr in snrs)
    assert len(set(snrs)) > 40  # clips get their own values
    assert snrs == [template.draw(f"clip{i}", seed=0).snr for i in range(50)]
    assert snrs != [template.draw(f"clip{i}", seed=1).snr for i in range(50)]


def test_a_template_without_a_range_is_the_plain_spec() -> None:
    drawn = SpecTemplate("reverb=0.6").draw("a")
    assert drawn.steps[0].kind == "reverb" and drawn.steps[0].params == {"rt60": 0.6}


def test_every_range_of_a_template_is_drawn() -> None:
    drawn = SpecTemplate("noise=white,snr=5..10,gain=-6..-3").draw("a")
    noise, gain = drawn.steps
    assert 5.0 <= noise.params["snr"] <= 10.0 and -6.0 <= gain.params["db"] <= -3.0


def test_babble_templates_say_so() -> None:
    assert SpecTemplate("noise=babble,snr=0..20").babbles
    assert not SpecTemplate("noise=pink,snr=0..20").babbles


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("noise=pink,snr=20..0", "runs downwards"),
        ("noise=pink,snr=0..99", "outside"),
        ("noise=pink", "needs snr"),
        ("wobble=3", "unknown step"),
    ],
)
def test_bad_templates_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(PerturbSpecError, match=message):
        SpecTemplate(text)
