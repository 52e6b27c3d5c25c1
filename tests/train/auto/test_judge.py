"""The pair auto serves: the best neural and the best classical candidate."""

from __future__ import annotations

from pathlib import Path

from audioclf.train.auto.judge import ensemble_pair
from tests.train.auto.fakes import fake_candidate


def test_ensemble_pairs_the_best_of_each_family(tmp_path: Path) -> None:
    logreg = fake_candidate(tmp_path, "logreg", val=0.9, test=0.9)
    logreg.metrics["cv_balanced_accuracy"] = 0.6
    svm = fake_candidate(tmp_path, "svm", val=0.5, test=0.5)
    svm.metrics["cv_balanced_accuracy"] = 0.7  # judged by inner CV, not by validation
    cnn = fake_candidate(tmp_path, "cnn2d_1", val=0.4, test=0.99, family="spectrogram")
    m5 = fake_candidate(tmp_path, "m5", val=0.45, test=0.1, family="waveform")
    results = {"logreg": logreg, "svm": svm, "cnn2d_1": cnn, "m5": m5}
    assert ensemble_pair(results) == ("m5", "svm")
    # one family alone: nothing to pair, the single best is kept
    assert ensemble_pair({"logreg": logreg, "svm": svm}) is None
    del m5.metrics["val_balanced_accuracy"]
    del cnn.metrics["val_balanced_accuracy"]
    assert ensemble_pair(results) is None
