"""Distil a teacher into an initialised student with DistillationTrainer.

Every field of DistillationTrainingArguments (all of transformers' TrainingArguments plus the loss weights,
temperature, hidden-state matching, projection, teacher dtype) is an option, with the model and data options
below. The student folder comes from `rudistill init-student` (model + tokenizer + vocab mapping when the
vocabulary is new). Checkpoints go to --output_dir; the final student to OUTPUT_DIR/student.

example (the DistilRuBERT-tiny losses):
  rudistill distill --student student-init --teacher DeepPavlov/rubert-base-cased-conversational \\
      --dataset corpus.jsonl --output_dir run --alpha_mlm 0.5 --alpha_mse 0.1 --alpha_ce 0 --alpha_cos 0 \\
      --hidden_matching average --projection fixed --learning_rate 5e-4 --adam_beta2 0.98

On several processes (GPUs, or CPU processes with --use_cpu), launch the same command with torchrun or accelerate;
--per_device_train_batch_size is per process, so the global batch is it x processes x accumulation steps:
  torchrun --nproc_per_node 2 -m hf_rudistill.cli distill --student student-init ...
  accelerate launch --config_file recipes/accelerate/ddp.yaml -m hf_rudistill.cli distill --student student-init ...
"""

from __future__ import annotations

import argparse

HF_ARGUMENTS = True  # parsed by HfArgumentParser (see hf_rudistill.cli)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def build_parser():
    from transformers import HfArgumentParser

    from ..arguments import DataArguments, ModelArguments
    from ..distillation_config import DistillationTrainingArguments

    return HfArgumentParser(
        (ModelArguments, DataArguments, DistillationTrainingArguments),
        prog="rudistill distill",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def run(args) -> int:
    import os

    from ..alignment import VocabMapping
    from ..assets import DEMO_TEACHER
    from ..loading import load_model, load_teacher, load_tokenizer
    from ..pipeline import distil

    model_args, data_args, training_args = build_parser().parse_args_into_dataclasses(args=args.arguments)
    if model_args.student is None:
        raise ValueError("--student is required: a folder written by `rudistill init-student`.")
    teacher_path = str(DEMO_TEACHER) if model_args.teacher == "embedded" else model_args.teacher
    remote = {"trust_remote_code": model_args.trust_remote_code}
    teacher = load_teacher(teacher_path, missing_head="error" if training_args.alpha_ce > 0 else "ignore", **remote)
    teacher_tokenizer = load_tokenizer(teacher_path, kind="teacher tokenizer", **remote)
    student = load_model(model_args.student, kind="student", **remote)
    student_tokenizer = load_tokenizer(model_args.student, kind="student tokenizer", **remote)
    same_vocabulary = student_tokenizer.get_vocab() == teacher_tokenizer.get_vocab()
    mapping = None
    if not same_vocabulary:
        saved = os.path.join(model_args.student, "vocab_mapping.json")
        mapping = VocabMapping.from_pretrained(model_args.student) if os.path.isfile(saved) else None

    run = distil(student, teacher, student_tokenizer, teacher_tokenizer, data_args, training_args, mapping=mapping)
    if run.trainer.is_world_process_zero():  # under torchrun / accelerate launch: once
        print(f"distilled student -> {run.student_dir}")
        print("evaluation: " + ", ".join(f"{k} {v:.4f}" for k, v in run.evaluation.items() if isinstance(v, float)))
    return 0
