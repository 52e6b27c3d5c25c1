"""Run one claimed job in this process: ``python -m audioclf.registry.job_run --db URL ID``.

The server's job runner starts this process for each job it claims, so that training
never shares the serving process's memory or threads, and cancelling is stopping a
process. The job's stage and progress (:mod:`audioclf.progress`) go to its row at most
every :data:`REPORT_SECONDS`; its metrics, or its error, when it ends. A training job
is left running with its metrics: its runner ends it ``done`` once the server answers
for its model, so a job that says done can be asked at once.

A ``train`` job trains its manifest into its run folder with :func:`train_run` —
resuming from the folder's checkpoints when it is a second attempt (its server stopped
during the first). A ``retrain`` job runs :func:`audioclf.registry.retrain.retrain`.
If the process that started this one goes away, this one exits too (its runner is
gone, and a resumed attempt will take over).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

from audioclf import progress
from audioclf.formats.runfolder import RunFolder
from audioclf.registry.db import session_factory
from audioclf.registry.jobs import RETRAIN, TRAIN, JobInfo, JobQueue
from audioclf.registry.retrain import retrain
from audioclf.registry.store import SUMMARY_KEYS, Registry
from audioclf.train.cluster import ray_for
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run

REPORT_SECONDS = 0.5
ORPHAN_CHECK_SECONDS = 1.0
SUMMARY = (*SUMMARY_KEYS, "labels", "confusion")


def train_config(job: JobInfo) -> TrainConfig:
    """The run configuration of a training job."""
    options = job.options
    minutes = options.get("time_budget_minutes")
    return TrainConfig.build(
        data=str(job.manifest),
        model=options.get("model", "auto"),
        split=options.get("split", "speaker"),
        epochs=options.get("epochs"),
        time_budget=float(minutes) if minutes else None,
        task=options.get("task") or job.model,
    )


def summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """The figures a job reports: headline metrics and the confusion matrix."""
    return {key: metrics[key] for key in SUMMARY if key in metrics}


def run_train(job: JobInfo) -> dict[str, Any]:
    """Train the job's manifest into its run folder; its test metrics."""
    if job.run_dir is None or job.manifest is None:
        raise ValueError(f"job {job.id} has no run folder or manifest")
    run = RunFolder(job.run_dir)
    resume = job.attempts > 1 and run.config.is_file()
    cluster = ray_for(job.manifest, run.root) if job.options.get("ray") else nullcontext()
    with cluster:
        train_run(train_config(job), run.root, resume=resume, progress=False)
    return summary(run.read_metrics())


def run_retrain(job: JobInfo, queue: JobQueue) -> dict[str, Any]:
    """Retrain the job's registered model; the comparison with production."""
    options = job.options
    result = retrain(
        job.model,
        options["data"],
        registry=Registry(sessions=queue.sessions),
        feedback_dir=Path(options["feedback_dir"]),
        margin=float(options.get("margin", 0.01)),
        out_dir=Path(options["out_dir"]) if options.get("out_dir") else None,
        progress=False,
        epochs=options.get("epochs"),
    )
    return asdict(result)


class Reporter:
    """Writes a job's progress to its row, at most every :data:`REPORT_SECONDS` unless
    the stage changes, and each new stage to the job's log with the seconds since the
    start."""

    def __init__(self, queue: JobQueue, job_id: str) -> None:
        self.queue, self.job_id = queue, job_id
        self.last = 0.0
        self.stage = ""
        self.began = time.monotonic()

    def __call__(self, report: progress.Progress) -> None:
        now = time.monotonic()
        stage_name = report.stage.split(" — ")[0]
        if stage_name == self.stage and now - self.last < REPORT_SECONDS:
            return
        if stage_name != self.stage:
            print(f"{now - self.began:7.1f} s  {stage_name}", file=sys.stderr, flush=True)
        self.last, self.stage = now, stage_name
        self.queue.report(self.job_id, report.stage, report.fraction)


def exit_when_orphaned(parent: int) -> None:
    """End this process when its parent (the job runner) is gone."""

    def watch() -> None:
        while True:
            time.sleep(ORPHAN_CHECK_SECONDS)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="orphan watch", daemon=True).start()


def reason(err: BaseException) -> str:
    """A one-line account of why a job failed."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def run_job(job_id: str, url: str) -> int:
    """Run one job to its end state; 0 when it is done, 1 when it failed."""
    queue = JobQueue(session_factory(url, migrate=False))
    job = queue.get(job_id)
    try:
        with progress.watching(Reporter(queue, job_id)):
            if job.kind == TRAIN:
                queue.trained(job_id, run_train(job))  # the runner serves it, then ends it
            elif job.kind == RETRAIN:
                queue.finish(job_id, "done", metrics=run_retrain(job, queue))
            else:
                raise ValueError(f"unknown job kind {job.kind!r}")
    except Exception as err:
        queue.finish(job_id, "failed", error=reason(err))
        print(f"job {job_id} failed: {reason(err)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """The process entry: ``--db URL JOB_ID``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="Registry database URL.")
    parser.add_argument("--nice", type=int, default=0, help="Lower this process's priority.")
    parser.add_argument("job", help="The job's id.")
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    exit_when_orphaned(os.getppid())
    return run_job(args.job, args.db)


if __name__ == "__main__":
    sys.exit(main())
