"""Speed/memory benchmark: preset parameter counts, timing statistics, separate-process runs, OOM, outputs, CLI."""

from __future__ import annotations

import csv
import io
import json
import math
import os

import pytest
import torch
from transformers import BertConfig

from hf_rudistill import atomic
from hf_rudistill.benchmark import (
    BenchmarkInputError,
    BenchmarkResults,
    BenchmarkSettings,
    Measurement,
    ModelInfo,
    ModelSpec,
    load_results,
    markdown_report,
    preset_specs,
    run_benchmark,
    write_results,
)
from hf_rudistill.benchmark.models import ResolvedModel, parameter_count, resolve
from hf_rudistill.benchmark.timing import summarize, time_calls
from hf_rudistill.cli import main

# Shared machine: one torch thread, a short model call, samples pooled from 3 processes (the default).
SETTINGS = BenchmarkSettings(
    batch_sizes=(4,), sequence_lengths=(64,), devices=("cpu",), warmup=3, calls=15, processes=3, threads=1
)
ATTEMPTS = 3  # timing comparisons are retried: another session's load can change between two measurements


def tiny_bert(layers: int = 2, hidden: int = 128) -> BertConfig:
    return BertConfig(
        vocab_size=1000,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=4 * hidden,
        max_position_embeddings=256,
    )


# --- preset parameter counts, against closed-form counts written here -------------------------------------------


def encoder_layer_parameters(hidden: int, ffn: int) -> int:
    attention = 4 * (hidden * hidden + hidden) + 2 * hidden  # q, k, v, output + LayerNorm
    feed_forward = (hidden * ffn + ffn) + (ffn * hidden + hidden) + 2 * hidden  # two linears + LayerNorm
    return attention + feed_forward


def bert_model_parameters(vocab: int, hidden: int, layers: int, ffn: int) -> int:
    """BertModel: word, position (512) and token-type (2) embeddings + LayerNorm, layers, pooler."""
    embeddings = (vocab + 512 + 2) * hidden + 2 * hidden
    return embeddings + layers * encoder_layer_parameters(hidden, ffn) + hidden * hidden + hidden


def distilbert_mlm_parameters(vocab: int, hidden: int, layers: int, ffn: int) -> int:
    """DistilBertForMaskedLM: embeddings, layers, MLM transform + LayerNorm + decoder bias (decoder tied)."""
    embeddings = (vocab + 512) * hidden + 2 * hidden
    head = hidden * hidden + hidden + 2 * hidden + vocab
    return embeddings + layers * encoder_layer_parameters(hidden, ffn) + head


CARD_MODELS = {
    "rubert-base-cased-conversational": (bert_model_parameters(119547, 768, 12, 3072), "BertForPreTraining"),
    "distilrubert-base-cased-conversational": (distilbert_mlm_parameters(119547, 768, 6, 3072), "DistilBertModel"),
    "distilrubert-small-cased-conversational": (distilbert_mlm_parameters(119547, 768, 2, 3072), "DistilBertModel"),
    "cointegrated/rubert-tiny": (bert_model_parameters(29564, 312, 3, 600), "BertForPreTraining"),
    "distilrubert-tiny-cased-conversational": (distilbert_mlm_parameters(30522, 264, 3, 792), "DistilBertModel"),
}


def test_preset_parameter_counts_match_the_card():
    specs = preset_specs("distilrubert-tiny-card")
    assert [spec.name for spec in specs] == list(CARD_MODELS)
    for spec in specs:
        expected, other_class = CARD_MODELS[spec.name]
        model = resolve(spec)
        count = parameter_count(model)
        assert count == expected, spec.name
        assert abs(count / 1e6 - spec.published.num_parameters_m) <= 0.1, spec.name
        # the class matters: the bare DistilBERT encoder, or BERT with its pre-training heads, misses the card
        other = parameter_count(ResolvedModel(spec, model.config, other_class))
        assert abs(other / 1e6 - spec.published.num_parameters_m) > 0.1, (spec.name, other_class)
        assert round(model.vocab_size / 1e3) == spec.published.vocab_k


def test_preset_weights_size_is_in_the_cards_unit():
    """parameters x 4 bytes in MB of 2**20 bytes is within 1.5 MB of the card's "Mem., MB" (decimal MB is not)."""
    from hf_rudistill.benchmark.models import weights_mb

    for spec in preset_specs("distilrubert-tiny-card"):
        count = parameter_count(resolve(spec))
        assert abs(weights_mb(count, "float32") - spec.published.weights_mb) < 1.5, spec.name
        assert weights_mb(count, "bfloat16") == pytest.approx(weights_mb(count, "float32") / 2)
    rubert_base = parameter_count(resolve(preset_specs("distilrubert-tiny-card")[0]))
    assert rubert_base * 4 / 1e6 - 679 > 30


# --- timing statistics, against a fake clock ---------------------------------------------------------------------


class FakeClock:
    """Each call of the timed function advances time by the next duration."""

    def __init__(self, durations):
        self.now, self.durations = 0.0, list(durations)

    def __call__(self) -> float:
        return self.now

    def step(self) -> None:
        self.now += self.durations.pop(0)


def linear_quantile(values, fraction):
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def test_robust_timing_skips_warmup_and_reports_median_and_quartiles():
    timed = [0.030, 0.010, 0.050, 0.020, 0.040, 0.100, 0.012]
    clock = FakeClock([9.0, 9.0] + timed)  # two slow warm-up calls must not count
    samples = time_calls(clock.step, timing="robust", warmup=2, calls=len(timed), repeats=3, number=10, clock=clock)
    assert samples == pytest.approx(timed)
    stats = summarize(samples, "robust")
    assert stats.time_s == pytest.approx(sorted(timed)[len(timed) // 2])
    assert stats.low_s == pytest.approx(linear_quantile(timed, 0.25))
    assert stats.high_s == pytest.approx(linear_quantile(timed, 0.75))


def test_pytorchbenchmark_timing_is_min_over_repeats_of_the_mean():
    durations = [0.5, 0.1, 0.3, 0.1, 0.1, 0.1, 0.2, 0.2, 0.8]  # 3 repeats x 3 calls, no warm-up
    clock = FakeClock(durations)
    samples = time_calls(clock.step, timing="pytorchbenchmark", warmup=5, calls=1, repeats=3, number=3, clock=clock)
    means = [sum(durations[i : i + 3]) / 3 for i in (0, 3, 6)]
    assert samples == pytest.approx(means)
    stats = summarize(samples, "pytorchbenchmark")
    assert stats.time_s == pytest.approx(min(means)) == pytest.approx(0.1)
    assert (stats.low_s, stats.high_s) == pytest.approx((min(means), max(means)))


# --- measurements in separate processes --------------------------------------------------------------------------


def agree_within_spread(first: Measurement, second: Measurement) -> bool:
    """Medians closer than the two runs' interquartile ranges put together."""
    spread = (first.time_high_s - first.time_low_s) + (second.time_high_s - second.time_low_s)
    return abs(first.time_s - second.time_s) <= spread


@pytest.fixture(scope="module")
def depth_runs():
    """A 2-layer and a 4-layer model in one run, the 2-layer one again in a second run; retried under load."""
    shallow, deep = ModelSpec("shallow", config=tiny_bert(2)), ModelSpec("deep", config=tiny_bert(4))
    attempts = []
    for _ in range(ATTEMPTS):
        first = run_benchmark([shallow, deep], SETTINGS, progress=False)
        second = run_benchmark([shallow], SETTINGS, progress=False)
        attempts.append((first, second))
        if agree_within_spread(first.measurements[0], second.measurements[0]) and (
            first.measurements[1].time_s > first.measurements[0].time_s
        ):
            break
    return attempts


def test_each_measurement_is_complete_and_consistent(depth_runs):
    first, _ = depth_runs[-1]
    for measurement, info in zip(first.measurements, first.models, strict=True):
        assert measurement.status == "ok" and measurement.error is None
        assert measurement.num_parameters == info.num_parameters  # the real model == the meta-device count
        assert len(measurement.time_samples_s) == SETTINGS.processes * SETTINGS.calls
        assert measurement.time_low_s <= measurement.time_s <= measurement.time_high_s
        assert 0 < measurement.cpu_rss_baseline_mb < measurement.cpu_rss_peak_mb
        assert measurement.cpu_rss_peak_scope in ("calls", "process")
        assert measurement.gpu_device_used_mb is None and measurement.gpu_peak_allocated_mb is None
    assert first.environment["torch_threads"] == 1


def test_two_runs_of_the_same_model_agree_within_their_spread(depth_runs):
    pairs = [(first.measurements[0], second.measurements[0]) for first, second in depth_runs]
    figures = [(a.time_s, a.time_low_s, a.time_high_s, b.time_s, b.time_low_s, b.time_high_s) for a, b in pairs]
    assert any(agree_within_spread(a, b) for a, b in pairs), figures


def test_twice_as_deep_measures_slower(depth_runs):
    figures = [(first.measurements[0].time_s, first.measurements[1].time_s) for first, _ in depth_runs]
    assert any(deep > shallow for shallow, deep in figures), figures


def test_out_of_memory_at_one_point_is_recorded_and_the_rest_measured():
    # 100,000 x 64 tokens need gigabytes; the memory cap makes that point fail at once, before the small one runs.
    settings = BenchmarkSettings(
        batch_sizes=(100_000, 1),
        sequence_lengths=(64,),
        devices=("cpu",),
        warmup=1,
        calls=2,
        processes=2,
        max_memory_mb=300,
    )
    results = run_benchmark([ModelSpec("tiny", config=tiny_bert(1, 32))], settings, progress=False)
    oom, ok = results.measurements
    assert (oom.batch_size, oom.status, oom.time_s) == (100_000, "oom", None)
    assert "allocate" in oom.error or "memory" in oom.error.lower()
    assert (ok.batch_size, ok.status) == (1, "ok") and ok.time_s > 0
    table = markdown_report(results)
    assert "| `tiny` | 100000 | 64 | OOM | — | OOM | — |" in table


def test_out_of_memory_errors_are_told_apart_from_other_errors():
    from hf_rudistill.benchmark.measure import is_out_of_memory

    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 bytes"))
    assert not is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not is_out_of_memory(ValueError("out of memory"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_point_records_torch_peak_and_device_memory():
    settings = BenchmarkSettings(batch_sizes=(2,), sequence_lengths=(32,), devices=("cuda",), calls=3, processes=1)
    results = run_benchmark([ModelSpec("tiny", config=tiny_bert(1, 32))], settings, progress=False)
    (gpu,) = results.measurements
    assert gpu.status == "ok" and gpu.device == "cuda:0" and results.environment["gpus"]
    assert 0 < gpu.gpu_peak_allocated_mb <= gpu.gpu_peak_reserved_mb <= gpu.gpu_device_used_mb
    assert "| `tiny` | 2 | 32 | — |" in markdown_report(results)


# --- bad input, reported before any measurement ------------------------------------------------------------------


def test_unknown_model_id_offline_gives_a_clear_error(monkeypatch, capsys):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(BenchmarkInputError, match="nobody/no-such-model") as error:
        run_benchmark([ModelSpec.from_source("nobody/no-such-model")], SETTINGS, progress=False)
    assert "offline mode is on (HF_HUB_OFFLINE=1)" in str(error.value) and "local directory" in str(error.value)
    assert main(["benchmark", "nobody/no-such-model", "--devices", "cpu"]) == 2
    assert (
        "rudistill benchmark: error: cannot load the config of model 'nobody/no-such-model'" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(batch_sizes=(0,)), "positive integers"),
        (dict(dtypes=("float64",)), "unknown dtypes"),
        (dict(timing="fastest"), "unknown timing"),
        (dict(calls=0), "calls must be at least 1"),
        (dict(modes=("inference", "inference")), "twice"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(BenchmarkInputError, match=message):
        BenchmarkSettings(**settings)


def test_bad_grid_points_are_refused_before_any_measurement():
    tiny = ModelSpec("tiny", config=tiny_bert(1, 32))
    with pytest.raises(BenchmarkInputError, match="longer than model 'tiny' allows"):
        run_benchmark([tiny], BenchmarkSettings(sequence_lengths=(512,), devices=("cpu",)), progress=False)
    with pytest.raises(BenchmarkInputError, match="share the name"):
        run_benchmark([tiny, tiny], SETTINGS, progress=False)
    with pytest.raises(BenchmarkInputError, match="unknown device"):
        run_benchmark([tiny], BenchmarkSettings(devices=("gpu0",)), progress=False)
    if not torch.cuda.is_available():
        with pytest.raises(BenchmarkInputError, match="no such GPU"):
            run_benchmark([tiny], BenchmarkSettings(devices=("cuda",)), progress=False)
    with pytest.raises(BenchmarkInputError, match="not a model class"):
        run_benchmark([ModelSpec("tiny", config=tiny_bert(), architecture="NoSuchModel")], SETTINGS, progress=False)


# --- outputs -----------------------------------------------------------------------------------------------------


def synthetic_results() -> BenchmarkResults:
    """Hand-made results of two preset models (for rendering only: nothing here was measured)."""
    rubert_tiny, distilrubert_tiny = preset_specs("distilrubert-tiny-card")[3:]
    models = [
        ModelInfo(
            name=spec.name,
            source=spec.source,
            architecture=spec.architecture,
            model_type=spec.config.model_type,
            num_parameters=count,
            vocab_size=spec.config.vocab_size,
            weights_mb={"float32": count * 4 / 2**20},
            random_weights=True,
            published=spec.published,
        )
        for spec, count in ((rubert_tiny, 11_784_168), (distilrubert_tiny, 10_394_898))
    ]
    rows = [(rubert_tiny, 1, 0.0312, 480.4), (distilrubert_tiny, 1, 0.0251, 470.0)]
    rows += [(rubert_tiny, 16, 0.5, 900.0), (distilrubert_tiny, 16, 1.234, 850.6)]
    measurements = [
        Measurement(
            model=spec.name,
            mode="inference",
            device="cpu",
            dtype="float32",
            batch_size=batch_size,
            sequence_length=512,
            status="ok",
            time_s=seconds,
            time_low_s=seconds,
            time_high_s=seconds,
            time_samples_s=[seconds],
            cpu_rss_baseline_mb=400.0,
            cpu_rss_peak_mb=peak,
            cpu_rss_peak_scope="calls",
        )
        for spec, batch_size, seconds, peak in rows
    ]
    settings = BenchmarkSettings(devices=("cpu",)).to_dict()
    environment = {"cpu": "test CPU", "cpu_count": 2, "torch_threads": 2, "gpus": []}
    return BenchmarkResults(settings, environment, models, measurements, "2025-01-01T00:00:00+00:00")


def test_markdown_tables_are_laid_out_like_the_card():
    report = markdown_report(synthetic_results())
    assert "| Model name | # params, M | # vocab, K | Mem., MB |" in report
    assert "| `cointegrated/rubert-tiny` | 11.8 | 30 | 45 |" in report
    assert "| `distilrubert-tiny-cased-conversational` | 10.4 | 31 | 40 |" in report
    header = "| Model name | Batch size | Seq len | Time, s (CPU) | Time, s (GPU) | Mem, MB (CPU) | Mem, MB (GPU) |"
    assert header in report
    assert "| `cointegrated/rubert-tiny` | 1 | 512 | 0.0312 | — | 480 | — |" in report
    assert "| `distilrubert-tiny-cased-conversational` | 16 | 512 | 1.234 | — | 851 | — |" in report
    # rows grouped by batch size, as on the card
    assert report.index("| `distilrubert-tiny-cased-conversational` | 1 |") < report.index(
        "| `cointegrated/rubert-tiny` | 16 |"
    )
    assert (
        "| `distilrubert-tiny-cased-conversational` | 1 | 512 | 0.0251 / 0.023 | — / 0.003 | 470 / 206 | — / 855 |"
        in report
    )


def test_results_round_trip_through_json_and_csv(tmp_path):
    results = synthetic_results()
    paths = write_results(results, tmp_path / "out")
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "benchmark.csv",
        "benchmark.json",
        "benchmark.md",
    ]
    loaded = load_results(tmp_path / "out")
    assert loaded == results
    assert json.loads(paths["benchmark.json"].read_text())["schema_version"] == 1
    rows = list(csv.DictReader(io.StringIO(paths["benchmark.csv"].read_text())))
    assert [(row["model"], row["batch_size"], row["time_s"]) for row in rows][0] == (
        "cointegrated/rubert-tiny",
        "1",
        "0.0312",
    )


def test_a_failed_write_leaves_the_previous_files_and_no_temporary_file(tmp_path, monkeypatch):
    results = synthetic_results()
    write_results(results, tmp_path)
    before = {path.name: path.read_text() for path in tmp_path.iterdir()}
    broken = synthetic_results()
    broken.models[0].weights_mb = {}  # rendering the markdown fails: nothing may be written
    with pytest.raises(KeyError):
        write_results(broken, tmp_path)

    def failing_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_results(results, tmp_path)
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == before


def test_cli_measures_a_local_config_with_pytorchbenchmark_timing_and_a_training_step(tmp_path, capsys):
    model_dir = tmp_path / "tiny-student"
    tiny_bert(1, 32).save_pretrained(model_dir)
    out = tmp_path / "bench"
    argv = [
        "benchmark",
        str(model_dir),
        "--devices",
        "cpu",
        "--batch-sizes",
        "2",
        "--sequence-lengths",
        "16",
        "--modes",
        "inference",
        "train",
        "--timing",
        "pytorchbenchmark",
        "--processes",
        "1",
        "--repeats",
        "2",
        "--number",
        "3",
        "--output-dir",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| `tiny-student` | 2 | 16 |" in printed and f"wrote {out / 'benchmark.json'}" in printed
    results = load_results(out / "benchmark.json")
    inference, train = results.measurements
    assert (inference.mode, train.mode) == ("inference", "train")
    for measurement in (inference, train):
        assert measurement.status == "ok"
        assert len(measurement.time_samples_s) == 2
        assert measurement.time_s == min(measurement.time_samples_s)
    # training builds the masked-LM model: no pooler, but an MLM transform, its LayerNorm and a decoder bias
    pooler = transform = 32 * 32 + 32
    assert train.num_parameters == inference.num_parameters - pooler + transform + 2 * 32 + 1000
    assert results.settings["timing"] == "pytorchbenchmark"
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]


def test_real_weights_are_loaded_when_asked(tmp_path):
    from transformers import BertModel

    BertModel(tiny_bert(1, 32)).save_pretrained(tmp_path / "saved")  # safetensors
    settings = BenchmarkSettings(
        batch_sizes=(1,), sequence_lengths=(8,), devices=("cpu",), warmup=0, calls=1, processes=1
    )
    results = run_benchmark(
        [ModelSpec.from_source(str(tmp_path / "saved"), load_weights=True)], settings, progress=False
    )
    (measurement,) = results.measurements
    assert measurement.status == "ok", measurement.error
    assert results.models[0].random_weights is False and results.models[0].name == "saved"
    with pytest.raises(BenchmarkInputError, match="loading real weights needs"):
        run_benchmark([ModelSpec.from_source(str(tmp_path / "saved" / "config.json"), load_weights=True)], settings)
