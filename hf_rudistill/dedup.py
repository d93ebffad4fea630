"""Exact and near-duplicate removal for a text column of a :class:`datasets.Dataset` (the deepvk recipe).

Pipeline of :func:`deduplicate`:

1. **Normalise** each text (:func:`normalize_text`: Unicode NFKC, lowercase, ``ё`` -> ``е``, words split on
   non-word characters and joined by single spaces).
2. **Hash** each document in ``Dataset.map(batched=True, num_proc=...)`` (:func:`document_hashes`): a 128-bit
   xxhash of the normalised text for exact duplicates, and MinHash band keys: :func:`shingle_hashes` (word
   n-grams or character n-grams) -> :func:`minhash_signatures` -> :func:`band_keys`. Only the band keys
   (8 bytes per document per band) and the exact hash are kept.
3. **Exact duplicates**: every document whose normalised text occurred earlier is dropped
   (:func:`exact_duplicate_representatives`).
4. **Candidates**: remaining documents sharing a band key in any band (:func:`candidate_pairs`).
5. **Verification**: exact Jaccard similarity of the candidates' shingle sets, recomputed for candidate
   documents only (:func:`jaccard_similarities`); a pair is a duplicate when its similarity is strictly
   greater than ``threshold``.
6. **Clusters**: connected components of the verified pairs and exact copies (:func:`connected_components`);
   the document with the lowest index of each cluster is kept (``Dataset.filter``), or every row gets its
   cluster id when ``keep_cluster_id=True``.

Edge cases: a text with fewer units (words, or characters with ``char_shingles``) than ``ngram`` is one
shingle, the whole normalised text; a text with no word characters (empty, spaces, punctuation) normalises to
the empty string, so all such texts are exact duplicates of each other and only the first is kept.

The hashing functions are pure numpy functions of their arguments so that other backends (e.g. Spark)
can call them on their own partitions and get identical results.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xxhash
from datasets import Dataset, Features, List, Value
from datasets.utils import tqdm

_SPACE, _YO, _YE = ord(" "), ord("ё"), ord("е")
_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible modulo 2**64
_BASE_INVERSE = np.uint64(pow(int(_BASE), -1, 1 << 64))
_LENGTH_SALT = np.uint64(0xD6E8FEB86659FD93)
_BAND_MULTIPLIER = np.uint64(0xFF51AFD7ED558CCD)
_CHUNK_ELEMENTS = 1 << 20
"""Permuted hash values computed at once by :func:`minhash_signatures` (4 MiB of uint32)."""
_CHUNK_PAIR_ELEMENTS = 1 << 22
"""Shingles gathered at once by :func:`jaccard_similarities`."""

DEDUP_PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "deepvk": {"bands": 10, "rows": 10},
}
"""Named settings for :meth:`DedupConfig.from_preset`. ``deepvk`` is the published 10 bands x 10 rows. A pair with
Jaccard ``s`` becomes a candidate with probability ``1 - (1 - s**rows)**bands``: at s = 0.7 / 0.75 / 0.8 that is
0.25 / 0.44 / 0.68 for 10 x 10 and 0.975 / 0.996 / 1.0 for the default 20 x 5."""


@dataclass
class DedupConfig:
    """Settings of :func:`deduplicate`; round-trips through JSON (:meth:`to_json` / :meth:`from_json`)."""

    ngram: int = field(
        default=5, metadata={"help": "Shingle size: words per shingle (characters with char_shingles)."}
    )
    char_shingles: bool = field(
        default=False, metadata={"help": "Shingle characters of the normalised text instead of words."}
    )
    num_perm: int = field(default=100, metadata={"help": "MinHash permutations; must equal bands * rows."})
    bands: int = field(default=20, metadata={"help": "LSH bands: documents sharing any band are candidates."})
    rows: int = field(default=5, metadata={"help": "Signature values per band."})
    threshold: float = field(
        default=0.7, metadata={"help": "A candidate pair is a duplicate when its Jaccard is strictly greater."}
    )
    seed: int = field(default=42, metadata={"help": "Seed of the MinHash permutations."})

    def __post_init__(self) -> None:
        for name in ("ngram", "num_perm", "bands", "rows", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"DedupConfig.{name} must be an integer, got {value!r}.")
        for name in ("ngram", "num_perm", "bands", "rows"):
            if getattr(self, name) < 1:
                raise ValueError(f"DedupConfig.{name} must be at least 1, got {getattr(self, name)}.")
        if self.bands * self.rows != self.num_perm:
            raise ValueError(
                f"bands x rows = {self.bands} x {self.rows} = {self.bands * self.rows} must equal "
                f"num_perm = {self.num_perm}; change one of them."
            )
        if not 0.0 <= self.threshold < 1.0:
            raise ValueError(f"DedupConfig.threshold must be in [0, 1), got {self.threshold}.")
        if not 0 <= self.seed < 2**32:
            raise ValueError(f"DedupConfig.seed must be in [0, 2**32), got {self.seed}.")

    @classmethod
    def from_preset(cls, preset: str = "default", **overrides: Any) -> DedupConfig:
        """The settings of a named preset (``default`` = 20 x 5, ``deepvk`` = 10 x 10), with overrides."""
        if preset not in DEDUP_PRESETS:
            raise ValueError(f"Unknown dedup preset {preset!r}: choose one of {sorted(DEDUP_PRESETS)}.")
        return cls(**{**DEDUP_PRESETS[preset], **overrides})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DedupConfig:
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"Unknown DedupConfig fields: {sorted(unknown)}.")
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DedupConfig:
        return cls.from_dict(json.loads(text))


@dataclass
class DedupReport:
    """What :func:`deduplicate` found. Counts are of documents unless named pairs."""

    documents_in: int
    documents_out: int
    exact_duplicates: int
    """Documents dropped because the same normalised text occurs at a lower index."""
    near_duplicates: int
    """Documents dropped because they joined a near-duplicate cluster (exact copies not counted)."""
    near_duplicate_clusters: int
    """Clusters holding at least two distinct normalised texts."""
    largest_cluster: int
    """Documents in the largest cluster, exact copies included (1 when nothing is duplicated)."""
    candidate_pairs: int
    """Distinct pairs of distinct texts that share a band key in at least one band."""
    verified_pairs: int
    """Candidate pairs whose exact Jaccard similarity is greater than the threshold."""

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@functools.lru_cache(maxsize=1)
def _word_characters() -> np.ndarray:
    """``table[c]``: whether code point ``c`` matches ``\\w`` in Python's ``re`` (letters, digits, ``_``)."""
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    table = np.zeros(sys.maxunicode + 1, dtype=bool)
    for match in re.finditer(r"\w+", everything):
        table[match.start() : match.end()] = True
    return table


def _offsets(counts: np.ndarray) -> np.ndarray:
    """``[0, c0, c0 + c1, ...]``: where each of consecutive runs of ``counts`` items starts (and the total)."""
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def normalize_texts(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Normalise a batch of texts: NFKC, lowercase, ``ё`` -> ``е``, then the words (runs of ``\\w``) joined by
    single spaces. A text without word characters becomes the empty text.

    Returns:
        ``(codes, offsets)``: the uint32 code points of all normalised texts back to back; text ``i`` is
        ``codes[offsets[i]:offsets[i + 1]]``. NFKC and lowercasing are one Python call per text, the rest numpy.
    """
    prepared = [unicodedata.normalize("NFKC", text).lower() for text in texts]
    lengths = np.fromiter(map(len, prepared), dtype=np.int64, count=len(prepared))
    raw = np.frombuffer("\n".join(prepared).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).copy()
    raw[raw == _YO] = _YE
    is_word = _word_characters()[raw]
    change = np.diff(np.pad(is_word.view(np.int8), 1))
    word_starts, word_ends = np.flatnonzero(change == 1), np.flatnonzero(change == -1)
    word_text = np.searchsorted(_offsets(lengths + 1)[:-1], word_starts, side="right") - 1  # "\n" joins texts
    followed_in_text = np.zeros(len(word_text), dtype=bool)
    followed_in_text[:-1] = word_text[1:] == word_text[:-1]
    # Keep the word characters and the first separator after each word followed by another in its text.
    keep = is_word.copy()
    keep[word_ends[followed_in_text]] = True
    codes = np.where(is_word, raw, np.uint32(_SPACE))[keep]
    out_starts = _offsets(word_ends - word_starts + followed_in_text)
    return codes, out_starts[np.searchsorted(word_text, np.arange(len(texts) + 1))]


def normalize_text(text: str) -> str:
    """One normalised text (see :func:`normalize_texts`), e.g. ``"Ёлки-палки, 2 раза!"`` -> ``"елки палки 2 раза"``."""
    return normalize_texts([text])[0].tobytes().decode("utf-32-le")


def exact_hashes(codes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """xxh3-128 of the UTF-32-LE bytes of each normalised text (from :func:`normalize_texts`), ``(texts, 2)``
    uint64."""
    data = memoryview(codes).cast("B")
    bounds = (offsets * 4).tolist()
    digests = b"".join(xxhash.xxh3_128_digest(data[start:end]) for start, end in zip(bounds[:-1], bounds[1:]))
    return np.frombuffer(digests, dtype=np.uint64).reshape(len(offsets) - 1, 2)


def _mix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection of uint64 that spreads every input bit over the output."""
    values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def _power_table(base: np.uint64, size: int) -> np.ndarray:
    """``base ** i`` modulo 2**64 for ``i`` in ``range(size)``."""
    powers = np.full(size, base, dtype=np.uint64)
    powers[0] = 1
    return np.cumprod(powers, dtype=np.uint64)


_power_cache = (_power_table(_BASE, 1), _power_table(_BASE_INVERSE, 1))


def _powers(count: int) -> tuple[np.ndarray, np.ndarray]:
    """``BASE ** i`` and ``BASE ** -i`` modulo 2**64 for ``i`` in ``range(count)`` (at least), cached."""
    global _power_cache
    cache = _power_cache
    if len(cache[0]) < count:
        size = max(count, 2 * len(cache[0]))
        cache = _power_cache = (_power_table(_BASE, size), _power_table(_BASE_INVERSE, size))
    return cache


def shingle_hashes(
    codes: np.ndarray, offsets: np.ndarray, ngram: int, char_shingles: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the shingles of normalised texts (``codes``, ``offsets`` from :func:`normalize_texts`).

    A shingle is ``ngram`` consecutive words with their separating spaces, or ``ngram`` consecutive characters
    with ``char_shingles``; a text with fewer words (characters) is one shingle, the whole text, the empty text
    included. Each shingle is hashed as a polynomial over its code points, computed for all shingles at once
    from prefix sums modulo 2**64, then mixed with splitmix64: no Python call per shingle.

    Returns:
        ``(hashes, shingle_offsets)``: the hashes of text ``i`` are ``hashes[shingle_offsets[i]:shingle_offsets[i
        + 1]]``, at least one per text, in order, repeats kept.
    """
    text_starts, text_ends = offsets[:-1], offsets[1:]
    if char_shingles:
        unit_starts = np.arange(len(codes))
        unit_ends = unit_starts + 1
        unit_counts = text_ends - text_starts
    else:
        spaces = np.flatnonzero(codes == _SPACE)
        nonempty = text_ends > text_starts
        boundaries = np.zeros((2, len(codes) + 1), dtype=bool)
        boundaries[0, spaces + 1] = boundaries[0, text_starts[nonempty]] = True
        boundaries[1, spaces] = boundaries[1, text_ends[nonempty]] = True
        unit_starts, unit_ends = np.flatnonzero(boundaries[0, :-1]), np.flatnonzero(boundaries[1])
        unit_counts = np.diff(np.searchsorted(spaces, offsets)) + nonempty

    shingle_counts = np.maximum(unit_counts - ngram + 1, 1)
    shingle_offsets = _offsets(shingle_counts)
    shingle_text = np.repeat(np.arange(len(shingle_counts)), shingle_counts)
    starts, ends = text_starts[shingle_text], text_ends[shingle_text]
    windowed = unit_counts[shingle_text] >= ngram
    position_in_text = np.arange(len(shingle_text)) - shingle_offsets[shingle_text]
    first_unit = (_offsets(unit_counts)[shingle_text] + position_in_text)[windowed]
    starts[windowed] = unit_starts[first_unit]
    ends[windowed] = unit_ends[first_unit + ngram - 1]

    # prefix[i] = sum_{j < i} codes[j] * BASE**-j, so that (prefix[e] - prefix[s]) * BASE**s, the hash of
    # codes[s:e], is sum_t codes[s + t] * BASE**-t whatever the position s.
    powers, inverse_powers = _powers(len(codes) + 1)
    prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
    np.cumsum(codes * inverse_powers[: len(codes)], out=prefix[1:])
    hashes = (prefix[ends] - prefix[starts]) * powers[starts]
    hashes += (ends - starts + 1).astype(np.uint64) * _LENGTH_SALT
    return _mix64(hashes), shingle_offsets


def permutation_parameters(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers (odd) and increments of the permutations ``h -> a * h + b`` modulo 2**32."""
    rng = np.random.default_rng(seed)
    multipliers = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint32) | np.uint32(1)
    increments = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint32)
    return multipliers, increments


def minhash_signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signatures, shape ``(len(offsets) - 1, num_perm)`` uint32, from :func:`shingle_hashes` output.

    Permutation ``p`` maps the low 32 bits ``h`` of a (mixed) shingle hash to ``a_p * h + b_p`` modulo 2**32,
    a bijection (``a_p`` odd); signature value ``p`` is the minimum over the document's shingles. Computed on
    (num_perm x shingles) arrays, a chunk of documents at a time.
    """
    counts = np.diff(offsets)
    if np.any(counts < 1):
        raise ValueError("Every document needs at least one shingle hash (see shingle_hashes).")
    multipliers, increments = permutation_parameters(num_perm, seed)
    low_bits = hashes.astype(np.uint32)
    signatures = np.empty((len(counts), num_perm), dtype=np.uint32)
    rows_per_chunk = max(_CHUNK_ELEMENTS // num_perm, 1)
    first = 0
    while first < len(counts):
        last = max(int(np.searchsorted(offsets, offsets[first] + rows_per_chunk, side="right")) - 1, first + 1)
        last = min(last, len(counts))
        begin, end = offsets[first], offsets[last]
        permuted = np.multiply.outer(multipliers, low_bits[begin:end])
        permuted += increments[:, None]
        signatures[first:last] = np.minimum.reduceat(permuted, offsets[first:last] - begin, axis=1).T
        first = last
    return signatures


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per band, shape ``(documents, bands)``: equal band values give equal keys."""
    if signatures.shape[1] != bands * rows:
        raise ValueError(f"Signatures have {signatures.shape[1]} values, expected bands x rows = {bands * rows}.")
    values = signatures.reshape(len(signatures), bands, rows).astype(np.uint64)
    keys = values[:, :, 0].copy()
    for row in range(1, rows):
        keys = keys * _BAND_MULTIPLIER + values[:, :, row]
    return _mix64(keys)


def document_hashes(texts: Sequence[str], config: DedupConfig) -> dict[str, np.ndarray]:
    """Per text: ``exact_hash`` (:func:`exact_hashes`) and MinHash ``band_keys`` (:func:`band_keys`)."""
    codes, offsets = normalize_texts(texts)
    hashes, shingle_offsets = shingle_hashes(codes, offsets, config.ngram, config.char_shingles)
    signatures = minhash_signatures(hashes, shingle_offsets, config.num_perm, config.seed)
    return {"exact_hash": exact_hashes(codes, offsets), "band_keys": band_keys(signatures, config.bands, config.rows)}


def _starts_of_runs(ordered: np.ndarray) -> np.ndarray:
    """Mask of the elements (rows) of a sorted array that differ from their predecessor, the first included."""
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = np.any(ordered[1:] != ordered[:-1], axis=tuple(range(1, ordered.ndim)))
    return starts


def _dense_ranks(values: np.ndarray) -> np.ndarray:
    """Rank of each value among the distinct values (0, 1, ...), as uint64."""
    order = np.argsort(values)
    ranks = np.empty(len(values), dtype=np.uint64)
    ranks[order] = np.cumsum(_starts_of_runs(values[order])) - 1
    return ranks


def exact_duplicate_representatives(hashes: np.ndarray) -> np.ndarray:
    """For each document, the lowest index with the same exact hash (``(documents, 2)``, from
    :func:`exact_hashes`); the document itself when it is the first."""
    count = len(hashes)
    order = np.lexsort((np.arange(count), hashes[:, 1], hashes[:, 0]))
    starts_group = _starts_of_runs(hashes[order])
    representatives = np.empty(count, dtype=np.int64)
    representatives[order] = order[np.flatnonzero(starts_group)][np.cumsum(starts_group) - 1]
    return representatives


def candidate_pairs(keys: np.ndarray) -> np.ndarray:
    """Distinct pairs ``(i, j)``, ``i < j``, of rows of ``keys`` (documents x bands) equal in some band.

    Equal keys are grouped by sorting each band; every pair within a group is returned (a group of ``g``
    documents gives ``g * (g - 1) / 2`` pairs), shape ``(pairs, 2)`` int64, sorted.
    """
    return _pairs_sharing_a_key((keys[:, band] for band in range(keys.shape[1])), len(keys))


def _pairs_sharing_a_key(band_columns: Iterable[np.ndarray], count: int) -> np.ndarray:
    """:func:`candidate_pairs` from the key columns of one band at a time (``count`` keys each)."""
    codes = [np.empty(0, dtype=np.int64)]
    for column in band_columns:
        order = np.argsort(column, kind="stable")
        new_group = _starts_of_runs(column[order])
        group_ends = np.append(np.flatnonzero(new_group)[1:], count)
        # The element at sorted position p pairs with every later position of its group.
        partners = group_ends[np.cumsum(new_group) - 1] - np.arange(count) - 1
        left = np.repeat(np.arange(count), partners)
        right = left + 1 + np.arange(len(left)) - np.repeat(_offsets(partners)[:-1], partners)
        first, second = order[left], order[right]
        codes.append(np.minimum(first, second).astype(np.int64) * count + np.maximum(first, second))
    codes = np.sort(np.concatenate(codes))
    unique = codes[_starts_of_runs(codes)]
    return np.stack([unique // max(count, 1), unique % max(count, 1)], axis=1)


def jaccard_similarities(hashes: np.ndarray, offsets: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Exact Jaccard similarity of the shingle-hash sets of each pair of documents (float64, one per pair).

    ``hashes``/``offsets`` as returned by :func:`shingle_hashes`; ``pairs`` index its documents. Hashes are
    replaced by their ranks among all hashes (``bits`` wide) and each set is sorted and deduplicated once; each
    pair's sets are encoded as ``pair << bits | rank`` so that the intersections of all pairs come from one
    ``searchsorted``, a chunk of pairs at a time.
    """
    documents = len(offsets) - 1
    ranks = _dense_ranks(hashes)
    bits = np.uint64(max(int(ranks.max(initial=0)).bit_length(), 1))
    # One sort orders every set; dropping equal neighbours removes repeats within a document.
    keys = np.sort((np.repeat(np.arange(documents, dtype=np.uint64), np.diff(offsets)) << bits) | ranks)
    keys = keys[_starts_of_runs(keys)]
    ranks = keys & ((np.uint64(1) << bits) - np.uint64(1))
    sizes = np.bincount((keys >> bits).astype(np.int64), minlength=documents)
    set_offsets = _offsets(sizes)

    def encoded(members: np.ndarray) -> np.ndarray:
        counts = sizes[members]
        pair = np.repeat(np.arange(len(members), dtype=np.uint64), counts)
        within = np.arange(counts.sum()) - np.repeat(_offsets(counts)[:-1], counts)
        return (pair << bits) | ranks[np.repeat(set_offsets[members], counts) + within]

    similarities = np.empty(len(pairs), dtype=np.float64)
    pair_sizes = sizes[pairs[:, 0]] + sizes[pairs[:, 1]]
    cumulative_sizes = _offsets(pair_sizes)
    first = 0
    while first < len(pairs):
        last = int(np.searchsorted(cumulative_sizes, cumulative_sizes[first] + _CHUNK_PAIR_ELEMENTS, "right")) - 1
        last = min(max(last, first + 1), len(pairs))
        left, right = encoded(pairs[first:last, 0]), encoded(pairs[first:last, 1])
        found = left[np.minimum(np.searchsorted(left, right), len(left) - 1)] == right
        shared = np.bincount((right[found] >> bits).astype(np.int64), minlength=last - first)
        similarities[first:last] = shared / (pair_sizes[first:last] - shared)
        first = last
    return similarities


def connected_components(num_nodes: int, edges: np.ndarray) -> np.ndarray:
    """Component label of each node: the lowest node index in its component.

    Vectorised union-find: every edge joining two trees hooks the larger root under the smaller one
    (``np.minimum.at``), then pointer jumping flattens every tree; repeated until no edge joins two trees.
    """
    parent = np.arange(num_nodes, dtype=np.int64)
    first, second = edges[:, 0].astype(np.int64), edges[:, 1].astype(np.int64)
    while len(first):
        root_first, root_second = parent[first], parent[second]
        joining = root_first != root_second
        first, second = first[joining], second[joining]
        if not len(first):
            break
        root_first, root_second = root_first[joining], root_second[joining]
        np.minimum.at(parent, np.maximum(root_first, root_second), np.minimum(root_first, root_second))
        while True:
            grandparent = parent[parent]
            if np.array_equal(grandparent, parent):
                break
            parent = grandparent
    return parent


def _hash_features(config: DedupConfig) -> Features:
    return Features(
        {
            "exact_hash": List(Value("uint64"), length=2),
            "band_keys": List(Value("uint64"), length=config.bands),
        }
    )


def _hash_batch(texts: list, indices: list[int], column: str, config: DedupConfig) -> dict[str, np.ndarray]:
    for text, index in zip(texts, indices):
        if not isinstance(text, str):
            raise TypeError(f"Column {column!r} must hold strings; row {index} holds {text!r}.")
    return document_hashes(texts, config)


def _keep_rows(indices: list[int], keep: np.ndarray) -> np.ndarray:
    return keep[indices]


def _fixed_size_list_chunks(dataset: Dataset, name: str, width: int) -> list[np.ndarray]:
    """A fixed-size list column as ``(rows, width)`` numpy views of its Arrow chunks (no copy)."""
    chunks = [chunk.flatten().to_numpy().reshape(-1, width) for chunk in dataset.data.column(name).chunks]
    return chunks or [np.empty((0, width), dtype=np.uint64)]


def _hash_documents(
    dataset: Dataset, column: str, config: DedupConfig, num_proc: int | None, batch_size: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Exact hashes ``(documents, 2)`` and chunks of band keys ``(rows, bands)`` from a batched ``Dataset.map``."""
    if not len(dataset):  # map returns an empty dataset unchanged, without the new columns
        return np.empty((0, 2), dtype=np.uint64), [np.empty((0, config.bands), dtype=np.uint64)]
    _word_characters()  # built once here rather than in each forked worker
    hashed = dataset.map(
        _hash_batch,
        batched=True,
        batch_size=batch_size,
        num_proc=num_proc,
        with_indices=True,
        input_columns=[column],
        remove_columns=dataset.column_names,
        features=_hash_features(config),
        fn_kwargs={"column": column, "config": config},
        desc="MinHash signatures",
    )
    exact = np.concatenate(_fixed_size_list_chunks(hashed, "exact_hash", 2))
    return exact, _fixed_size_list_chunks(hashed, "band_keys", config.bands)


def _check_text_column(dataset: Dataset, column: str) -> None:
    if column not in dataset.column_names:
        raise ValueError(f"Column {column!r} not found; the dataset has columns {dataset.column_names}.")
    feature = dataset.features[column]
    if not (isinstance(feature, Value) and feature.dtype in ("string", "large_string")):
        raise TypeError(f"Column {column!r} must hold strings, but its type is {feature}.")


def _candidate_shingles(
    dataset: Dataset, column: str, documents: np.ndarray, config: DedupConfig, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of the given documents (sorted indices), recomputed from their texts."""
    texts = dataset.select_columns([column])
    all_hashes, all_counts = [np.empty(0, dtype=np.uint64)], [np.empty(0, dtype=np.int64)]
    batches = range(0, len(documents), batch_size)
    for start in tqdm(batches, desc="Shingles of candidates", unit="batch", disable=not batches):
        batch = texts[documents[start : start + batch_size].tolist()][column]
        hashes, shingle_offsets = shingle_hashes(*normalize_texts(batch), config.ngram, config.char_shingles)
        all_hashes.append(hashes)
        all_counts.append(np.diff(shingle_offsets))
    return np.concatenate(all_hashes), _offsets(np.concatenate(all_counts))


def deduplicate(
    dataset: Dataset,
    column: str = "text",
    config: DedupConfig | None = None,
    *,
    num_proc: int | None = None,
    batch_size: int = 1000,
    keep_cluster_id: bool = False,
    cluster_column: str = "cluster_id",
) -> tuple[Dataset, DedupReport]:
    """Remove exact and near-duplicate texts from ``dataset[column]`` (see the module docstring).

    Args:
        dataset: a :class:`datasets.Dataset` with a string column ``column``.
        config: settings; :class:`DedupConfig` defaults (word 5-grams, 20 bands x 5 rows, Jaccard > 0.7).
        num_proc: processes for the hashing ``map`` and the ``filter``.
        batch_size: documents per ``map`` batch.
        keep_cluster_id: keep every row and add ``cluster_column`` (the index of the row its cluster keeps)
            instead of dropping duplicates.

    Returns:
        ``(dataset, report)``: the deduplicated dataset (original order, lowest index of each cluster kept)
        and a :class:`DedupReport`.

    Example:
        >>> from datasets import Dataset
        >>> data = Dataset.from_dict({"text": ["Привет, мир!", "привет мир", "Совсем другой текст"]})
        >>> kept, report = deduplicate(data)
        >>> kept["text"][:], report.exact_duplicates
        (['Привет, мир!', 'Совсем другой текст'], 1)
    """
    config = config or DedupConfig()
    _check_text_column(dataset, column)
    if keep_cluster_id and cluster_column in dataset.column_names:
        raise ValueError(f"Column {cluster_column!r} already exists; choose another cluster_column.")
    count = len(dataset)
    exact, key_chunks = _hash_documents(dataset, column, config, num_proc, batch_size)
    representatives = exact_duplicate_representatives(exact)
    distinct = np.flatnonzero(representatives == np.arange(count))
    # One band in memory at a time: the keys stay in the (memory-mapped) Arrow table.
    bands = (np.concatenate([chunk[:, band] for chunk in key_chunks])[distinct] for band in range(config.bands))
    pairs = distinct[_pairs_sharing_a_key(bands, len(distinct))]
    candidates = np.unique(pairs)
    hashes, offsets = _candidate_shingles(dataset, column, candidates, config, batch_size)
    similarities = jaccard_similarities(hashes, offsets, np.searchsorted(candidates, pairs))
    verified = pairs[similarities > config.threshold]
    copies = np.flatnonzero(representatives != np.arange(count))
    edges = np.concatenate([verified, np.stack([copies, representatives[copies]], axis=1)])
    clusters = connected_components(count, edges)
    keep = clusters == np.arange(count)
    cluster_sizes = np.bincount(clusters, minlength=count)
    report = DedupReport(
        documents_in=count,
        documents_out=int(keep.sum()),
        exact_duplicates=len(copies),
        near_duplicates=len(distinct) - int(keep.sum()),
        near_duplicate_clusters=int(np.count_nonzero(np.bincount(clusters[distinct], minlength=count) > 1)),
        largest_cluster=int(cluster_sizes.max()) if count else 0,
        candidate_pairs=len(pairs),
        verified_pairs=len(verified),
    )
    if keep_cluster_id:
        return dataset.add_column(cluster_column, clusters), report
    kept = dataset.filter(
        _keep_rows,
        batched=True,
        with_indices=True,
        input_columns=[],
        num_proc=num_proc,
        fn_kwargs={"keep": keep},
        desc="Dropping duplicates",
    )
    return kept, report
