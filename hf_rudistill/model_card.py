"""Model cards of distilled students: the training facts collected during ``train()``, and the card built from them.

:class:`ModelCardCallback` (added by :class:`~hf_rudistill.DistillationTrainer` to every run, like
sentence-transformers' model-card callback) records the non-default hyperparameters, the loss weights, steps and
epochs, wall time, hardware and the final losses; the trainer writes them to ``training_facts.json`` beside the
weights. :func:`write_model_card` turns a student folder (those facts, ``distillation_report.json`` from
:func:`~hf_rudistill.recipes.run_recipe`, ``config.json``) plus, optionally, a speed/memory benchmark
(``benchmark.json``) and a Russian SuperGLUE evaluation (``results.json``) into ``README.md``: YAML metadata
through ``huggingface_hub.ModelCardData`` (``model-index`` from the evaluation), and a body rendered from the
Jinja template of the recipe's family (``hf_rudistill/model_cards/``). A section whose inputs are missing is
left out, never filled with placeholders.

    from hf_rudistill.model_card import write_model_card

    write_model_card("run/student", benchmark="bench/benchmark.json", evaluation="rsg/results.json",
                     repo_id="me/distilrubert-tiny-ru")
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path

from huggingface_hub.constants import REPOCARD_NAME as CARD_FILE
from transformers import TrainerCallback

TRAINING_FACTS_FILE = "training_facts.json"
REPORT_FILE = "distillation_report.json"
TEMPLATES = Path(__file__).parent / "model_cards"

# TrainingArguments that say where and how often to log/save/evaluate, not how the model was trained
_BOOKKEEPING_PREFIXES = ("logging_", "log_", "save_", "eval_", "hub_", "dataloader_", "trackio_")
_BOOKKEEPING = {
    "output_dir",
    "overwrite_output_dir",
    "run_name",
    "project",
    "report_to",
    "disable_tqdm",
    "push_to_hub",
    "resume_from_checkpoint",
    "do_train",
    "do_eval",
    "do_predict",
    "accelerator_config",
}

RECIPE_FAMILIES = {
    "distilrubert-tiny": "distilrubert",
    "distilrubert-small": "distilrubert",
    "distilrubert-base": "distilrubert",
    "deberta-v1-distill": "deberta-v1-distill",
}

# model-index task type of the Russian SuperGLUE tasks that are not classification
RSG_TASK_TYPES = {"PARus": "multiple-choice", "MuSeRC": "question-answering", "DaNetQA": "question-answering"}
# results.json metric name -> (Hub metric type, display name)
RSG_METRICS = {
    "accuracy": ("accuracy", "Accuracy"),
    "f1": ("f1", "F1 (macro)"),
    "f1a": ("f1", "F1a"),
    "em": ("exact_match", "EM"),
    "mcc": ("matthews_correlation", "MCC"),
}


# ---- the callback ----------------------------------------------------------------------------------------


def _field_defaults(arguments_class) -> dict:
    """Defaults of a TrainingArguments class, read from its fields: instantiating one during training would reset
    accelerate's shared state."""
    from dataclasses import MISSING, fields
    from enum import Enum

    defaults = {}
    for field in fields(arguments_class):
        if field.default is not MISSING:
            value = field.default
        elif field.default_factory is not MISSING:
            value = field.default_factory()
        else:
            continue
        defaults[field.name] = value.value if isinstance(value, Enum) else value
    return defaults


def non_default_arguments(args) -> dict:
    """The training arguments that differ from their class defaults, without bookkeeping (paths, logging, saving,
    Hub settings), tokens, or the distillation settings and loss weights (``distillation_config.json`` reports
    them). Empty and unset values count as equal."""
    defaults = _field_defaults(type(args))
    distillation = set(args.distillation_dict()) if hasattr(args, "distillation_dict") else set()
    return {
        name: value
        for name, value in args.to_dict().items()
        if name in defaults
        and value != defaults[name]
        and (value or defaults[name])
        and name not in _BOOKKEEPING
        and not name.startswith(_BOOKKEEPING_PREFIXES)
        and name not in distillation
        and "token" not in name
    }


def hardware_description(args) -> dict:
    """CPU model, GPU names (when training used them), processes."""
    import torch

    from .benchmark.runner import _cpu_name

    gpus = []
    if args.device.type == "cuda":
        gpus = [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]
    return {"cpu": _cpu_name(), "cpu_count": os.cpu_count(), "gpus": gpus, "processes": args.world_size}


class ModelCardCallback(TrainerCallback):
    """Collect what a model card reports about a training run; :meth:`save` writes it as JSON.

    Follows sentence-transformers' model-card callback: hyperparameters that differ from the defaults are
    recorded when training begins, losses as they are logged, evaluation metrics when evaluated.
    """

    def __init__(self):
        self.facts: dict = {}
        self._started: float | None = None

    def on_train_begin(self, args, state, control, train_dataloader=None, **kwargs):
        import torch
        import transformers

        from . import __version__

        self._started = time.perf_counter()
        self.facts = {
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "hyperparameters": non_default_arguments(args),
            "loss_weights": dict(getattr(args, "loss_weights", {})),
            "hardware": hardware_description(args),
            "versions": {
                "hf_rudistill": __version__,
                "transformers": transformers.__version__,
                "torch": torch.__version__,
            },
            "train_examples": _length(getattr(train_dataloader, "dataset", None)),
            "max_steps": state.max_steps,
            "finished": False,
        }

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" in logs:  # a periodic training log: the loss and its components
            losses = {k: v for k, v in _numbers(logs).items() if k not in ("learning_rate", "grad_norm", "epoch")}
            self.facts["last_train_log"] = {"step": state.global_step, **losses}
        if "train_loss" in logs:  # the summary logged once training ends
            self.facts["mean_train_loss"] = logs["train_loss"]

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        metrics = {k: v for k, v in _numbers(metrics or {}).items() if not k.endswith(("_runtime", "_per_second"))}
        self.facts["last_evaluation"] = {"step": state.global_step, **metrics}

    def on_train_end(self, args, state, control, **kwargs):
        self.facts.update(
            global_step=state.global_step,
            epoch=state.epoch,
            wall_time_seconds=round(time.perf_counter() - self._started, 3),
            finished=True,
        )

    def save(self, output_dir: str | os.PathLike) -> None:
        """Write ``training_facts.json`` into ``output_dir`` (nothing before training began)."""
        if not self.facts:
            return
        from .atomic import atomic_write_text

        facts = dict(self.facts)
        if not facts["finished"]:  # a checkpoint during training: the facts so far
            facts["wall_time_seconds"] = round(time.perf_counter() - self._started, 3)
        atomic_write_text(Path(output_dir) / TRAINING_FACTS_FILE, json.dumps(facts, indent=2, default=str) + "\n")


def _length(dataset) -> int | None:
    try:
        return len(dataset)
    except TypeError:  # an iterable dataset
        return None


def _numbers(logs: dict) -> dict:
    return {k: v for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


# ---- reading the inputs ----------------------------------------------------------------------------------


def _read_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({what}): {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object ({what}).")
    return data


def _optional_json(path: Path, what: str) -> dict | None:
    return _read_json(path, what) if path.is_file() else None


def read_evaluation(path: str | os.PathLike) -> dict:
    """A Russian SuperGLUE ``results.json`` of ``rudistill evaluate`` (or the folder holding it), read and checked
    by :func:`hf_rudistill.evaluation.read_results`."""
    from .evaluation.rsg_results import RESULTS_FILENAME, read_results

    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"No Russian SuperGLUE results file at {path}: write it with `rudistill evaluate`.")
    try:
        results = read_results(path)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(results.get("tasks"), dict):
        raise ValueError(f"{path} has no 'tasks' object.")
    return results


def read_benchmark(path: str | os.PathLike):
    """A ``benchmark.json`` (or the folder holding it) as :class:`~hf_rudistill.benchmark.BenchmarkResults`."""
    from .benchmark import load_results

    path = Path(path)
    if not (path / "benchmark.json" if path.is_dir() else path).is_file():
        raise FileNotFoundError(f"No benchmark results at {path}: write them with `rudistill benchmark --output-dir`.")
    try:
        return load_results(path)
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a benchmark.json of `rudistill benchmark`: {error!r}") from error


def hub_id(name: str | None) -> str | None:
    """``name`` when it reads as a Hub repository id (not a local folder, not ``embedded``), else None."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if not name or "/" not in name or Path(name).exists():
        return None
    try:
        validate_repo_id(name)
    except HFValidationError:
        return None
    return name


# ---- what the card shows -----------------------------------------------------------------------------------


def _architecture(config: dict) -> dict:
    """Layers, hidden size, heads, FFN size and vocabulary from a BERT-, DistilBERT- or DeBERTa-style config."""

    def first(*names):
        return next((config[name] for name in names if name in config), None)

    return {
        "model_type": config.get("model_type"),
        "class": (config.get("architectures") or [None])[0],
        "layers": first("num_hidden_layers", "n_layers"),
        "hidden_size": first("hidden_size", "dim"),
        "heads": first("num_attention_heads", "n_heads"),
        "intermediate_size": first("intermediate_size", "hidden_dim"),
        "vocab_size": config.get("vocab_size"),
    }


def _stored_parameters(student_dir: Path) -> int | None:
    from safetensors import safe_open

    files = sorted(student_dir.glob("model*.safetensors"))
    if not files:
        return None
    total = 0
    for file in files:
        with safe_open(file, framework="numpy") as handle:
            for name in handle.keys():
                count = 1
                for size in handle.get_slice(name).get_shape():
                    count *= size
                total += count
    return total


def _number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _evaluation_rows(evaluation: dict) -> tuple[list[dict], list]:
    """Table rows (leaderboard order, unknown tasks last) and the ``EvalResult`` list for ``model-index``."""
    from huggingface_hub import EvalResult

    from .evaluation.rsg_tasks import HUB_DATASET, TASKS

    order = list(TASKS)  # the leaderboard's
    names = sorted(evaluation["tasks"], key=lambda name: (order.index(name) if name in order else len(order), name))
    rows, results = [], []
    for name in names:
        task = evaluation["tasks"][name]
        config = TASKS[name].config if name in TASKS else name.lower()
        task_type = RSG_TASK_TYPES.get(name, "text-classification")
        metrics = []
        for metric, value in task["metrics"].items():
            metric_type, display = RSG_METRICS.get(metric, (metric, metric))
            metrics.append(f"{display} {value:.3f}")
            results.append(
                EvalResult(
                    task_type=task_type,
                    task_name=f"Russian SuperGLUE {name}",
                    dataset_type=HUB_DATASET,
                    dataset_name=f"Russian SuperGLUE ({name})",
                    dataset_config=config,
                    dataset_split=task.get("split"),
                    metric_type=metric_type,
                    metric_name=display,
                    metric_value=round(float(value), 4),
                )
            )
        score = task.get("score")
        rows.append(
            {
                "task": name,
                "split": task.get("split", "") + (f" ({task['model_from']} model)" if task.get("model_from") else ""),
                "metrics": ", ".join(metrics),
                "score": "" if score is None else f"{score:.3f}",
            }
        )
    return rows, results


def _fine_tuning_settings(evaluation: dict) -> list[str]:
    """Seed, training-example cap and the hyperparameters every fine-tuned task shared, in words."""
    settings = []
    if evaluation.get("seed") is not None:
        settings.append(f"seed {evaluation['seed']}")
    if evaluation.get("max_train_samples"):
        settings.append(f"at most {evaluation['max_train_samples']:,} training examples per task")
    shared = [task["hyperparameters"] for task in evaluation["tasks"].values() if task.get("hyperparameters")]
    if shared and all(hyperparameters == shared[0] for hyperparameters in shared):
        settings += [f"{name.replace('_', ' ')} {_number(value)}" for name, value in shared[0].items()]
    return settings


def _benchmark_context(results) -> dict:
    """The benchmark's own tables (``hf_rudistill.benchmark``), one speed table per mode and dtype measured."""
    from .benchmark import models_table, published_comparison_table, speed_memory_table
    from .benchmark.tables import timing_description

    environment = results.environment
    return {
        "models_table": models_table(results),
        "speed_tables": [
            {"mode": mode, "dtype": dtype, "table": speed_memory_table(results, mode, dtype)}
            for mode in results.settings["modes"]
            for dtype in results.settings["dtypes"]
        ],
        "published_table": published_comparison_table(results),
        "timing": timing_description(results.settings),
        "environment": environment,
        "gpus": ", ".join(environment.get("gpus") or []),
        "random_weights": all(model.random_weights for model in results.models),
        "created_at": results.created_at[:10],
    }


def _initialisation_lines(initialisation: dict) -> list[str]:
    """What the student was built from, in words."""
    lines = []
    if initialisation.get("layers"):
        lines.append("teacher layers " + ", ".join(map(str, initialisation["layers"])) + " kept")
    if initialisation.get("layer_groups"):
        groups = ", ".join(f"{group[0]}-{group[-1]}" for group in initialisation["layer_groups"])
        lines.append(f"each student layer the mean of a group of teacher layers ({groups})")
    labels = {"hidden_size": "hidden size", "intermediate_size": "FFN size", "num_attention_heads": "attention heads"}
    widths = [f"{label} {initialisation[name]}" for name, label in labels.items() if initialisation.get(name)]
    if widths:
        lines.append(", ".join(widths) + " (the teacher's matrices cut to size)")
    if initialisation.get("architecture"):
        lines.append(f"architecture: {initialisation['architecture']}")
    return lines


def _loss_settings(weights: dict, distillation: dict) -> dict:
    """The distillation settings that matter for the active losses."""
    relevant = {"teacher_dtype"}
    if weights.get("ce"):
        relevant |= {"temperature", "restrict_ce_to_mask"}
    if weights.get("mse") or weights.get("cos") or weights.get("attn"):
        relevant |= {"hidden_matching", "span_pooling", "projection"}
    return {name: value for name, value in distillation.items() if name in relevant}


def _training_context(report: dict, facts: dict, distillation: dict) -> dict | None:
    """Data, deduplication, vocabulary, initialisation, losses, hyperparameters and the run, where known."""
    train = report.get("train") or {}
    weights = facts.get("loss_weights") or {
        name[len("alpha_") :]: value for name, value in distillation.items() if name.startswith("alpha_")
    }
    evaluation = facts.get("last_evaluation") or report.get("evaluation") or {}
    context = {
        "dataset": report.get("dataset"),
        "dataset_id": hub_id(report.get("dataset")),
        "train_examples": facts.get("train_examples"),
        "dedup": report.get("dedup"),
        "vocabulary": report.get("vocabulary"),
        "initialisation": _initialisation_lines(report.get("initialisation") or {}),
        "loss_weights": {name: value for name, value in weights.items() if value},
        "loss_settings": _loss_settings(weights, distillation),
        "hyperparameters": {name: _number(value) for name, value in facts.get("hyperparameters", {}).items()},
        "steps": facts.get("global_step", train.get("steps")),
        "epoch": facts.get("epoch", train.get("epoch")),
        "wall_time": _duration(facts["wall_time_seconds"]) if "wall_time_seconds" in facts else None,
        "hardware": facts.get("hardware"),
        "versions": facts.get("versions"),
        "last_train_log": facts.get("last_train_log"),
        "mean_train_loss": facts.get("mean_train_loss", train.get("train_loss")),
        "held_out": {
            name[len("eval_") :]: value
            for name, value in _numbers(evaluation).items()
            if name.startswith("eval_") and not name.endswith(("_runtime", "_per_second"))
        },
    }
    context["max_length"] = ((report.get("arguments") or {}).get("data") or {}).get("max_length")
    return context if any(value not in (None, {}, []) for value in context.values()) else None


def _family(recipe: str | None, model_type: str | None) -> str:
    if recipe in RECIPE_FAMILIES:
        return RECIPE_FAMILIES[recipe]
    return "deberta-v1-distill" if (model_type or "").startswith("deberta") else "distilrubert"


def _environment():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["number"] = _number
    return environment


def build_model_card(
    student_dir: str | os.PathLike,
    *,
    benchmark: str | os.PathLike | None = None,
    evaluation: str | os.PathLike | None = None,
    repo_id: str | None = None,
    license: str = "apache-2.0",
):
    """The ``huggingface_hub.ModelCard`` of the student in ``student_dir`` (nothing is written).

    Args:
        student_dir: a student folder (``config.json``, weights; ``distillation_report.json`` and
            ``training_facts.json`` when it was trained by a recipe / ``DistillationTrainer``).
        benchmark: ``benchmark.json`` of ``rudistill benchmark`` (or its folder): size and speed/memory tables.
        evaluation: ``results.json`` of ``rudistill evaluate`` (or its folder): Russian SuperGLUE table and
            ``model-index``.
        repo_id: the Hub repository the card is for (title, usage snippet, ``model-index`` name).
        license: a Hub license id.
    """
    from huggingface_hub import ModelCard, ModelCardData
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    from .recipes import RECIPES

    student_dir = Path(student_dir)
    if not (student_dir / "config.json").is_file():
        raise FileNotFoundError(f"{student_dir} has no config.json: it is not a saved model folder.")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", license or ""):
        raise ValueError(f"--license must be a Hub license id such as apache-2.0, mit or other, not {license!r}.")
    if repo_id is not None:
        try:
            validate_repo_id(repo_id)
        except HFValidationError as error:
            raise ValueError(f"{repo_id!r} is not a valid Hub repository id: {error}") from error
    benchmark_results = read_benchmark(benchmark) if benchmark is not None else None
    evaluation_results = read_evaluation(evaluation) if evaluation is not None else None

    config = _read_json(student_dir / "config.json", "model config")
    report = _optional_json(student_dir / REPORT_FILE, "distillation report")
    facts = _optional_json(student_dir / TRAINING_FACTS_FILE, "training facts")
    distillation = _optional_json(student_dir / "distillation_config.json", "distillation config")
    tokenizer_config = _optional_json(student_dir / "tokenizer_config.json", "tokenizer config") or {}
    report = report or {}

    recipe_name = report.get("recipe")
    recipe = RECIPES.get(recipe_name)
    teacher = report.get("teacher")
    parameters = report.get("parameters") or {}
    student = _architecture(config)
    # counted from the weights that are published (the report's count may include a projection trained beside)
    student["parameters"] = _stored_parameters(student_dir)
    teacher_parameters = parameters.get("teacher")
    compression = teacher_parameters / student["parameters"] if teacher_parameters and student["parameters"] else None
    title = repo_id or f"{recipe_name or 'hf_rudistill'} student"

    eval_rows, eval_results = _evaluation_rows(evaluation_results) if evaluation_results else ([], None)
    evaluated = set(evaluation_results["tasks"]) if evaluation_results else set()
    card_data = ModelCardData(
        language="ru",
        license=license,
        library_name="transformers",
        tags=["distillation", "russian", *([recipe_name] if recipe_name else []), "hf_rudistill"],
        base_model=hub_id(teacher),
        datasets=[hub_id(report.get("dataset"))] if hub_id(report.get("dataset")) else None,
        pipeline_tag="fill-mask",
        model_name=title if eval_results else None,
        eval_results=eval_results,
    )
    context = {
        "title": title,
        "repo_id": repo_id,
        "model_path": repo_id or str(student_dir),
        "recipe": recipe_name,
        "recipe_summary": recipe.summary if recipe else None,
        "demo_preset": bool((report.get("arguments") or {}).get("student", {}).get("demo")),
        "teacher": teacher,
        "teacher_id": hub_id(teacher),
        "teacher_parameters": teacher_parameters,
        "student": student,
        "compression": compression,
        "new_vocabulary": (student_dir / "vocab_mapping.json").is_file(),
        "mask_token": tokenizer_config.get("mask_token") or "[MASK]",
        "benchmark": _benchmark_context(benchmark_results) if benchmark_results else None,
        "evaluation": {
            "rows": eval_rows,
            "score": evaluation_results.get("score"),
            "missing": [name for name in evaluation_results.get("tasks_requested", []) if name not in evaluated],
            "settings": _fine_tuning_settings(evaluation_results),
        }
        if evaluation_results
        else None,
        "training": _training_context(report, facts or {}, distillation or {}),
    }
    template = _environment().get_template(f"{_family(recipe_name, student['model_type'])}.md.jinja")
    text = template.render(card_data=card_data.to_yaml(), **context)
    card = ModelCard(re.sub(r"\n{3,}", "\n\n", text))
    check_card_metadata(str(card))
    return card


def check_card_metadata(text: str) -> None:
    """Raise ``ValueError`` unless the card's YAML parses into ``ModelCardData`` (its ``model-index`` into
    ``EvalResult`` objects) and names the fields the Hub indexes a model by."""
    from huggingface_hub import ModelCard

    data = ModelCard(text, ignore_metadata_errors=False).data
    for key in ("language", "license", "library_name", "pipeline_tag"):
        if not getattr(data, key, None):
            raise ValueError(f"The card's metadata has no {key}.")


def write_model_card(
    student_dir: str | os.PathLike,
    *,
    benchmark: str | os.PathLike | None = None,
    evaluation: str | os.PathLike | None = None,
    repo_id: str | None = None,
    license: str = "apache-2.0",
) -> Path:
    """Render the card (see :func:`build_model_card`) and write it atomically to ``student_dir/README.md``."""
    from .atomic import atomic_write_text

    card = build_model_card(student_dir, benchmark=benchmark, evaluation=evaluation, repo_id=repo_id, license=license)
    path = Path(student_dir) / CARD_FILE
    atomic_write_text(path, str(card))
    return path
