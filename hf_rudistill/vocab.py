"""Reduced student vocabularies: train a new one of the teacher's kind, or prune the teacher's.

- :func:`train_student_tokenizer` trains a new vocabulary with the teacher's tokenization pipeline
  (normaliser, pre-tokeniser, special tokens, post-processor) through
  ``PreTrainedTokenizerFast.train_new_from_iterator``: WordPiece for BERT/DistilBERT, byte-level BPE for
  RoBERTa/DeBERTa v1, Unigram for XLM-R/DeBERTa v2.
- :func:`prune_vocabulary` keeps the teacher tokens most used on a corpus, every single-character token
  and every special token, so nothing the teacher could spell becomes unknown.
- :func:`vocabulary_report` compares teacher and student on held-out text.
- :func:`train_wordpiece_tokenizer` trains a cased BERT WordPiece tokenizer from scratch (no teacher),
  as used for the embedded demo teacher.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

FAMILIES = ("wordpiece", "byte-level-bpe", "bpe", "unigram")


@dataclass(frozen=True)
class TokenizerFamily:
    """How a fast tokenizer spells sub-words: its model type and sub-word conventions."""

    name: str
    """One of :data:`FAMILIES`."""
    continuation_prefix: str | None
    """Prefix of word-internal pieces (``"##"`` for WordPiece), ``None`` when pieces are raw strings."""

    def starts_word(self, token: str) -> bool:
        """Whether ``token`` begins a word (no ``##``; ``Ġ`` / ``▁`` for byte-level BPE / Unigram)."""
        if self.continuation_prefix:
            return not token.startswith(self.continuation_prefix)
        if self.name == "byte-level-bpe":
            return token.startswith("Ġ")
        if self.name == "unigram":
            return token.startswith("▁")
        return True

    def is_single_character(self, token: str) -> bool:
        """Whether ``token`` spells one character (``a``, ``##a``, ``▁a``; a byte for byte-level BPE)."""
        if self.continuation_prefix and token.startswith(self.continuation_prefix):
            token = token[len(self.continuation_prefix) :]
        elif self.name == "unigram" and token.startswith("▁"):
            token = token[1:]
        return len(token) <= 1


def tokenizer_family(tokenizer) -> TokenizerFamily:
    """The :class:`TokenizerFamily` of a fast ``transformers`` tokenizer; a clear error for anything else."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ValueError(
            f"{type(tokenizer).__name__} is not backed by the `tokenizers` library; load the fast tokenizer "
            "(AutoTokenizer.from_pretrained(...) gives it for BERT, RoBERTa, XLM-R and DeBERTa)."
        )
    spec = json.loads(backend.to_str())
    model = spec["model"]
    if model["type"] == "WordPiece":
        return TokenizerFamily("wordpiece", model.get("continuing_subword_prefix") or "##")
    if model["type"] == "Unigram":
        return TokenizerFamily("unigram", None)
    if model["type"] == "BPE":
        if "ByteLevel" in json.dumps(spec.get("pre_tokenizer")):
            return TokenizerFamily("byte-level-bpe", None)
        return TokenizerFamily("bpe", model.get("continuing_subword_prefix"))
    raise ValueError(
        f"Tokenizer model {model['type']!r} is not supported: hf_rudistill maps WordPiece, BPE (byte-level or not) "
        "and Unigram vocabularies."
    )


def _batches(texts: Sequence[str], size: int = 1_000) -> Iterable[list[str]]:
    for start in range(0, len(texts), size):
        yield list(texts[start : start + size])


def _check_texts(texts: Sequence[str]) -> list[str]:
    texts = list(texts)
    if not texts or not any(text.strip() for text in texts if isinstance(text, str)):
        raise ValueError("The corpus is empty: a student vocabulary needs at least one non-empty text.")
    if not all(isinstance(text, str) for text in texts):
        raise ValueError("Every text must be a string (check the text column of your dataset).")
    return texts


def corpus_alphabet(tokenizer, texts: Sequence[str]) -> set[str]:
    """Distinct characters of ``texts`` after the tokenizer's normaliser (what a new vocabulary must spell)."""
    normalizer = tokenizer.backend_tokenizer.normalizer
    alphabet: set[str] = set()
    for text in texts:
        alphabet.update(normalizer.normalize_str(text) if normalizer else text)
    alphabet.discard(" ")
    return {ch for ch in alphabet if not ch.isspace()}


def train_student_tokenizer(
    texts: Sequence[str], teacher_tokenizer, vocab_size: int, *, show_progress: bool = True, **trainer_kwargs
):
    """Train a new ``vocab_size`` vocabulary of the teacher's kind on ``texts``.

    The result has the teacher's class, normalisation (casing included), pre-tokenisation, special tokens
    and ``model_max_length``; it round-trips through ``save_pretrained`` / ``AutoTokenizer.from_pretrained``.
    Extra keyword arguments go to the ``tokenizers`` trainer (e.g. ``min_frequency``).
    """
    family = tokenizer_family(teacher_tokenizer)
    texts = _check_texts(texts)
    specials = len(teacher_tokenizer.all_special_tokens)
    characters = 256 if family.name == "byte-level-bpe" else len(corpus_alphabet(teacher_tokenizer, texts))
    if vocab_size < specials + characters:
        raise ValueError(
            f"vocab_size={vocab_size} is below the {characters} single characters of the corpus plus "
            f"{specials} special tokens; choose at least {specials + characters}."
        )
    student = teacher_tokenizer.train_new_from_iterator(
        _batches(texts), vocab_size, length=len(texts), show_progress=show_progress, **trainer_kwargs
    )
    student.model_max_length = teacher_tokenizer.model_max_length
    return student


def train_wordpiece_tokenizer(
    texts: Sequence[str], vocab_size: int, *, lowercase: bool = False, model_max_length: int = 512
):
    """A BERT WordPiece tokenizer trained from scratch on ``texts``; cased by default, never stripping
    accents (so й and ё survive), with the usual ``[PAD] [UNK] [CLS] [SEP] [MASK]`` special tokens."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import BertTokenizerFast

    texts = _check_texts(texts)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=False)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    tokenizer.train_from_iterator(_batches(texts), trainer, length=len(texts))
    return BertTokenizerFast(
        vocab=tokenizer.get_vocab(), do_lower_case=lowercase, strip_accents=False, model_max_length=model_max_length
    )


def _token_counts(tokenizer, texts: Sequence[str]) -> np.ndarray:
    counts = np.zeros(len(tokenizer), dtype=np.int64)
    for batch in _batches(texts):
        ids = tokenizer(batch, add_special_tokens=False)["input_ids"]
        counts += np.bincount(np.fromiter((i for row in ids for i in row), dtype=np.int64), minlength=len(counts))
    return counts


def prune_vocabulary(teacher_tokenizer, texts: Sequence[str], vocab_size: int):
    """Keep the ``vocab_size`` teacher tokens most used on ``texts``, always including every special token
    and every single-character token, in the teacher's order.

    BPE merges are kept when both parts and the result survive; a token's count includes the uses of the
    tokens merged from it, so the kept set stays reachable. Returns a tokenizer of the teacher's class.
    """
    family = tokenizer_family(teacher_tokenizer)
    texts = _check_texts(texts)
    spec = json.loads(teacher_tokenizer.backend_tokenizer.to_str())
    model = spec["model"]
    vocab = teacher_tokenizer.get_vocab()
    tokens = sorted(vocab, key=vocab.get)
    ids = np.array([vocab[token] for token in tokens])

    required = np.zeros(len(teacher_tokenizer), dtype=bool)
    required[[vocab[t] for t in teacher_tokenizer.all_special_tokens]] = True
    required[[token_id for token, token_id in vocab.items() if family.is_single_character(token)]] = True
    if vocab_size < required.sum():
        raise ValueError(
            f"vocab_size={vocab_size} is below the {int(required.sum())} special and single-character tokens "
            "that a pruned vocabulary must keep."
        )
    counts = _token_counts(teacher_tokenizer, texts)
    merges = [m.split(" ") if isinstance(m, str) else m for m in model.get("merges", [])]
    for left, right in reversed(merges):  # a merged token's uses are uses of its parts too
        merged = vocab.get(left + right)
        if merged is not None:
            counts[vocab[left]] += counts[merged]
            counts[vocab[right]] += counts[merged]
    order = np.lexsort((ids, -counts[ids], ~required[ids]))  # required first, then most used, then teacher order
    candidates = ids[order][:vocab_size]
    keep = np.zeros(len(teacher_tokenizer), dtype=bool)
    keep[candidates[required[candidates] | (counts[candidates] > 0)]] = True
    kept_tokens = [token for token in tokens if keep[vocab[token]]]
    return _with_vocabulary(teacher_tokenizer, spec, kept_tokens, merges)


def _with_vocabulary(teacher_tokenizer, spec: dict, kept_tokens: list[str], merges: list[list[str]]):
    """A tokenizer of the teacher's class and pipeline whose vocabulary is ``kept_tokens`` (renumbered)."""
    from tokenizers import Tokenizer

    new_ids = {token: index for index, token in enumerate(kept_tokens)}
    model = spec["model"]
    if model["type"] == "Unigram":
        scores = dict(map(tuple, model["vocab"]))
        model["vocab"] = [[token, scores[token]] for token in kept_tokens]
        if model.get("unk_id") is not None:
            model["unk_id"] = new_ids[teacher_tokenizer.convert_ids_to_tokens(model["unk_id"])]
    else:
        model["vocab"] = new_ids
    if model["type"] == "BPE":
        model["merges"] = [[a, b] for a, b in merges if a in new_ids and b in new_ids and a + b in new_ids]
    for added in spec.get("added_tokens", []):
        added["id"] = new_ids[added["content"]]
    processor = spec.get("post_processor")
    for step in processor.get("processors", [processor]) if processor else []:
        for special in step.get("special_tokens", {}).values():
            special["ids"] = [new_ids[token] for token in special["tokens"]]
        for role in ("cls", "sep"):
            if role in step:
                step[role] = [step[role][0], new_ids[step[role][0]]]
    backend = Tokenizer.from_str(json.dumps(spec))
    kwargs = {
        name: value
        for name, value in teacher_tokenizer.init_kwargs.items()
        if name not in {"vocab", "merges", "vocab_file", "merges_file", "tokenizer_file", "added_tokens_decoder"}
    }
    return type(teacher_tokenizer)(tokenizer_object=backend, **kwargs)


def vocabulary_report(teacher_tokenizer, student_tokenizer, texts: Sequence[str]) -> dict:
    """Tokens per word, unknown-token rate and vocabulary overlap of teacher and student on ``texts``."""
    texts = _check_texts(texts)
    words = sum(len(text.split()) for text in texts)
    report = {"texts": len(texts), "words": words}
    for role, tokenizer in (("teacher", teacher_tokenizer), ("student", student_tokenizer)):
        ids = [
            i
            for batch in _batches(texts)
            for row in tokenizer(batch, add_special_tokens=False)["input_ids"]
            for i in row
        ]
        unknown = sum(1 for i in ids if i == tokenizer.unk_token_id)
        report[role] = {
            "vocab_size": len(tokenizer),
            "tokens_per_word": len(ids) / max(words, 1),
            "unknown_rate": unknown / max(len(ids), 1),
        }
    shared = set(teacher_tokenizer.get_vocab()) & set(student_tokenizer.get_vocab())
    report["shared_tokens"] = len(shared)
    report["student_tokens_in_teacher_vocab"] = len(shared) / len(student_tokenizer)
    return report
