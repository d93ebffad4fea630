"""Run a benchmark grid: every (model, mode, device, dtype, batch size, sequence length) in fresh processes.

Bad input (an unknown model, an unavailable device, a sequence longer than a model's positions) is reported
before the first measurement. A grid point that runs out of memory, or whose process dies, is recorded as such
and the rest of the grid is still measured.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import platform
import signal
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from .models import ModelSpec, ResolvedModel, parameter_count, resolve, weights_mb
from .results import BenchmarkResults, Measurement, ModelInfo
from .settings import BenchmarkInputError, BenchmarkSettings
from .timing import summarize


def resolve_devices(devices: Sequence[str]) -> list[str]:
    """``auto`` -> cpu (+ cuda:0 when present); ``cuda`` -> cuda:0; checks that GPUs exist."""
    import torch

    resolved = []
    for device in devices:
        if device == "auto":
            resolved += ["cpu"] + (["cuda:0"] if torch.cuda.is_available() else [])
            continue
        try:
            parsed = torch.device(device)
        except RuntimeError as error:
            raise BenchmarkInputError(f"unknown device {device!r}: use cpu, cuda, cuda:N or auto.") from error
        if parsed.type == "cuda":
            index = parsed.index or 0
            if not torch.cuda.is_available() or index >= torch.cuda.device_count():
                raise BenchmarkInputError(f"device {device!r} asked for, but torch sees no such GPU.")
            resolved.append(f"cuda:{index}")
        elif parsed.type == "cpu":
            resolved.append("cpu")
        else:
            raise BenchmarkInputError(f"device {device!r} is not supported: use cpu, cuda, cuda:N or auto.")
    resolved = list(dict.fromkeys(resolved))
    if sum(device.startswith("cuda") for device in resolved) > 1:
        raise BenchmarkInputError(f"give at most one GPU per run, got {resolved}.")
    return resolved


def _check(models: list[ResolvedModel], settings: BenchmarkSettings, devices: list[str]) -> None:
    names = [model.name for model in models]
    if not models:
        raise BenchmarkInputError("no model to benchmark: give a hub id, a local path, or a preset.")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise BenchmarkInputError(f"two models share the name {duplicates}: names must tell the table rows apart.")
    longest = max(settings.sequence_lengths)
    for model in models:
        if model.max_positions is not None and longest > model.max_positions:
            raise BenchmarkInputError(
                f"sequence length {longest} is longer than model {model.name!r} allows "
                f"(max_position_embeddings = {model.max_positions})."
            )
    if "train" in settings.modes:
        from transformers import MODEL_FOR_MASKED_LM_MAPPING

        for model in models:
            if type(model.config) not in MODEL_FOR_MASKED_LM_MAPPING:
                raise BenchmarkInputError(
                    f"train mode times a masked-LM step, and transformers has no masked-LM model for "
                    f"{model.name!r} ({model.config.model_type})."
                )
    if settings.max_memory_mb is not None:
        if any(device != "cpu" for device in devices):
            raise BenchmarkInputError(
                "max_memory_mb limits the address space, which CUDA needs far more of than it uses: "
                "run with devices ('cpu',) only."
            )
        if not Path("/proc/self/status").exists():
            raise BenchmarkInputError("max_memory_mb needs Linux (/proc/self/status).")


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def environment(devices: list[str], threads: int | None) -> dict:
    import torch
    import transformers

    from .. import __version__

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": threads or torch.get_num_threads(),
        "transformers": transformers.__version__,
        "hf_rudistill": __version__,
        "gpus": [torch.cuda.get_device_name(device) for device in devices if device.startswith("cuda")],
    }


def describe(model: ResolvedModel, dtypes: Sequence[str]) -> ModelInfo:
    num_parameters = parameter_count(model)
    return ModelInfo(
        name=model.name,
        source=model.spec.source,
        architecture=model.architecture,
        model_type=model.config.model_type,
        num_parameters=num_parameters,
        vocab_size=model.vocab_size,
        weights_mb={dtype: weights_mb(num_parameters, dtype) for dtype in dtypes},
        random_weights=not model.spec.load_weights,
        published=model.spec.published,
    )


def _process_context() -> multiprocessing.context.BaseContext:
    """Fresh processes forked from a server that has imported torch and transformers once (fast, no model in it);
    spawned ones where forkserver does not exist (Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["hf_rudistill.benchmark.measure"])
    return context


def _measure_in_child(context: multiprocessing.context.BaseContext, task) -> dict:
    """Run ``measure.child_main`` in a fresh process; a killed process becomes an oom or error result."""
    from .measure import child_main

    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=child_main, args=(task, sender), daemon=True)
    process.start()
    sender.close()
    try:
        result = receiver.recv()
    except EOFError:
        result = None
    process.join()
    receiver.close()
    if result is not None:
        return result
    if process.exitcode == -signal.SIGKILL:
        return {"status": "oom", "error": "the measuring process was killed (SIGKILL), most likely out of memory"}
    return {"status": "error", "error": f"the measuring process died (exit code {process.exitcode})"}


MEMORY_FIELDS = (
    "cpu_rss_baseline_mb",
    "cpu_rss_peak_mb",
    "gpu_peak_allocated_mb",
    "gpu_peak_reserved_mb",
    "gpu_device_used_mb",
)


def _measure_point(context: multiprocessing.context.BaseContext, task) -> dict:
    """The point in ``settings.processes`` fresh processes, one after another: samples pooled, memory the largest.

    The first process that runs out of memory or fails ends the point with its result."""
    runs = []
    for _ in range(task.settings.processes):
        run = _measure_in_child(context, task)
        if run["status"] != "ok":
            return run
        runs.append(run)
    samples = [sample for run in runs for sample in run["time_samples_s"]]
    stats = summarize(samples, task.settings.timing)
    merged = {
        "status": "ok",
        "num_parameters": runs[0]["num_parameters"],
        "time_s": stats.time_s,
        "time_low_s": stats.low_s,
        "time_high_s": stats.high_s,
        "time_samples_s": samples,
        "cpu_rss_peak_scope": "calls" if all(run["cpu_rss_peak_scope"] == "calls" for run in runs) else "process",
        "wall_s": sum(run["wall_s"] for run in runs),
    }
    for name in MEMORY_FIELDS:
        values = [run[name] for run in runs if run.get(name) is not None]
        merged[name] = max(values) if values else None
    return merged


def run_benchmark(
    models: Sequence[ModelSpec], settings: BenchmarkSettings | None = None, *, progress: bool = True
) -> BenchmarkResults:
    """Measure every grid point of ``settings`` for every model; see ``results`` for what is recorded."""
    from tqdm.auto import tqdm

    from .measure import MeasurementTask

    settings = settings or BenchmarkSettings()
    resolved = [resolve(spec) for spec in models]
    devices = resolve_devices(settings.devices)
    _check(resolved, settings, devices)
    infos = [describe(model, settings.dtypes) for model in resolved]
    grid = list(
        itertools.product(
            resolved, settings.modes, devices, settings.dtypes, settings.batch_sizes, settings.sequence_lengths
        )
    )
    context = _process_context()
    measurements = []
    bar = tqdm(grid, desc="benchmark", unit="point", disable=not progress, file=sys.stderr)
    for model, mode, device, dtype, batch_size, sequence_length in bar:
        point = dict(mode=mode, device=device, dtype=dtype, batch_size=batch_size, sequence_length=sequence_length)
        bar.set_postfix_str(f"{model.name} {mode} {device} {dtype} {batch_size}x{sequence_length}")
        task = MeasurementTask(
            model=model.name,
            config=model.config,
            architecture=model.architecture,
            source=model.spec.source,
            load_weights=model.spec.load_weights,
            settings=settings,
            **point,
        )
        measurements.append(Measurement(model=model.name, **point, **_measure_point(context, task)))
    return BenchmarkResults(
        settings={**settings.to_dict(), "devices": devices},
        environment=environment(devices, settings.threads),
        models=infos,
        measurements=measurements,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
