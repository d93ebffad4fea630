"""Evaluation: held-out masked-token accuracy (:mod:`.mlm`) and Russian SuperGLUE (the ``rsg_*`` modules).

Russian SuperGLUE: :func:`evaluate_russian_superglue` fine-tunes a model on every task with ``Trainer`` and
writes ``results.json`` and the leaderboard submission; :func:`load_task` reads a task from the official
archive or the Hub dataset into one representation; :func:`compute_rsg_metrics` scores predictions with
the benchmark's metrics (an ``evaluate`` module shipped in ``metrics/``).
"""

from .mlm import masked_token_accuracy
from .rsg_data import DataFormatError, load_archive_task, load_hub_task, load_task
from .rsg_finetune import RSGEvaluationConfig, evaluate_russian_superglue, task_hyperparameters
from .rsg_formatting import encode_task
from .rsg_metrics import compute_rsg_metrics, load_rsg_metric
from .rsg_results import read_results, write_results
from .rsg_submission import submission_records, write_submission
from .rsg_tasks import HUB_DATASET, TASKS, RSGTask, TaskHyperparameters, get_task, overall_score, resolve_tasks

__all__ = [
    "masked_token_accuracy",
    "DataFormatError",
    "load_archive_task",
    "load_hub_task",
    "load_task",
    "RSGEvaluationConfig",
    "evaluate_russian_superglue",
    "task_hyperparameters",
    "encode_task",
    "compute_rsg_metrics",
    "load_rsg_metric",
    "read_results",
    "write_results",
    "submission_records",
    "write_submission",
    "HUB_DATASET",
    "TASKS",
    "RSGTask",
    "TaskHyperparameters",
    "get_task",
    "overall_score",
    "resolve_tasks",
]
