"""hf_rudistill: distil Russian encoder language models with vocabulary reduction.

Public names load lazily (``import hf_rudistill`` stays fast, so the ``rudistill`` CLI starts quickly).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "AlignedBatch": "alignment",
    "VocabMapping": "alignment",
    "DataCollatorForDistillation": "collator",
    "count_token_frequencies": "collator",
    "DistillationTrainingArguments": "distillation_config",
    "DistillationTrainer": "distillation_trainer",
    "init_student": "student",
    "prune_vocabulary": "vocab",
    "train_student_tokenizer": "vocab",
    "train_wordpiece_tokenizer": "vocab",
    "vocabulary_report": "vocab",
    "load_corpus": "data",
    "load_wsd_task": "data",
    "DEMO_TEACHER": "assets",
    "DedupConfig": "dedup",
    "DedupReport": "dedup",
    "deduplicate": "dedup",
    "deduplicate_spark": "dedup_spark",
    "write_model_card": "model_card",
    "push_student": "hub",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hf_rudistill' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


def __dir__():
    return sorted(list(globals()) + __all__)
