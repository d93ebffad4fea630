"""The Russian SuperGLUE tasks: names, data schema, labels, metrics and fine-tuning defaults.

Every task is loaded into one internal representation, a :class:`~datasets.DatasetDict` whose columns are
``RSGTask.features`` (the columns of the Hub dataset ``RussianNLP/russian_super_glue`` that the models use,
with the Hub's types and ``ClassLabel`` names; test labels are -1):

- LiDiRus: sentence1, sentence2; labels entailment, not_entailment (a test split only, labelled).
- RCB: premise, hypothesis; labels entailment, contradiction, neutral.
- PARus: premise, choice1, choice2, question ("cause" or "effect"); labels choice1, choice2.
- MuSeRC: paragraph, question, answer, one row per answer, ``idx`` = ``{"paragraph", "question", "answer"}``;
  labels False, True.
- TERRa: premise, hypothesis; labels entailment, not_entailment.
- RUSSE: word, sentence1, sentence2, start1, end1, start2, end2 (character spans of the word); labels False, True.
- RWSD: text, span1_index, span2_index (whitespace word indices), span1_text, span2_text; labels False, True.
- DaNetQA: question, passage; labels False, True.

Fine-tuning defaults (``RSGTask.defaults``; every value can be overridden), chosen for BERT-base-sized
models: small tasks get more epochs, passage tasks a longer context. ``max_length`` is capped by the
model's own limit. LiDiRus is not trained: it is predicted with the fine-tuned TERRa model.

========  =============  ======  =====  ==========
Task      learning rate  epochs  batch  max_length
========  =============  ======  =====  ==========
RCB       2e-5           10      16     256
PARus     2e-5           10      16     128
MuSeRC    2e-5           3       16     512
TERRa     2e-5           5       16     256
RUSSE     2e-5           3       32     128
RWSD      1e-5           10      16     128
DaNetQA   2e-5           5       16     512
========  =============  ======  =====  ==========

All tasks also use weight decay 0.01 and linear warm-up over the first 10% of steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from datasets import ClassLabel, Features, Value

HUB_DATASET = "RussianNLP/russian_super_glue"
"""The Hub dataset with one configuration per task (``rcb``, ``parus``, ...)."""

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class TaskHyperparameters:
    """Fine-tuning hyperparameters of one task."""

    learning_rate: float
    num_train_epochs: float
    batch_size: int
    max_length: int
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1


@dataclass(frozen=True)
class RSGTask:
    """One Russian SuperGLUE task.

    Attributes:
        name: the official name (``"RCB"``), also the archive folder and the submission file stem.
        config: the configuration name of the Hub dataset (``"rcb"``) and of the metric module.
        columns: the text and number columns of the internal representation, besides ``idx`` and ``label``.
        label_names: ``ClassLabel`` names of the Hub dataset, in id order.
        archive_labels: the type of the labels in the official archive: ``str`` (label names), ``bool`` or
            ``int`` (0/1).
        submission_labels: how each label id is spelled in the leaderboard submission.
        metrics: names of the metrics the task reports; the task's Score is their mean.
        defaults: fine-tuning defaults (``None`` for LiDiRus, which reuses the TERRa model).
        archive_files: split name -> file name in the official archive folder ``name/``.
        multiple_choice: whether examples are scored per choice (PARus).
    """

    name: str
    config: str
    columns: dict[str, str]
    label_names: tuple[str, ...]
    archive_labels: type
    submission_labels: tuple
    metrics: tuple[str, ...]
    defaults: TaskHyperparameters | None
    archive_files: dict[str, str] = field(
        default_factory=lambda: {"train": "train.jsonl", "validation": "val.jsonl", "test": "test.jsonl"}
    )
    multiple_choice: bool = False

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.archive_files)

    @property
    def features(self) -> Features:
        """Schema of the internal representation (types and label names as in the Hub dataset)."""
        idx = (
            {part: Value("int32") for part in ("paragraph", "question", "answer")}
            if self.name == "MuSeRC"
            else Value("int32")
        )
        return Features(
            {
                **{column: Value(dtype) for column, dtype in self.columns.items()},
                "idx": idx,
                "label": ClassLabel(names=list(self.label_names)),
            }
        )

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    def score(self, metrics: dict[str, float]) -> float:
        """The task's contribution to the Score: the mean of its metrics."""
        return sum(metrics[name] for name in self.metrics) / len(self.metrics)


_BINARY = ("False", "True")
_NLI_PAIR = {"premise": "string", "hypothesis": "string"}

TASKS: dict[str, RSGTask] = {
    task.name: task
    for task in [
        RSGTask(
            name="LiDiRus",
            config="lidirus",
            columns={"sentence1": "string", "sentence2": "string"},
            label_names=("entailment", "not_entailment"),
            archive_labels=str,
            submission_labels=("entailment", "not_entailment"),
            metrics=("mcc",),
            defaults=None,
            archive_files={"test": "LiDiRus.jsonl"},
        ),
        RSGTask(
            name="RCB",
            config="rcb",
            columns=_NLI_PAIR,
            label_names=("entailment", "contradiction", "neutral"),
            archive_labels=str,
            submission_labels=("entailment", "contradiction", "neutral"),
            metrics=("f1", "accuracy"),
            defaults=TaskHyperparameters(2e-5, 10, 16, 256),
        ),
        RSGTask(
            name="PARus",
            config="parus",
            columns={"premise": "string", "choice1": "string", "choice2": "string", "question": "string"},
            label_names=("choice1", "choice2"),
            archive_labels=int,
            submission_labels=(0, 1),
            metrics=("accuracy",),
            defaults=TaskHyperparameters(2e-5, 10, 16, 128),
            multiple_choice=True,
        ),
        RSGTask(
            name="MuSeRC",
            config="muserc",
            columns={"paragraph": "string", "question": "string", "answer": "string"},
            label_names=_BINARY,
            archive_labels=int,
            submission_labels=(0, 1),
            metrics=("f1a", "em"),
            defaults=TaskHyperparameters(2e-5, 3, 16, 512),
        ),
        RSGTask(
            name="TERRa",
            config="terra",
            columns=_NLI_PAIR,
            label_names=("entailment", "not_entailment"),
            archive_labels=str,
            submission_labels=("entailment", "not_entailment"),
            metrics=("accuracy",),
            defaults=TaskHyperparameters(2e-5, 5, 16, 256),
        ),
        RSGTask(
            name="RUSSE",
            config="russe",
            columns={
                "word": "string",
                "sentence1": "string",
                "sentence2": "string",
                "start1": "int32",
                "end1": "int32",
                "start2": "int32",
                "end2": "int32",
            },
            label_names=_BINARY,
            archive_labels=bool,
            submission_labels=("false", "true"),
            metrics=("accuracy",),
            defaults=TaskHyperparameters(2e-5, 3, 32, 128),
        ),
        RSGTask(
            name="RWSD",
            config="rwsd",
            columns={
                "text": "string",
                "span1_index": "int32",
                "span2_index": "int32",
                "span1_text": "string",
                "span2_text": "string",
            },
            label_names=_BINARY,
            archive_labels=bool,
            submission_labels=("False", "True"),
            metrics=("accuracy",),
            defaults=TaskHyperparameters(1e-5, 10, 16, 128),
        ),
        RSGTask(
            name="DaNetQA",
            config="danetqa",
            columns={"question": "string", "passage": "string"},
            label_names=_BINARY,
            archive_labels=bool,
            submission_labels=("false", "true"),
            metrics=("accuracy",),
            defaults=TaskHyperparameters(2e-5, 5, 16, 512),
        ),
    ]
}
"""Every task, in the leaderboard's order, by official name."""

DIAGNOSTIC_TASK, DIAGNOSTIC_MODEL_TASK = "LiDiRus", "TERRa"
"""LiDiRus has no training data: it is predicted with the model fine-tuned on TERRa."""


def get_task(name: str) -> RSGTask:
    """The task called ``name`` (official or Hub configuration name, any case)."""
    for task in TASKS.values():
        if name.lower() in (task.name.lower(), task.config):
            return task
    raise ValueError(f"Unknown Russian SuperGLUE task {name!r}: choose from {', '.join(TASKS)}.")


def resolve_tasks(names: Sequence[str] | None = None) -> list[RSGTask]:
    """The tasks called ``names`` (all when ``None``) in run order: leaderboard order, LiDiRus right after TERRa.

    Raises a ``ValueError`` for an unknown name, or for LiDiRus without TERRa (its model comes from TERRa).
    """
    wanted = {get_task(name).name for name in names} if names is not None else set(TASKS)
    if not wanted:
        raise ValueError("No task selected: name at least one of " + ", ".join(TASKS) + ".")
    if DIAGNOSTIC_TASK in wanted and DIAGNOSTIC_MODEL_TASK not in wanted:
        raise ValueError(
            f"{DIAGNOSTIC_TASK} is predicted with the model fine-tuned on {DIAGNOSTIC_MODEL_TASK}: "
            f"select {DIAGNOSTIC_MODEL_TASK} too."
        )
    order = [name for name in TASKS if name != DIAGNOSTIC_TASK]
    order.insert(order.index(DIAGNOSTIC_MODEL_TASK) + 1, DIAGNOSTIC_TASK)
    return [TASKS[name] for name in order if name in wanted]


def overall_score(task_scores: dict[str, float]) -> float:
    """The Score: the mean of the tasks' scores (each the mean of its metrics)."""
    if not task_scores:
        raise ValueError("The Score needs at least one task result.")
    return sum(task_scores.values()) / len(task_scores)
