"""How a call is timed and summarised: the robust default and PyTorchBenchmark's method."""

from __future__ import annotations

import statistics
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TimingStats:
    """Seconds per call: the headline figure and its spread (low, high)."""

    time_s: float
    low_s: float
    high_s: float


def time_calls(
    call: Callable[[], object],
    *,
    timing: str,
    warmup: int,
    calls: int,
    repeats: int,
    number: int,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Samples of seconds per call of ``call`` (which must wait for the device itself).

    robust: ``warmup`` untimed calls, then ``calls`` calls timed one by one (one sample each).
    pytorchbenchmark: ``timeit.repeat(repeat=repeats, number=number)``, no warm-up; one sample per repeat, the mean
    time per call of that repeat.
    """
    if timing == "pytorchbenchmark":
        return [total / number for total in timeit.repeat(call, repeat=repeats, number=number, timer=clock)]
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(calls):
        start = clock()
        call()
        samples.append(clock() - start)
    return samples


def summarize(samples: list[float], timing: str) -> TimingStats:
    """robust: median, spread = 25th and 75th percentiles (linear interpolation).
    pytorchbenchmark: the minimum (PyTorchBenchmark's figure), spread = minimum and maximum.
    """
    if timing == "pytorchbenchmark":
        return TimingStats(min(samples), min(samples), max(samples))
    if len(samples) == 1:
        return TimingStats(samples[0], samples[0], samples[0])
    first_quartile, _, third_quartile = statistics.quantiles(samples, n=4, method="inclusive")
    return TimingStats(statistics.median(samples), first_quartile, third_quartile)
