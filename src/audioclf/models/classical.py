"""Classical scikit-learn classifiers over fixed clip vectors.

They take :func:`audioclf.features.handcrafted.pooled_stats` vectors (input kind
``pooled``; the hand-crafted Issa vector works too) or openSMILE functionals
(:mod:`audioclf.features.smile`, input kinds ``compare`` and ``egemaps``) and train in
seconds on two cores — a strong baseline for small corpora. Each constructor returns an
unfitted estimator with ``fit(X, y)``, ``predict_proba(X)`` and, once fitted,
``classes_``; all are deterministic (fixed ``random_state``) and weight classes by
inverse frequency.

Fitted models are saved with joblib (``skops`` is not a dependency). joblib files are
pickles: load only run folders you made or trust.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from audioclf.formats.atomic import atomic_path
from audioclf.models.registry import create_model, list_models, model_info, register_model

Estimator = Pipeline | BaseEstimator

# scikit-learn 1.9 deprecates SVC(probability=True) (removal planned for 1.11) in favour of
# CalibratedClassifierCV, which needs several clips of every class per fold; libsvm's
# built-in Platt scaling still works on tiny classes, so keep it and silence the notice.
warnings.filterwarnings(
    "ignore", message="The `probability` parameter was deprecated", category=FutureWarning
)


class ClassicalModelError(ValueError):
    """A classical model file or training set that cannot be used, and how to fix it."""


@register_model(
    "svm",
    family="classical",
    input="pooled",
    description="RBF support-vector machine on standardised MFCC/spectral statistics",
)
def svm(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    C: float = 10.0,  # noqa: N803 - scikit-learn's name for the margin penalty
    gamma: str | float = "scale",
    random_state: int = 0,
) -> Pipeline:
    """StandardScaler → SVC (RBF kernel, Platt-scaled probabilities, balanced classes)."""
    classifier = SVC(
        C=C,
        kernel="rbf",
        gamma=gamma,
        probability=True,
        class_weight="balanced",
        random_state=random_state,
    )
    return make_pipeline(StandardScaler(), classifier)


@register_model(
    "logreg",
    family="classical",
    input="pooled",
    description="Multinomial logistic regression on standardised MFCC/spectral statistics",
)
def logreg(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    C: float = 1.0,  # noqa: N803 - scikit-learn's name for the inverse regularisation
    tol: float = 1e-4,
    random_state: int = 0,
) -> Pipeline:
    """StandardScaler → LogisticRegression (L2, ``max_iter=2000``, balanced classes;
    ``tol`` is L-BFGS's stopping tolerance)."""
    classifier = LogisticRegression(
        C=C, tol=tol, max_iter=2000, class_weight="balanced", random_state=random_state
    )
    return make_pipeline(StandardScaler(), classifier)


@register_model(
    "random_forest",
    family="classical",
    input="pooled",
    description="Random forest (300 trees, balanced subsamples) on MFCC/spectral statistics",
)
def random_forest(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    n_estimators: int = 300,
    max_depth: int | None = None,
    random_state: int = 0,
) -> Pipeline:
    """RandomForestClassifier (``class_weight="balanced_subsample"``, two jobs).

    Wrapped in a one-step pipeline so every classical model is indexed the same way.
    """
    classifier = RandomForestClassifier(
        n_estimators=n_estimators,
        max_depth=max_depth,
        class_weight="balanced_subsample",
        n_jobs=2,
        random_state=random_state,
    )
    return Pipeline([("randomforestclassifier", classifier)])


# The paralinguistics baseline, strongly regularised for 6373 dimensions: on Emo-DB (5-fold
# by speaker) accuracy varied by less than 0.01 for C from 0.01 to 1, so the default is the
# fastest to converge.
@register_model(
    "compare_logreg",
    family="classical",
    input="compare",
    description="Logistic regression on openSMILE ComParE 2016 functionals (6373; extra 'smile')",
)
def compare_logreg(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    C: float = 0.01,  # noqa: N803 - scikit-learn's name for the inverse regularisation
    tol: float = 1e-4,
    random_state: int = 0,
) -> Pipeline:
    """:func:`logreg` (StandardScaler → LogisticRegression) with C=0.01 by default."""
    return logreg(n_classes, sample_rate=sample_rate, C=C, tol=tol, random_state=random_state)


@register_model(
    "compare_svm",
    family="classical",
    input="compare",
    description="Linear SVM on openSMILE ComParE 2016 functionals (6373; extra 'smile')",
)
def compare_svm(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    C: float = 0.001,  # noqa: N803 - scikit-learn's name for the margin penalty
    random_state: int = 0,
) -> Pipeline:
    """StandardScaler → linear SVC (Platt-scaled probabilities, balanced classes), the
    ComParE challenge baseline classifier."""
    classifier = SVC(
        C=C,
        kernel="linear",
        probability=True,
        class_weight="balanced",
        random_state=random_state,
    )
    return make_pipeline(StandardScaler(), classifier)


@register_model(
    "egemaps_logreg",
    family="classical",
    input="egemaps",
    description="Logistic regression on openSMILE eGeMAPS v02 functionals (88; extra 'smile')",
)
def egemaps_logreg(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    C: float = 0.1,  # noqa: N803 - scikit-learn's name for the inverse regularisation
    tol: float = 1e-4,
    random_state: int = 0,
) -> Pipeline:
    """:func:`logreg` (StandardScaler → LogisticRegression) with C=0.1 by default."""
    return logreg(n_classes, sample_rate=sample_rate, C=C, tol=tol, random_state=random_state)


# the mean/std/max of the pretrained keyword-spotting embedding
# (audioclf.features.speech_embedding)
@register_model(
    "speech_embedding_logreg",
    family="classical",
    input="speech_embedding",
    description="Logistic regression on pooled Google speech embeddings (KWS-pretrained, 288)",
)
def speech_embedding_logreg(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    C: float = 0.1,  # noqa: N803 - scikit-learn's name for the inverse regularisation
    tol: float = 1e-4,
    random_state: int = 0,
) -> Pipeline:
    """:func:`logreg` (StandardScaler → LogisticRegression) with C=0.1 by default."""
    return logreg(n_classes, sample_rate=sample_rate, C=C, tol=tol, random_state=random_state)


# the mean/std of the pretrained voice encoder's layers 2-3 (audioclf.features.voice_encoder);
# C=0.1 was best of 0.03/0.1/0.3 on Emo-DB and RAVDESS (grouped by speaker)
@register_model(
    "voice_logreg",
    family="classical",
    input="voice_encoder",
    description="Logistic regression on pooled states of a pretrained voice encoder "
    "(Resemblyzer LSTM, 1024; extra 'voice')",
)
def voice_logreg(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    C: float = 0.1,  # noqa: N803 - scikit-learn's name for the inverse regularisation
    tol: float = 1e-4,
    random_state: int = 0,
) -> Pipeline:
    """:func:`logreg` (StandardScaler → LogisticRegression) with C=0.1 by default."""
    return logreg(n_classes, sample_rate=sample_rate, C=C, tol=tol, random_state=random_state)


# the mean/std of Whisper-base's encoder hidden states 2-3 (audioclf.features.whisper_encoder);
# states and C=0.1 were best in the sweep of benchmarks/whisper_layers.py on Emo-DB and RAVDESS
@register_model(
    "whisper_logreg",
    family="classical",
    input="whisper",
    description="Logistic regression on pooled states of Whisper-base's encoder "
    "(ASR-pretrained transformer, 2048; extra 'whisper')",
)
def whisper_logreg(
    n_classes: int,
    *,
    sample_rate: int = 16_000,
    C: float = 0.1,  # noqa: N803 - scikit-learn's name for the inverse regularisation
    tol: float = 1e-4,
    random_state: int = 0,
) -> Pipeline:
    """:func:`logreg` (StandardScaler → LogisticRegression) with C=0.1 by default."""
    return logreg(n_classes, sample_rate=sample_rate, C=C, tol=tol, random_state=random_state)


def _check_training_set(X: np.ndarray, y: np.ndarray) -> None:  # noqa: N803
    if X.ndim != 2:
        raise ClassicalModelError(f"features must be (n_clips, dim), got shape {X.shape}")
    if len(X) != len(y):
        raise ClassicalModelError(f"{len(X)} feature rows but {len(y)} labels")
    if not np.isfinite(X).all():
        raise ClassicalModelError(
            "features contain NaN or infinite values; recompute them with "
            "audioclf.features.handcrafted (it never returns non-finite values)"
        )
    if len(np.unique(y)) < 2:
        raise ClassicalModelError(
            f"the training labels hold {len(np.unique(y))} class; a classifier needs at "
            "least two — check the train split"
        )


def fit_classical(
    name: str,
    X_train: np.ndarray,  # noqa: N803 - scikit-learn convention
    y_train: np.ndarray,
    *,
    options: dict[str, Any] | None = None,
    sample_rate: int = 16_000,
) -> Any:
    """Create the registered classical model ``name`` and fit it on ``(X_train, y_train)``."""
    info = model_info(name)
    if info.family != "classical":
        raise ClassicalModelError(
            f"{name!r} is a {info.family} model, not a classical one; "
            f"pick one of {', '.join(list_models('classical'))}"
        )
    X = np.asarray(X_train, dtype=np.float32)  # noqa: N806
    y = np.asarray(y_train)
    _check_training_set(X, y)
    estimator: Any = create_model(
        name, len(np.unique(y)), sample_rate=sample_rate, **(options or {})
    )
    return estimator.fit(X, y)


def estimator_size(estimator: Any) -> int:
    """A parameter count for the leaderboard: support vectors × dims, coefficients, tree
    nodes; a fusion (an estimator with fitted ``fitted_`` experts) counts its experts."""
    final = estimator[-1] if hasattr(estimator, "__getitem__") else estimator
    if hasattr(final, "estimator_"):  # a wrapper (MultiView): the model it fitted
        return estimator_size(final.estimator_)
    if hasattr(final, "fitted_"):
        return sum(estimator_size(expert) for expert in final.fitted_)
    if hasattr(final, "support_vectors_"):
        return int(final.support_vectors_.size + final.dual_coef_.size)
    if hasattr(final, "coef_"):
        return int(final.coef_.size + final.intercept_.size)
    if hasattr(final, "estimators_"):
        return int(sum(t.tree_.node_count for t in final.estimators_))
    return 0


def save_classical(model: Any, path: str | Path) -> Path:
    """Write a fitted estimator to ``path`` (joblib, compressed) and return the path."""
    path = Path(path)
    if not hasattr(model, "classes_"):
        raise ClassicalModelError(f"{path}: the model is not fitted; call fit(X, y) first")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"estimator": model, "sklearn_version": sklearn.__version__}
    with atomic_path(path) as tmp:
        joblib.dump(payload, tmp, compress=3)
    return path


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def load_classical(path: str | Path) -> Any:
    """Read an estimator written by :func:`save_classical` (a trusted file: joblib pickles)."""
    path = Path(path)
    if not path.is_file():
        raise ClassicalModelError(f"{path}: no such model file; train the run again")
    try:
        payload = joblib.load(path)
    except Exception as err:  # joblib raises many kinds for a damaged or foreign file
        raise ClassicalModelError(
            f"{path}: not a readable audioclf classical model ({err}); train the run again"
        ) from err
    if not isinstance(payload, dict) or "estimator" not in payload:
        raise ClassicalModelError(
            f"{path}: not an audioclf classical model file; train the run again"
        )
    saved = str(payload.get("sklearn_version"))
    if _minor(saved) != _minor(sklearn.__version__):
        raise ClassicalModelError(
            f"{path}: saved with scikit-learn {saved}, this environment has "
            f"{sklearn.__version__}; install scikit-learn=={saved} or train the run again"
        )
    return payload["estimator"]
