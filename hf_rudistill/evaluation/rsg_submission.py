"""Test-split predictions in the Russian SuperGLUE leaderboard's submission format: one ``TASK.jsonl`` per task.

Each line is ``{"idx": ..., "label": ...}`` with the label spelled as the official sample submission does
(RCB/TERRa/LiDiRus names, PARus 0/1, RUSSE/DaNetQA ``"true"``/``"false"``, RWSD ``"True"``/``"False"``),
except MuSeRC, nested per paragraph as in the archive:
``{"idx": 0, "passage": {"questions": [{"idx": 0, "answers": [{"idx": 0, "label": 1}, ...]}, ...]}}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from datasets import Dataset

from ..atomic import atomic_write_text
from .rsg_tasks import RSGTask


def submission_records(task: RSGTask, dataset: Dataset, predictions: Sequence[int]) -> list[dict]:
    """The submission lines for ``predictions`` (label ids) on ``dataset`` (the task's test split), in its order."""
    if len(predictions) != len(dataset):
        raise ValueError(f"{task.name}: {len(predictions)} predictions for {len(dataset)} test examples.")
    labels = [task.submission_labels[int(label)] for label in predictions]
    if task.name != "MuSeRC":
        return [{"idx": idx, "label": label} for idx, label in zip(dataset["idx"], labels)]
    paragraphs: dict[int, dict[int, list[dict]]] = {}
    for ids, label in zip(dataset["idx"], labels):
        answers = paragraphs.setdefault(ids["paragraph"], {}).setdefault(ids["question"], [])
        answers.append({"idx": ids["answer"], "label": label})
    return [
        {
            "idx": paragraph,
            "passage": {
                "questions": [{"idx": question, "answers": answers} for question, answers in questions.items()]
            },
        }
        for paragraph, questions in paragraphs.items()
    ]


def write_submission(
    task: RSGTask, dataset: Dataset, predictions: Sequence[int], directory: str | os.PathLike
) -> Path:
    """Write ``directory/TASK.jsonl`` atomically and return its path."""
    lines = (json.dumps(record) for record in submission_records(task, dataset, predictions))
    path = Path(directory) / f"{task.name}.jsonl"
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return path
