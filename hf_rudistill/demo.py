"""``rudistill demo``: the whole pipeline, offline, on the embedded corpus and teacher.

1. the DistilRuBERT-tiny recipe's demo preset: dedup, a reduced student vocabulary, the mapping, a student
   initialised from the teacher, distillation (MLM + MSE) -> ``OUTPUT/distilled/student``;
2. the same architecture and tokenizer trained from scratch with masked-LM alone, same data and steps
   -> ``OUTPUT/scratch/student``;
3. teacher, distilled and scratch students measured: held-out masked-token accuracy, word-sense accuracy after
   fine-tuning, size;
4. CPU speed and memory of teacher and student (:mod:`hf_rudistill.benchmark`) -> ``OUTPUT/benchmark/``;
5. the student's model card (``README.md`` in its folder; in a source checkout also
   ``model_cards/examples/distilrubert-tiny-demo.md``), ``OUTPUT/results.json`` and a summary table.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

MODELS = ("teacher", "distilled", "scratch")
EXAMPLE_CARD = Path(__file__).resolve().parent.parent / "model_cards" / "examples" / "distilrubert-tiny-demo.md"
BENCHMARK_GRID = {"batch_sizes": (1, 16), "sequence_lengths": (128,)}


def benchmark_models(folders: dict[str, Path], output_dir: Path) -> dict[str, dict]:
    """Speed and memory of each model (random weights from its config, as PyTorchBenchmark), written to
    ``output_dir``; returns {name: {"time_s_b16": ..., "memory_mb_b16": ...}}."""
    from .benchmark import BenchmarkSettings, ModelSpec, run_benchmark, write_results

    specs = [ModelSpec(name=name, source=str(folder)) for name, folder in folders.items()]
    settings = BenchmarkSettings(devices=("cpu",), processes=1, warmup=1, calls=5, **BENCHMARK_GRID)
    results = run_benchmark(specs, settings)
    write_results(results, output_dir)
    return {
        m.model: {"time_s_b16": m.time_s, "cpu_rss_peak_mb_b16": m.cpu_rss_peak_mb}
        for m in results.measurements
        if m.batch_size == 16 and m.status == "ok"
    }


def run_demo(
    output_dir: str | Path,
    *,
    max_steps: int | None = None,
    wsd_epochs: float | None = None,
    example_card: Path | None = None,
) -> dict:
    """Run every stage, write ``results.json`` under ``output_dir`` and return the results; with
    ``example_card``, also copy the student's model card there."""
    from .assets import DEMO_TEACHER
    from .atomic import atomic_write_text, check_destination
    from .comparison import measure_model, train_from_scratch
    from .evaluation.wsd import WSDFinetuneConfig
    from .model_card import write_model_card
    from .recipes import RECIPES, parse_recipe_arguments, run_recipe

    output_dir = Path(output_dir)
    check_destination(output_dir / "distilled", overwrite=True)
    started = time.perf_counter()
    recipe = RECIPES["distilrubert-tiny"]
    argv = ["--demo", "--output_dir", str(output_dir / "distilled")]
    if max_steps is not None:
        argv += ["--max_steps", str(max_steps)]
    model_args, data_args, student_args, training_args = parse_recipe_arguments(recipe, argv)
    report = run_recipe(recipe, model_args, data_args, student_args, training_args)
    distilled = Path(report["student_dir"])
    scratch = train_from_scratch(distilled, output_dir / "scratch", training_args, data_args)

    wsd = WSDFinetuneConfig() if wsd_epochs is None else WSDFinetuneConfig(epochs=wsd_epochs)
    folders = {"teacher": Path(DEMO_TEACHER), "distilled": distilled, "scratch": scratch}
    measures = {
        name: measure_model(folder, wsd_config=wsd, seed=training_args.seed) for name, folder in folders.items()
    }
    speed = benchmark_models({"demo-teacher": folders["teacher"], "student": distilled}, output_dir / "benchmark")
    measures["teacher"].update(speed["demo-teacher"])
    measures["distilled"].update(speed["student"])
    measures["scratch"].update(speed["student"])  # one architecture: the same speed
    card = write_model_card(distilled, benchmark=output_dir / "benchmark" / "benchmark.json")
    if example_card is not None:
        atomic_write_text(example_card, card.read_text(encoding="utf-8"))
    results = {
        "recipe": recipe.name,
        "steps": report["train"]["steps"],
        "wsd_epochs": wsd.epochs,
        "dedup": report.get("dedup"),
        "vocabulary": report.get("vocabulary"),
        "models": {name: {"path": str(folders[name]), **measures[name]} for name in MODELS},
        "model_card": str(card),
        "wall_time_s": round(time.perf_counter() - started, 1),
    }
    atomic_write_text(output_dir / "results.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results


def format_summary(results: dict, output_dir: str | Path) -> str:
    """The final table: what each model scores, and where the outputs are."""
    output_dir = Path(output_dir).resolve()
    models = results["models"]
    header = (
        f"{'model':<10} {'params, M':>9} {'vocab':>6} {'size, MB':>8} {'MLM acc':>8} {'WSD acc':>8} "
        f"{'CPU s/batch':>11}"
    )
    lines = [
        "",
        f"rudistill demo ({results['recipe']}, {results['steps']} steps, {results['wall_time_s'] / 60:.1f} min)",
        header,
    ]
    for name in MODELS:
        m = models[name]
        lines.append(
            f"{name:<10} {m['parameters'] / 1e6:>9.2f} {m['vocab_size']:>6,} {m['size_mb']:>8.1f} "
            f"{m['masked_token_accuracy']:>8.3f} {m['wsd_accuracy']:>8.3f} {m['time_s_b16']:>11.4f}"
        )
    lines += [
        "MLM acc: held-out masked-token accuracy (the students share one tokenizer; the teacher has its own).",
        f"WSD acc: word-sense accuracy on unseen contexts after {results['wsd_epochs']:g} epoch(s) of fine-tuning"
        " (benchmarks/bench_quality.py runs 4);",
        f"  answering each lemma's most frequent sense scores {models['teacher']['majority_sense_accuracy']:.3f}.",
        "CPU s/batch: median forward time at batch 16 x 128 tokens (benchmark/benchmark.md has the full tables).",
        "",
        f"outputs: {output_dir}",
        f"  distilled student  {models['distilled']['path']}",
        f"  scratch student    {models['scratch']['path']}",
        f"  model card         {results['model_card']}",
        f"  speed and memory   {output_dir / 'benchmark'}",
        f"  results            {output_dir / 'results.json'}",
    ]
    return "\n".join(lines)
