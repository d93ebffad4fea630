"""Run the whole pipeline offline on the embedded Russian corpus and the embedded demo teacher.

Everything is written under --output-dir; the last lines printed say where.
"""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir", default="rudistill-demo", help="Where to write every output (default: %(default)s)."
    )


def run(args) -> int:
    from ..demo import format_summary, run_demo

    results = run_demo(args.output_dir)
    print(format_summary(results, args.output_dir))
    return 0
