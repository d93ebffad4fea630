"""Initialise a student from the teacher's weights.

Depth: --layers even | odd | distilbert | 0,2,4 (teacher layers to keep), or --layer-groups 0-3,4-7,8-11
(each student layer the mean of a group). Width: --hidden-size / --intermediate-size /
--num-attention-heads (weights sliced top-left). Vocabulary: --student-tokenizer (a folder from
`rudistill vocab`) builds every embedding and MLM-decoder row from the teacher's spelling of the token.
--architecture distilbert turns a BERT teacher into a DistilBERT student.

example (the DistilRuBERT-tiny initialisation):
  rudistill init-student --teacher DeepPavlov/rubert-base-cased-conversational --student-tokenizer tok/ \\
      --layer-groups 0-3,4-7,8-11 --hidden-size 264 --intermediate-size 792 --output-dir student-init
"""

from __future__ import annotations

import argparse


def parse_layer_groups(text: str) -> list[list[int]]:
    """``"0-3,4-7"`` -> ``[[0, 1, 2, 3], [4, 5, 6, 7]]``; ``"0+5,3"`` -> ``[[0, 5], [3]]``."""
    groups = []
    for part in text.split(","):
        if "-" in part:
            first, last = (int(x) for x in part.split("-"))
            groups.append(list(range(first, last + 1)))
        else:
            groups.append([int(x) for x in part.split("+")])
    return groups


def parse_layers(text: str) -> str | list[int]:
    return text if text in ("even", "odd", "distilbert") else [int(x) for x in text.split(",")]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--teacher", default=None, help="Teacher model: hub id or folder (default: the embedded demo teacher)."
    )
    parser.add_argument("--output-dir", required=True, help="Folder for the student model (and its tokenizer).")
    depth = parser.add_mutually_exclusive_group()
    depth.add_argument(
        "--layers",
        type=parse_layers,
        default=None,
        help="even, odd, distilbert, or indices like 0,2,4 (default: all).",
    )
    depth.add_argument(
        "--layer-groups",
        type=parse_layer_groups,
        default=None,
        help="Groups averaged into one layer each, e.g. 0-3,4-7,8-11.",
    )
    parser.add_argument("--hidden-size", type=int, default=None, help="Student hidden size (default: the teacher's).")
    parser.add_argument(
        "--intermediate-size", type=int, default=None, help="Student feed-forward size (default: the teacher's)."
    )
    parser.add_argument(
        "--num-attention-heads", type=int, default=None, help="Student attention heads (default: the teacher's)."
    )
    parser.add_argument(
        "--student-tokenizer", default=None, help="Folder of a new student vocabulary (default: keep the teacher's)."
    )
    parser.add_argument(
        "--architecture",
        choices=["distilbert"],
        default=None,
        help="Convert a BERT teacher into a DistilBERT student.",
    )
    parser.add_argument("--overwrite", action="store_true", help="Replace --output-dir if it exists.")


def run(args) -> int:
    import json

    from ..alignment import VocabMapping
    from ..assets import DEMO_TEACHER
    from ..atomic import atomic_directory, check_destination
    from ..loading import load_model, load_tokenizer
    from ..student import init_student

    check_destination(args.output_dir, overwrite=args.overwrite)
    teacher_path = str(args.teacher or DEMO_TEACHER)
    teacher = load_model(teacher_path, kind="teacher")
    teacher_tokenizer = load_tokenizer(teacher_path, kind="teacher tokenizer")
    student_tokenizer = (
        load_tokenizer(args.student_tokenizer, kind="student tokenizer") if args.student_tokenizer else None
    )
    settings = {
        "layers": args.layers,
        "layer_groups": args.layer_groups,
        "hidden_size": args.hidden_size,
        "intermediate_size": args.intermediate_size,
        "num_attention_heads": args.num_attention_heads,
        "architecture": args.architecture,
    }
    student = init_student(
        teacher,
        student_tokenizer=student_tokenizer,
        teacher_tokenizer=teacher_tokenizer if student_tokenizer is not None else None,
        **settings,
    )
    tokenizer = student_tokenizer or teacher_tokenizer
    with atomic_directory(args.output_dir, overwrite=args.overwrite) as staging:
        student.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if student_tokenizer is not None:
            VocabMapping.build(teacher_tokenizer, student_tokenizer).save_pretrained(staging)
        init_record = {"teacher": teacher_path, "student_tokenizer": args.student_tokenizer, **settings}
        (staging / "student_init.json").write_text(json.dumps(init_record, indent=2) + "\n")
    print(
        f"student: {type(student).__name__}, {student.num_parameters() / 1e6:.1f}M parameters "
        f"(teacher {teacher.num_parameters() / 1e6:.1f}M) -> {args.output_dir}"
    )
    return 0
