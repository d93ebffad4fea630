"""Speed and memory benchmark of encoder models: the successor of transformers' removed ``PyTorchBenchmark``.

Each grid point (model, mode, device, dtype, batch size, sequence length) is measured in its own process, with
random weights from the config (or the real ones), random input ids and a forward under no-grad (or a training
step). Time: a robust median with its spread, or PyTorchBenchmark's "minimum over 3 repeats of the mean of 10
calls". Memory: peak resident memory on CPU, torch's peak and the device memory in use on GPU.

    from hf_rudistill.benchmark import BenchmarkSettings, ModelSpec, preset_specs, run_benchmark, write_results

    if __name__ == "__main__":  # measurements run in fresh processes: scripts need the guard
        results = run_benchmark(
            [*preset_specs("distilrubert-tiny-card"), ModelSpec.from_source("path/to/my-student")],
            BenchmarkSettings(batch_sizes=(1, 16), sequence_lengths=(512,)),
        )
        write_results(results, "benchmark-results")  # benchmark.json (schema in ``results``), .csv, .md
"""

from .models import ModelSpec, preset_specs
from .presets import PRESETS, PublishedFigures, PublishedRun
from .results import BenchmarkResults, Measurement, ModelInfo, load_results, write_results
from .runner import run_benchmark
from .settings import BenchmarkInputError, BenchmarkSettings
from .tables import markdown_report, models_table, published_comparison_table, speed_memory_table

__all__ = [
    "PRESETS",
    "BenchmarkInputError",
    "BenchmarkResults",
    "BenchmarkSettings",
    "Measurement",
    "ModelInfo",
    "ModelSpec",
    "PublishedFigures",
    "PublishedRun",
    "load_results",
    "markdown_report",
    "models_table",
    "preset_specs",
    "published_comparison_table",
    "run_benchmark",
    "speed_memory_table",
    "write_results",
]
