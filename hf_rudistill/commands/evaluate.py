"""rudistill evaluate: fine-tune a model on every Russian SuperGLUE task and score it.

For each task (RCB, PARus, MuSeRC, TERRa, RUSSE, RWSD, DaNetQA) a fresh copy of MODEL is fine-tuned with
transformers.Trainer on the train split, checked on the validation split after every epoch, and the best
epoch's checkpoint is kept: its validation metrics are reported and it predicts the test split. LiDiRus
(the diagnostic) is predicted with the TERRa model and scored by Matthews correlation on its labels.

Metrics are the benchmark's: RCB F1 (mean over the three classes) and accuracy, MuSeRC F1a and EM,
LiDiRus MCC, accuracy elsewhere. Score = mean over tasks, a two-metric task counting the mean of its two.

Data (--data): the official archive folder (RCB/train.jsonl, RCB/val.jsonl, RCB/test.jsonl, ...,
LiDiRus/LiDiRus.jsonl), a folder of DatasetDict.save_to_disk folders named rcb/, parus/, ..., or a Hub id
(default RussianNLP/russian_super_glue, which needs network access).

Writes to --output-dir: results.json (metrics, Score, hyperparameters, wall time per task; read by
`rudistill card`) and submission/TASK.jsonl in the leaderboard's format.

Per-task defaults (learning rate / epochs / batch / max length): RCB 2e-5/10/16/256, PARus 2e-5/10/16/128,
MuSeRC 2e-5/3/16/512, TERRa 2e-5/5/16/256, RUSSE 2e-5/3/32/128, RWSD 1e-5/10/16/128, DaNetQA 2e-5/5/16/512.

examples:
  rudistill evaluate DeepPavlov/distilrubert-tiny-cased-conversational --data ./RussianSuperGLUE
  rudistill evaluate ./student --data ./RussianSuperGLUE --tasks RCB TERRa LiDiRus --max-train-samples 200
  rudistill evaluate ./student --data ./RussianSuperGLUE --epochs 3 --override RWSD.learning_rate=3e-5
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", metavar="MODEL", help="Hub id or folder of the model (and its tokenizer) to evaluate."
    )
    parser.add_argument(
        "--data",
        default="RussianNLP/russian_super_glue",
        help="Official archive folder, folder of saved Hub-schema configurations, or Hub id (default: %(default)s).",
    )
    parser.add_argument(
        "--output-dir", default="rsg-results", help="Where to write the outputs (default: %(default)s)."
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        metavar="TASK",
        help="Tasks to run, space- or comma-separated (default: all). LiDiRus needs TERRa.",
    )
    parser.add_argument(
        "--max-train-samples",
        type=int,
        metavar="N",
        help="Train on the first N examples of each task (MuSeRC: answers).",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="Seed of head initialisation and data order (default: 42)."
    )
    parser.add_argument("--learning-rate", type=float, metavar="LR", help="Learning rate for every task.")
    parser.add_argument("--epochs", type=float, metavar="N", help="Training epochs for every task.")
    parser.add_argument("--batch-size", type=int, metavar="N", help="Batch size for every task.")
    parser.add_argument("--max-length", type=int, metavar="N", help="Max tokens per input for every task.")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="TASK.NAME=VALUE",
        help="One task's hyperparameter (learning_rate, num_train_epochs, batch_size, max_length, weight_decay, "
        "warmup_ratio), e.g. RCB.num_train_epochs=20. Repeatable; beats the global options.",
    )
    parser.add_argument("--use-cpu", action="store_true", help="Train on the CPU even when a GPU is available.")
    parser.add_argument("--save-models", action="store_true", help="Keep the fine-tuned models in OUTPUT_DIR/models/.")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="Write into a non-empty --output-dir (a previous run's files are replaced).",
    )


def parse_overrides(items: list[str]) -> dict[str, dict[str, str]]:
    """``["RCB.learning_rate=1e-5", ...]`` -> ``{"RCB": {"learning_rate": "1e-5"}}`` (values converted later)."""
    overrides: dict[str, dict[str, str]] = {}
    for item in items:
        key, separator, value = item.partition("=")
        task, dot, name = key.partition(".")
        if not (separator and dot and task and name and value):
            raise ValueError(f"--override {item!r} is not of the form TASK.NAME=VALUE (e.g. RCB.learning_rate=1e-5).")
        overrides.setdefault(task, {})[name] = value
    return overrides


def run(args: argparse.Namespace) -> int:
    from hf_rudistill.evaluation import RSGEvaluationConfig, evaluate_russian_superglue

    try:
        config = RSGEvaluationConfig(
            tasks=[name for item in args.tasks for name in item.split(",") if name] if args.tasks else None,
            output_dir=args.output_dir,
            seed=args.seed,
            max_train_samples=args.max_train_samples,
            learning_rate=args.learning_rate,
            num_train_epochs=args.epochs,
            batch_size=args.batch_size,
            max_length=args.max_length,
            task_overrides=parse_overrides(args.override),
            use_cpu=args.use_cpu,
            save_models=args.save_models,
            overwrite=args.overwrite,
        )
        results = evaluate_russian_superglue(args.model, config, data=args.data)
    except (ValueError, OSError) as error:
        print(f"rudistill evaluate: error: {error}", file=sys.stderr)
        return 2
    print(f"\nScore {results['score']:.4f} over {', '.join(results['tasks'])} ({results['wall_time_seconds']:.0f} s).")
    print(f"Results: {args.output_dir}/results.json; leaderboard submission: {args.output_dir}/submission/")
    return 0
