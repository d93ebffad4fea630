"""Distil a teacher into an initialised student with DistillationTrainer.

Every field of DistillationTrainingArguments (all of transformers' TrainingArguments plus the loss weights,
temperature, hidden-state matching, projection, teacher dtype) is an option, with the model and data options
below. The student folder comes from `rudistill init-student` (model + tokenizer + vocab mapping when the
vocabulary is new). Checkpoints go to --output_dir; the final student to OUTPUT_DIR/student.

example (the DistilRuBERT-tiny losses):
  rudistill distill --student student-init --teacher DeepPavlov/rubert-base-cased-conversational \\
      --dataset corpus.jsonl --output_dir run --alpha_mlm 0.5 --alpha_mse 0.1 --alpha_ce 0 --alpha_cos 0 \\
      --hidden_matching average --projection fixed --learning_rate 5e-4 --adam_beta2 0.98
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
    from ..distillation_trainer import DistillationTrainer
    from ..loading import load_model, load_teacher, load_tokenizer
    from ..pipeline import build_collator, load_splits, save_student, tokenize_for_distillation

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

    train_texts, eval_texts = load_splits(data_args, seed=training_args.seed)
    teacher_side = None if same_vocabulary else teacher_tokenizer
    train = tokenize_for_distillation(train_texts, student_tokenizer, teacher_side, data=data_args)
    evaluation = tokenize_for_distillation(eval_texts, student_tokenizer, teacher_side, data=data_args)
    collator = build_collator(data_args, student_tokenizer, teacher_side, mapping, train)
    trainer = DistillationTrainer(
        model=student,
        teacher_model=teacher,
        args=training_args,
        data_collator=collator,
        train_dataset=train,
        eval_dataset=evaluation,
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    metrics = trainer.evaluate()
    destination = save_student(trainer, os.path.join(training_args.output_dir, "student"))
    print(f"distilled student -> {destination}")
    print("evaluation: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float)))
    return 0
