"""Publish a distilled student to the Hugging Face Hub in one commit.

Uploads the safetensors weights, config, tokenizer files, the vocabulary mapping (vocab_mapping.json /
.safetensors), distillation_config.json and the model card (README.md; generated first, as `rudistill card` does,
when the folder has none). Pickle files (pytorch_model.bin, training_args.bin, ...), checkpoints and other files
are never uploaded; a folder whose only weights are pickled is refused. The repository is created when missing
(private with --private, else with the namespace's default visibility); --revision commits to a branch (created
from main when missing). Files identical to those in the repository are skipped, so pushing an unchanged folder
makes no commit.

The token comes from huggingface_hub's usual sources: HF_TOKEN, or `hf auth login`. It is never printed or
written. A failed push prints one line saying what went wrong and what to do, and changes nothing locally.
--dry-run checks the folder and lists what would be uploaded, with no network access.

examples:
  rudistill push run/student me/distilrubert-tiny-ru --dry-run
  rudistill push run/student me/distilrubert-tiny-ru --private
  rudistill push run/student me/distilrubert-tiny-ru --revision v2 --commit-message "Retrained on more data"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from hf_rudistill.hub import DEFAULT_COMMIT_MESSAGE

    parser.add_argument("student_dir", type=Path, metavar="STUDENT_DIR", help="The student folder (OUTPUT/student).")
    parser.add_argument("repo_id", metavar="REPO_ID", help="Hub repository, namespace/name.")
    parser.add_argument("--private", action="store_true", help="Create the repository private (when it is new).")
    parser.add_argument("--revision", help="Branch to commit to (created from main when missing; default: main).")
    parser.add_argument(
        "--commit-message", default=DEFAULT_COMMIT_MESSAGE, help="Title of the commit (default: %(default)r)."
    )
    parser.add_argument("--dry-run", action="store_true", help="Check the folder and list the files; no network.")


def run(args: argparse.Namespace) -> int:
    from hf_rudistill.hub import PushError, push_student

    try:
        result = push_student(
            args.student_dir,
            args.repo_id,
            private=args.private,
            revision=args.revision,
            commit_message=args.commit_message,
            dry_run=args.dry_run,
        )
    except PushError as error:
        print(f"rudistill push: error: {error} Nothing in {args.student_dir} was changed.", file=sys.stderr)
        return 1
    plan = result.plan
    if plan.card_written:
        print(f"wrote the model card {plan.folder / 'README.md'} (the folder had none)")
    target = f"{result.repo_id}@{result.revision or 'main'}"
    if args.dry_run:
        print(f"dry run: would upload to {target} in one commit:\n{plan.describe()}")
        return 0
    print(f"uploaded to {target}:\n{plan.describe()}\ncommit: {result.commit_url}")
    return 0
