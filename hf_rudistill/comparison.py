"""Distilled vs from-scratch students, and the teacher: training the baseline and measuring all three.

Used by ``rudistill demo`` and ``benchmarks/bench_quality.py``:

- :func:`train_from_scratch`: the distilled student's architecture and tokenizer, randomly initialised and trained
  with masked-LM alone on the same data, for the same steps, with the same optimiser settings;
- :func:`measure_model`: held-out masked-token accuracy on the corpus' validation split, word-sense accuracy after
  fine-tuning (:mod:`hf_rudistill.evaluation.wsd`) with its majority-sense baseline, parameters and weights size.
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


def measure_model(model_dir: str | Path, *, wsd_config=None, seed: int = 0) -> dict:
    """Masked-token accuracy (held out), word-sense accuracy after fine-tuning, size of one model folder."""
    from .data import load_corpus
    from .evaluation.mlm import masked_token_accuracy
    from .evaluation.wsd import WSDFinetuneConfig, finetune_wsd
    from .loading import load_model, load_tokenizer

    corpus = load_corpus()
    model = load_model(model_dir)
    tokenizer = load_tokenizer(model_dir)
    mlm = masked_token_accuracy(
        model, tokenizer, list(corpus["validation"]["text"]), baseline_texts=list(corpus["train"]["text"])
    )
    wsd = finetune_wsd(str(model_dir), tokenizer, replace(wsd_config or WSDFinetuneConfig(), seed=seed))
    parameters = model.num_parameters()
    return {
        "masked_token_accuracy": mlm["accuracy"],
        "most_frequent_token_accuracy": mlm["baseline_accuracy"],
        "wsd_accuracy": wsd["accuracy"],
        "majority_sense_accuracy": wsd["majority_sense_accuracy"],
        "parameters": parameters,
        "vocab_size": model.config.vocab_size,
        "size_mb": sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20,
    }
