"""``rudistill demo``: the whole pipeline, offline, on the embedded corpus and teacher."""

from __future__ import annotations

import json
from pathlib import Path

PENDING_STAGES = [
    "dedup: near-duplicate removal",
    "vocab: reduced student vocabulary and token mapping",
    "init-student: student initialised from the teacher",
    "distill: distillation of a tiny student",
    "evaluate: distilled and from-scratch students",
    "benchmark: speed and memory",
    "card: model card",
]


def run_demo(output_dir: str | Path) -> dict:
    """Run every stage that exists, write ``results.json`` under ``output_dir`` and return the results."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from .assets import DEMO_TEACHER
    from .data import load_corpus
    from .evaluation import masked_token_accuracy

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus()
    teacher = AutoModelForMaskedLM.from_pretrained(DEMO_TEACHER)
    tokenizer = AutoTokenizer.from_pretrained(DEMO_TEACHER)
    teacher_mlm = masked_token_accuracy(
        teacher, tokenizer, corpus["validation"]["text"], baseline_texts=corpus["train"]["text"]
    )
    results = {
        "corpus": {split: len(rows) for split, rows in corpus.items()},
        "teacher": {"path": str(DEMO_TEACHER), "parameters": teacher.num_parameters(), "heldout_mlm": teacher_mlm},
        "stages_not_built": PENDING_STAGES,
    }
    (output_dir / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results


def format_summary(results: dict, output_dir: str | Path) -> str:
    teacher = results["teacher"]
    mlm = teacher["heldout_mlm"]
    lines = [
        "",
        "rudistill demo",
        f"  corpus            {results['corpus']['train']:,} train / "
        f"{results['corpus']['validation']:,} validation texts",
        f"  teacher           {teacher['parameters'] / 1e6:.1f}M parameters ({teacher['path']})",
        f"  held-out MLM acc  {mlm['accuracy']:.3f} teacher vs {mlm['baseline_accuracy']:.3f} "
        f"always predicting {mlm['baseline_token']!r} ({mlm['masked_tokens']:,} masked tokens)",
        "  not built yet     " + "\n                    ".join(results["stages_not_built"]),
        f"  outputs           {Path(output_dir).resolve()}/results.json",
    ]
    return "\n".join(lines)
