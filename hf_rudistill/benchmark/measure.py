"""One grid point, measured inside its own process: build the model, time the calls, read the memory.

The runner starts fresh processes for each grid point (``child_main``), so no model, allocator cache or peak from
an earlier point pollutes the next. Memory figures, all in MB of 2**20 bytes:

- ``cpu_rss_baseline_mb``: resident memory of the bare measuring process (Python, torch, transformers and the
  model's modelling code imported, no model yet);
- ``cpu_rss_peak_mb``: the kernel's resident high-water mark (``VmHWM``) over the measured calls, reset after the
  model is built (``cpu_rss_peak_scope`` = "calls"); where it cannot be reset, the whole process' peak ("process").
  Like PyTorchBenchmark's CPU figure it includes the libraries, the weights and the activations; the model's share
  is the difference to the baseline;
- ``gpu_peak_allocated_mb`` / ``gpu_peak_reserved_mb``: torch's peak tensor / caching-allocator memory over the
  calls; ``gpu_device_used_mb``: memory in use on the whole device after the calls (total minus free, what NVML
  reports and PyTorchBenchmark printed: it includes the CUDA context and any other process).
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import torch
import transformers  # noqa: F401  (imported before the baseline is read, so the baseline includes it)

from .models import MB, count_parameters, model_class
from .settings import BenchmarkSettings, describe_error
from .timing import time_calls

PROC_STATUS = Path("/proc/self/status")
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class MeasurementTask:
    """Everything the measuring process needs; picklable."""

    model: str
    config: transformers.PretrainedConfig
    architecture: str
    source: str | None
    load_weights: bool
    settings: BenchmarkSettings
    mode: str
    device: str
    dtype: str
    batch_size: int
    sequence_length: int


def _status_mb(field: str) -> float | None:
    if not PROC_STATUS.exists():
        return None
    for line in PROC_STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / MB
    return None


def _max_rss_mb() -> float:
    """``ru_maxrss`` (kilobytes on Linux, bytes on macOS); it may include the parent's peak inherited at exec."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MB


def rss_now_mb() -> float:
    current = _status_mb("VmRSS")
    return current if current is not None else _max_rss_mb()


def rss_peak_mb() -> float:
    peak = _status_mb("VmHWM")
    return peak if peak is not None else _max_rss_mb()


def reset_rss_peak() -> bool:
    """Reset the kernel's resident high-water mark of this process (Linux >= 4.0); False where not possible."""
    try:
        PROC_CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def limit_address_space(extra_mb: int) -> None:
    """Let this process map at most ``extra_mb`` MB more than it has mapped now (RLIMIT_AS)."""
    mapped = _status_mb("VmSize")
    if mapped is None:
        raise OSError("the memory limit needs /proc/self/status (Linux)")
    limit = int((mapped + extra_mb) * MB)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def is_out_of_memory(error: BaseException) -> bool:
    """torch's OOM error, Python's MemoryError, or the CPU allocator's failure (a plain RuntimeError)."""
    if isinstance(error, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    message = str(error)
    return isinstance(error, RuntimeError) and ("can't allocate memory" in message or "out of memory" in message)


def model_class_for(task: MeasurementTask) -> type[transformers.PreTrainedModel]:
    """The class to build: the masked-LM model of the config's type to train, else the task's architecture."""
    if task.mode == "train":
        return transformers.MODEL_FOR_MASKED_LM_MAPPING[type(task.config)]
    return model_class(task.architecture)


def _build(
    task: MeasurementTask, cls: type[transformers.PreTrainedModel]
) -> tuple[torch.nn.Module, Callable[[], object]]:
    """The model on its device and dtype, and the step to time (which waits for the device)."""
    dtype = getattr(torch, task.dtype)
    device = torch.device(task.device)
    torch.manual_seed(task.settings.seed)
    if task.load_weights:
        model = cls.from_pretrained(task.source, dtype=dtype, trust_remote_code=False)
    else:
        model = cls(task.config)
    model.to(device=device, dtype=dtype)
    generator = torch.Generator().manual_seed(task.settings.seed)
    input_ids = torch.randint(task.config.vocab_size, (task.batch_size, task.sequence_length), generator=generator)
    input_ids = input_ids.to(device)

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    if task.mode == "train":
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

        def step() -> None:
            model(input_ids=input_ids, labels=input_ids).loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            synchronize()

    else:
        model.eval()
        network = model if task.settings.include_head else model.base_model

        def step() -> None:
            with torch.no_grad():
                network(input_ids=input_ids)
            synchronize()

    return model, step


def measure(task: MeasurementTask) -> dict:
    """Measure one grid point in this process: the fields of a ``Measurement`` (status ok or oom), with the raw
    ``time_samples_s``; the runner summarises the samples of all the point's processes."""
    started = time.perf_counter()
    settings = task.settings
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    cls = model_class_for(task)  # imports the modelling code, so the baseline holds every library but no model
    result: dict = {"cpu_rss_baseline_mb": rss_now_mb(), "cpu_rss_peak_scope": "process"}
    if settings.max_memory_mb is not None:
        limit_address_space(settings.max_memory_mb)
    device = torch.device(task.device)
    try:
        model, step = _build(task, cls)
        result["num_parameters"] = count_parameters(model)
        if reset_rss_peak():
            result["cpu_rss_peak_scope"] = "calls"
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
        samples = time_calls(
            step,
            timing=settings.timing,
            warmup=settings.warmup,
            calls=settings.calls,
            repeats=settings.repeats,
            number=settings.number,
        )
        result.update(status="ok", time_samples_s=samples)
    except Exception as error:
        if not is_out_of_memory(error):
            raise
        result.update(status="oom", error=describe_error(error))
    result["cpu_rss_peak_mb"] = rss_peak_mb()
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info(device)
        result.update(
            gpu_peak_allocated_mb=torch.cuda.max_memory_allocated(device) / MB,
            gpu_peak_reserved_mb=torch.cuda.max_memory_reserved(device) / MB,
            gpu_device_used_mb=(total - free) / MB,
        )
    result["wall_s"] = time.perf_counter() - started
    return result


def child_main(task: MeasurementTask, connection: Connection) -> None:
    """Entry point of the measuring process: send back the result, or the error that stopped it."""
    try:
        result = measure(task)
    except Exception as error:  # reported as this grid point's error; the runner goes on with the grid
        result = {"status": "error", "error": describe_error(error)}
    connection.send(result)
    connection.close()
