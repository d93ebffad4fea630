"""Benchmark: ``hf_rudistill.dedup`` against datasketch (MinHash + MinHashLSH) on the same shingles.

Corpus: Russian-like documents generated from the word frequencies of the embedded corpus
(``hf_rudistill.data.load_corpus``), with planted exact copies (case, punctuation, spacing and ``ё``/``е``
changes that normalise away) and near copies (1 to ~15% of the words substituted, deleted or inserted, some
copies of copies), deterministic under ``--seed``.

Pipelines, timed in one run (median of ``--repeats``), one process each:

- **ours**: ``deduplicate(dataset, num_proc=1)`` with the default preset (20 bands x 5 rows) and with the
  ``deepvk`` preset (10 x 10); its signature stage alone is the ``Dataset.map`` of ``document_hashes``.
- **datasketch**: per document, the same normalised word 5-gram shingles as Python strings, the same
  xxh3-128 exact hash, ``MinHash(num_perm=100)`` (``MinHash.bulk``, datasketch's default SHA-1 shingle hash)
  and ``MinHashLSH(params=(10, 10))`` insert + query; then the same exact Jaccard verification and
  clustering as ours (``jaccard_similarities``, ``connected_components``).

Quality against brute force: exact Jaccard of every pair of documents sharing at least one shingle (all other
pairs have Jaccard 0), from Python sets of shingle strings. Recall = share of pairs with Jaccard > 0.7 that
end in one cluster (also shown for the pairs with Jaccard 0.7-0.8 alone); precision = share of the pairs put
in one cluster that the brute-force graph of Jaccard > 0.7 connects.

Run: ``python benchmarks/bench_dedup.py`` (20,000 documents) or ``--quick`` (2,000, one repeat).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
import unicodedata
from collections import Counter, defaultdict

import numpy as np
import xxhash
from datasets import Dataset, disable_progress_bars
from datasketch import MinHash, MinHashLSH

from hf_rudistill.data import load_corpus
from hf_rudistill.dedup import (
    DedupConfig,
    connected_components,
    deduplicate,
    document_hashes,
    exact_duplicate_representatives,
    jaccard_similarities,
    normalize_texts,
    shingle_hashes,
)

WORD = re.compile(r"\w+")
TARGETS = {"signature_speedup": 1.5, "end_to_end_speedup": 2.0, "recall": 0.99, "precision": 1.0}
EDIT_FRACTIONS = [0.0, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08, 0.11, 0.15]
"""Share of words edited in a near copy (at least one edit each): spans Jaccard from about 0.3 to 0.97."""


# ---------------------------------------------------------------------------------------------- corpus


def _render(words: list[str], rng: np.random.Generator) -> str:
    """Words as sentences: a capital after each full stop, commas, varied spacing."""
    pieces, sentence_start = [], True
    for word in words:
        pieces.append(word.capitalize() if sentence_start else word)
        sentence_start = False
        roll = rng.random()
        if roll < 0.07:
            pieces[-1] += "."
            sentence_start = True
        elif roll < 0.13:
            pieces[-1] += ","
    return " ".join(pieces) + "."


def _cosmetic_copy(text: str, rng: np.random.Generator) -> str:
    """A text that normalises to the same words: case, ё for е, spacing and punctuation changes."""
    variants = [
        text.upper(),
        text.replace("е", "ё"),
        text.replace(" ", "  ").replace(",", " ,"),
        "  " + text.replace(".", "!") + " ...",
        text.replace(" ", "\u00a0"),
    ]
    return variants[int(rng.integers(len(variants)))]


def _edited_copy(words: list[str], vocabulary: np.ndarray, weights: np.ndarray, rng: np.random.Generator):
    fraction = EDIT_FRACTIONS[int(rng.integers(len(EDIT_FRACTIONS)))]
    words = list(words)
    for _ in range(max(1, round(fraction * len(words)))):
        position = int(rng.integers(len(words)))
        kind = rng.random()
        if kind < 0.6:
            words[position] = str(rng.choice(vocabulary, p=weights))
        elif kind < 0.8 and len(words) > 1:
            del words[position]
        else:
            words.insert(position, str(rng.choice(vocabulary, p=weights)))
    return words


def make_corpus(documents: int, seed: int) -> list[str]:
    """``documents`` texts: 60% originals, 15% exact copies, 25% near copies (a fifth of them copies of copies)."""
    rng = np.random.default_rng(seed)
    counts = Counter(
        word for split in load_corpus().values() for text in split["text"] for word in re.findall(r"\w+", text)
    )
    vocabulary = np.array(sorted(counts))
    weights = np.array([counts[word] for word in vocabulary], dtype=np.float64)
    weights /= weights.sum()
    word_lists: list[list[str]] = []
    texts: list[str] = []
    originals: list[int] = []
    near_copies: list[int] = []
    for _ in range(documents):
        roll = rng.random()
        if roll < 0.15 and originals:
            source = (
                originals[int(rng.integers(len(originals)))]
                if rng.random() < 0.8 or not near_copies
                else (near_copies[int(rng.integers(len(near_copies)))])
            )
            word_lists.append(word_lists[source])
            texts.append(_cosmetic_copy(texts[source], rng))
        elif roll < 0.40 and originals:
            pool = near_copies if near_copies and rng.random() < 0.2 else originals
            words = _edited_copy(word_lists[pool[int(rng.integers(len(pool)))]], vocabulary, weights, rng)
            near_copies.append(len(texts))
            word_lists.append(words)
            texts.append(_render(words, rng))
        else:
            words = [str(word) for word in rng.choice(vocabulary, size=int(rng.integers(40, 200)), p=weights)]
            originals.append(len(texts))
            word_lists.append(words)
            texts.append(_render(words, rng))
    order = rng.permutation(documents)
    return [texts[i] for i in order]


# ------------------------------------------------------------------------------------------ brute force


def plain_normalize(text: str) -> str:
    """The normalisation a user would write (same output as ``hf_rudistill.dedup.normalize_text``)."""
    return " ".join(WORD.findall(unicodedata.normalize("NFKC", text).lower().replace("ё", "е")))


def shingle_strings(normalized: str, ngram: int) -> list[str]:
    """Word n-gram shingles of a normalised text as strings (the whole text when shorter): the reference."""
    words = normalized.split(" ")
    if len(words) < ngram:
        return [normalized]
    return [" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]


def brute_force_pairs(texts: list[str], ngram: int, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(i, j)``, ``i < j``, with Jaccard > threshold, and its Jaccard (pairs sharing no shingle
    have Jaccard 0)."""
    sets = [set(shingle_strings(plain_normalize(text), ngram)) for text in texts]
    postings: dict[str, list[int]] = defaultdict(list)
    for index, shingles in enumerate(sets):
        for shingle in shingles:
            postings[shingle].append(index)
    shared: Counter = Counter()
    for members in postings.values():
        for position, first in enumerate(members):
            for second in members[position + 1 :]:
                shared[first, second] += 1
    similarities = {pair: both / (len(sets[pair[0]]) + len(sets[pair[1]]) - both) for pair, both in shared.items()}
    pairs = sorted(pair for pair, similarity in similarities.items() if similarity > threshold)
    return np.array(pairs, dtype=np.int64).reshape(-1, 2), np.array([similarities[pair] for pair in pairs])


def _pairs_within(labels: np.ndarray) -> int:
    sizes = np.unique(labels, return_counts=True)[1]
    return int((sizes * (sizes - 1) // 2).sum())


def recall_precision(clusters: np.ndarray, truth_pairs: np.ndarray, truth_components: np.ndarray):
    """Recall: brute-force pairs in one cluster (a boolean per pair); precision: clustered pairs that the
    brute-force graph connects."""
    found = clusters[truth_pairs[:, 0]] == clusters[truth_pairs[:, 1]]
    clustered = _pairs_within(clusters)
    joint = np.unique(np.stack([clusters, truth_components], axis=1), axis=0, return_inverse=True)[1].ravel()
    precision = _pairs_within(joint) / clustered if clustered else 1.0
    return found, precision


# --------------------------------------------------------------------------------------------- pipelines


def ours_signatures(dataset: Dataset, config: DedupConfig) -> None:
    dataset.map(
        lambda texts: document_hashes(texts, config), batched=True, input_columns=["text"], remove_columns=["text"]
    )


def ours_end_to_end(dataset: Dataset, config: DedupConfig) -> np.ndarray:
    return np.array(deduplicate(dataset, config=config, num_proc=1, keep_cluster_id=True)[0]["cluster_id"])


def datasketch_signatures(texts: list[str], ngram: int, num_perm: int) -> tuple[np.ndarray, list[MinHash]]:
    """Exact hashes and datasketch MinHashes of the same normalised shingles, one document at a time."""
    digests, shingle_lists = [], []
    for text in texts:
        normalized = plain_normalize(text)
        digests.append(xxhash.xxh3_128_digest(normalized.encode("utf-8")))
        shingle_lists.append([shingle.encode("utf-8") for shingle in shingle_strings(normalized, ngram)])
    exact = np.frombuffer(b"".join(digests), dtype=np.uint64).reshape(-1, 2)
    return exact, MinHash.bulk(shingle_lists, num_perm=num_perm)


def datasketch_end_to_end(texts: list[str], config: DedupConfig, params: tuple[int, int]) -> np.ndarray:
    exact, minhashes = datasketch_signatures(texts, config.ngram, config.num_perm)
    representatives = exact_duplicate_representatives(exact)
    distinct = np.flatnonzero(representatives == np.arange(len(texts)))
    lsh = MinHashLSH(num_perm=config.num_perm, params=params)
    with lsh.insertion_session() as session:
        for index in distinct:
            session.insert(int(index), minhashes[index])
    pairs = sorted(
        {(min(i, int(j)), max(i, int(j))) for i in distinct.tolist() for j in lsh.query(minhashes[i]) if j != i}
    )
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    candidates = np.unique(pairs)
    hashes, offsets = shingle_hashes(*normalize_texts([texts[i] for i in candidates]), config.ngram)
    similarities = jaccard_similarities(hashes, offsets, np.searchsorted(candidates, pairs))
    copies = np.flatnonzero(representatives != np.arange(len(texts)))
    edges = np.concatenate([pairs[similarities > config.threshold], np.stack([copies, representatives[copies]], 1)])
    return connected_components(len(texts), edges)


def _median_time(function, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2,000 documents, one repeat: a smoke run.")
    args = parser.parse_args()
    if args.quick:
        args.documents, args.repeats = 2_000, 1
    disable_progress_bars()

    texts = make_corpus(args.documents, args.seed)
    dataset = Dataset.from_dict({"text": texts})
    default, deepvk = DedupConfig(), DedupConfig.from_preset("deepvk")
    truth, truth_similarities = brute_force_pairs(texts, default.ngram, default.threshold)
    borderline = truth_similarities <= 0.8
    truth_components = connected_components(len(texts), truth)

    rows = []
    for name, run_signatures, run_all in [
        ("ours 20x5 (default)", lambda: ours_signatures(dataset, default), lambda: ours_end_to_end(dataset, default)),
        ("ours 10x10 (deepvk)", lambda: ours_signatures(dataset, deepvk), lambda: ours_end_to_end(dataset, deepvk)),
        (
            "datasketch 10x10",
            lambda: datasketch_signatures(texts, default.ngram, default.num_perm),
            lambda: datasketch_end_to_end(texts, default, (10, 10)),
        ),
    ]:
        signature_seconds, _ = _median_time(run_signatures, args.repeats)
        total_seconds, clusters = _median_time(run_all, args.repeats)
        found, precision = recall_precision(clusters, truth, truth_components)
        rows.append(
            {
                "pipeline": name,
                "signature_docs_per_s": len(texts) / signature_seconds,
                "end_to_end_docs_per_s": len(texts) / total_seconds,
                "kept": int(np.count_nonzero(clusters == np.arange(len(texts)))),
                "recall": float(found.mean()) if len(found) else 1.0,
                "recall_07_08": float(found[borderline].mean()) if borderline.any() else 1.0,
                "precision": precision,
            }
        )

    clusters = int(np.count_nonzero(truth_components == np.arange(len(texts))))
    print(
        f"{len(texts):,} documents; brute force: {len(truth):,} pairs with Jaccard > {default.threshold} "
        f"({int(borderline.sum()):,} of them <= 0.8), {clusters:,} documents to keep; median of {args.repeats} "
        "runs, one process each"
    )
    header = (
        f"{'pipeline':<22}{'signatures docs/s':>19}{'end-to-end docs/s':>19}{'kept':>8}{'recall':>9}"
        f"{'recall 0.7-0.8':>16}{'precision':>11}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['pipeline']:<22}{row['signature_docs_per_s']:>19,.0f}{row['end_to_end_docs_per_s']:>19,.0f}"
            f"{row['kept']:>8,}{row['recall']:>9.4f}{row['recall_07_08']:>16.4f}{row['precision']:>11.4f}"
        )
    ours, deepvk_row, baseline = rows
    signature_speedup = ours["signature_docs_per_s"] / baseline["signature_docs_per_s"]
    end_to_end_speedup = ours["end_to_end_docs_per_s"] / baseline["end_to_end_docs_per_s"]
    print(
        f"speed-up of ours (default) over datasketch: signatures {signature_speedup:.2f}x, "
        f"end to end {end_to_end_speedup:.2f}x"
    )
    summary = {
        "benchmark": "dedup",
        "documents": len(texts),
        "repeats": args.repeats,
        "signature_docs_per_s": {
            "ours": round(ours["signature_docs_per_s"]),
            "datasketch": round(baseline["signature_docs_per_s"]),
        },
        "end_to_end_docs_per_s": {
            "ours": round(ours["end_to_end_docs_per_s"]),
            "datasketch": round(baseline["end_to_end_docs_per_s"]),
        },
        "signature_speedup": round(signature_speedup, 3),
        "end_to_end_speedup": round(end_to_end_speedup, 3),
        "recall": round(ours["recall"], 5),
        "precision": round(ours["precision"], 5),
        "recall_07_08": round(ours["recall_07_08"], 5),
        "recall_deepvk": round(deepvk_row["recall"], 5),
        "recall_07_08_deepvk": round(deepvk_row["recall_07_08"], 5),
        "recall_datasketch": round(baseline["recall"], 5),
        "precision_datasketch": round(baseline["precision"], 5),
        "targets": TARGETS,
    }
    summary["ok"] = bool(
        signature_speedup >= TARGETS["signature_speedup"]
        and end_to_end_speedup >= TARGETS["end_to_end_speedup"]
        and ours["recall"] >= TARGETS["recall"]
        and ours["precision"] >= TARGETS["precision"]
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
