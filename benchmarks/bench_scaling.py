"""Speed-up of 2 processes over 1: distillation under torchrun, and dedup on Spark local[2] vs local[1].

Distillation: ``tests/ddp_worker.py`` distils the embedded teacher into the demo-sized DistilRuBERT-tiny student
(2 layers, hidden 128, a new 2,000-token vocabulary; MLM + MSE) for the same steps and the same global batch, as
one process with 1 thread, one process with 2 threads (what a user gets by default on 2 cores), and 2 processes
of 1 thread under ``torchrun`` (gloo). Throughput = the Trainer's train_samples_per_second (training loop only,
no start-up), median over the repeats; the speed-up is over the faster of the two single-process setups.

Dedup: ``deduplicate_spark`` on a corpus of the embedded texts plus near and exact copies, in a fresh Spark
session per master (``local[1]``, ``local[2]``; the same 8 partitions for both), timed after a warm-up on a
slice (the JVM compiles its code);
beside it the ``datasets`` backend (``deduplicate``, 1 and 2 processes), the approach a single machine offers.
Every backend must report the same counts.

Targets: speed-up > 1.0 for both: two processes must beat one at all. The ideal on 2 cores is 2.0; the gradient
all-reduce (distillation), the shuffles (Spark) and above all the other programs sharing the 2 cores take from
it, so 1.0 is the honest bar on this machine; the load average is printed with the results.

    python benchmarks/bench_scaling.py            # ~10 minutes on 2 busy cores
    python benchmarks/bench_scaling.py --quick    # smoke run, ~3 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "ddp_worker.py"
TARGET = 1.0


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


# ---- distillation ------------------------------------------------------------------------------------------


def prepare_student(folder: Path, texts: list[str]) -> Path:
    """The demo-sized tiny student (new 2,000-token vocabulary) initialised from the embedded teacher."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from hf_rudistill.assets import DEMO_TEACHER
    from hf_rudistill.student import init_student
    from hf_rudistill.vocab import train_student_tokenizer

    teacher_tokenizer = AutoTokenizer.from_pretrained(DEMO_TEACHER)
    tokenizer = train_student_tokenizer(texts[:2_000], teacher_tokenizer, 2_000, show_progress=False)
    student = init_student(
        AutoModelForMaskedLM.from_pretrained(DEMO_TEACHER),
        student_tokenizer=tokenizer,
        teacher_tokenizer=teacher_tokenizer,
        layer_groups=[[0, 1], [2, 3]],
        hidden_size=128,
        intermediate_size=384,
        num_attention_heads=4,
    )
    student.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def distill_throughput(
    work: Path, student: Path, texts: Path, processes: int, threads: int, steps: int, batch: int
) -> float:
    """Samples per second of one run of the worker."""
    output = work / f"run-{processes}x{threads}-{time.monotonic_ns()}"
    arguments = [str(WORKER), str(output), "--texts", str(texts), "--student", f"reduced={student}"]
    arguments += ["--steps", str(steps), "--per-device-batch", str(batch // processes), "--max-length", "128"]
    launcher = [sys.executable]
    if processes > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([*launcher, *arguments], env=environment, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"worker failed ({processes} x {threads}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    history = json.loads((output / "reduced" / "rank0.json").read_text())["log_history"]
    return next(entry["train_samples_per_second"] for entry in history if "train_samples_per_second" in entry)


def bench_distillation(work: Path, repeats: int, steps: int, batch: int = 32) -> dict:
    from hf_rudistill.data import load_corpus

    texts = list(load_corpus("train")["text"])
    student = prepare_student(work / "student", texts)
    corpus = work / "texts.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts[: steps * batch]))
    setups = {
        "1 process x 1 thread": (1, 1),
        "1 process x 2 threads": (1, 2),
        "torchrun 2 processes x 1 thread": (2, 1),
    }
    runs = {name: [] for name in setups}
    for _ in range(repeats):  # interleaved, so a change in the machine's load hits every setup alike
        for name, (processes, threads) in setups.items():
            runs[name].append(distill_throughput(work, student, corpus, processes, threads, steps, batch))
    return {name: statistics.median(values) for name, values in runs.items()} | {"runs": runs}


# ---- dedup -------------------------------------------------------------------------------------------------


def scaling_corpus(copies: int, seed: int = 0) -> list[str]:
    """The embedded texts, then ``copies`` rounds of: each text with 1-6 words replaced (a near copy), or its
    upper-case form (an exact copy after normalisation), or two texts joined (new text), shuffled."""
    from hf_rudistill.data import load_corpus

    rng = random.Random(seed)
    corpus = load_corpus()
    texts = list(corpus["train"]["text"]) + list(corpus["validation"]["text"])
    vocabulary = sorted({word for text in texts[:500] for word in text.split()})
    documents = list(texts)
    for _ in range(copies):
        for text in texts:
            kind = rng.random()
            if kind < 0.4:
                words = text.split()
                for position in rng.sample(range(len(words)), min(len(words), rng.randint(1, 6))):
                    words[position] = rng.choice(vocabulary)
                documents.append(" ".join(words))
            elif kind < 0.6:
                documents.append(text.upper())
            else:
                documents.append(text + " " + rng.choice(texts))
    rng.shuffle(documents)
    return documents


def spark_run(master: str, corpus: Path, repeats: int) -> dict:
    """(in a subprocess) seconds of each timed ``deduplicate_spark`` on ``master``, and its report."""
    from hf_rudistill.dedup_spark import deduplicate_spark, spark_session

    # the same partitioning for every master, so that only the number of cores differs
    partitions = {"spark.sql.shuffle.partitions": "8", "spark.default.parallelism": "8"}
    spark = spark_session(master, **partitions, **{"spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    frame = spark.read.parquet(str(corpus)).repartitionByRange(8, "position").sortWithinPartitions("position")
    frame = frame.persist()
    frame.count()
    deduplicate_spark(frame.limit(2_000))[0].count()  # warm-up: JIT, Python workers
    seconds, report = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        kept, report = deduplicate_spark(frame)
        kept.count()
        seconds.append(time.perf_counter() - start)
    spark.stop()
    return {"seconds": seconds, "report": report.to_dict()}


def bench_dedup(work: Path, repeats: int, copies: int) -> dict:
    from datasets import Dataset

    from hf_rudistill.dedup import deduplicate

    texts = scaling_corpus(copies)
    dataset = Dataset.from_dict({"text": texts, "position": list(range(len(texts)))})
    corpus = work / "corpus.parquet"
    dataset.to_parquet(str(corpus))
    results = {}
    for processes in (1, 2):
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            _, report = deduplicate(dataset, num_proc=processes if processes > 1 else None)
            seconds.append(time.perf_counter() - start)
        results[f"datasets, {processes} process{'es' if processes > 1 else ''}"] = {
            "seconds": seconds,
            "report": report.to_dict(),
        }
    for master in ("local[1]", "local[2]"):
        command = [sys.executable, __file__, "--spark-run", master, str(corpus), "--repeats", str(repeats)]
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if result.returncode:
            raise RuntimeError(f"Spark {master} failed:\n{result.stderr[-4000:]}")
        results[f"Spark {master}"] = json.loads(result.stdout.strip().splitlines()[-1])
    reports = {json.dumps(value["report"], sort_keys=True) for value in results.values()}
    if len(reports) != 1:
        raise AssertionError(f"The backends disagree: {reports}")
    return {"documents": len(texts), "results": results}


# ---- report ------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Fewer steps, a smaller corpus, one repeat.")
    parser.add_argument("--repeats", type=int, default=None, help="Timed runs per setup (default 3; 1 with --quick).")
    parser.add_argument("--spark-run", nargs=2, metavar=("MASTER", "CORPUS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    if args.spark_run:
        print(json.dumps(spark_run(args.spark_run[0], Path(args.spark_run[1]), repeats)))
        return 0

    load_before = load_average()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        distill = bench_distillation(work, repeats, steps=4 if args.quick else 12)
        dedup = bench_dedup(work, repeats, copies=1 if args.quick else 3)
    load_after = load_average()

    print(f"\nDistillation throughput (demo tiny student, global batch 32, seq <= 128), median of {repeats}:")
    print(f"{'setup':<34}{'samples/s':>12}")
    for name in ("1 process x 1 thread", "1 process x 2 threads", "torchrun 2 processes x 1 thread"):
        print(f"{name:<34}{distill[name]:>12.2f}")
    two = distill["torchrun 2 processes x 1 thread"]
    best_single = max(distill["1 process x 1 thread"], distill["1 process x 2 threads"])
    distill_speedup = two / best_single
    print(f"\nDedup of {dedup['documents']:,} documents, median seconds of {repeats}:")
    print(f"{'backend':<34}{'seconds':>12}")
    medians = {name: statistics.median(value["seconds"]) for name, value in dedup["results"].items()}
    for name, value in medians.items():
        print(f"{name:<34}{value:>12.2f}")
    spark_speedup = medians["Spark local[1]"] / medians["Spark local[2]"]
    print(
        f"\nspeed-up of 2 processes: distillation {distill_speedup:.2f}x over the faster single process; "
        f"Spark local[2] {spark_speedup:.2f}x over local[1]. "
        f"Load average {load_before} before, {load_after} after (2 cores, shared)."
    )
    summary = {
        "benchmark": "scaling",
        "quick": args.quick,
        "distill_samples_per_second": {k: round(v, 2) for k, v in distill.items() if k != "runs"},
        "distill_speedup_2_processes": round(distill_speedup, 3),
        "dedup_documents": dedup["documents"],
        "dedup_seconds": {k: round(v, 2) for k, v in medians.items()},
        "spark_speedup_local2_vs_local1": round(spark_speedup, 3),
        "backends_agree": True,
        "load_average": [load_before, load_after],
        "cpu_count": os.cpu_count(),
        "targets": {"distill_speedup_2_processes": f"> {TARGET}", "spark_speedup_local2_vs_local1": f"> {TARGET}"},
        "ok": distill_speedup > TARGET and spark_speedup > TARGET,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
