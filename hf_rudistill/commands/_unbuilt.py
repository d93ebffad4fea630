"""Placeholder for a stage whose issue has not landed yet: it says so and does nothing."""

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def not_built(command: str) -> int:
    print(f"rudistill {command}: this stage is not built yet.", file=sys.stderr)
    return 2
