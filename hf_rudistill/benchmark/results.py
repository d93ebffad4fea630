"""Benchmark results and their files: ``benchmark.json`` (read by the model-card generator), CSV and markdown.

``benchmark.json``, schema version 1 (MB = 2**20 bytes, times in seconds per call)::

    {
      "schema_version": 1,
      "created_at": "2025-01-31T12:00:00+00:00",            # UTC, ISO 8601
      "settings": {...},                                   # BenchmarkSettings: grid, timing method, memory cap
      "environment": {"python", "platform", "cpu", "cpu_count", "torch", "torch_threads", "transformers",
                      "hf_rudistill", "gpus": [names]},
      "models": [{
        "name": "distilrubert-tiny-cased-conversational",  # the tables' "Model name"
        "source": "DeepPavlov/...", | null                  # hub id or local path; null for a config only
        "architecture": "DistilBertForMaskedLM",            # transformers class built (and counted)
        "model_type": "distilbert",
        "num_parameters": 10394898,                         # distinct parameters of that class
        "vocab_size": 30522,
        "weights_mb": {"float32": 39.65},                   # num_parameters x bytes per element, per dtype run
        "random_weights": true,                             # false when the real weights were loaded
        "published": null | {                               # a card's figures, for comparison only (not ours)
          "source", "setup", "num_parameters_m", "vocab_k", "weights_mb",
          "runs": [{"batch_size", "sequence_length", "time_s_cpu", "time_s_gpu", "memory_mb_cpu",
                    "memory_mb_gpu"}]}
      }],
      "measurements": [{
        "model", "mode" ("inference" | "train"), "device" ("cpu" | "cuda:0"), "dtype", "batch_size",
        "sequence_length",
        "status": "ok" | "oom" | "error",                  # oom: out of memory; error: see "error"
        "error": null | "RuntimeError: ...",
        "num_parameters": int | null,                       # of the model measured (train: the masked-LM model)
        "time_s": float | null,                             # robust: median; pytorchbenchmark: min of repeat means
        "time_low_s", "time_high_s": float | null,          # robust: 25th/75th percentile; else min/max repeat mean
        "time_samples_s": [float],                          # of every process: each timed call (robust), or each
                                                            # repeat's mean per call (pytorchbenchmark)
        "cpu_rss_baseline_mb": float | null,                # bare measuring process, before the model; the memory
                                                            # figures are the largest over the point's processes
        "cpu_rss_peak_mb": float | null,                    # peak resident memory (PyTorchBenchmark's CPU figure)
        "cpu_rss_peak_scope": "calls" | "process" | null,   # peak over the measured calls, or the whole process
        "gpu_peak_allocated_mb", "gpu_peak_reserved_mb": float | null,   # torch allocator peaks over the calls
        "gpu_device_used_mb": float | null,                 # device memory in use (PyTorchBenchmark's GPU figure)
        "wall_s": float | null                              # seconds the measuring processes took, builds included
      }]
    }

Files are written atomically (``hf_rudistill.atomic``): to a temporary file beside the destination, then moved.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..atomic import atomic_write_text
from .presets import PublishedFigures, PublishedRun

SCHEMA_VERSION = 1
JSON_NAME, CSV_NAME, MARKDOWN_NAME = "benchmark.json", "benchmark.csv", "benchmark.md"


@dataclass
class ModelInfo:
    """What a model is: class, size, vocabulary; and what its card published, when known."""

    name: str
    source: str | None
    architecture: str
    model_type: str
    num_parameters: int
    vocab_size: int
    weights_mb: dict[str, float]
    random_weights: bool
    published: PublishedFigures | None = None

    @classmethod
    def from_dict(cls, data: dict) -> ModelInfo:
        data = dict(data)
        if data.get("published") is not None:
            published = dict(data["published"])
            published["runs"] = tuple(PublishedRun(**run) for run in published["runs"])
            data["published"] = PublishedFigures(**published)
        return cls(**data)


@dataclass
class Measurement:
    """One grid point: (model, mode, device, dtype, batch size, sequence length) and what was measured."""

    model: str
    mode: str
    device: str
    dtype: str
    batch_size: int
    sequence_length: int
    status: str
    error: str | None = None
    num_parameters: int | None = None
    time_s: float | None = None
    time_low_s: float | None = None
    time_high_s: float | None = None
    time_samples_s: list[float] = field(default_factory=list)
    cpu_rss_baseline_mb: float | None = None
    cpu_rss_peak_mb: float | None = None
    cpu_rss_peak_scope: str | None = None
    gpu_peak_allocated_mb: float | None = None
    gpu_peak_reserved_mb: float | None = None
    gpu_device_used_mb: float | None = None
    wall_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class BenchmarkResults:
    """A whole run: settings, environment, models and one measurement per grid point."""

    settings: dict
    environment: dict
    models: list[ModelInfo]
    measurements: list[Measurement]
    created_at: str
    schema_version: int = SCHEMA_VERSION

    def model(self, name: str) -> ModelInfo:
        return next(model for model in self.models if model.name == name)

    def find(self, model: str, **point) -> Measurement | None:
        """The measurement of ``model`` at a grid point given by keyword (mode, device, dtype, batch_size, ...)."""
        for measurement in self.measurements:
            if measurement.model == model and all(getattr(measurement, k) == v for k, v in point.items()):
                return measurement
        return None

    def to_dict(self) -> dict:
        return {
            "schema_version": self.schema_version,
            "created_at": self.created_at,
            "settings": self.settings,
            "environment": self.environment,
            "models": [asdict(model) for model in self.models],
            "measurements": [asdict(measurement) for measurement in self.measurements],
        }

    @classmethod
    def from_dict(cls, data: dict) -> BenchmarkResults:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(
                f"benchmark results of schema version {data.get('schema_version')!r}; this version reads "
                f"{SCHEMA_VERSION}."
            )
        return cls(
            settings=data["settings"],
            environment=data["environment"],
            models=[ModelInfo.from_dict(model) for model in data["models"]],
            measurements=[Measurement(**measurement) for measurement in data["measurements"]],
            created_at=data["created_at"],
        )


def load_results(path: str | Path) -> BenchmarkResults:
    """Read a ``benchmark.json`` (or the directory holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / JSON_NAME
    return BenchmarkResults.from_dict(json.loads(path.read_text(encoding="utf-8")))


def measurements_csv(results: BenchmarkResults) -> str:
    """One row per measurement, the columns of ``Measurement``; samples joined by spaces."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[f.name for f in fields(Measurement)], lineterminator="\n")
    writer.writeheader()
    for measurement in results.measurements:
        row = asdict(measurement)
        row["time_samples_s"] = " ".join(f"{sample:.6g}" for sample in measurement.time_samples_s)
        writer.writerow(row)
    return buffer.getvalue()


def write_results(results: BenchmarkResults, output_dir: str | Path) -> dict[str, Path]:
    """Write ``benchmark.json``, ``benchmark.csv`` and ``benchmark.md`` under ``output_dir``; returns their paths.

    Every text is rendered before anything is written, so a rendering error leaves no file behind.
    """
    from .tables import markdown_report

    output_dir = Path(output_dir)
    texts = {
        JSON_NAME: json.dumps(results.to_dict(), indent=2, ensure_ascii=False) + "\n",
        CSV_NAME: measurements_csv(results),
        MARKDOWN_NAME: markdown_report(results),
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in texts.items():
        paths[name] = output_dir / name
        atomic_write_text(paths[name], text)
    return paths
