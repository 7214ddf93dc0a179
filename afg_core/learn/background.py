"""Training in the background: one experiment in a child process, stoppable, observed through snapshots.

A dashboard session starts a :class:`TrainingJob` and reads :meth:`TrainingJob.snapshot` on each
rerun, so the session's own script never waits for the run and other sessions are not held up.

The run goes to a child process at low scheduling priority (:data:`BACKGROUND_NICE`), not to a
thread of the server. In a thread it shared the server's GIL during the Python-heavy parts of a
training loop, and the compute threads XLA starts for it were not all lowered in priority, so on a
two-core server the other sessions' reruns waited for it (``benchmarks/sessions.py`` measures them).
Every thread of the child is lowered before any work starts, and threads it starts later inherit
that, so interactive reruns get the cores first and training takes what is left.

The child reports progress, one message per network epoch and its outcome through a
``multiprocessing`` queue that a watcher thread of this process reads. The completed result
comes back as a pickle from the child this job spawned, never from a file or a user; its networks
travel as ``.keras`` archives loaded in Keras' safe mode (``_KerasRegressor.__getstate__``).

Runs take turns, process-wide (:data:`MAX_RUNNING` at a time, the others wait in state
``queued``): on a small server two runs would only share the same cores.

Stopping is cooperative: :func:`run_experiment` in the child polls the job's stop flag after
each network epoch and before each step, and ends with :class:`RunStopped`; a child whose
parent has gone away stops the same way. Nothing is written while the run goes on; the optional
``finish`` hook (e.g. writing the run's folder) runs in this process, only after a completed run.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import pickle
import queue
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from afg_core.io.project import Project
from afg_core.learn.experiment import ExperimentResult, RunConfig, RunStopped, run_experiment
from afg_core.spectral.pca import SpectralPCA

#: Runs training at the same time; later ones wait their turn.
MAX_RUNNING = 1
#: Nice value of the training process (0-19; higher yields the CPU more readily to the server).
BACKGROUND_NICE = 10
#: States in which a job no longer changes.
FINISHED = ("done", "stopped", "failed")
HISTORY_COLUMNS = ["model", "epoch", "loss", "val_loss"]
#: Seconds a child that ended its run gets to exit before it is killed.
EXIT_GRACE_S = 30.0

_turns = threading.BoundedSemaphore(MAX_RUNNING)
# Spawn, not fork: forking a server with live threads (Streamlit's, XLA's) can deadlock the child.
_context = multiprocessing.get_context("spawn")
_children: weakref.WeakSet = weakref.WeakSet()

_log = logging.getLogger(__name__)


@atexit.register
def _kill_children() -> None:
    # Registered after multiprocessing's own exit hook, so it runs first: a server shutting down
    # does not wait for runs nobody will read (multiprocessing joins its children at exit).
    for process in list(_children):
        if process.is_alive():
            process.kill()


@dataclass(frozen=True, eq=False)
class JobSnapshot:
    """What a :class:`TrainingJob` is doing, copied at one instant (safe to read from any thread).

    Attributes
    ----------
    state : {"new", "queued", "running", "done", "stopped", "failed"}
    share : float
        Share of the run's steps done, in [0, 1].
    message : str
        The current step, or how the run ended.
    history : DataFrame
        ``model, epoch, loss, val_loss``: one row per network epoch so far (``epoch`` 1-based,
        losses in standardised log units).
    elapsed_s : float
        Seconds since the run started (0 while queued).
    stop_requested : bool
        :meth:`TrainingJob.stop` was called; the run ends at the next epoch or step.
    error : str or None
        Why a failed run failed.
    result : ExperimentResult or None
        The result of a completed run.
    output : object
        What the ``finish`` hook returned (e.g. the folder the run was written to).
    """

    state: str
    share: float
    message: str
    history: pd.DataFrame
    elapsed_s: float
    stop_requested: bool
    error: str | None = None
    result: ExperimentResult | None = None
    output: object = None

    @property
    def finished(self) -> bool:
        """True once the job is done, stopped or failed."""
        return self.state in FINISHED

    @property
    def epochs(self) -> int:
        """Network epochs completed so far, all models together."""
        return len(self.history)


class TrainingJob:
    """One :func:`run_experiment` in a low-priority child process, with progress, live loss history and Stop.

    Parameters
    ----------
    project : Project
    config : RunConfig
    pca : SpectralPCA, optional
    finish : callable, optional
        ``finish(result)`` is called in this process after a completed run, before the state
        turns ``done``; its return value becomes :attr:`JobSnapshot.output`. An error in it
        fails the job. It never runs for a stopped or failed run.
    client : distributed.Client, optional
        Dask cluster for the predicted volume (see :func:`run_experiment`); the child connects
        to the same scheduler. None: the child computes it itself.

    Examples
    --------
    >>> job = TrainingJob(project, RunConfig(models=("boosting",)))  # doctest: +SKIP
    >>> job.start().wait(timeout=600).state  # doctest: +SKIP
    'done'
    """

    def __init__(
        self,
        project: Project,
        config: RunConfig,
        pca: SpectralPCA | None = None,
        finish: Callable[[ExperimentResult], object] | None = None,
        client=None,
    ) -> None:
        self.project = project
        self.config = config
        self.pca = pca
        self.finish = finish
        self.client = client
        self._lock = threading.Lock()
        self._stop = _context.Event()
        self._messages = _context.Queue()
        self._thread: threading.Thread | None = None
        self._process = None
        self._state, self._share, self._message = "new", 0.0, "not started"
        self._history: list[dict] = []
        self._started: float | None = None
        self._ended: float | None = None
        self._error: str | None = None
        self._result: ExperimentResult | None = None
        self._output: object = None

    @property
    def pid(self) -> int | None:
        """Process id of the training process (None until the run has its turn)."""
        process = self._process
        return None if process is None else process.pid

    def start(self) -> TrainingJob:
        """Start the run in the background (it waits while another run has the turn); returns self."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("this training job was already started; create a new one")
            self._state, self._message = "queued", "waiting for another training run to finish"
            # Daemon: a server shutting down does not wait for a run nobody will read.
            self._thread = threading.Thread(target=self._work, name="afg-training", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to stop at the next epoch or step boundary (returns at once)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> JobSnapshot:
        """Block until the job has finished or ``timeout`` seconds have passed; the snapshot then."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.snapshot()

    def snapshot(self) -> JobSnapshot:
        """A consistent copy of the job's state, progress, epoch history and outcome."""
        with self._lock:
            now = time.monotonic() if self._ended is None else self._ended
            return JobSnapshot(
                state=self._state,
                share=self._share,
                message=self._message,
                history=pd.DataFrame(self._history, columns=HISTORY_COLUMNS),
                elapsed_s=0.0 if self._started is None else now - self._started,
                stop_requested=self._stop.is_set(),
                error=self._error,
                result=self._result,
                output=self._output,
            )

    # ------------------------------------------------------------------ watcher thread

    def _progress(self, share: float, message: str) -> None:
        with self._lock:
            self._share, self._message = min(max(float(share), 0.0), 1.0), message

    def _epoch(self, model: str, epoch: int, logs: dict) -> None:
        row = {"model": model, "epoch": epoch + 1, "loss": logs.get("loss"), "val_loss": logs.get("val_loss")}
        with self._lock:
            self._history.append(row)

    def _end(
        self,
        state: str,
        message: str,
        result: ExperimentResult | None = None,
        output: object = None,
        error: str | None = None,
    ) -> None:
        with self._lock:
            self._state, self._message, self._ended = state, message, time.monotonic()
            self._result, self._output, self._error = result, output, error
            if state == "done":
                self._share = 1.0

    def _work(self) -> None:
        # Polled rather than blocking, so a Stop while queued ends the wait.
        while not _turns.acquire(timeout=0.2):
            if self._stop.is_set():
                self._end("stopped", "stopped by user before it started")
                return
        try:
            with self._lock:
                self._state, self._message, self._started = "running", "starting", time.monotonic()
            self._run()
        finally:
            _turns.release()

    def _run(self) -> None:
        scheduler = None if self.client is None else self.client.scheduler_info()["address"]
        process = _context.Process(
            target=_train_in_child,
            args=(self.project, self.config, self.pca, scheduler, self._messages, self._stop, os.getpid()),
            name="afg-training",
        )
        self._progress(0.0, "starting the training process")
        process.start()
        # Lowered at once, from here: the child's own lowering comes only after it has imported
        # jax, keras and afg_core (seconds of CPU), which would otherwise run at the server's priority.
        # Threads it starts inherit this; _train_in_child then lowers any started before it.
        if hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, process.pid, BACKGROUND_NICE)
            except OSError:  # already gone, or not permitted: the child lowers itself
                pass
        _children.add(process)
        self._process = process
        try:
            outcome = self._follow(process)
        finally:
            process.join(EXIT_GRACE_S)
            if process.is_alive():
                process.kill()
                process.join()
        kind = outcome[0]
        if kind == "stopped":
            epochs = len(self._history)
            self._end("stopped", f"stopped by user after {epochs} epoch{'s' * (epochs != 1)}, {outcome[1]}")
        elif kind == "failed":
            name, text, trace = outcome[1:]
            # The snapshot carries the message for the page; the traceback goes to the server's log.
            _log.error("training run failed in its process:\n%s", trace)
            self._end("failed", f"failed: {text}", error=f"{name}: {text}")
        else:
            self._finish(pickle.loads(outcome[1]))  # from the child this job spawned

    def _follow(self, process) -> tuple:
        """Relay the child's progress and epochs until its outcome arrives; the outcome message."""
        while True:
            try:
                message = self._messages.get(timeout=0.2)
            except queue.Empty:
                if process.is_alive():
                    continue
                try:  # the outcome may still be in the pipe just after the child exited
                    message = self._messages.get(timeout=1.0)
                except queue.Empty:
                    return (
                        "failed",
                        "ProcessError",
                        f"the training process ended without a result (exit code {process.exitcode})",
                        "",
                    )
            kind = message[0]
            if kind == "progress":
                self._progress(*message[1:])
            elif kind == "epoch":
                self._epoch(*message[1:])
            else:
                return message

    def _finish(self, result: ExperimentResult) -> None:
        try:
            if self.finish is not None:
                self._progress(1.0, "saving the run")
                output = self.finish(result)
            else:
                output = None
        except Exception as error:  # a failing hook fails the job, reported in the snapshot
            _log.exception("saving the training run failed")
            self._end("failed", f"failed: {error}", error=f"{type(error).__name__}: {error}")
        else:
            self._end("done", "done", result=result, output=output)


def _lower_priority(nice: int) -> None:
    """Lower every thread of this process to ``nice`` (Linux keeps a nice value per thread)."""
    if not hasattr(os, "setpriority"):  # not POSIX: train at normal priority
        return
    tasks = Path("/proc/self/task")
    threads = [int(task.name) for task in tasks.iterdir()] if tasks.is_dir() else [0]
    for thread in threads:
        try:
            os.setpriority(os.PRIO_PROCESS, thread, nice)
        except OSError:  # not permitted, or the thread has ended: that thread keeps its priority
            pass


def _train_in_child(
    project: Project,
    config: RunConfig,
    pca: SpectralPCA | None,
    scheduler: str | None,
    messages,
    stop,
    parent_pid: int,
) -> None:
    """The child process: run the experiment and post progress, epochs and the outcome to ``messages``."""
    _lower_priority(BACKGROUND_NICE)
    client = None
    try:
        if scheduler is not None:
            from distributed import Client

            client = Client(scheduler, set_as_default=False)
        result = run_experiment(
            project,
            config,
            pca,
            progress=lambda share, message: messages.put(("progress", share, message)),
            on_epoch=lambda model, epoch, logs: messages.put(
                ("epoch", model, epoch, {key: float(value) for key, value in logs.items()})
            ),
            should_stop=lambda: stop.is_set() or os.getppid() != parent_pid,
            client=client,
        )
        # Pickled here rather than by the queue's feeder thread, so a result that cannot travel
        # fails the run with its reason instead of vanishing.
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except RunStopped as stopped:
        messages.put(("stopped", str(stopped)))
    except Exception as error:  # any failure of the run is reported to the job, not raised
        messages.put(("failed", type(error).__name__, str(error), traceback.format_exc()))
    else:
        messages.put(("done", payload))
    finally:
        if client is not None:
            client.close()
