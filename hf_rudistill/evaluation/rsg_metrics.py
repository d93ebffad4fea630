"""The Russian SuperGLUE metrics, loaded by path from the ``evaluate`` module shipped in this package."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import evaluate

from .rsg_tasks import RSGTask, get_task

METRIC_MODULE = Path(__file__).resolve().parent / "metrics" / "russian_super_glue"
"""Folder of the ``evaluate`` module (``russian_super_glue.py``, one configuration per task)."""


def load_rsg_metric(task: RSGTask | str) -> evaluate.EvaluationModule:
    """``evaluate.load`` of the shipped module with the task's configuration: local, no network."""
    task = get_task(task) if isinstance(task, str) else task
    return evaluate.load(str(METRIC_MODULE), task.config, keep_in_memory=True)


def compute_rsg_metrics(
    task: RSGTask | str, predictions: Sequence[int], references: Sequence[int], idx: Sequence[dict] | None = None
) -> dict[str, float]:
    """The task's metrics (``idx`` is needed for MuSeRC only) and its ``score``, the mean of those metrics."""
    task = get_task(task) if isinstance(task, str) else task
    extra = {"idx": idx} if task.name == "MuSeRC" else {}
    values = load_rsg_metric(task).compute(predictions=predictions, references=references, **extra)
    return {**values, "score": task.score(values)}
