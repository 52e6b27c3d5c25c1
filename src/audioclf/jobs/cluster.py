"""Jobs as Ray tasks: the executor behind ``--ray``, and the checks a cluster needs.

Which cluster follows Ray's own convention: ``RAY_ADDRESS`` when it is set, else a
cluster started on this machine with ``ray start --head``, else a local Ray started for
the command and stopped after it (``ray.init()`` does exactly this). Usage statistics
are off unless the user turned them on (``RAY_USAGE_STATS_ENABLED``).

Every node reads the data, the run folders and the feature cache at the same paths as
the machine that runs the command (shared storage: NFS, a cloud file system, or one
machine). :func:`check_shared_storage` runs one small task on every node first and
names the first paths a node cannot read or write, so a missing mount fails in seconds
with the node and the path instead of as a decoding error deep in a fold.

Each task is given its CPUs (``cpus``) and told so through :data:`audioclf.jobs.CORES_ENV`,
so torch, ONNX Runtime and the feature threads inside it use that many cores and tasks
on one node do not oversubscribe it. Ray is imported here only, and only when a command
asks for it: it is an optional extra (``pip install 'audioclf[ray]'``).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from audioclf.console import console, progress_bar
from audioclf.jobs import CORES_ENV, LOCAL, Executor, using

T = TypeVar("T")
R = TypeVar("R")

USAGE_STATS_ENV = "RAY_USAGE_STATS_ENABLED"
ENV_PREFIX = "AUDIOCLF_"
SHOWN_PROBLEMS = 5


class RayUnavailableError(RuntimeError):
    """``--ray`` without Ray installed."""


class SharedStorageError(ValueError):
    """A node cannot read the data or write the outputs at the paths this machine uses."""


def _ray() -> Any:
    os.environ.setdefault(USAGE_STATS_ENV, "0")
    try:
        import ray
    except ImportError as err:
        raise RayUnavailableError(
            "--ray needs Ray: pip install 'audioclf[ray]' (on every node of the cluster)"
        ) from err
    return ray


def _run_job(
    fn: Callable[..., R],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    cpus: float,
    env: dict[str, str],
) -> R:
    """One job inside a Ray worker: the caller's audioclf settings and the job's cores in
    the environment while it runs, the local executor in effect."""
    settings = env | {CORES_ENV: str(max(1, int(cpus)))}
    before = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        with using(LOCAL):
            return fn(*args, **kwargs)
    finally:  # a Ray worker process runs many jobs: leave it as it was
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _RayPending:
    """A submitted Ray task."""

    def __init__(self, ref: Any) -> None:
        self._ref = ref

    def result(self) -> Any:
        return _get(self._ref)


def _get(ref: Any) -> Any:
    """``ray.get`` that raises a task's own exception, not Ray's wrapper of it."""
    ray = _ray()
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise


class RayExecutor:
    """Jobs as Ray tasks on the connected cluster."""

    distributed = True

    def __init__(self, job_cpus: float = 1, env: dict[str, str] | None = None) -> None:
        """``job_cpus``: the CPUs a job holds unless its caller says otherwise; ``env``:
        settings every job runs with, on top of this process's ``AUDIOCLF_*`` variables
        (so a job on another node uses the same feature cache and limits)."""
        ray = _ray()
        self.job_cpus = job_cpus
        ours = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
        self.env = ours | (env or {})
        self._task = ray.remote(_run_job)

    def _submit(
        self,
        fn: Callable[..., R],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        cpus: float | None,
    ) -> Any:
        cpus = self.job_cpus if cpus is None else cpus
        return self._task.options(num_cpus=cpus).remote(fn, args, kwargs, cpus, self.env)

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        description: str = "jobs",
        cpus: float | None = None,
        progress: bool = True,
    ) -> list[R]:
        refs = [self._submit(fn, (item,), {}, cpus) for item in items]
        self._wait_all(refs, description, progress)
        return [_get(ref) for ref in refs]

    def submit(
        self, fn: Callable[..., R], *args: Any, cpus: float | None = None, **kwargs: Any
    ) -> _RayPending:
        return _RayPending(self._submit(fn, args, kwargs, cpus))

    def cores(self) -> int:
        return max(1, int(_ray().cluster_resources().get("CPU", 1)))

    def _wait_all(self, refs: list[Any], description: str, progress: bool) -> None:
        """Wait for every task, a progress bar advancing as each finishes on the cluster
        (a failed task stops the wait: its error is raised by the caller's ``_get``)."""
        ray = _ray()
        pending = list(refs)
        with progress_bar(transient=True, enabled=progress) as bar:
            task = bar.add_task(f"{description} on Ray", total=len(refs))
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                bar.advance(task, len(done))
                for ref in done:
                    _get(ref)  # raise the first failure now, not after the slowest job


def connect() -> bool:
    """Connect to the cluster by Ray's convention (module docstring); True when this call
    connected (and :func:`disconnect` should end it), False when Ray was already up."""
    ray = _ray()
    if ray.is_initialized():
        return False
    ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False)
    return True


def disconnect(connected: bool) -> None:
    """End the connection :func:`connect` made (a Ray it started stops with it)."""
    if connected:
        _ray().shutdown()


def _node_problems(reads: list[str], writes: list[str]) -> list[str]:
    """What this node cannot do: paths it cannot read, folders it cannot write in."""
    problems = [f"cannot read {p}" for p in reads if not os.access(p, os.R_OK)]
    for folder in writes:
        path = Path(folder)
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path, prefix=".audioclf-check-"):
                pass
        except OSError as err:
            problems.append(f"cannot write in {folder} ({err.strerror or err})")
    return problems


def check_shared_storage(reads: Sequence[str | Path], writes: Sequence[str | Path] = ()) -> None:
    """Run a check on every alive node: each must read ``reads`` and write in ``writes``
    at these paths; raise :class:`SharedStorageError` naming the node and the first paths
    it cannot use."""
    ray = _ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    read_list = [str(Path(p).expanduser().resolve()) for p in reads]
    write_list = [str(Path(p).expanduser().resolve()) for p in writes]
    check = ray.remote(_node_problems)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    refs = {
        # several nodes may share a machine (and its address): name each by its id too
        f"{node.get('NodeManagerAddress', '?')} ({node['NodeID'][:8]})": check.options(
            num_cpus=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False),
        ).remote(read_list, write_list)
        for node in nodes
    }
    for address, ref in refs.items():
        problems = _get(ref)
        if problems:
            shown = "; ".join(problems[:SHOWN_PROBLEMS])
            more = len(problems) - SHOWN_PROBLEMS
            tail = f" (and {more} more)" if more > 0 else ""
            raise SharedStorageError(
                f"Ray node {address}: {shown}{tail}. Every node must see the data, the run "
                "folder and the feature cache at the same paths (docs/deploy.md, 'Ray cluster')"
            )


@contextmanager
def ray_jobs(
    reads: Sequence[str | Path] = (),
    writes: Sequence[str | Path] = (),
    *,
    job_cpus: float = 1,
    env: dict[str, str] | None = None,
) -> Iterator[Executor]:
    """The Ray executor in effect for the block (each job holding ``job_cpus`` unless
    its caller says otherwise, and running with ``env``), on the cluster Ray's
    convention names, after checking that every node can use ``reads`` and ``writes``;
    a Ray this started is stopped after the block."""
    ray = _ray()
    started_at = time.perf_counter()
    connected = connect()
    try:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        console.print(
            f"Ray: {nodes} node(s), {cpus} CPUs "
            f"(connected in {time.perf_counter() - started_at:.1f} s)",
            highlight=False,
        )
        check_shared_storage(reads, writes)
        with using(RayExecutor(job_cpus, env)) as executor:
            yield executor
    finally:
        disconnect(connected)
