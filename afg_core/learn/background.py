"""Training in the background: one experiment on a worker thread, stoppable, observed through snapshots.

A dashboard session starts a :class:`TrainingJob` and reads :meth:`TrainingJob.snapshot` on each
rerun, so the session's own script never waits for the run and other sessions are not held up.
A thread is enough: the heavy work runs in XLA (Keras on JAX), NumPy, scikit-learn and numba,
which release the GIL while they compute (``benchmarks/sessions.py`` measures the reruns of other
sessions while one trains).

Runs take turns, process-wide (:data:`MAX_RUNNING` at a time, the others wait in state
``queued``): NumPy's and Python's random generators, which Keras seeds for reproducibility, are
process-wide, so two networks trained at once would disturb each other's results; and on a
small server two runs would only share the same cores.

The worker thread lowers its own scheduling priority (:data:`BACKGROUND_NICE`, Linux: per thread;
the thread pools XLA, numba and loky start from it inherit it), so on a small server the
interactive reruns of every session get the cores first and the training takes what is left.

Stopping is cooperative: :func:`run_experiment` polls the job's stop flag after each network
epoch and before each step, and ends with :class:`RunStopped`. Nothing is written while the
run goes on; the optional ``finish`` hook (e.g. writing the run's folder) runs only after a
completed run.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from afg_core.io.project import Project
from afg_core.learn.experiment import ExperimentResult, RunConfig, RunStopped, run_experiment
from afg_core.spectral.pca import SpectralPCA

#: Runs training at the same time in one process; later ones wait their turn.
MAX_RUNNING = 1
#: Nice value of a training thread (0-19; higher yields the CPU more readily to the server's other threads).
BACKGROUND_NICE = 10
#: States in which a job no longer changes.
FINISHED = ("done", "stopped", "failed")
HISTORY_COLUMNS = ["model", "epoch", "loss", "val_loss"]

_turns = threading.BoundedSemaphore(MAX_RUNNING)

_log = logging.getLogger(__name__)


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
    """One :func:`run_experiment` on a daemon thread, with progress, live loss history and Stop.

    Parameters
    ----------
    project : Project
    config : RunConfig
    pca : SpectralPCA, optional
    finish : callable, optional
        ``finish(result)`` is called on the worker thread after a completed run, before the
        state turns ``done``; its return value becomes :attr:`JobSnapshot.output`. An error in
        it fails the job. It never runs for a stopped or failed run.
    client : distributed.Client, optional
        Dask cluster for the predicted volume (see :func:`run_experiment`); None: this process.

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
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state, self._share, self._message = "new", 0.0, "not started"
        self._history: list[dict] = []
        self._started: float | None = None
        self._ended: float | None = None
        self._error: str | None = None
        self._result: ExperimentResult | None = None
        self._output: object = None

    def start(self) -> TrainingJob:
        """Start the run on a worker thread (it waits while another run has the turn); returns self."""
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

    # ------------------------------------------------------------------ worker thread

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
        if hasattr(os, "setpriority"):  # POSIX; on Linux the nice value is per thread
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
            except OSError:  # not permitted here: train at normal priority
                pass
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
        try:
            result = run_experiment(
                self.project,
                self.config,
                self.pca,
                progress=self._progress,
                on_epoch=self._epoch,
                should_stop=self._stop.is_set,
                client=self.client,
            )
            if self.finish is not None:
                self._progress(1.0, "saving the run")
                output = self.finish(result)
            else:
                output = None
        except RunStopped as stopped:
            epochs = len(self._history)
            self._end("stopped", f"stopped by user after {epochs} epoch{'s' * (epochs != 1)}, {stopped}")
        except Exception as error:  # any failure of the run is reported in the snapshot, not raised
            # The snapshot carries the message for the page; the traceback goes to the server's log.
            _log.exception("training run failed")
            self._end("failed", f"failed: {error}", error=f"{type(error).__name__}: {error}")
        else:
            self._end("done", "done", result=result, output=output)
