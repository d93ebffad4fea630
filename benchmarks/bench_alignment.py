"""Teacher-to-student token mapping: build time for large vocabularies, and batch alignment throughput.

Compares ``VocabMapping.align`` (array gathers) with the per-token loop a user would otherwise write
(for each sequence, for each teacher token, append its student pieces; then pad), on 512-token
sequences, single-threaded. Both must give identical outputs; the script checks it.

    python benchmarks/bench_alignment.py            # full run
    python benchmarks/bench_alignment.py --quick    # smoke run (small sizes)

Targets: alignment >= 20x the per-token loop and >= 5,000 sequences of 512 tokens per second on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the targets say

import numpy as np  # noqa: E402
from transformers import BertTokenizerFast  # noqa: E402

from hf_rudistill.alignment import VocabMapping  # noqa: E402
from hf_rudistill.data import load_corpus  # noqa: E402
from hf_rudistill.vocab import train_wordpiece_tokenizer  # noqa: E402

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def synthetic_wordpiece_vocab(texts: list[str], size: int, seed: int = 0) -> BertTokenizerFast:
    """A ``size``-entry WordPiece vocabulary shaped like a multilingual one: corpus words and word pieces
    (prefixes, ``##`` suffixes and infixes of every length), then random letter strings to fill up."""
    rng = np.random.default_rng(seed)
    words = sorted({word for text in texts for word in text.split() if word.isalpha()})
    entries = dict.fromkeys(SPECIALS)
    entries.update(dict.fromkeys(sorted({ch for word in words for ch in word})))
    entries.update(dict.fromkeys(sorted({"##" + ch for word in words for ch in word})))
    for word in rng.permutation(words):
        if len(entries) >= size:
            break
        cut = int(rng.integers(1, len(word) + 1))
        entries.update(dict.fromkeys([word, word[:cut], "##" + word[cut:] if cut < len(word) else word]))
    alphabet = sorted({ch for word in words for ch in word})
    while len(entries) < size:
        piece = "".join(rng.choice(alphabet, size=int(rng.integers(2, 9))))
        entries[piece if rng.random() < 0.5 else "##" + piece] = None
    vocab = {token: index for index, token in enumerate(list(entries)[:size])}
    return BertTokenizerFast(vocab=vocab, do_lower_case=False, strip_accents=False)


def per_token_alignment(mapping: VocabMapping, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What a user would write: a Python loop over sequences and tokens, then padding."""
    splits = [mapping.split(i) for i in range(mapping.source_vocab_size)]  # precomputed lists, as users do
    sequences, spans = [], []
    for row_ids, row_mask in zip(ids.tolist(), mask.tolist()):
        sequence, span = [], []
        for position, (token, real) in enumerate(zip(row_ids, row_mask)):
            if real:
                sequence.extend(splits[token])
                span.extend([position] * len(splits[token]))
        sequences.append(sequence)
        spans.append(span)
    width = max(map(len, sequences))
    out = np.full((len(sequences), width), mapping.target_pad_id)
    span_index = np.full((len(sequences), width), -1)
    for row, (sequence, span) in enumerate(zip(sequences, spans)):
        out[row, : len(sequence)] = sequence
        span_index[row, : len(span)] = span
    return out, span_index


def median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Small sizes for a smoke run.")
    args = parser.parse_args()
    synthetic_size, student_size, batch = (20_000, 3_000, 16) if args.quick else (120_000, 30_000, 256)
    repeats = 3 if args.quick else 7

    corpus = load_corpus()
    texts = list(corpus["train"]["text"]) + list(corpus["validation"]["text"])
    student = train_wordpiece_tokenizer(texts, student_size)
    teachers = {
        "corpus-trained WordPiece": train_wordpiece_tokenizer(texts, 10 * synthetic_size),
        "synthetic WordPiece": synthetic_wordpiece_vocab(texts, synthetic_size),
    }
    rows = []
    for name, teacher in teachers.items():
        seconds = median_seconds(lambda: VocabMapping.build(teacher, student), repeats=3)
        rows.append((name, len(teacher), len(student), seconds))
    print(f"{'teacher vocabulary':<26} {'teacher':>9} {'student':>9} {'build, s':>9}")
    for name, teacher_size, size, seconds in rows:
        print(f"{name:<26} {teacher_size:>9,} {size:>9,} {seconds:>9.3f}")

    mapping = VocabMapping.build(teachers["synthetic WordPiece"], student)
    rng = np.random.default_rng(0)
    ids = rng.integers(len(SPECIALS), mapping.source_vocab_size, size=(batch, 512))
    mask = np.ones_like(ids)
    ours, reference = mapping.align(ids, mask), per_token_alignment(mapping, ids, mask)
    assert np.array_equal(ours.input_ids, reference[0]) and np.array_equal(ours.span_index, reference[1])
    ours_s = median_seconds(lambda: mapping.align(ids, mask), repeats)
    reference_s = median_seconds(lambda: per_token_alignment(mapping, ids, mask), max(3, repeats // 2))
    ours_rate, reference_rate = batch / ours_s, batch / reference_s
    print()
    print(f"batch alignment, {batch} x 512 teacher tokens -> {ours.input_ids.shape[1]} student positions, one core")
    print(f"{'method':<22} {'median, s':>10} {'seq/s':>10}")
    print(f"{'VocabMapping.align':<22} {ours_s:>10.4f} {ours_rate:>10,.0f}")
    print(f"{'per-token loop':<22} {reference_s:>10.4f} {reference_rate:>10,.0f}")
    print(f"speed-up: {reference_s / ours_s:.1f}x")

    result = {
        "benchmark": "alignment",
        "quick": args.quick,
        "mapping_build_s": {name: round(seconds, 4) for name, _, _, seconds in rows},
        "teacher_vocab_sizes": {name: size for name, size, _, _ in rows},
        "student_vocab_size": len(student),
        "align_seq_per_s": round(ours_rate),
        "reference_seq_per_s": round(reference_rate),
        "speedup": round(reference_s / ours_s, 1),
        "targets": {"speedup": 20, "align_seq_per_s": 5_000},
    }
    result["ok"] = result["speedup"] >= 20 and result["align_seq_per_s"] >= 5_000
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
