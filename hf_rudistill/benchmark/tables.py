"""Markdown tables laid out like the DistilRuBERT-tiny model card, and beside its published figures."""

from __future__ import annotations

from .results import BenchmarkResults, Measurement

DASH = "—"


def format_seconds(seconds: float) -> str:
    """Three significant digits below a second (0.147, 0.0231), three decimals above (2.839)."""
    return f"{seconds:.3f}" if seconds >= 1 else f"{seconds:.3g}"


def _cell(measurement: Measurement | None, value: float | None, formatted: str) -> str:
    if measurement is None:
        return DASH
    if measurement.status == "oom":
        return "OOM"
    if measurement.status != "ok" or value is None:
        return "error"
    return formatted


def time_cell(measurement: Measurement | None) -> str:
    value = measurement.time_s if measurement else None
    return _cell(measurement, value, format_seconds(value) if value is not None else "")


def memory_cell(measurement: Measurement | None) -> str:
    """CPU: peak resident memory of the process; GPU: device memory in use (PyTorchBenchmark's two figures)."""
    if measurement is None:
        return DASH
    value = measurement.cpu_rss_peak_mb if measurement.device == "cpu" else measurement.gpu_device_used_mb
    return _cell(measurement, value, f"{value:.0f}" if value is not None else "")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _main_dtype(results: BenchmarkResults) -> str:
    dtypes = results.settings["dtypes"]
    return "float32" if "float32" in dtypes else dtypes[0]


def _gpu_device(results: BenchmarkResults) -> str | None:
    return next((m.device for m in results.measurements if m.device.startswith("cuda")), None)


def models_table(results: BenchmarkResults, dtype: str | None = None) -> str:
    """``Model name | # params, M | # vocab, K | Mem., MB`` (weights size in ``dtype``)."""
    dtype = dtype or _main_dtype(results)
    rows = [
        [f"`{m.name}`", f"{m.num_parameters / 1e6:.1f}", f"{m.vocab_size / 1e3:.0f}", f"{m.weights_mb[dtype]:.0f}"]
        for m in results.models
    ]
    return _table(["Model name", "# params, M", "# vocab, K", "Mem., MB"], rows)


def _grid(results: BenchmarkResults) -> list[tuple[int, int]]:
    return [(b, s) for b in results.settings["batch_sizes"] for s in results.settings["sequence_lengths"]]


def speed_memory_table(results: BenchmarkResults, mode: str = "inference", dtype: str | None = None) -> str:
    """``Model name | Batch size | Seq len | Time, s (CPU, GPU) | Mem, MB (CPU, GPU)``; "—" where not measured."""
    dtype = dtype or _main_dtype(results)
    gpu = _gpu_device(results)
    rows = []
    for batch_size, sequence_length in _grid(results):
        for model in results.models:
            point = dict(mode=mode, dtype=dtype, batch_size=batch_size, sequence_length=sequence_length)
            cpu_run = results.find(model.name, device="cpu", **point)
            gpu_run = results.find(model.name, device=gpu, **point) if gpu else None
            rows.append(
                [
                    f"`{model.name}`",
                    str(batch_size),
                    str(sequence_length),
                    time_cell(cpu_run),
                    time_cell(gpu_run),
                    memory_cell(cpu_run),
                    memory_cell(gpu_run),
                ]
            )
    header = [
        "Model name",
        "Batch size",
        "Seq len",
        "Time, s (CPU)",
        "Time, s (GPU)",
        "Mem, MB (CPU)",
        "Mem, MB (GPU)",
    ]
    return _table(header, rows)


def published_comparison_table(results: BenchmarkResults) -> str | None:
    """Our inference figures beside a card's published ones ("ours / card"), where a card published the point."""
    dtype = _main_dtype(results)
    gpu = _gpu_device(results)
    rows = []
    for batch_size, sequence_length in _grid(results):
        for model in results.models:
            published = model.published.run(batch_size, sequence_length) if model.published else None
            if published is None:
                continue
            point = dict(mode="inference", dtype=dtype, batch_size=batch_size, sequence_length=sequence_length)
            cpu_run = results.find(model.name, device="cpu", **point)
            gpu_run = results.find(model.name, device=gpu, **point) if gpu else None
            rows.append(
                [
                    f"`{model.name}`",
                    str(batch_size),
                    str(sequence_length),
                    f"{time_cell(cpu_run)} / {format_seconds(published.time_s_cpu)}",
                    f"{time_cell(gpu_run)} / {format_seconds(published.time_s_gpu)}",
                    f"{memory_cell(cpu_run)} / {published.memory_mb_cpu}",
                    f"{memory_cell(gpu_run)} / {published.memory_mb_gpu}",
                ]
            )
    if not rows:
        return None
    header = [
        "Model name",
        "Batch size",
        "Seq len",
        "Time, s (CPU): ours / card",
        "Time, s (GPU): ours / card",
        "Mem, MB (CPU): ours / card",
        "Mem, MB (GPU): ours / card",
    ]
    return _table(header, rows)


def timing_description(settings: dict) -> str:
    if settings["timing"] == "pytorchbenchmark":
        return (
            f"PyTorchBenchmark's method: minimum over {settings['processes']} processes x {settings['repeats']} "
            f"repeats of the mean time of {settings['number']} calls, no warm-up"
        )
    return (
        f"median of {settings['processes']} processes x {settings['calls']} timed calls, each process after "
        f"{settings['warmup']} warm-up calls (25th-75th percentile spread in benchmark.csv)"
    )


def markdown_report(results: BenchmarkResults) -> str:
    """Every table of a run, with a line on how time and memory were measured."""
    environment = results.environment
    gpus = ", ".join(environment.get("gpus") or []) or "none measured"
    dtype = _main_dtype(results)
    sections = [
        "# Speed and memory benchmark",
        f"Measured with hf_rudistill {environment.get('hf_rudistill')} (torch {environment.get('torch')}, "
        f"transformers {environment.get('transformers')}) on {environment.get('cpu')} "
        f"({environment.get('cpu_count')} CPUs, {environment.get('torch_threads')} torch threads); GPU: {gpus}. "
        f"Time: seconds per call, {timing_description(results.settings)}. Memory: CPU = peak resident memory of the "
        "measuring process (libraries included, as PyTorchBenchmark reported it), GPU = device memory in use.",
        f"## Models ({dtype} weights)",
        models_table(results, dtype),
    ]
    for mode in results.settings["modes"]:
        for run_dtype in results.settings["dtypes"]:
            sections += [f"## {mode.capitalize()}, {run_dtype}", speed_memory_table(results, mode, run_dtype)]
    comparison = published_comparison_table(results)
    if comparison:
        cards = sorted({(m.published.source, m.published.setup) for m in results.models if m.published})
        sources = "; ".join(f"{source} ({setup})" for source, setup in cards)
        sections += [
            "## Beside the published figures",
            f"Published figures are copied from {sources}: other hardware, for comparison only.",
            comparison,
        ]
    return "\n\n".join(sections) + "\n"
