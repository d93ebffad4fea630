"""Does distillation beat training from scratch? The same student architecture and tokenizer trained
(a) from scratch with masked-LM alone and (b) by distillation from the embedded teacher (the DistilRuBERT-tiny
recipe's demo preset: MLM + MSE from a teacher-initialised student), same data, same steps, 3 seeds.

Measured per seed: held-out masked-token accuracy (corpus validation split; both students share one tokenizer)
and word-sense accuracy after fine-tuning (unseen contexts; 4 epochs at 3e-4, the compact-BERT protocol), for both
students and the teacher, beside the baselines (most frequent token; each lemma's most frequent sense); then the
distilled student's size and CPU inference time (batch 16 x 128, median) as fractions of the teacher's.

Target: the distilled student beats the from-scratch one on both metrics on every seed. Last line: JSON.

    python benchmarks/bench_quality.py [--seeds 0 1 2] [--max-steps N] [--wsd-epochs E]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path


def spread(values: list[float]) -> str:
    mean = statistics.mean(values)
    deviation = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.3f} ± {deviation:.3f}"


def inference_times(folders: dict[str, Path]) -> dict[str, float]:
    """Median seconds per forward at batch 16 x 128 on CPU, real weights, each model in its own process."""
    from hf_rudistill.benchmark import BenchmarkSettings, ModelSpec, run_benchmark

    specs = [ModelSpec(name=name, source=str(folder), load_weights=True) for name, folder in folders.items()]
    settings = BenchmarkSettings(batch_sizes=(16,), sequence_lengths=(128,), devices=("cpu",), processes=1)
    results = run_benchmark(specs, settings, progress=False)
    return {m.model: m.time_s for m in results.measurements}


def main() -> dict:
    from hf_rudistill.assets import DEMO_TEACHER
    from hf_rudistill.comparison import measure_model, train_from_scratch
    from hf_rudistill.evaluation.wsd import WSDFinetuneConfig
    from hf_rudistill.recipes import RECIPES, parse_recipe_arguments, run_recipe

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-steps", type=int, default=None, help="Training steps (default: the demo preset's).")
    parser.add_argument(
        "--wsd-epochs",
        type=float,
        default=WSDFinetuneConfig.epochs,
        help="Word-sense fine-tuning epochs (default: %(default)s).",
    )
    args = parser.parse_args()
    recipe = RECIPES["distilrubert-tiny"]
    wsd = WSDFinetuneConfig(epochs=args.wsd_epochs)
    rows = {}
    with tempfile.TemporaryDirectory() as scratch_space:
        for seed in args.seeds:
            argv = [
                "--demo",
                "--seed",
                str(seed),
                "--output_dir",
                f"{scratch_space}/{seed}/distilled",
                "--disable_tqdm",
                "true",
            ]
            if args.max_steps is not None:
                argv += ["--max_steps", str(args.max_steps)]
            model_args, data_args, student_args, training_args = parse_recipe_arguments(recipe, argv)
            distilled = Path(run_recipe(recipe, model_args, data_args, student_args, training_args)["student_dir"])
            scratch = train_from_scratch(distilled, f"{scratch_space}/{seed}/scratch", training_args, data_args)
            folders = {"teacher": Path(DEMO_TEACHER), "distilled": distilled, "scratch": scratch}
            rows[seed] = {name: measure_model(folder, wsd_config=wsd, seed=seed) for name, folder in folders.items()}
            print(json.dumps({"seed": seed, **{n: {k: v for k, v in m.items()} for n, m in rows[seed].items()}}))
        times = inference_times({"teacher": Path(DEMO_TEACHER), "distilled": distilled})

    print()
    print(f"{'seed':<6} {'model':<10} {'MLM acc':>8} {'WSD acc':>8}")
    for seed, row in rows.items():
        for name in ("teacher", "distilled", "scratch"):
            print(f"{seed:<6} {name:<10} {row[name]['masked_token_accuracy']:>8.3f} {row[name]['wsd_accuracy']:>8.3f}")
    first = rows[args.seeds[0]]
    print()
    print(f"{'model':<10} {'MLM acc (mean ± sd)':>20} {'WSD acc (mean ± sd)':>20} {'params, M':>10}")
    for name in ("teacher", "distilled", "scratch"):
        mlm = [row[name]["masked_token_accuracy"] for row in rows.values()]
        wsd_acc = [row[name]["wsd_accuracy"] for row in rows.values()]
        parameters = first[name]["parameters"] / 1e6
        print(f"{name:<10} {spread(mlm):>20} {spread(wsd_acc):>20} {parameters:>10.2f}")
    majority = first["teacher"]["majority_sense_accuracy"]
    most_frequent_token = first["scratch"]["most_frequent_token_accuracy"]
    print(f"baselines: most frequent token {most_frequent_token:.3f} (MLM, student tokenizer),")
    print(f"           each lemma's most frequent sense {majority:.3f} (WSD)")
    wins = {
        metric: all(row["distilled"][metric] > row["scratch"][metric] for row in rows.values())
        for metric in ("masked_token_accuracy", "wsd_accuracy")
    }
    mean = lambda name, metric: statistics.mean(row[name][metric] for row in rows.values())  # noqa: E731
    summary = {
        "benchmark": "quality",
        "seeds": args.seeds,
        "mlm_accuracy": {
            name: round(mean(name, "masked_token_accuracy"), 4) for name in ("teacher", "distilled", "scratch")
        },
        "wsd_accuracy": {name: round(mean(name, "wsd_accuracy"), 4) for name in ("teacher", "distilled", "scratch")},
        "wsd_majority_sense_accuracy": round(majority, 4),
        "distilled_beats_scratch_every_seed": wins,
        "distilled_wsd_fraction_of_teacher": round(
            mean("distilled", "wsd_accuracy") / mean("teacher", "wsd_accuracy"), 3
        ),
        "distilled_size_fraction_of_teacher": round(
            first["distilled"]["parameters"] / first["teacher"]["parameters"], 3
        ),
        "distilled_time_fraction_of_teacher": round(times["distilled"] / times["teacher"], 3),
        "targets": {"distilled_beats_scratch_every_seed": {"masked_token_accuracy": True, "wsd_accuracy": True}},
    }
    print(
        f"distilled / teacher: word-sense accuracy {summary['distilled_wsd_fraction_of_teacher']:.2f}, "
        f"size {summary['distilled_size_fraction_of_teacher']:.2f}, "
        f"CPU time {summary['distilled_time_fraction_of_teacher']:.2f}"
    )
    summary["ok"] = all(wins.values())
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
