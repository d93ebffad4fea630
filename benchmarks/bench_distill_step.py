"""One distillation training step at the DistilRuBERT-tiny recipe's shapes: DistillationTrainer vs the
published approach, with equal loss values checked.

Shapes: teacher BERT 12 layers / 768 / 12 heads / 119,547 vocab; student 3 layers / 264 / 12 heads /
FFN 792 / 30,522 vocab; random weights; batch 8 x 128 teacher tokens; CPU; losses 0.5 MLM + 0.1 MSE of
layer-averaged hidden states, student pieces summed per teacher token, fixed random 264 -> 768 projection.

The published approach (the authors' loop): the teacher ``*ForMaskedLM`` returns full logits and all hidden
states; the student computes full-vocabulary logits at every position in two separate passes (masked input
for MLM, teacher-split input for MSE). Ours: the teacher runs its encoder only, the student runs once over both
row sets and applies its LM head at masked positions only.

Each side runs in its own process (so peak RSS is its own): warm-up, then the median of ``--steps`` steps.
Target: ours at least 2.0x faster. Last line: JSON.

    python benchmarks/bench_distill_step.py [--steps 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

TEACHER = dict(
    vocab_size=119_547, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072
)
STUDENT = dict(vocab_size=30_522, hidden_size=264, num_hidden_layers=3, num_attention_heads=12, intermediate_size=792)
QUICK_TEACHER = dict(
    TEACHER, vocab_size=20_000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024
)
QUICK_STUDENT = dict(
    STUDENT, vocab_size=6_000, hidden_size=96, num_hidden_layers=2, num_attention_heads=4, intermediate_size=192
)
BATCH, LENGTH = 8, 128


def synthetic_tokenizers(teacher_size: int, student_size: int):
    """WordPiece tokenizers shaped like the tiny recipe's: the student's pieces are 2-4 Cyrillic letters; the
    teacher has every student piece plus words made of two of them (a larger vocabulary of longer tokens)."""
    from transformers import BertTokenizerFast

    rng = np.random.default_rng(0)
    letters = [chr(code) for code in range(ord("а"), ord("я") + 1)]
    student = dict.fromkeys(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *letters, *("##" + c for c in letters)])
    while len(student) < student_size:
        piece = "".join(rng.choice(letters, size=int(rng.integers(2, 5))))
        student[piece if rng.random() < 0.4 else "##" + piece] = None
    pieces = list(student)[5:]
    teacher = dict(student)
    while len(teacher) < teacher_size:
        first, second = rng.choice(pieces, size=2)
        teacher[first + second.removeprefix("##")] = None
    make = lambda entries: BertTokenizerFast(vocab={t: i for i, t in enumerate(entries)}, do_lower_case=False)  # noqa: E731
    return make(teacher), make(student)


def build(quick: bool):
    """Teacher, student, the real collator and one collated batch, all seeded."""
    from transformers import BertConfig, BertForMaskedLM

    from hf_rudistill.collator import DataCollatorForDistillation

    teacher_sizes, student_sizes = (QUICK_TEACHER, QUICK_STUDENT) if quick else (TEACHER, STUDENT)
    teacher_tokenizer, student_tokenizer = synthetic_tokenizers(
        teacher_sizes["vocab_size"], student_sizes["vocab_size"]
    )
    torch.manual_seed(0)
    no_dropout = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    teacher = BertForMaskedLM(BertConfig(**teacher_sizes, **no_dropout)).eval()
    student = BertForMaskedLM(BertConfig(**student_sizes, **no_dropout))
    collator = DataCollatorForDistillation(student_tokenizer, teacher_tokenizer, max_length=512)

    rng = np.random.default_rng(0)
    shared = len(student_tokenizer)  # teacher ids below this are student pieces too (one piece each)
    examples = []
    for _ in range(BATCH):
        common = rng.random(LENGTH - 2) < 0.7  # frequent words are whole tokens in both vocabularies
        body = np.where(
            common, rng.integers(5, shared, LENGTH - 2), rng.integers(shared, len(teacher_tokenizer), LENGTH - 2)
        )
        teacher_ids = [2, *body.tolist(), 3]
        # the student's own tokenisation of the same text: its split of the teacher tokens
        student_ids = collator.mapping.align(np.array([teacher_ids])).input_ids[0].tolist()
        examples.append({"input_ids": student_ids, "teacher_input_ids": teacher_ids})
    return teacher, student, collator, collator(examples)


def published_loss(teacher, student, projection, batch):
    """The authors' step: full teacher logits and hidden states; two full student passes."""
    from hf_rudistill.losses import pool_spans

    with torch.no_grad():
        teacher_out = teacher(
            input_ids=batch["teacher_input_ids"],
            attention_mask=batch["teacher_attention_mask"],
            output_hidden_states=True,
        )
    mlm = student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]).loss
    aligned = student(
        input_ids=batch["t2s_input_ids"], attention_mask=batch["t2s_attention_mask"], output_hidden_states=True
    )
    student_avg = torch.stack(aligned.hidden_states).mean(0)
    teacher_avg = torch.stack(teacher_out.hidden_states).mean(0)
    pooled = pool_spans(student_avg, batch["t2s_span_index"], teacher_avg.shape[1], "sum")
    mask = batch["teacher_token_mask"]
    mse = ((projection(pooled) - teacher_avg).pow(2).sum(-1) * mask).sum() / mask.sum()
    return 0.5 * mlm + 0.1 * mse


def measure(side: str, steps: int, quick: bool) -> dict:
    import tempfile

    from hf_rudistill.distillation_config import DistillationTrainingArguments
    from hf_rudistill.distillation_trainer import PROJECTION_NAME, DistillationTrainer

    teacher, student, collator, batch = build(quick)
    args = DistillationTrainingArguments(
        output_dir=tempfile.mkdtemp(),
        alpha_mlm=0.5,
        alpha_mse=0.1,
        alpha_ce=0.0,
        alpha_cos=0.0,
        hidden_matching="average",
        span_pooling="sum",
        projection="fixed",
        use_cpu=True,
        report_to="none",
        learning_rate=5e-4,
        adam_beta2=0.98,
        seed=0,
    )
    trainer = DistillationTrainer(model=student, teacher_model=teacher, args=args, data_collator=collator)
    projection = getattr(student, PROJECTION_NAME)
    student.train()
    optimizer = torch.optim.AdamW([p for p in student.parameters() if p.requires_grad], lr=5e-4, betas=(0.9, 0.98))
    compute = (
        (lambda: trainer.compute_loss(student, batch))
        if side == "ours"
        else (lambda: published_loss(trainer.teacher, student, projection, batch))
    )
    first_loss = float(compute())  # the same weights on both sides: compare before any update
    times = []
    for _ in range(steps + 1):  # one warm-up
        start = time.perf_counter()
        loss = compute()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "side": side,
        "first_loss": first_loss,
        "median_s": statistics.median(times[1:]),
        "times": times[1:],
        "peak_rss_mb": peak_mb,
    }


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="Small shapes for a smoke run.")
    parser.add_argument("--side", choices=["ours", "published"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(measure(args.side, args.steps, args.quick)))
        return {}
    results = {}
    for side in ("ours", "published"):
        command = [sys.executable, __file__, "--side", side, "--steps", str(args.steps)] + (
            ["--quick"] if args.quick else []
        )
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[side] = json.loads(output.strip().splitlines()[-1])
    ours, published = results["ours"], results["published"]
    speedup = published["median_s"] / ours["median_s"]
    same_loss = abs(ours["first_loss"] - published["first_loss"]) <= 1e-4 * max(1.0, abs(published["first_loss"]))
    print(
        f"one training step, batch {BATCH} x {LENGTH}, {'quick shapes' if args.quick else 'tiny-recipe shapes'}, CPU"
    )
    print(f"{'approach':<12} {'median, s':>10} {'peak RSS, MB':>13} {'loss':>12}")
    for side in ("ours", "published"):
        r = results[side]
        print(f"{side:<12} {r['median_s']:>10.3f} {r['peak_rss_mb']:>13.0f} {r['first_loss']:>12.6f}")
    print(f"speed-up: {speedup:.2f}x; equal losses: {same_loss}")
    summary = {
        "benchmark": "distill_step",
        "quick": args.quick,
        "ours_median_s": round(ours["median_s"], 4),
        "published_median_s": round(published["median_s"], 4),
        "speedup": round(speedup, 2),
        "ours_peak_rss_mb": round(ours["peak_rss_mb"]),
        "published_peak_rss_mb": round(published["peak_rss_mb"]),
        "losses_equal": same_loss,
        "targets": {"speedup": 2.0, "losses_equal": True},
    }
    summary["ok"] = speedup >= 2.0 and same_loss
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
