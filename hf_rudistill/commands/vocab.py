"""Build a reduced student vocabulary from a teacher tokenizer and a corpus.

  --method train   a new vocabulary of the teacher's kind (WordPiece, byte-level BPE, Unigram) trained on
                   the corpus, keeping the teacher's special tokens, casing and normalisation
  --method prune   the teacher's tokens most used on the corpus, plus every single character

Writes to --output-dir: the student tokenizer (AutoTokenizer.from_pretrained works on the folder), the
teacher-to-student token mapping (vocab_mapping.json + vocab_mapping.safetensors), and vocab_report.json
(tokens per word, unknown-token rate and overlap on held-out text).

example:
  rudistill vocab --teacher DeepPavlov/rubert-base-cased-conversational --dataset corpus.jsonl \\
      --vocab-size 30522 --output-dir student-tokenizer
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--teacher",
        default=None,
        help="Teacher model or tokenizer: hub id or folder (default: the embedded demo teacher).",
    )
    parser.add_argument("--output-dir", required=True, help="Folder for the student tokenizer, mapping and report.")
    parser.add_argument(
        "--vocab-size", type=int, required=True, help="Size of the student vocabulary, special tokens included."
    )
    parser.add_argument(
        "--method",
        choices=["train", "prune"],
        default="train",
        help="Train a new vocabulary or prune the teacher's (default: %(default)s).",
    )
    parser.add_argument(
        "--dataset",
        default="embedded",
        help="'embedded', a .jsonl/.parquet/.csv/.txt file, a save_to_disk folder or a hub id (default: %(default)s).",
    )
    parser.add_argument("--text-column", default="text", help="Column holding the texts (default: %(default)s).")
    parser.add_argument(
        "--heldout-fraction",
        type=float,
        default=0.05,
        help="Share of texts held out for the report when the dataset has no validation split (default: %(default)s).",
    )
    parser.add_argument("--overwrite", action="store_true", help="Replace --output-dir if it exists.")


def run(args) -> int:
    import json

    from ..alignment import VocabMapping
    from ..assets import DEMO_TEACHER
    from ..atomic import atomic_directory, check_destination
    from ..loading import load_text_dataset, load_tokenizer
    from ..vocab import prune_vocabulary, train_student_tokenizer, vocabulary_report

    check_destination(args.output_dir, overwrite=args.overwrite)
    teacher = load_tokenizer(args.teacher or DEMO_TEACHER, kind="teacher tokenizer")
    if args.dataset == "embedded":
        train = load_text_dataset("embedded", split="train")[args.text_column]
        heldout = load_text_dataset("embedded", split="validation")[args.text_column]
    else:
        split = load_text_dataset(args.dataset, column=args.text_column).train_test_split(
            test_size=args.heldout_fraction, seed=0
        )
        train, heldout = split["train"][args.text_column], split["test"][args.text_column]
    if args.method == "train":
        student = train_student_tokenizer(train, teacher, args.vocab_size)
    else:
        student = prune_vocabulary(teacher, train, args.vocab_size)
    mapping = VocabMapping.build(teacher, student)
    report = {"method": args.method, "dataset": args.dataset, **vocabulary_report(teacher, student, heldout)}
    report["mapping"] = {
        "mean_pieces_per_teacher_token": float(mapping.lengths.mean()),
        "teacher_tokens_without_spelling": mapping.metadata["unknown_splits"],
    }
    with atomic_directory(args.output_dir, overwrite=args.overwrite) as staging:
        student.save_pretrained(staging)
        mapping.save_pretrained(staging)
        (staging / "vocab_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    teacher_report, student_report = report["teacher"], report["student"]
    print(f"student vocabulary: {len(student):,} tokens ({args.method}) -> {args.output_dir}")
    for label, key, style in (
        ("tokens per word (held-out)", "tokens_per_word", ".3f"),
        ("unknown-token rate", "unknown_rate", ".4%"),
    ):
        print(f"{label}: teacher {teacher_report[key]:{style}}, student {student_report[key]:{style}}")
    print(f"student tokens also in the teacher vocabulary: {report['student_tokens_in_teacher_vocab']:.1%}")
    return 0
