"""Shared fixtures: the embedded corpus and tokenizers of each family trained on it (no network)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no test touches the network; fail fast instead of retrying

import functools  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from hf_rudistill.data import load_corpus  # noqa: E402

TOKENIZER_CLASSES = {
    "wordpiece": ("BertTokenizerFast", {"do_lower_case": False, "strip_accents": False}),
    "byte-level-bpe": ("RobertaTokenizerFast", {}),
    "unigram": ("XLMRobertaTokenizerFast", {}),
}


@pytest.fixture(scope="session")
def corpus():
    return load_corpus()


@pytest.fixture(scope="session")
def train_texts(corpus):
    return corpus["train"]["text"][:2_000]


@pytest.fixture(scope="session")
def heldout_texts(corpus):
    return corpus["validation"]["text"][:300]


@functools.lru_cache(maxsize=None)
def _teacher_tokenizer(family: str, vocab_size: int):
    import transformers

    class_name, kwargs = TOKENIZER_CLASSES[family]
    texts = load_corpus("train")["text"][: 800 if family == "unigram" else 2_000]
    blank = getattr(transformers, class_name)(**kwargs)
    tokenizer = blank.train_new_from_iterator([texts[i : i + 500] for i in range(0, len(texts), 500)], vocab_size)
    tokenizer.model_max_length = 512
    return tokenizer


@pytest.fixture(scope="session")
def teacher_tokenizer():
    """A teacher tokenizer of a family trained on the embedded corpus: ``teacher_tokenizer("wordpiece")``."""
    return lambda family="wordpiece", vocab_size=1_200: _teacher_tokenizer(family, vocab_size)


def perturbed(model):
    """``model`` in eval mode with every weight moved off its (often constant) initial value."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.05)
    return model.eval()


def make_teacher(directory, tokenizer):
    """A small random BertForMaskedLM teacher with ``tokenizer``, saved to ``directory``."""
    from transformers import BertConfig, BertForMaskedLM

    BertForMaskedLM(
        BertConfig(
            vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64
        )
    ).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return str(directory)
