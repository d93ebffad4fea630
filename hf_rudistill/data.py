"""The embedded Russian corpus and word-sense task, built from the PyPI package ``rl-wsd-labeled``.

``rl-wsd-labeled`` (MIT, Konstantin Lopuhin, https://github.com/lopuhin/ruslang-wsd-labeled) holds
contexts of 65 polysemous Russian nouns, verbs and adjectives from the Russian National Corpus (RNC)
and the RuTenTen web corpus, annotated with senses from the Active Dictionary of Russian.

- :func:`load_corpus`: every distinct context as plain text (column ``text``), split by a stable hash
  of the text into ``train`` (about 90%) and ``validation`` (about 10%).
- :func:`load_wsd_task`: the contexts whose sense the annotators agreed on, labelled with the sense of
  the target word (columns ``text``, ``lemma``, ``word_start``, ``word_end``, ``label``). Its
  ``validation`` contexts are exactly the corpus' validation contexts, so a model pretrained or distilled
  on the corpus' ``train`` split never saw them.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import xxhash
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

VALIDATION_PERCENT = 10
"""Share of contexts (by stable hash of the text) held out as ``validation``."""

CORPUS_SIZES = {"train": 10_126, "validation": 1_175}
"""Documented split sizes of :func:`load_corpus` (checked by the tests)."""

WSD_SIZES = {"train": 8_557, "validation": 988}
"""Documented split sizes of :func:`load_wsd_task` (checked by the tests)."""


def _normalise_space(text: str) -> str:
    return " ".join(text.split())


def _context_text(left: str, word: str, right: str) -> tuple[str, int, int]:
    """``left + word + right`` with runs of whitespace collapsed, and the character span of ``word``."""
    left_text, word_text, right_text = _normalise_space(left), word.strip(), _normalise_space(right)
    if left_text and (left[-1:].isspace() or word[:1].isspace()):
        left_text += " "
    if right_text and (word[-1:].isspace() or right[:1].isspace()):
        right_text = " " + right_text
    start = len(left_text)
    return left_text + word_text + right_text, start, start + len(word_text)


def _is_validation(text: str) -> bool:
    return xxhash.xxh64_intdigest(text.encode("utf-8")) % 100 < VALIDATION_PERCENT


@functools.lru_cache(maxsize=1)
def _read_package() -> tuple[tuple[dict, ...], tuple[str, ...]]:
    """All contexts of the package: (labelled records, texts of every context, labelled or not)."""
    import rl_wsd_labeled

    root = Path(rl_wsd_labeled.ROOT)
    records, texts = [], []
    for path in sorted(root.glob("*/*/*")):
        if path.suffix not in {".json", ".txt"}:
            continue
        lemma = path.stem
        if path.suffix == ".json":
            senses, labelled = rl_wsd_labeled.get_contexts(str(path))
            with open(path, encoding="utf-8") as f:
                everything = [context for context, _ in json.load(f)[1]]
        else:
            senses, labelled, skipped = rl_wsd_labeled.get_contexts(str(path), with_skipped=True)
            everything = [context for context, _ in labelled] + [context for context, _ in skipped]
        texts.extend(_context_text(*context)[0] for context in everything)
        for context, sense in labelled:
            text, start, end = _context_text(*context)
            records.append({"text": text, "lemma": lemma, "word_start": start, "word_end": end, "sense": sense})
    return tuple(records), tuple(texts)


def load_corpus(split: str | None = None) -> Dataset | DatasetDict:
    """The embedded Russian corpus: distinct non-empty contexts, column ``text``, sorted by hash.

    Args:
        split: ``"train"``, ``"validation"`` or ``None`` for a :class:`~datasets.DatasetDict` of both.
    """
    _, texts = _read_package()
    unique = sorted({text for text in texts if text}, key=lambda t: (xxhash.xxh64_intdigest(t.encode()), t))
    splits = {
        "train": [text for text in unique if not _is_validation(text)],
        "validation": [text for text in unique if _is_validation(text)],
    }
    return _select(DatasetDict({name: Dataset.from_dict({"text": rows}) for name, rows in splits.items()}), split)


def load_wsd_task(split: str | None = None) -> Dataset | DatasetDict:
    """Word-sense disambiguation on the embedded corpus: predict the sense (``label``) of the word at
    ``text[word_start:word_end]`` whose dictionary form is ``lemma``.

    Labels are ``"lemma:sense"`` names of a :class:`~datasets.ClassLabel` shared by both splits. A context
    labelled twice with different senses (the same text under two lemmas) is dropped as ambiguous.
    """
    records, _ = _read_package()
    by_text: dict[str, list[dict]] = {}
    for record in records:
        by_text.setdefault(record["text"], []).append(record)
    kept = sorted(
        (rows[0] for rows in by_text.values() if len({(r["lemma"], r["sense"]) for r in rows}) == 1),
        key=lambda r: (xxhash.xxh64_intdigest(r["text"].encode()), r["text"]),
    )
    names = sorted({f"{r['lemma']}:{r['sense']}" for r in kept})
    features = Features(
        {
            "text": Value("string"),
            "lemma": Value("string"),
            "word_start": Value("int32"),
            "word_end": Value("int32"),
            "label": ClassLabel(names=names),
        }
    )
    columns = {"train": {name: [] for name in features}, "validation": {name: [] for name in features}}
    for record in kept:
        row = {**record, "label": names.index(f"{record['lemma']}:{record['sense']}")}
        target = columns["validation" if _is_validation(record["text"]) else "train"]
        for name in features:
            target[name].append(row[name])
    return _select(
        DatasetDict({name: Dataset.from_dict(cols, features=features) for name, cols in columns.items()}), split
    )


def _select(splits: DatasetDict, split: str | None) -> Dataset | DatasetDict:
    if split is None:
        return splits
    if split not in splits:
        raise ValueError(f"Unknown split {split!r}: choose one of {sorted(splits)} or None for both.")
    return splits[split]
