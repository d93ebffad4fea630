"""Fine-tune and score a model on Russian SuperGLUE with ``transformers.Trainer``.

For each task: load the data (every selected task is loaded and checked before any training), fine-tune a
fresh copy of the model (``AutoModelForSequenceClassification``, or ``AutoModelForMultipleChoice`` for
PARus) on the train split, evaluating on the validation split after every epoch and keeping the checkpoint
with the best validation score; report the validation metrics of that checkpoint, and predict the test
split into the leaderboard submission. LiDiRus is predicted with the TERRa model and scored on its labels.

Outputs in ``output_dir`` (empty unless ``overwrite``; files written atomically, ``results.json`` rewritten after
every task):
``results.json`` (schema in :mod:`.rsg_results`), ``submission/TASK.jsonl`` (:mod:`.rsg_submission`), and
with ``save_models`` the fine-tuned models in ``models/TASK/``.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset, DatasetDict

from ..atomic import atomic_directory, check_destination
from ..loading import load_model, load_tokenizer
from .rsg_data import DataSource, load_task
from .rsg_formatting import encode_task
from .rsg_metrics import compute_rsg_metrics
from .rsg_results import RESULTS_FILENAME, RESULTS_FORMAT, RESULTS_FORMAT_VERSION, write_results
from .rsg_submission import write_submission
from .rsg_tasks import (
    DIAGNOSTIC_MODEL_TASK,
    DIAGNOSTIC_TASK,
    HUB_DATASET,
    RSGTask,
    TaskHyperparameters,
    get_task,
    overall_score,
    resolve_tasks,
)

_HYPERPARAMETER_TYPES = {
    item.name: {"float": float, "int": int}[item.type] for item in dataclasses.fields(TaskHyperparameters)
}


@dataclass
class RSGEvaluationConfig:
    """How to run the Russian SuperGLUE evaluation. Hyperparameters left ``None`` take the per-task defaults
    (table in :mod:`.rsg_tasks`); ``task_overrides`` beats the global values."""

    tasks: list[str] | None = field(default=None, metadata={"help": "Tasks to run (default: all eight)."})
    output_dir: str = field(default="rsg-results", metadata={"help": "Where results and submissions go."})
    seed: int = field(default=42, metadata={"help": "Seed of the classifier initialisation and data order."})
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Train on the first N examples of each task (MuSeRC: answer rows)."}
    )
    learning_rate: float | None = field(default=None, metadata={"help": "Learning rate for every task."})
    num_train_epochs: float | None = field(default=None, metadata={"help": "Epochs for every task."})
    batch_size: int | None = field(default=None, metadata={"help": "Train and eval batch size for every task."})
    max_length: int | None = field(default=None, metadata={"help": "Max tokens per input for every task."})
    task_overrides: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata={"help": "Per-task hyperparameters, e.g. {'RCB': {'learning_rate': 1e-5}}."},
    )
    use_cpu: bool = field(default=False, metadata={"help": "Train on the CPU even when a GPU is available."})
    save_models: bool = field(default=False, metadata={"help": "Keep the fine-tuned models in output_dir/models/."})
    overwrite: bool = field(
        default=False, metadata={"help": "Write into a non-empty output_dir, replacing a previous run's files."}
    )


def task_hyperparameters(task: RSGTask, config: RSGEvaluationConfig) -> TaskHyperparameters:
    """The task's defaults, replaced by the config's global values, then by its overrides for this task."""
    if task.defaults is None:
        raise ValueError(f"{task.name} is not fine-tuned (it reuses the {DIAGNOSTIC_MODEL_TASK} model).")
    values = {
        name: getattr(config, name) for name in ("learning_rate", "num_train_epochs", "batch_size", "max_length")
    }
    values = {name: value for name, value in values.items() if value is not None}
    for name, overrides in config.task_overrides.items():
        if get_task(name) == task:
            values.update(overrides)
    unknown = sorted(set(values) - set(_HYPERPARAMETER_TYPES))
    if unknown:
        raise ValueError(f"Unknown hyperparameter {unknown[0]!r}: choose from {', '.join(_HYPERPARAMETER_TYPES)}.")
    values = {**dataclasses.asdict(task.defaults), **values}
    for name, value in values.items():
        try:
            values[name] = _HYPERPARAMETER_TYPES[name](value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{task.name}: {name} must be {_HYPERPARAMETER_TYPES[name].__name__}, got {value!r}."
            ) from None
    hyperparameters = TaskHyperparameters(**values)
    for name in ("learning_rate", "num_train_epochs", "batch_size", "max_length"):
        if getattr(hyperparameters, name) <= 0:
            raise ValueError(f"{task.name}: {name} must be positive, got {getattr(hyperparameters, name)}.")
    return hyperparameters


def evaluate_russian_superglue(
    model_name_or_path: str | os.PathLike, config: RSGEvaluationConfig | None = None, data: DataSource = HUB_DATASET
) -> dict:
    """Fine-tune ``model_name_or_path`` on each selected task, write the outputs and return the results dict.

    Args:
        model_name_or_path: a Hub id or folder of an encoder with a tokenizer (any masked-LM checkpoint).
        config: what to run (defaults: every task with its default hyperparameters).
        data: the official archive folder, a Hub id, or another source of :func:`.rsg_data.load_task`.
    """
    config = config or RSGEvaluationConfig()
    tasks = resolve_tasks(config.tasks)
    for name in config.task_overrides:
        if get_task(name).defaults is None:
            raise ValueError(
                f"{name} is not fine-tuned (it uses the {DIAGNOSTIC_MODEL_TASK} model): it has no hyperparameters."
            )
    hyperparameters = {task.name: task_hyperparameters(task, config) for task in tasks if task.defaults}
    if config.max_train_samples is not None and config.max_train_samples <= 0:
        raise ValueError(f"max_train_samples must be positive, got {config.max_train_samples}.")
    output_dir = check_destination(config.output_dir, overwrite=config.overwrite)
    task_data = {task.name: load_task(task, data) for task in tasks}
    tokenizer = load_tokenizer(model_name_or_path)
    started = time.perf_counter()
    results = _new_results(model_name_or_path, data, config, tasks)
    terra = None  # (trainer, max_length) of TERRa, for LiDiRus
    for task in tasks:
        task_started = time.perf_counter()
        if task.name == DIAGNOSTIC_TASK:
            entry = _predict_diagnostic(task, *terra, tokenizer, task_data[task.name], output_dir)
            terra = None
        else:
            trainer, entry = _finetune(
                task, model_name_or_path, tokenizer, task_data[task.name], hyperparameters[task.name], config
            )
            results["device"] = trainer.args.device.type
            if task.name == DIAGNOSTIC_MODEL_TASK:
                terra = trainer, entry["hyperparameters"]["max_length"]
        entry["wall_time_seconds"] = round(time.perf_counter() - task_started, 2)
        results["tasks"][task.name] = entry
        _finish(results, started, output_dir)
        print(_summary_line(task, entry))
    return results


def _new_results(model, data, config: RSGEvaluationConfig, tasks: list[RSGTask]) -> dict:
    return {
        "format": RESULTS_FORMAT,
        "format_version": RESULTS_FORMAT_VERSION,
        "model": os.fspath(model),
        "data": data if isinstance(data, str) else os.fspath(data) if isinstance(data, os.PathLike) else "in-memory",
        "seed": config.seed,
        "max_train_samples": config.max_train_samples,
        "device": None,
        "versions": {
            package: importlib.metadata.version(package)
            for package in ("hf_rudistill", "transformers", "torch", "datasets", "evaluate")
        },
        "tasks_requested": [task.name for task in tasks],
        "complete": False,
        "tasks": {},
        "score": None,
        "wall_time_seconds": 0.0,
    }


def _finish(results: dict, started: float, output_dir: Path) -> None:
    results["score"] = overall_score({name: entry["score"] for name, entry in results["tasks"].items()})
    results["complete"] = set(results["tasks"]) == set(results["tasks_requested"])
    results["wall_time_seconds"] = round(time.perf_counter() - started, 2)
    write_results(results, output_dir / RESULTS_FILENAME)


def _summary_line(task: RSGTask, entry: dict) -> str:
    metrics = " ".join(f"{name}={value:.4f}" for name, value in entry["metrics"].items())
    return f"{task.name:8s} {entry['split']:10s} {metrics}  ({entry['wall_time_seconds']:.1f} s)"


def _max_length(requested: int, tokenizer, model_config) -> int:
    """``requested`` capped by what the model can take (its tokenizer's limit and its position embeddings)."""
    limits = [requested, tokenizer.model_max_length]
    positions = getattr(model_config, "max_position_embeddings", None)
    if positions:
        limits.append(positions)
    return int(min(limits))


def _finetune(task, model_name_or_path, tokenizer, data: DatasetDict, hyperparameters, config) -> tuple[Any, dict]:
    from transformers import (
        AutoModelForMultipleChoice,
        AutoModelForSequenceClassification,
        DataCollatorForMultipleChoice,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(config.seed)
    if task.multiple_choice:
        model = load_model(model_name_or_path, AutoModelForMultipleChoice)
        collator = DataCollatorForMultipleChoice(tokenizer)
    else:
        model = load_model(
            model_name_or_path,
            AutoModelForSequenceClassification,
            num_labels=task.num_labels,
            id2label=dict(enumerate(task.label_names)),
            label2id={name: i for i, name in enumerate(task.label_names)},
        )
        collator = DataCollatorWithPadding(tokenizer)
    max_length = _max_length(hyperparameters.max_length, tokenizer, model.config)
    train = data["train"]
    if config.max_train_samples is not None:
        train = train.select(range(min(config.max_train_samples, len(train))))
    validation = data["validation"]
    checkpoints = Path(config.output_dir) / "checkpoints" / task.name
    args = TrainingArguments(
        output_dir=str(checkpoints),
        learning_rate=hyperparameters.learning_rate,
        num_train_epochs=hyperparameters.num_train_epochs,
        per_device_train_batch_size=hyperparameters.batch_size,
        per_device_eval_batch_size=hyperparameters.batch_size,
        weight_decay=hyperparameters.weight_decay,
        warmup_steps=hyperparameters.warmup_ratio,
        eval_strategy="epoch",
        save_strategy="epoch",
        logging_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="score",
        greater_is_better=True,
        save_total_limit=1,
        save_only_model=True,
        seed=config.seed,
        use_cpu=config.use_cpu,
        report_to="none",
    )
    validation_idx = validation["idx"]

    def compute_metrics(prediction) -> dict[str, float]:
        return compute_rsg_metrics(task, _label_ids(prediction.predictions), prediction.label_ids, validation_idx)

    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=encode_task(task, train, tokenizer, max_length),
        eval_dataset=encode_task(task, validation, tokenizer, max_length),
        processing_class=tokenizer,
        data_collator=collator,
        compute_metrics=compute_metrics,
    )
    try:
        trainer.train()
        best = _best_evaluation(trainer)
        predictions = _predict(trainer, encode_task(task, data["test"], tokenizer, max_length))
        submission = write_submission(task, data["test"], predictions, Path(config.output_dir) / "submission")
        if config.save_models:
            _save_model(trainer, Path(config.output_dir) / "models" / task.name)
    finally:
        shutil.rmtree(checkpoints, ignore_errors=True)
        _remove_if_empty(checkpoints.parent)
    entry = {
        "split": "validation",
        "metrics": {name: best[f"eval_{name}"] for name in task.metrics},
        "score": best["eval_score"],
        "hyperparameters": {**dataclasses.asdict(hyperparameters), "max_length": max_length},
        "best_epoch": best["epoch"],
        "num_examples": {"train": len(train), "validation": len(validation), "test": len(data["test"])},
        "submission": submission.relative_to(config.output_dir).as_posix(),
    }
    return trainer, entry


def _predict_diagnostic(
    task: RSGTask, trainer, max_length: int, tokenizer, data: DatasetDict, output_dir: Path
) -> dict:
    """LiDiRus: predicted with the TERRa model, scored (Matthews correlation) on its labels."""
    test = data["test"]
    predictions = _predict(trainer, encode_task(task, test, tokenizer, max_length))
    metrics = compute_rsg_metrics(task, predictions, test["label"])
    submission = write_submission(task, test, predictions, output_dir / "submission")
    return {
        "split": "test",
        "metrics": {name: metrics[name] for name in task.metrics},
        "score": metrics["score"],
        "model_from": DIAGNOSTIC_MODEL_TASK,
        "num_examples": {"test": len(test)},
        "submission": submission.relative_to(output_dir).as_posix(),
    }


def _label_ids(predictions) -> np.ndarray:
    logits = predictions[0] if isinstance(predictions, tuple) else predictions
    return np.asarray(logits).argmax(-1)


def _predict(trainer, encoded: Dataset) -> np.ndarray:
    """Predicted label ids; the dataset's labels (-1 on test splits) are replaced by the ignored index -100."""
    unlabelled = encoded.map(lambda batch: {"labels": [-100] * len(batch["labels"])}, batched=True)
    compute_metrics, trainer.compute_metrics = trainer.compute_metrics, None
    try:
        output = trainer.predict(unlabelled)
    finally:
        trainer.compute_metrics = compute_metrics
    return _label_ids(output.predictions)


def _best_evaluation(trainer) -> dict[str, float]:
    """The validation log of the checkpoint ``load_best_model_at_end`` restored (the best ``eval_score``)."""
    evaluations = [log for log in trainer.state.log_history if "eval_score" in log]
    return next(log for log in evaluations if log["step"] == trainer.state.best_global_step)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _save_model(trainer, target: Path) -> None:
    """Save the model and tokenizer into a staging folder next to ``target``, then move it into place."""
    with atomic_directory(target, overwrite=True) as staging:
        trainer.save_model(str(staging))
