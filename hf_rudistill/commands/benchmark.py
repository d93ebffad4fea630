"""Measure the speed and memory of encoder models (the successor of transformers' removed PyTorchBenchmark).

Every grid point (model x mode x device x dtype x batch size x sequence length) runs in its own process: the
model is built from its config with random weights (or loaded with --load-weights), fed random token ids, and
timed. Time is the median of --calls calls after --warmup untimed ones, or with --timing pytorchbenchmark the
old tool's "minimum over 3 repeats of the mean of 10 calls". Memory is the peak resident memory of the process on
CPU (libraries included, as PyTorchBenchmark reported it; the bare-process baseline is recorded beside it), and
on GPU the device memory in use plus torch's peak allocation. A point that runs out of memory is recorded as OOM
and the rest of the grid is still measured. Tables are printed like the DistilRuBERT-tiny model card; with
--output-dir, benchmark.json (read by `rudistill card`), benchmark.csv and benchmark.md are written there.

examples:
  rudistill benchmark --preset distilrubert-tiny-card --devices cpu --output-dir bench
      the five models of the DistilRuBERT-tiny card, from their configs (no download), beside the card's numbers
  rudistill benchmark path/to/student DeepPavlov/distilrubert-tiny-cased-conversational-v1 --batch-sizes 1 32
  rudistill benchmark path/to/student --timing pytorchbenchmark --modes inference train --dtypes float32 bfloat16
  rudistill benchmark path/to/config.json --sequence-lengths 128 512 --max-memory-mb 4000
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from ..benchmark.presets import PRESETS
from ..benchmark.settings import BenchmarkSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "models",
        nargs="*",
        metavar="MODEL",
        help="Hugging Face Hub id, local model directory, or config.json file (random weights from the config).",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), help="Add the models of a preset, defined by configs.")
    parser.add_argument(
        "--load-weights", action="store_true", help="Load the real weights instead of random ones (needs them here)."
    )
    parser.add_argument("--output-dir", help="Write benchmark.json, benchmark.csv and benchmark.md here.")
    settings = parser.add_argument_group("grid and method")
    for setting in fields(BenchmarkSettings):
        default = setting.default
        flag = "--" + setting.name.replace("_", "-")
        options: dict = {"help": setting.metadata["help"], "default": default}
        if isinstance(default, bool):
            options["action"] = "store_true"
        elif isinstance(default, tuple):
            options.update(nargs="+", type=type(default[0]), choices=setting.metadata.get("choices"))
            options["help"] += f" Default: {' '.join(map(str, default))}."
        else:  # str, int, or an optional int whose help says what None means
            options.update(type=str if isinstance(default, str) else int, choices=setting.metadata.get("choices"))
            if default is not None:
                options["help"] += " Default: %(default)s."
        settings.add_argument(flag, **options)


def run(args) -> int:
    """Bad input raises ``BenchmarkInputError`` (a ValueError) before any measurement; the CLI prints it."""
    from ..benchmark import BenchmarkInputError, ModelSpec, markdown_report, preset_specs, run_benchmark, write_results

    settings = BenchmarkSettings(
        **{setting.name: getattr(args, setting.name) for setting in fields(BenchmarkSettings)}
    )
    specs = preset_specs(args.preset, args.load_weights) if args.preset else []
    specs += [ModelSpec.from_source(source, args.load_weights) for source in args.models]
    if not specs:
        raise BenchmarkInputError("nothing to measure: give a MODEL (hub id, directory, config.json) or --preset.")
    if args.output_dir and Path(args.output_dir).exists() and not Path(args.output_dir).is_dir():
        raise BenchmarkInputError(f"--output-dir {args.output_dir} exists and is not a directory.")
    results = run_benchmark(specs, settings)
    print(markdown_report(results))
    for measurement in results.measurements:
        if measurement.status != "ok":
            print(
                f"{measurement.status}: {measurement.model} {measurement.mode} {measurement.device} "
                f"{measurement.dtype} {measurement.batch_size}x{measurement.sequence_length}: {measurement.error}",
                file=sys.stderr,
            )
    if args.output_dir:
        for path in write_results(results, args.output_dir).values():
            print(f"wrote {path}")
    return 1 if any(m.status == "error" for m in results.measurements) else 0
