"""What a benchmark run measures and how: the grid, the timing method, the memory limit; checked on creation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MODES = ("inference", "train")
DTYPES = ("float32", "float16", "bfloat16")
TIMINGS = ("robust", "pytorchbenchmark")


class BenchmarkInputError(ValueError):
    """A model, a setting or a grid point that cannot be measured; raised before any measurement starts."""


def describe_error(error: BaseException) -> str:
    """``Type: first line of the message``, short enough for a table cell or a log line."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


@dataclass(frozen=True)
class BenchmarkSettings:
    """Grid and method of a run. Every field has a ``help`` used by ``rudistill benchmark --help``."""

    batch_sizes: tuple[int, ...] = field(default=(1, 16), metadata={"help": "Batch sizes of the grid."})
    sequence_lengths: tuple[int, ...] = field(
        default=(512,), metadata={"help": "Sequence lengths of the grid, in tokens (random ids, no padding)."}
    )
    modes: tuple[str, ...] = field(
        default=("inference",),
        metadata={
            "help": "inference: forward of the encoder under no-grad; train: masked-LM forward, backward and an "
            "AdamW step.",
            "choices": MODES,
        },
    )
    devices: tuple[str, ...] = field(
        default=("auto",),
        metadata={"help": "cpu, cuda, cuda:N, or auto (the CPU, plus the first GPU when one is present)."},
    )
    dtypes: tuple[str, ...] = field(
        default=("float32",), metadata={"help": "Weight and activation dtypes.", "choices": DTYPES}
    )
    timing: str = field(
        default="robust",
        metadata={
            "help": "robust: in each of PROCESSES fresh processes, WARMUP untimed calls then CALLS timed ones; the "
            "median of all timed calls, with the 25th-75th percentile spread. pytorchbenchmark: the removed "
            "transformers.PyTorchBenchmark's figure, the minimum over REPEATS of the mean time of NUMBER calls, "
            "no warm-up.",
            "choices": TIMINGS,
        },
    )
    processes: int = field(
        default=3,
        metadata={
            "help": "Fresh processes per grid point, their samples pooled: the spread then includes the "
            "process-to-process variation (memory layout, machine load). PyTorchBenchmark used 1."
        },
    )
    warmup: int = field(default=2, metadata={"help": "Untimed calls per process before the timed ones (robust)."})
    calls: int = field(default=10, metadata={"help": "Timed calls per process (robust timing)."})
    repeats: int = field(default=3, metadata={"help": "Repeats per process (pytorchbenchmark timing; it used 3)."})
    number: int = field(
        default=10, metadata={"help": "Calls per repeat (pytorchbenchmark timing; PyTorchBenchmark used 10)."}
    )
    include_head: bool = field(
        default=False,
        metadata={
            "help": "Time the whole model class, task or pre-training head included, instead of its encoder "
            "(inference mode)."
        },
    )
    max_memory_mb: int | None = field(
        default=None,
        metadata={
            "help": "Cap each measurement at this many MB of address space beyond the bare measuring process "
            "(RLIMIT_AS; CPU only); a grid point that needs more is recorded as out of memory. Default: no cap."
        },
    )
    threads: int | None = field(
        default=None,
        metadata={"help": "torch CPU threads in each measuring process (default: torch's, one per physical core)."},
    )
    seed: int = field(default=0, metadata={"help": "Seed of the random weights and input ids."})

    def to_dict(self) -> dict:
        """JSON-ready: tuples become lists."""
        return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(self).items()}

    def __post_init__(self) -> None:
        for name in ("batch_sizes", "sequence_lengths", "modes", "devices", "dtypes"):
            values = tuple(getattr(self, name))
            object.__setattr__(self, name, values)
            if not values:
                raise BenchmarkInputError(f"{name} is empty: give at least one value.")
            if len(set(values)) != len(values):
                raise BenchmarkInputError(f"{name} lists a value twice: {list(values)}.")
        for name in ("batch_sizes", "sequence_lengths"):
            if any(not isinstance(value, int) or value < 1 for value in getattr(self, name)):
                raise BenchmarkInputError(f"{name} must be positive integers, got {list(getattr(self, name))}.")
        for name, allowed in (("modes", MODES), ("dtypes", DTYPES)):
            unknown = [value for value in getattr(self, name) if value not in allowed]
            if unknown:
                raise BenchmarkInputError(f"unknown {name} {unknown}; choose from {list(allowed)}.")
        if self.timing not in TIMINGS:
            raise BenchmarkInputError(f"unknown timing {self.timing!r}; choose from {list(TIMINGS)}.")
        if self.warmup < 0:
            raise BenchmarkInputError(f"warmup must be 0 or more, got {self.warmup}.")
        for name in ("processes", "calls", "repeats", "number"):
            if getattr(self, name) < 1:
                raise BenchmarkInputError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if self.threads is not None and self.threads < 1:
            raise BenchmarkInputError(f"threads must be at least 1, got {self.threads}.")
        if self.max_memory_mb is not None and self.max_memory_mb < 1:
            raise BenchmarkInputError(f"max_memory_mb must be at least 1, got {self.max_memory_mb}.")
