"""The results file of a Russian SuperGLUE evaluation (``results.json``), read by the model-card generator.

Schema, version 1 (stable: fields may be added, none renamed or removed without a new ``format_version``)::

    {
      "format": "hf_rudistill/russian-superglue-results",
      "format_version": 1,
      "model": "DeepPavlov/distilrubert-tiny-cased-conversational",   # id or path as given
      "data": "RussianNLP/russian_super_glue",                         # Hub id or local folder
      "seed": 42,
      "max_train_samples": null,                                       # or the cap on training examples
      "device": "cpu",
      "versions": {"hf_rudistill": "...", "transformers": "...", "torch": "...", "datasets": "..."},
      "tasks_requested": ["RCB", ..., "TERRa", "LiDiRus", ...],
      "complete": true,                                                # every requested task is in "tasks"
      "tasks": {
        "RCB": {
          "split": "validation",               # the split the metrics are measured on
          "metrics": {"f1": 0.41, "accuracy": 0.52},
          "score": 0.465,                      # mean of the task's metrics
          "hyperparameters": {"learning_rate": 2e-05, "num_train_epochs": 10, "batch_size": 16,
                              "max_length": 256, "weight_decay": 0.01, "warmup_ratio": 0.1},
          "best_epoch": 7.0,                   # epoch of the checkpoint kept (best validation score)
          "num_examples": {"train": 438, "validation": 220, "test": 438},
          "wall_time_seconds": 123.4,
          "submission": "submission/RCB.jsonl" # relative to the results file's folder
        },
        "LiDiRus": {                           # no training: predicted with the TERRa model
          "split": "test", "metrics": {"mcc": 0.12}, "score": 0.12, "model_from": "TERRa",
          "num_examples": {"test": 1104}, "wall_time_seconds": 4.2, "submission": "submission/LiDiRus.jsonl"
        },
        ...
      },
      "score": 0.47,                           # mean of the tasks' scores (null until a task finishes)
      "wall_time_seconds": 999.9
    }

Metric names: RCB ``f1`` (mean per-class F1 over the three classes) and ``accuracy``; MuSeRC ``f1a`` and
``em``; LiDiRus ``mcc``; every other task ``accuracy``. The Score follows the leaderboard (LiDiRus included),
but it is measured on validation splits (LiDiRus on its labelled diagnostic set) and RuCoS is not part of
this evaluation, so it is not the leaderboard's test Score.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..atomic import atomic_write_text

RESULTS_FORMAT = "hf_rudistill/russian-superglue-results"
RESULTS_FORMAT_VERSION = 1
RESULTS_FILENAME = "results.json"


def write_results(results: dict, path: str | os.PathLike) -> Path:
    """Write ``results`` (the schema above) to ``path`` atomically."""
    atomic_write_text(path, json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return Path(path)


def read_results(path: str | os.PathLike) -> dict:
    """Read a results file, checking that it is this format and a version this code understands."""
    with open(path, encoding="utf-8") as file:
        results = json.load(file)
    if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
        raise ValueError(f"{path} is not a Russian SuperGLUE results file of hf_rudistill.")
    if results.get("format_version") != RESULTS_FORMAT_VERSION:
        raise ValueError(
            f"{path} has results format version {results.get('format_version')!r}; "
            f"this version of hf_rudistill reads version {RESULTS_FORMAT_VERSION}."
        )
    return results
