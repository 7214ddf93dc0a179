"""Background training (afg_core.learn.background): done with a result, Stop within an epoch, failures, turns.

A small demo (8 holes) and a small FNN keep each run to seconds; ``patience`` equal to
``epochs`` keeps early stopping out of the way where a run must last.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from afg_core import configure_backends

configure_backends()

from afg_core.demo import generate_demo_project  # noqa: E402
from afg_core.io import load_project  # noqa: E402
from afg_core.learn import (  # noqa: E402
    ExperimentResult,
    JobSnapshot,
    RunConfig,
    RunStopped,
    TrainingJob,
    run_experiment,
)
from afg_core.learn.background import BACKGROUND_NICE  # noqa: E402
from afg_core.products import verdict_sentence  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras.*")

QUICK = {"ablation": False, "importance": False, "volume": False, "n_boot": 50, "n_jobs": 1}
#: A run that lasts until stopped (many epochs, no early stopping).
LONG = RunConfig(models=("fnn",), epochs=5000, patience=5000, **QUICK)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    return load_project(generate_demo_project(tmp_path_factory.mktemp("job") / "demo", seed=5, n_holes=8))


def _wait_for(job: TrainingJob, condition, timeout: float = 120) -> JobSnapshot:
    deadline = time.monotonic() + timeout
    while True:
        snapshot = job.snapshot()
        if condition(snapshot):
            return snapshot
        assert not snapshot.finished, f"the job ended before the condition held: {snapshot.message}"
        assert time.monotonic() < deadline, f"condition not met in {timeout} s: {snapshot}"
        time.sleep(0.01)


def test_a_job_runs_to_done_with_the_result_and_the_finish_hook(project) -> None:
    finished: list = []
    config = RunConfig(models=("fnn",), epochs=3, patience=3, **QUICK)
    job = TrainingJob(project, config, finish=lambda result: finished.append(result) or "run-folder")
    assert job.snapshot().state == "new"
    snapshot = job.start().wait(timeout=300)
    assert snapshot.state == "done", snapshot.error
    assert snapshot.finished and snapshot.share == 1.0 and snapshot.error is None
    assert set(snapshot.result.scores["model"]) == {"fnn"}
    assert finished == [snapshot.result] and snapshot.output == "run-folder"
    # One history row per FNN epoch, as the model's own history records it.
    assert snapshot.history["model"].tolist() == ["FNN"] * 3
    assert snapshot.history["epoch"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(snapshot.history["loss"], snapshot.result.histories["fnn"]["loss"], rtol=1e-6)
    with pytest.raises(RuntimeError, match="already started"):
        job.start()


def test_history_grows_while_running_runs_take_turns_and_stop_ends_within_an_epoch(project) -> None:
    finished: list = []
    job = TrainingJob(project, LONG, finish=finished.append).start()
    first = _wait_for(job, lambda s: s.state == "running" and s.epochs >= 1)
    assert first.share < 1 and first.message == "fold 1/1: fitting fnn"
    if sys.platform == "linux":  # every thread of the training process yields the CPU to interactive reruns
        threads = [int(task.name) for task in Path(f"/proc/{job.pid}/task").iterdir()]
        assert len(threads) > 1 and job.pid != os.getpid()
        assert all(os.getpriority(os.PRIO_PROCESS, thread) >= BACKGROUND_NICE for thread in threads)

    # A second run waits for its turn, and can be stopped while it waits.
    queued = TrainingJob(project, LONG).start()
    time.sleep(0.3)
    assert queued.snapshot().state == "queued" and queued.snapshot().elapsed_s == 0.0
    queued.stop()
    assert queued.wait(timeout=10).message == "stopped by user before it started"
    assert queued.snapshot().state == "stopped"

    grown = _wait_for(job, lambda s: s.epochs > first.epochs)
    assert grown.state == "running" and grown.history["epoch"].is_monotonic_increasing
    before = job.snapshot().epochs
    asked = time.monotonic()
    job.stop()
    assert job.snapshot().stop_requested
    stopped = job.wait(timeout=60)
    took = time.monotonic() - asked
    assert stopped.state == "stopped", stopped.message
    # The epoch under way when Stop came is the last one (a few may finish between reading and stopping).
    assert stopped.epochs - before <= 3 and stopped.epochs < LONG.epochs
    assert (
        stopped.message
        == f"stopped by user after {stopped.epochs} epochs, at the end of FNN epoch {stopped.epochs}"
    )
    assert took < 5, f"Stop took {took:.1f} s"
    assert stopped.result is None and finished == []  # nothing of a stopped run is kept or written


def test_run_experiment_stops_at_the_end_of_the_epoch_it_was_asked_in(project) -> None:
    epochs: list[int] = []

    def listener(name: str, epoch: int, logs: dict) -> None:
        epochs.append(epoch + 1)

    with pytest.raises(RunStopped, match="at the end of FNN epoch 4"):
        run_experiment(project, LONG, on_epoch=listener, should_stop=lambda: len(epochs) >= 4)
    assert epochs == [1, 2, 3, 4]
    with pytest.raises(RunStopped, match="before fold 1/1"):
        run_experiment(project, LONG, should_stop=lambda: True)


def test_a_failing_run_reports_failed_with_the_message(project) -> None:
    job = TrainingJob(project, RunConfig(targets=("Unobtainium",), **QUICK)).start()
    snapshot = job.wait(timeout=60)
    assert snapshot.state == "failed" and snapshot.result is None
    assert "InputError" in snapshot.error and "Unobtainium" in snapshot.error
    assert snapshot.message.startswith("failed: ")


def _scored(rmse: dict[str, float], paired: list[tuple[str, float, float]]) -> ExperimentResult:
    """A result holding only scores and paired differences of TREO (what the sentence reads)."""
    scores = pd.DataFrame({"model": list(rmse), "grade": "TREO", "unit": "ppm", "rmse": list(rmse.values())})
    pairs = pd.DataFrame(
        [(p, "TREO", (lo + hi) / 2, lo, hi, 10) for p, lo, hi in paired],
        columns=["pair", "grade", "rmse_diff", "lo", "hi", "n"],
    )
    empty = pd.DataFrame()
    return ExperimentResult(
        RunConfig(), ["La", "Ce"], "TREO", {}, scores, pairs, {}, empty, {}, empty, empty, {}, [], {}, [], {}
    )


def test_the_verdict_names_the_winner_its_lead_and_whether_the_interval_excludes_zero() -> None:
    clear = _scored({"kriging": 1000.0, "boosting": 750.0, "lstm": 900.0}, [("boosting-kriging", -400, -90)])
    assert verdict_sentence(clear) == (
        "Boosting won on TREO: RMSE 750 ppm, 17 % lower than LSTM (900 ppm) (no paired interval for these two models)."
    )
    beaten = _scored({"kriging": 800.0, "lstm": 1000.0}, [("lstm-kriging", 50, 350)])
    assert verdict_sentence(beaten) == (
        "Kriging won on TREO: RMSE 800 ppm, 20 % lower than LSTM (1,000 ppm); paired 95 % interval of the "
        "difference -350 to -50 ppm, so the lead is clear."
    )
    close = _scored({"kriging": 1000.0, "fnn": 950.0}, [("fnn-kriging", -120, 30)])
    assert verdict_sentence(close).endswith(
        "-120 to +30 ppm, so the lead is not clear (the interval includes 0)."
    )
    assert (
        verdict_sentence(_scored({"fnn": 950.0}, []))
        == "FNN was the only model scored on TREO: RMSE 950 ppm."
    )
