"""The run configuration: every knob of a training run, saved as ``config.yaml``.

A run folder's config is enough to repeat or resume the run. Values come from, in
increasing priority: these defaults, ``--config CFG.yaml``, then command-line flags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from audioclf.features.speed import check_speeds

# not a model but a choice among several (see audioclf.train.auto.select), and the default
AUTO = "auto"
DEFAULT_MODEL = AUTO
ROBUST_VIEWS = (
    "noise=pink,snr=0..20",
    "noise=babble,snr=0..20,talkers=1..8",
    "reverb=0.2..1.0",
)
"""auto's noise views for the classical candidates: pink noise, babble of one to eight
other training speakers, each at 0-20 dB SNR, and a room of RT60 0.2-1.0 s. On Emo-DB's
two held-out speakers (voice_logreg, docs/benchmarks.md "Robustness") they took pink
noise at 10 dB from -0.48 to -0.03 accuracy against clean, babble from -0.38 to -0.06 and
reverberation (RT60 0.6 s) from -0.54 to -0.07, for 0.03 of clean accuracy (3 of 107 clips);
pink and four-talker babble alone left babble at -0.10 and reverberation at -0.49."""

AUTO_DEFAULTS: dict[str, Any] = {
    "time_budget": 4.0,
    "epochs": 20,
    "augment": "light",
    "speeds": [0.9, 1.1],
    "noise_views": list(ROBUST_VIEWS),
}
"""What ``auto`` uses where the config and the flags do not say: a fold of all its
candidates in about four minutes on two cores (measured in docs/benchmarks.md). The neural
candidate gets up to 20 epochs with light augmentation, since pitch shift and time
stretch triple a step and a 4-minute budget would leave it a handful of epochs. The
classical candidates train and score at speeds 0.9, 1.0 and 1.1 (features/speed.py) and
train on noisy copies of every clip as well (:data:`ROBUST_VIEWS`). Write
``time_budget: null``, ``speeds: []`` or ``noise_views: []`` in a config to turn these off."""


class TrainConfig(BaseModel):
    """Everything that defines a training run."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    data: str | None = Field(None, description="Manifest (JSON Lines) the run trains on.")
    pool: list[str] = Field(
        default_factory=list,
        description="Several manifests pooled into one training set instead of `data` "
        "(train/pooled.py): clips tagged with their corpus, speakers namespaced by corpus, "
        "each corpus weighing the same in training.",
    )
    pool_classes: Literal["shared", "all"] = Field(
        "shared",
        description="pool: train on the classes every corpus has (shared) or on all of them.",
    )
    shared_emotions: bool | None = Field(
        None,
        description="pool: map labels onto the shared emotion vocabulary; None = when the "
        "corpora's label sets differ and every label is an emotion.",
    )
    balance_corpora: bool = Field(
        True, description="pool: repeat a smaller corpus's training clips to weigh the same."
    )
    model: str = Field(
        DEFAULT_MODEL,
        description="A model of the zoo (`audioclf models`), or auto: several candidates "
        "trained on one split, the best neural and the best classical one kept together.",
    )
    model_options: dict[str, Any] = Field(default_factory=dict)
    sample_rate: int = Field(16_000, gt=0)
    clip_seconds: float | None = Field(
        None,
        gt=0,
        description="Training crop length; None takes the median training-clip duration "
        "(between 1 and 4 s).",
    )
    task: str = Field("", description="What the classes are, shown by the server.")
    label_map: dict[str, str | None] = Field(
        default_factory=dict,
        description="Rename or merge classes before splitting ({from: to}); null drops.",
    )
    # Splits
    split: Literal["speaker", "random", "fold", "corpus"] = "speaker"
    test_corpus: str | None = Field(
        None, description="split corpus: the corpus tested on; the others train (and val)."
    )
    val: float = Field(0.1, ge=0, lt=1)
    test: float = Field(0.2, ge=0, lt=1)
    seed: int = 0
    # Optimisation
    epochs: int = Field(60, ge=1)
    time_budget: float | None = Field(
        None,
        gt=0,
        description="Minutes for the training epochs (with validation): after each epoch "
        "the planned epochs are set to what fits at the mean pace so far (never more than "
        "epochs), and the learning-rate schedule follows the plan. Decoding, export and "
        "scoring come on top. None = no limit.",
    )
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.05, ge=0)
    warmup_epochs: float = Field(1.0, ge=0)
    label_smoothing: float = Field(0.1, ge=0, lt=1)
    class_weights: bool = True
    speaker_norm: bool = Field(
        False,
        description="Classical models: standardise feature vectors per speaker (test "
        "speakers with their own clips). Transductive: such a run can be evaluated on a "
        "manifest, not served one clip at a time.",
    )
    speeds: list[float] = Field(
        default_factory=list,
        description="Classical models: extra playback speeds (speed perturbation, e.g. "
        "[0.9, 1.1]). Every training clip is also added at each speed, and every clip is "
        "scored at its own speed and at each of these, the probabilities averaged. Each "
        "speed costs one more feature extraction per clip, in training and in serving.",
    )
    noise_views: list[str] = Field(
        default_factory=list,
        description="Classical models: noisy copies of every training clip, one per "
        "perturbation SPEC (as `audioclf evaluate --perturb`, numbers may be ranges drawn "
        "per clip: ['noise=pink,snr=0..20', 'noise=babble,snr=0..20']). Training examples "
        "only: held-out estimates and serving score the clean clip. Each costs one more "
        "feature extraction per training clip, none in serving.",
    )
    serve: Literal["fastest", "best"] = Field(
        "fastest",
        description="auto: which trained model the run serves — the fastest one within "
        "`tolerance` of the best validation UA, or the best (train/auto/front.py).",
    )
    tolerance: float = Field(
        0.01, ge=0, le=1, description="auto, serve fastest: UA a faster model may give up."
    )
    latency_budget: float | None = Field(
        None,
        gt=0,
        description="auto: serve the most accurate model answering a clip within this many "
        "milliseconds (overrides `serve`).",
    )
    mixup: float = Field(0.0, ge=0, description="Mixup Beta(alpha, alpha); 0 disables.")
    patience: int = Field(20, ge=1, description="Epochs without val improvement before stop.")
    ema: float = Field(
        0.99,
        ge=0,
        lt=1,
        description="Decay per step of the weight average that is validated and kept; 0 "
        "validates the raw weights.",
    )
    grad_clip: float = Field(5.0, gt=0)
    # Data and evaluation
    augment: str | dict[str, Any] | None = "default"
    noise_dir: str | None = Field(None, description="Folder of background noise to mix in.")
    eval_hop: float = Field(0.5, gt=0, le=1, description="Evaluation crop hop (fraction).")
    threads: int | None = Field(None, ge=1, description="Torch threads; None = CPU count.")
    max_seconds: float | None = Field(
        600.0, gt=0, description="Clips longer than this are skipped when loading."
    )

    @field_validator("speeds")
    @classmethod
    def _check_speeds(cls, value: list[float]) -> list[float]:
        return list(check_speeds(value))

    @field_validator("noise_views")
    @classmethod
    def _check_noise_views(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"noise_views repeats a SPEC: {value}")
        # deferred: the augment package loads torch (mixup); the server reads configs without it
        from audioclf.augment.ranges import SpecTemplate

        for text in value:
            SpecTemplate(text)  # a bad SPEC fails here, before any work starts
        return list(value)

    @model_validator(mode="after")
    def _check_pool(self) -> TrainConfig:
        """``pool`` holds two manifests or more and replaces ``data``; a corpus split
        names its test corpus."""
        if self.pool and self.data:
            raise ValueError("give either data (one manifest) or pool (several), not both")
        if len(self.pool) == 1:
            raise ValueError("pool needs at least two manifests; one goes in data")
        if self.split == "corpus" and not self.test_corpus:
            raise ValueError("split corpus needs test_corpus (--test-corpus NAME)")
        return self

    @property
    def sources(self) -> list[str]:
        """The manifest(s) the run trains on."""
        return list(self.pool) if self.pool else [self.data] if self.data else []

    @model_validator(mode="before")
    @classmethod
    def _auto_defaults(cls, values: Any) -> Any:
        """``auto``'s own defaults (:data:`AUTO_DEFAULTS`) under what was given."""
        if isinstance(values, dict) and values.get("model", DEFAULT_MODEL) == AUTO:
            return {**AUTO_DEFAULTS, **values}
        return values

    def to_yaml(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False))
        return path

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        """Read a YAML config; ``overrides`` that are not None win over the file."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such config file")
        raw = yaml.safe_load(path.read_text()) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: a config must be a YAML mapping")
        return cls.build(raw, **overrides)

    @classmethod
    def build(cls, base: dict[str, Any] | None = None, **overrides: Any) -> TrainConfig:
        """Defaults ← ``base`` ← non-None ``overrides``, with readable validation errors."""
        values = dict(base or {})
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ValueError(f"invalid training config: {problems}") from None
