"""What an experiment leaves behind: metrics.json, tables, the predicted volume, saved models, a summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from afg_core.learn.experiment import ExperimentResult
from afg_core.learn.persistence import save_model
from afg_core.products.exports import write_volume_parquet, write_volume_vti

_MODEL_NAMES = {"lstm": "LSTM", "fnn": "FNN", "kriging": "Kriging", "boosting": "Boosting"}


def verdict_sentence(result: ExperimentResult) -> str:
    """One plain sentence: which model won on the headline grade (the REE sum, else the first target) and by how much.

    The lead is the RMSE difference to the runner-up; where the run has a paired interval for
    those two models (against a baseline), it says whether that interval excludes 0.

    Examples
    --------
    >>> print(verdict_sentence(result))  # doctest: +SKIP
    Boosting won on TREO: RMSE 812 ppm, 24 % lower than Kriging (1,069 ppm); paired 95 % interval of the
    difference -402 to -95 ppm, so the lead is clear.
    """
    grade = result.sum_name or result.targets[0]
    rows = result.scores[result.scores["grade"] == grade].dropna(subset=["rmse"]).sort_values("rmse")
    if rows.empty:
        return f"No model could be scored on {grade}."
    best, unit = rows.iloc[0], rows.iloc[0]["unit"]
    name = _MODEL_NAMES.get(best["model"], best["model"])
    if len(rows) == 1:
        return f"{name} was the only model scored on {grade}: RMSE {best['rmse']:,.4g} {unit}."
    second = rows.iloc[1]
    lead = 100 * (1 - best["rmse"] / second["rmse"])
    other = _MODEL_NAMES.get(second["model"], second["model"])
    sentence = (
        f"{name} won on {grade}: RMSE {best['rmse']:,.4g} {unit}, {lead:.0f} % lower than {other} "
        f"({second['rmse']:,.4g} {unit})"
    )
    paired = result.paired[result.paired["grade"] == grade].set_index("pair")
    for pair, sign in ((f"{best['model']}-{second['model']}", 1), (f"{second['model']}-{best['model']}", -1)):
        if pair in paired.index:
            lo, hi = sorted((sign * paired.loc[pair, "lo"], sign * paired.loc[pair, "hi"]))
            clear = "clear" if hi < 0 else "not clear (the interval includes 0)"
            return (
                f"{sentence}; paired 95 % interval of the difference {lo:+,.4g} to {hi:+,.4g} {unit}, "
                f"so the lead is {clear}."
            )
    return f"{sentence} (no paired interval for these two models)."


def summary_text(result: ExperimentResult) -> str:
    """A few plain sentences: which model wins on which grade (and by how much), and whether gradients helped.

    A model "wins" against a baseline only where the paired 95 % interval of its RMSE minus
    the baseline's lies entirely below 0.
    """
    lines = [
        f"Task: {result.config.task}; targets: {', '.join(result.targets)}; holes: "
        f"{result.split['train_holes']} train, {result.split['validation_holes']} validation, "
        f"{result.split['test_holes']} test."
    ]
    headline = [result.sum_name] if result.sum_name else list(result.targets)
    for grade in headline:
        best = result.best_model.get(grade)
        if best is None:
            continue
        row = result.scores[(result.scores["model"] == best) & (result.scores["grade"] == grade)].iloc[0]
        lines.append(
            f"{grade}: lowest RMSE {row['rmse']:,.4g} {row['unit']} (95 % CI {row['rmse_lo']:,.4g}-"
            f"{row['rmse_hi']:,.4g}) by {best}."
        )
        for pair in result.paired[result.paired["grade"] == grade].itertuples(index=False):
            model, baseline = pair.pair.split("-")
            base = result.scores[(result.scores["model"] == baseline) & (result.scores["grade"] == grade)]
            ratio = 1 + pair.rmse_diff / float(base["rmse"].iloc[0]) if len(base) else np.nan
            if pair.hi < 0:
                verdict = "wins"
            elif pair.lo > 0:
                verdict = "loses"
            else:
                verdict = "no separable difference"
            lines.append(
                f"  {model} vs {baseline}: RMSE difference {pair.rmse_diff:+,.4g} (95 % CI {pair.lo:+,.4g} to "
                f"{pair.hi:+,.4g}; {ratio:.2f}x the {baseline} RMSE): {verdict}."
            )
    wins: dict[str, list[str]] = {}
    for grade, model in result.best_model.items():
        wins.setdefault(model, []).append(grade)
    lines.append("Best model per grade: " + "; ".join(f"{m}: {', '.join(g)}" for m, g in wins.items()) + ".")
    if len(result.ablation):
        table = result.ablation.set_index("removed")
        if "gradients" in table.index and "none" in table.index:
            full, without = table.loc["none", "log_rmse"], table.loc["gradients", "log_rmse"]
            helped = "helped" if without > full else "did not help"
            lines.append(
                f"Flux gradients {helped}: {result.config.ablation_model} log RMSE {full:.3f} with them, "
                f"{without:.3f} without (one test split, no interval)."
            )
        else:
            lines.append("Flux gradients were not among the features (no kriged fields could be built).")
    for note in result.notes:
        lines.append(f"Note: {note}.")
    return "\n".join(lines) + "\n"


def write_run_outputs(result: ExperimentResult, out_dir: str | Path, project_name: str = "") -> list[Path]:
    """Write ``metrics.json``, ``scores.csv``, ``paired.csv``, ``ablation.csv``, ``importance.csv``,
    ``predictions.csv``, ``predicted_blocks.vti`` + ``.parquet``, ``models/<model>/`` and ``summary.txt``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    document = result.metrics_json()
    document["project"] = project_name
    (out / "metrics.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    written.append(out / "metrics.json")
    for name, table in {
        "scores.csv": result.scores,
        "paired.csv": result.paired,
        "ablation.csv": result.ablation,
        "importance.csv": result.importance,
        "predictions.csv": result.predictions,
    }.items():
        table.to_csv(out / name, index=False)
        written.append(out / name)
    if result.volume is not None:
        written.append(write_volume_vti(result.volume, out / "predicted_blocks.vti"))
        written.append(write_volume_parquet(result.volume, out / "predicted_blocks.parquet"))
    for name, model in result.fitted.items():
        card = {
            "project": project_name,
            "task": result.config.task,
            "targets": result.targets,
            "target_columns": "log grades, natural log of (ppm + 0.001)",
            "features": result.features,
            "feature_groups": result.feature_groups,
            "scores": json.loads(result.scores[result.scores["model"] == name].to_json(orient="records")),
        }
        if name in result.self_weighting:
            card["self_weighting"] = dict(
                zip(result.self_weighting[name].features, result.self_weighting[name].weights.tolist())
            )
        written.append(save_model(model, out / "models" / name, card))
    (out / "summary.txt").write_text(summary_text(result), encoding="utf-8")
    written.append(out / "summary.txt")
    return written
