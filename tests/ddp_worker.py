"""One process of the multi-process distillation test: distil the embedded teacher, write what this rank saw.

``tests/test_distributed.py`` runs it twice on the same texts and student folders: under
``torchrun --nproc_per_node 2`` (two CPU processes, gloo) with per-device batch B, and as one plain process with
batch 2B, then compares the JSON files each rank writes. Runnable by hand as well:

    torchrun --nproc_per_node 2 tests/ddp_worker.py OUT --texts texts.jsonl --student reduced=STUDENT_DIR \\
        --per-device-batch 4 --steps 3

For every ``--student NAME=DIR`` it trains a DistillationTrainer (student dropout off, same seed), evaluates it,
saves the student with ``save_student`` and writes ``OUT/NAME/rank<R>.json``: the log history, the evaluation
metrics, how the teacher and the student were prepared on this rank, and the student's final weights' checksum.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from datasets import Dataset

from hf_rudistill.assets import DEMO_TEACHER
from hf_rudistill.collator import DataCollatorForDistillation
from hf_rudistill.distillation_config import DistillationTrainingArguments
from hf_rudistill.distillation_trainer import DistillationTrainer
from hf_rudistill.loading import load_model, load_teacher, load_tokenizer
from hf_rudistill.pipeline import save_student

LOSSES = {
    # the DistilRuBERT-tiny losses (reduced vocabulary), with a trainable projection (its gradients are synced too)
    "reduced": dict(
        alpha_mlm=0.5, alpha_mse=0.1, alpha_ce=0.0, alpha_cos=0.0, hidden_matching="average", projection="trainable"
    ),
    # the DistilBERT losses (shared vocabulary)
    "same": dict(
        alpha_mlm=2.0, alpha_ce=5.0, alpha_cos=1.0, alpha_mse=0.0, hidden_matching="last", projection="fixed"
    ),
}
EVAL_TEXTS = 16


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path)
    parser.add_argument("--texts", type=Path, required=True, help="JSON lines with a 'text' field.")
    parser.add_argument(
        "--student", action="append", required=True, help="NAME=DIR, NAME one of: " + ", ".join(LOSSES)
    )
    parser.add_argument("--per-device-batch", type=int, required=True)
    parser.add_argument("--accumulation", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--per-device-eval-batch", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=48, help="Longest tokenised text (both tokenizers).")
    parser.add_argument(
        "--any-device",
        action="store_true",
        help="Let accelerate pick the device instead of forcing the CPU (accelerate ignores a DeepSpeed config when "
        "the CPU is forced).",
    )
    return parser.parse_args(argv)


def tokenised(texts: list[str], student_tokenizer, teacher_tokenizer, same_vocabulary: bool, length: int) -> Dataset:
    encode = lambda tokenizer: tokenizer(texts, truncation=True, max_length=length)["input_ids"]  # noqa: E731
    columns = {"input_ids": encode(student_tokenizer)}
    if not same_vocabulary:
        columns["teacher_input_ids"] = encode(teacher_tokenizer)
    return Dataset.from_dict(columns)


def checksum(model: torch.nn.Module) -> list[float]:
    """Sum and sum of squares of every trainable weight (equal runs give equal values to ~1e-6)."""
    values = [p.detach().double() for p in model.parameters() if p.requires_grad]
    return [float(sum(v.sum() for v in values)), float(sum(v.pow(2).sum() for v in values))]


def run(name: str, student_dir: str, texts: list[str], options: argparse.Namespace) -> Path:
    output = options.output / name
    teacher = load_teacher(DEMO_TEACHER, missing_head="error" if LOSSES[name]["alpha_ce"] else "ignore")
    teacher_tokenizer = load_tokenizer(DEMO_TEACHER)
    student = load_model(student_dir, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    student_tokenizer = load_tokenizer(student_dir)
    same_vocabulary = name == "same"
    collator = DataCollatorForDistillation(
        student_tokenizer, None if same_vocabulary else teacher_tokenizer, max_length=2 * options.max_length
    )
    args = DistillationTrainingArguments(
        output_dir=str(output),
        per_device_train_batch_size=options.per_device_batch,
        per_device_eval_batch_size=options.per_device_eval_batch,
        gradient_accumulation_steps=options.accumulation,
        max_steps=options.steps,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="steps",
        save_steps=options.steps,
        report_to="none",
        use_cpu=not options.any_device,
        seed=11,
        disable_tqdm=True,
        dataloader_num_workers=0,
        **LOSSES[name],
    )
    trainer = DistillationTrainer(
        model=student,
        teacher_model=teacher,
        args=args,
        data_collator=collator,
        train_dataset=tokenised(texts, student_tokenizer, teacher_tokenizer, same_vocabulary, options.max_length),
        eval_dataset=tokenised(
            texts[:EVAL_TEXTS], student_tokenizer, teacher_tokenizer, same_vocabulary, options.max_length
        ),
    )
    trainer.train()
    metrics = trainer.evaluate()
    save_student(trainer, output / "student")
    rank = trainer.args.process_index
    teacher_module = getattr(trainer.teacher, "module", trainer.teacher)  # inside a DeepSpeed inference engine
    record = {
        "rank": rank,
        "world_size": trainer.args.world_size,
        "log_history": trainer.state.log_history,
        "eval": metrics,
        "teacher": {
            "type": type(trainer.teacher).__name__,
            "training": any(module.training for module in teacher_module.modules()),
            "requires_grad": any(p.requires_grad for p in trainer.teacher.parameters()),
            "device": str(next(trainer.teacher.parameters()).device),
        },
        "student_wrapper": type(trainer.model_wrapped).__name__,
        "student_checksum": checksum(trainer.accelerator.unwrap_model(trainer.model)),
    }
    (output / f"rank{rank}.json").write_text(json.dumps(record, indent=1))
    return output


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    texts = [json.loads(line)["text"] for line in options.texts.read_text(encoding="utf-8").splitlines()]
    for spec in options.student:
        name, _, student_dir = spec.partition("=")
        if name not in LOSSES or not student_dir:
            raise SystemExit(f"--student {spec!r}: expected NAME=DIR with NAME one of {', '.join(LOSSES)}.")
        run(name, student_dir, texts, options)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
