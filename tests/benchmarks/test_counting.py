"""The counting benchmark's names: a table per mixture length, 1-s sets keep their folders."""

from __future__ import annotations

from benchmarks.counting import mixture_tag, section


def test_section_and_tag_name_the_mixture_length() -> None:
    assert section(1.0) == "Speaker counting (LibriSpeech mixtures, 1 s, unseen test speakers)"
    assert "2 s" in section(2.0)
    assert mixture_tag((1, 3), 12000, "average", 1.0) == "1-3-n12000-average"
    assert mixture_tag((0, 5), 6000, "average", 2.0) == "0-5-n6000-average-s2"
