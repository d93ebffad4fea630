"""Turn Russian SuperGLUE examples (the representation of :mod:`.rsg_tasks`) into model inputs.

Pairs go through the tokenizer's pair API, ``tokenizer(first, second)``, truncating the longer side first:

- RCB, TERRa: (premise, hypothesis); LiDiRus: (sentence1, sentence2); DaNetQA: (question, passage).
- MuSeRC: (paragraph, "question answer"), one binary example per answer; predictions are grouped back by
  question for EM through the ``idx`` column.
- RUSSE: ("word: sentence1", sentence2), the target word marked ``*...*`` in both sentences.
- RWSD: the text alone, the candidate antecedent (span1) marked ``*...*`` and the pronoun (span2) ``#...#``.
  The span indices count whitespace-separated words; where the words there are not the span's text (it
  happens in the official data), the occurrence of the span's text nearest to that index is marked.
- PARus: multiple choice (``AutoModelForMultipleChoice``): for each choice, ("premise <question cue>", choice),
  where the cue asks for the cause or the effect.
"""

from __future__ import annotations

import re

from datasets import Dataset

from .rsg_tasks import RSGTask

TARGET_MARK = "*"
"""Marks the RUSSE target word and the RWSD candidate antecedent."""

PRONOUN_MARK = "#"
"""Marks the RWSD pronoun."""

PARUS_CUES = {"cause": "Что было причиной?", "effect": "Что случилось в результате?"}
"""Appended to the PARus premise: "What was the cause?" / "What happened as a result?"."""


def mark_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with each ``(start, end, mark)`` character span wrapped as ``mark + text[start:end] + mark``."""
    inserts = sorted(((position, mark) for start, end, mark in spans for position in (start, end)), reverse=True)
    for position, mark in inserts:
        text = text[:position] + mark + text[position:]
    return text


def word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The character span ``[start, end)`` clamped to ``text`` and trimmed of surrounding spaces and punctuation
    (RUSSE offsets sometimes take in the next space or a comma)."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return start, end


def rwsd_span(text: str, word_index: int, span_text: str) -> tuple[int, int]:
    """Character span of the RWSD span starting at whitespace word ``word_index`` whose text is ``span_text``."""
    span_text = span_text.strip()
    pattern = re.compile(r"(?<!\w)" + re.escape(span_text) + r"(?!\w)")
    starts = [match.start() for match in pattern.finditer(text)] if span_text else []
    if starts:
        start = min(starts, key=lambda position: abs(len(text[:position].split()) - word_index))
        return start, start + len(span_text)
    words = list(re.finditer(r"\S+", text))
    if not words:
        return 0, 0
    first = min(max(word_index, 0), len(words) - 1)
    last = min(first + max(len(span_text.split()), 1), len(words)) - 1
    return words[first].start(), words[last].end()


def task_texts(task: RSGTask, batch: dict[str, list]) -> tuple[list[str], list[str] | None]:
    """The first and second texts of a batch of examples of a pair or single-text task (not PARus)."""
    if task.name in ("RCB", "TERRa"):
        return batch["premise"], batch["hypothesis"]
    if task.name == "LiDiRus":
        return batch["sentence1"], batch["sentence2"]
    if task.name == "DaNetQA":
        return batch["question"], batch["passage"]
    if task.name == "MuSeRC":
        return batch["paragraph"], [f"{q} {a}" for q, a in zip(batch["question"], batch["answer"])]
    if task.name == "RUSSE":
        firsts, seconds = [], []
        for word, s1, b1, e1, s2, b2, e2 in zip(
            *(batch[c] for c in ("word", "sentence1", "start1", "end1", "sentence2", "start2", "end2"))
        ):
            firsts.append(f"{word}: " + mark_spans(s1, [(*word_span(s1, b1, e1), TARGET_MARK)]))
            seconds.append(mark_spans(s2, [(*word_span(s2, b2, e2), TARGET_MARK)]))
        return firsts, seconds
    if task.name == "RWSD":
        texts = [
            mark_spans(
                text,
                [(*rwsd_span(text, i1, t1), TARGET_MARK), (*rwsd_span(text, i2, t2), PRONOUN_MARK)],
            )
            for text, i1, t1, i2, t2 in zip(
                *(batch[c] for c in ("text", "span1_index", "span1_text", "span2_index", "span2_text"))
            )
        ]
        return texts, None
    raise ValueError(f"{task.name} is not a pair or single-text task.")


def parus_choices(batch: dict[str, list]) -> tuple[list[str], list[str]]:
    """Flattened (context, choice) pairs of a batch of PARus examples: two consecutive pairs per example."""
    contexts, choices = [], []
    for premise, question, choice1, choice2 in zip(
        batch["premise"], batch["question"], batch["choice1"], batch["choice2"]
    ):
        if question not in PARUS_CUES:
            raise ValueError(f"PARus question {question!r} is neither 'cause' nor 'effect'.")
        contexts += [f"{premise} {PARUS_CUES[question]}"] * 2
        choices += [choice1, choice2]
    return contexts, choices


def encode_task(task: RSGTask, dataset: Dataset, tokenizer, max_length: int) -> Dataset:
    """Tokenise ``dataset`` of ``task`` into model inputs and ``labels`` (label ids, -1 where unknown), each
    input truncated to ``max_length`` tokens.

    PARus rows hold one list per choice for each input (the layout of ``DataCollatorForMultipleChoice``).
    """

    def encode(batch: dict[str, list]) -> dict[str, list]:
        if task.multiple_choice:
            encoded = tokenizer(*parus_choices(batch), truncation=True, max_length=max_length)
            encoded = {name: [values[i : i + 2] for i in range(0, len(values), 2)] for name, values in encoded.items()}
        else:
            encoded = dict(tokenizer(*task_texts(task, batch), truncation=True, max_length=max_length))
        return {**encoded, "labels": batch["label"]}

    return dataset.map(encode, batched=True, remove_columns=dataset.column_names, desc=f"Tokenising {task.name}")
