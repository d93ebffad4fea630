"""Run the whole pipeline offline on the embedded Russian corpus and the embedded demo teacher.

Distils a tiny student with the DistilRuBERT-tiny recipe (reduced vocabulary, MLM + MSE), trains the same
architecture from scratch for comparison, and measures teacher and both students (held-out masked-token
accuracy, word-sense accuracy after two epochs of fine-tuning, size). About eleven minutes on a 2-core CPU; the
last lines printed say where every output is.
"""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir", default="rudistill-demo", help="Where to write every output (default: %(default)s)."
    )
    parser.add_argument(
        "--max-steps", type=int, default=None, help="Distillation steps (default: the recipe's demo preset)."
    )
    parser.add_argument(
        "--wsd-epochs", type=float, default=2.0, help="Word-sense fine-tuning epochs (default: %(default)s)."
    )


def run(args) -> int:
    from ..demo import EXAMPLE_CARD, format_summary, run_demo

    example = EXAMPLE_CARD if EXAMPLE_CARD.parent.is_dir() else None  # a source checkout keeps its example current
    results = run_demo(args.output_dir, max_steps=args.max_steps, wsd_epochs=args.wsd_epochs, example_card=example)
    print(format_summary(results, args.output_dir))
    return 0
