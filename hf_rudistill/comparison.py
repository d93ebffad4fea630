"""Distilled vs from-scratch students, and the teacher: training the baseline and measuring all three.

Used by ``rudistill demo`` and ``benchmarks/bench_quality.py``:

- :func:`train_from_scratch`: the distilled student's architecture and tokenizer, randomly initialised and trained
  with masked-LM alone on the same data, for the same steps, with the same optimiser settings;
- :func:`measure_model`: held-out masked-token accuracy on the corpus' validation split, word-sense accuracy after
  fine-tuning (:mod:`hf_rudistill.evaluation.wsd`), parameters and weights size.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path


def train_from_scratch(distilled_dir: str | Path, output_dir: str | Path, training_args, data_args) -> Path:
    """Train the architecture of ``distilled_dir`` from random weights with masked-LM alone; return its folder."""
    import torch
    from transformers import AutoConfig, AutoModelForMaskedLM, set_seed

    from .loading import load_tokenizer
    from .pipeline import distil

    tokenizer = load_tokenizer(distilled_dir, kind="student tokenizer")
    set_seed(training_args.seed)
    model = AutoModelForMaskedLM.from_config(AutoConfig.from_pretrained(distilled_dir), dtype=torch.float32)
    args = replace(
        training_args,
        output_dir=str(output_dir),
        alpha_mlm=1.0,
        alpha_ce=0.0,
        alpha_mse=0.0,
        alpha_cos=0.0,
        alpha_attn=0.0,
        projection="none",
    )
    return distil(model, None, tokenizer, None, data_args, args).student_dir
