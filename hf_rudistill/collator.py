"""``DataCollatorForDistillation``: batches for :class:`~hf_rudistill.DistillationTrainer`.

From tokenised examples (``input_ids`` for the student, ``teacher_input_ids`` for the teacher when the
vocabularies differ) or raw text (``text``, tokenised here with both tokenizers), it builds:

- ``input_ids``, ``attention_mask``, ``labels``: the student's masked-LM inputs — ``mlm_probability`` of
  the non-special tokens selected (uniformly, by whole words, or with weights ``count(token) ** -0.7``),
  of which 80% become the mask token, 10% a random token and 10% stay;
- ``teacher_input_ids``, ``teacher_attention_mask``: the teacher's inputs — the same masked ids when the
  vocabularies are equal (DistilBERT), the unmasked teacher ids when they differ;
- when they differ, the teacher ids split into student ids (:meth:`VocabMapping.align`):
  ``t2s_input_ids``, ``t2s_attention_mask``, ``t2s_span_index`` (teacher position of each student
  position, -1 on padding) and ``teacher_token_mask`` (teacher positions a per-token loss may read).

Masks are a function of ``seed``, the epoch (:meth:`set_epoch`) and each example's ids only: the same
example is masked the same way whatever the batch size, gradient accumulation, data-loader workers, or
resumption from a checkpoint; a new epoch draws new masks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import xxhash

from .alignment import VocabMapping
from .vocab import tokenizer_family


def count_token_frequencies(dataset, vocab_size: int, column: str = "input_ids") -> np.ndarray:
    """How often each id occurs in the tokenised ``column`` of ``dataset`` (for frequency-smoothed masking)."""
    counts = np.zeros(vocab_size, dtype=np.int64)
    for batch in dataset.iter(batch_size=1_000):
        ids = np.fromiter((i for row in batch[column] for i in row), dtype=np.int64)
        counts += np.bincount(ids, minlength=vocab_size)[:vocab_size]
    return counts


class DataCollatorForDistillation:
    """Build student masked-LM inputs, teacher inputs and the teacher-to-student alignment for a batch.

    Args:
        tokenizer: the student tokenizer.
        teacher_tokenizer: the teacher tokenizer when its vocabulary differs from the student's (needed for raw
            text, and to build ``mapping``); ``None`` when both share one vocabulary.
        mapping: teacher-to-student :class:`VocabMapping` (built from the two tokenizers when omitted).
        mlm_probability: share of non-special tokens selected for prediction.
        mask_replace_prob, random_replace_prob: of the selected tokens, the share replaced by the mask token and
            by a random token (the rest stay as they are).
        whole_word_mask: select whole words (all their pieces) instead of single tokens.
        token_counts: per-id counts (see :func:`count_token_frequencies`); selects tokens with probability
            proportional to ``count ** -frequency_smoothing`` (DistilBERT / XLM) instead of uniformly.
        frequency_smoothing: the exponent above (0.7).
        max_length: longest student-side sequence for the teacher-to-student ids (default: the tokenizer's
            ``model_max_length``); raw text is truncated to it too.
        pad_to_multiple_of: pad every sequence dimension to a multiple of this (8 suits tensor cores).
        seed: base seed of the masks.
        text_column: name of the raw-text column.
    """

    def __init__(
        self,
        tokenizer,
        teacher_tokenizer=None,
        mapping: VocabMapping | None = None,
        *,
        mlm_probability: float = 0.15,
        mask_replace_prob: float = 0.8,
        random_replace_prob: float = 0.1,
        whole_word_mask: bool = False,
        token_counts: Sequence[int] | np.ndarray | None = None,
        frequency_smoothing: float = 0.7,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        seed: int = 0,
        text_column: str = "text",
    ):
        if tokenizer.mask_token_id is None or tokenizer.pad_token_id is None:
            raise ValueError("The student tokenizer needs a mask token and a padding token for masked-LM training.")
        if not 0 < mlm_probability < 1:
            raise ValueError(f"mlm_probability must lie in (0, 1), got {mlm_probability}.")
        if mask_replace_prob < 0 or random_replace_prob < 0 or mask_replace_prob + random_replace_prob > 1:
            raise ValueError("mask_replace_prob and random_replace_prob must be non-negative and sum to at most 1.")
        if whole_word_mask and token_counts is not None:
            raise ValueError("Choose whole-word masking or frequency-smoothed masking, not both.")
        self.tokenizer = tokenizer
        self.teacher_tokenizer = teacher_tokenizer
        vocab_size = len(tokenizer)
        self.same_vocabulary = mapping is None and (
            teacher_tokenizer is None or teacher_tokenizer.get_vocab() == tokenizer.get_vocab()
        )
        if mapping is None and not self.same_vocabulary:
            mapping = VocabMapping.build(teacher_tokenizer, tokenizer)
        if mapping is not None and mapping.metadata.get("target_vocab_size", vocab_size) != vocab_size:
            raise ValueError(
                f"The mapping targets a {mapping.metadata['target_vocab_size']}-token vocabulary but the student "
                f"tokenizer has {vocab_size} tokens: they do not belong together."
            )
        self.mapping = None if self.same_vocabulary else mapping
        self.mlm_probability = mlm_probability
        self.mask_replace_prob = mask_replace_prob
        self.random_replace_prob = random_replace_prob
        self.whole_word_mask = whole_word_mask
        self.max_length = max_length or (tokenizer.model_max_length if tokenizer.model_max_length < 100_000 else None)
        self.pad_to_multiple_of = pad_to_multiple_of
        self.seed = seed
        self.text_column = text_column
        self.epoch = 0

        vocab = tokenizer.get_vocab()
        self._special = np.zeros(max(vocab_size, max(vocab.values()) + 1), dtype=bool)
        self._special[tokenizer.all_special_ids] = True
        self._random_pool = np.flatnonzero(~self._special)
        family = tokenizer_family(tokenizer)
        self._starts_word = np.ones_like(self._special)
        for token, index in vocab.items():
            self._starts_word[index] = family.starts_word(token) or self._special[index]
        self._weights = None
        if token_counts is not None:
            counts = np.asarray(token_counts, dtype=np.float64)
            if counts.shape[0] < vocab_size:
                raise ValueError(f"token_counts has {counts.shape[0]} entries for a {vocab_size}-token vocabulary.")
            self._weights = np.maximum(counts[: len(self._special)], 1.0) ** -frequency_smoothing

    def set_epoch(self, epoch: int) -> None:
        """Draw the masks of epoch ``epoch`` (called by DistillationTrainer at every epoch)."""
        self.epoch = int(epoch)

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        student_rows = self._rows(examples, "input_ids", self.tokenizer)
        input_ids, attention_mask = self._pad(student_rows, self.tokenizer.pad_token_id)
        labels = np.full_like(input_ids, -100)
        masked_ids = input_ids.copy()
        for row, ids in enumerate(student_rows):
            self._mask_row(np.asarray(ids, dtype=np.int64), masked_ids[row], labels[row])
        batch = {"input_ids": masked_ids, "attention_mask": attention_mask, "labels": labels}
        if self.same_vocabulary:
            batch["teacher_input_ids"], batch["teacher_attention_mask"] = masked_ids, attention_mask
        else:
            teacher_rows = self._rows(examples, "teacher_input_ids", self.teacher_tokenizer)
            teacher_pad = self.teacher_tokenizer.pad_token_id if self.teacher_tokenizer is not None else 0
            teacher_ids, teacher_mask = self._pad(teacher_rows, teacher_pad or 0)
            aligned = self.mapping.align(teacher_ids, teacher_mask, max_length=self.max_length)
            width = self._padded_width(aligned.input_ids.shape[1])
            batch.update(
                teacher_input_ids=teacher_ids,
                teacher_attention_mask=teacher_mask,
                t2s_input_ids=_pad_columns(aligned.input_ids, width, self.tokenizer.pad_token_id),
                t2s_attention_mask=_pad_columns(aligned.attention_mask, width, 0),
                t2s_span_index=_pad_columns(aligned.span_index, width, -1),
                teacher_token_mask=aligned.teacher_mask,
            )
        return {name: torch.from_numpy(np.ascontiguousarray(array)) for name, array in batch.items()}

    def _rows(self, examples: list[dict], column: str, tokenizer) -> list[list[int]]:
        if column in examples[0]:
            return [list(example[column]) for example in examples]
        if self.text_column in examples[0] and tokenizer is not None:
            texts = [example[self.text_column] for example in examples]
            return tokenizer(texts, truncation=self.max_length is not None, max_length=self.max_length)["input_ids"]
        needed = f"'{column}' or raw text in '{self.text_column}'"
        if column == "teacher_input_ids" and tokenizer is None:
            needed = f"'{column}' (or give teacher_tokenizer to tokenise '{self.text_column}')"
        raise ValueError(f"DataCollatorForDistillation needs {needed}; the examples have {sorted(examples[0])}.")

    def _padded_width(self, width: int) -> int:
        multiple = self.pad_to_multiple_of
        return -(-width // multiple) * multiple if multiple else width

    def _pad(self, rows: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
        width = self._padded_width(max(map(len, rows)))
        ids = np.full((len(rows), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for row, values in enumerate(rows):
            ids[row, : len(values)] = values
            mask[row, : len(values)] = 1
        return ids, mask

    def _mask_row(self, ids: np.ndarray, masked: np.ndarray, labels: np.ndarray) -> None:
        """Select positions of one example and write its masked ids and labels in place."""
        seed = xxhash.xxh64_intdigest(ids.tobytes(), seed=(self.seed * 1_000_003 + self.epoch) % 2**64)
        rng = np.random.default_rng(seed)
        candidates = np.flatnonzero(~self._special[ids])
        if candidates.size == 0:
            return
        if self.whole_word_mask:
            words = np.cumsum(self._starts_word[ids])[candidates]
            unique_words = np.unique(words)
            chosen_words = unique_words[rng.random(unique_words.size) < self.mlm_probability]
            selected = candidates[np.isin(words, chosen_words)]
        elif self._weights is not None:
            count = max(1, int(round(self.mlm_probability * candidates.size)))
            weights = self._weights[ids[candidates]]
            selected = rng.choice(candidates, size=count, replace=False, p=weights / weights.sum())
        else:
            selected = candidates[rng.random(candidates.size) < self.mlm_probability]
        labels[selected] = ids[selected]
        draw = rng.random(selected.size)
        to_mask = selected[draw < self.mask_replace_prob]
        to_random = selected[
            (draw >= self.mask_replace_prob) & (draw < self.mask_replace_prob + self.random_replace_prob)
        ]
        masked[to_mask] = self.tokenizer.mask_token_id
        masked[to_random] = rng.choice(self._random_pool, size=to_random.size)


def _pad_columns(array: np.ndarray, width: int, value: int) -> np.ndarray:
    if array.shape[1] == width:
        return array
    padded = np.full((array.shape[0], width), value, dtype=array.dtype)
    padded[:, : array.shape[1]] = array
    return padded
