"""The ``rudistill`` command line: one subcommand per stage of the pipeline.

Each subcommand lives in ``hf_rudistill/commands/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int``; modules there import heavy libraries inside ``run`` so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "dedup": "Remove exact and near-duplicate texts from a corpus (MinHash-LSH, verified Jaccard).",
    "vocab": "Build a reduced student vocabulary: train a new one or prune the teacher's.",
    "init-student": "Initialise a smaller student from the teacher's weights (layers, width, new vocabulary).",
    "distill": "Distil a teacher into a student with DistillationTrainer.",
    "evaluate": "Fine-tune and score a model on Russian SuperGLUE.",
    "benchmark": "Measure inference speed and memory (successor of PyTorchBenchmark).",
    "card": "Generate a model card from training, evaluation and benchmark results.",
    "push": "Publish a student (safetensors, tokenizer, mapping, card) to the Hugging Face Hub.",
    "demo": "Run the whole pipeline offline on the embedded corpus and teacher.",
}

EPILOG = """\
start here:
  rudistill demo                      distil the embedded teacher end to end (a few minutes on CPU)
  rudistill COMMAND --help            what a stage does, its options and their defaults
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rudistill",
        description="Distil Russian encoder language models with vocabulary reduction.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, summary in COMMANDS.items():
        module = importlib.import_module(f"hf_rudistill.commands.{name.replace('-', '_')}")
        subparser = subcommands.add_parser(
            name,
            help=summary,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(subparser)
        subparser.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    module = None
    if argv and argv[0] in COMMANDS:
        module = importlib.import_module(f"hf_rudistill.commands.{argv[0].replace('-', '_')}")
    if getattr(module, "HF_ARGUMENTS", False):  # options are dataclass fields, parsed by HfArgumentParser
        if any(a in ("-h", "--help") for a in argv[1:]):
            module.build_parser().print_help()
            return 0
        args = argparse.Namespace(command=argv[0], arguments=argv[1:], run=module.run)
    else:
        args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (ValueError, FileExistsError, FileNotFoundError) as error:  # bad input: one plain line, no traceback
        print(f"rudistill {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
