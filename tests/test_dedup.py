"""Tests of hf_rudistill.dedup and `rudistill dedup` against brute-force reference code written here."""

from __future__ import annotations

import itertools
import json
import random
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset, Features, Value, load_from_disk

from hf_rudistill import dedup
from hf_rudistill.cli import main
from hf_rudistill.data import load_corpus
from hf_rudistill.dedup import (
    DedupConfig,
    DedupReport,
    band_keys,
    candidate_pairs,
    connected_components,
    deduplicate,
    exact_duplicate_representatives,
    exact_hashes,
    jaccard_similarities,
    minhash_signatures,
    normalize_text,
    normalize_texts,
    permutation_parameters,
    shingle_hashes,
)

ROOT = Path(__file__).resolve().parents[1]
WORD = re.compile(r"\w+")


# ------------------------------------------------------------------------------------- reference code


def reference_normalize(text: str) -> str:
    return " ".join(WORD.findall(unicodedata.normalize("NFKC", text).lower().replace("ё", "е")))


def reference_shingles(text: str, ngram: int, char_shingles: bool = False) -> list[str]:
    normalized = reference_normalize(text)
    units = list(normalized) if char_shingles else normalized.split()
    if len(units) < ngram:
        return [normalized]
    joiner = "" if char_shingles else " "
    return [joiner.join(units[i : i + ngram]) for i in range(len(units) - ngram + 1)]


def reference_jaccard(first: set, second: set) -> float:
    return len(first & second) / len(first | second)


def reference_components(num_nodes: int, edges) -> list[int]:
    """Plain union-find; the label of a node is the smallest node of its component."""
    parent = list(range(num_nodes))

    def find(node: int) -> int:
        while parent[node] != node:
            node = parent[node]
        return node

    for first, second in edges:
        root_first, root_second = find(int(first)), find(int(second))
        parent[max(root_first, root_second)] = min(root_first, root_second)
    return [find(node) for node in range(num_nodes)]


def hashes_of(texts: list[str], ngram: int, char_shingles: bool = False) -> tuple[np.ndarray, np.ndarray]:
    return shingle_hashes(*normalize_texts(texts), ngram, char_shingles)


def pairs_with_jaccard(similarity: float, count: int, rng: np.random.Generator, union: int = 60) -> list[str]:
    """``count`` pairs of texts of distinct words whose word sets (1-shingles) have exactly this Jaccard."""
    shared = round(similarity * union)
    only_first = (union - shared) // 2
    texts = []
    for _ in range(count):
        words = [f"w{value}" for value in rng.choice(10**9, size=union, replace=False)]
        texts.append(" ".join(words[:shared] + words[shared : shared + only_first]))
        texts.append(" ".join(words[:shared] + words[shared + only_first :]))
    return texts


# ---------------------------------------------------------------------------------------- normalisation


def test_normalize_text_examples():
    assert normalize_text("Ёлки-палки, 2 раза!") == "елки палки 2 раза"
    assert normalize_text("ПРИВЕТ,\u00a0мир\n\tи ёж") == "привет мир и еж"
    assert normalize_text("ﬁle Ⅻ ①") == "file xii 1"  # NFKC folds ligatures, numerals, circled digits
    assert normalize_text("Е\u0308ж") == "еж"  # decomposed Ё composes under NFKC, then ё -> е
    assert normalize_text("") == normalize_text(" ,.!? ") == ""


def test_normalize_texts_matches_reference_on_random_unicode():
    rng = random.Random(0)
    alphabet = list("абвгдеёжЁЕЖ xyzXYZ019_,.!?-—\n\t\u00a0\u0301\u0308") + [
        "ﬁ",
        "Ⅻ",
        "ß",
        "İ",
        "Σ",
        "\ud800",
        "𝔘",
        "½",
    ]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(2000)]
    codes, offsets = normalize_texts(texts)
    assert offsets[0] == 0 and offsets[-1] == len(codes) and len(offsets) == len(texts) + 1
    for index, text in enumerate(texts):
        got = codes[offsets[index] : offsets[index + 1]].tobytes().decode("utf-32-le", "surrogatepass")
        assert got == reference_normalize(text), text


# ------------------------------------------------------------------------------------------ shingling


@pytest.mark.parametrize("ngram,char_shingles", [(1, False), (3, False), (5, False), (1, True), (4, True)])
def test_shingle_hashes_are_a_collision_free_function_of_the_reference_shingles(ngram, char_shingles):
    rng = random.Random(ngram)
    vocabulary = ["мир", "дом", "кот", "Ёж", "рыба", "и", "в", "2024"]  # small: shingles repeat across texts
    texts = [
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 12))) + rng.choice(["", "!", " ,"])
        for _ in range(400)
    ] + ["", "", "кот", "Кот!"]
    hashes, offsets = hashes_of(texts, ngram, char_shingles)
    hash_of: dict[str, int] = {}
    for index, text in enumerate(texts):
        expected = reference_shingles(text, ngram, char_shingles)
        got = hashes[offsets[index] : offsets[index + 1]].tolist()
        assert len(got) == len(expected)
        for shingle, value in zip(expected, got):
            assert hash_of.setdefault(shingle, value) == value  # equal shingles, equal hashes
    assert len(set(hash_of.values())) == len(hash_of)  # distinct shingles, distinct hashes
    assert len(hash_of) > 8


def test_shingle_hashes_do_not_depend_on_the_batch(monkeypatch):
    monkeypatch.setattr(dedup, "_power_cache", (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64)))
    texts = ["Короткий текст.", "", "Один два три четыре пять шесть семь восемь девять десять."] * 3 + ["x " * 500]
    alone = [hashes_of([text], 5)[0] for text in texts]  # the cached powers grow along the way
    hashes, offsets = hashes_of(texts, 5)
    for index, expected in enumerate(alone):
        assert np.array_equal(hashes[offsets[index] : offsets[index + 1]], expected)


def test_exact_hashes_equal_exactly_for_equal_normalised_texts():
    texts = ["Привет, мир!", "привет   мир", "ПРИВЕТ мир.", "привет мир!!", "привет миру", "", "..."]
    exact = exact_hashes(*normalize_texts(texts))
    groups = [tuple(row) for row in exact.tolist()]
    assert len(set(groups[:4])) == 1 and groups[4] != groups[0] and groups[5] == groups[6] != groups[0]
    assert exact_duplicate_representatives(exact).tolist() == [0, 0, 0, 0, 4, 5, 5]


# ------------------------------------------------------------------------------------------- MinHash


def test_minhash_signatures_match_a_naive_loop(monkeypatch):
    monkeypatch.setattr(dedup, "_CHUNK_ELEMENTS", 64)  # many chunks, some of a single document
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 30, size=40)
    hashes = rng.integers(0, 2**64, size=int(counts.sum()), dtype=np.uint64)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    signatures = minhash_signatures(hashes, offsets, 12, seed=3)
    multipliers, increments = permutation_parameters(12, 3)
    assert np.all(multipliers % 2 == 1)
    for doc in range(len(counts)):
        for perm in range(12):
            expected = min(
                (int(multipliers[perm]) * (int(h) & 0xFFFFFFFF) + int(increments[perm])) % 2**32
                for h in hashes[offsets[doc] : offsets[doc + 1]]
            )
            assert signatures[doc, perm] == expected
    with pytest.raises(ValueError, match="at least one shingle"):
        minhash_signatures(hashes, np.array([0, 0, 3]), 12, seed=3)


def test_minhash_collision_rate_estimates_jaccard():
    rng = np.random.default_rng(1)
    for similarity in (0.2, 0.5, 0.8):
        hashes, offsets = hashes_of(pairs_with_jaccard(similarity, 200, rng), ngram=1)
        signatures = minhash_signatures(hashes, offsets, 100, seed=5)
        rate = np.mean(signatures[0::2] == signatures[1::2])  # 20,000 comparisons
        assert abs(rate - similarity) < 0.015, (similarity, rate)


@pytest.mark.parametrize("bands,rows", [(20, 5), (10, 10)])
def test_candidate_probability_follows_the_s_curve(bands, rows):
    """Share of pairs sharing a band key, per Jaccard level, against 1 - (1 - s^r)^b."""
    rng = np.random.default_rng(bands)
    pairs = 500
    for similarity in (0.3, 0.5, 0.6, 0.7, 0.8, 0.9):
        hashes, offsets = hashes_of(pairs_with_jaccard(similarity, pairs, rng), ngram=1)
        keys = band_keys(minhash_signatures(hashes, offsets, bands * rows, seed=11), bands, rows)
        measured = np.mean(np.any(keys[0::2] == keys[1::2], axis=1))
        expected = 1 - (1 - similarity**rows) ** bands
        tolerance = 4 * np.sqrt(expected * (1 - expected) / pairs) + 0.01
        assert abs(measured - expected) <= tolerance, (similarity, measured, expected)


def test_band_keys_are_equal_exactly_when_the_band_is():
    rng = np.random.default_rng(2)
    signatures = rng.integers(0, 2**32, size=(300, 12), dtype=np.uint32)
    signatures[1::2, :4] = signatures[0::2, :4]  # odd rows copy band 0 (rows 0-3) of the previous row
    keys = band_keys(signatures, bands=3, rows=4)
    same_band = np.all(signatures.reshape(300, 3, 4)[:, None] == signatures.reshape(300, 3, 4)[None], axis=3)
    assert np.array_equal(keys[:, None] == keys[None], same_band)
    with pytest.raises(ValueError, match="bands x rows"):
        band_keys(signatures, bands=5, rows=2)


# --------------------------------------------------------------------------- candidates, Jaccard, clusters


def test_candidate_pairs_match_brute_force():
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 25, size=(150, 4)).astype(np.uint64)
    expected = [(i, j) for i, j in itertools.combinations(range(150), 2) if np.any(keys[i] == keys[j])]
    assert candidate_pairs(keys).tolist() == [list(pair) for pair in expected]
    assert candidate_pairs(np.empty((0, 4), dtype=np.uint64)).shape == (0, 2)


def test_jaccard_similarities_match_python_sets(monkeypatch):
    monkeypatch.setattr(dedup, "_CHUNK_PAIR_ELEMENTS", 100)  # many chunks
    rng = np.random.default_rng(4)
    sets = [rng.integers(0, 40, size=rng.integers(1, 30)).astype(np.uint64) for _ in range(60)]  # with repeats
    hashes = np.concatenate(sets) * np.uint64(0x9E3779B97F4A7C15)  # spread over 64 bits, order shuffled
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sets])])
    pairs = np.array(list(itertools.combinations(range(60), 2)))
    expected = [reference_jaccard(set(sets[i].tolist()), set(sets[j].tolist())) for i, j in pairs]
    assert np.allclose(jaccard_similarities(hashes, offsets, pairs), expected, rtol=0, atol=1e-12)
    assert jaccard_similarities(hashes, offsets, np.empty((0, 2), dtype=np.int64)).shape == (0,)


def test_connected_components_match_union_find():
    rng = np.random.default_rng(5)
    for nodes, edge_count in [(1, 0), (50, 0), (50, 30), (200, 150), (200, 600), (1000, 900)]:
        edges = rng.integers(0, nodes, size=(edge_count, 2))
        assert connected_components(nodes, edges).tolist() == reference_components(nodes, edges)
    path = rng.permutation(3000)  # a long path through shuffled labels: many hook-and-jump rounds
    edges = np.stack([path[:-1], path[1:]], axis=1)
    assert connected_components(3000, edges).tolist() == [0] * 3000


# ----------------------------------------------------------------------------------------- configuration


def test_config_round_trips_and_presets():
    config = DedupConfig(ngram=7, char_shingles=True, num_perm=64, bands=16, rows=4, threshold=0.8, seed=9)
    assert DedupConfig.from_json(config.to_json()) == config
    assert DedupConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert (DedupConfig().bands, DedupConfig().rows) == (20, 5)
    deepvk = DedupConfig.from_preset("deepvk")
    assert (deepvk.ngram, deepvk.num_perm, deepvk.bands, deepvk.rows, deepvk.threshold) == (5, 100, 10, 10, 0.7)
    assert DedupConfig.from_preset("deepvk", threshold=0.8).threshold == 0.8
    with pytest.raises(ValueError, match="Unknown dedup preset"):
        DedupConfig.from_preset("fast")
    with pytest.raises(ValueError, match="Unknown DedupConfig fields"):
        DedupConfig.from_dict({"ngrams": 5})


@pytest.mark.parametrize(
    "values,error,match",
    [
        ({"bands": 16, "rows": 4}, ValueError, "must equal num_perm = 100"),
        ({"threshold": 1.0}, ValueError, "threshold"),
        ({"ngram": 0}, ValueError, "ngram"),
        ({"num_perm": 2.5}, TypeError, "num_perm"),
    ],
)
def test_config_rejects_bad_values(values, error, match):
    with pytest.raises(error, match=match):
        DedupConfig(**values)


# -------------------------------------------------------------------------------------------- deduplicate


def planted_corpus(seed: int = 0) -> list[str]:
    """250 originals (four corpus contexts each, ~110 words), 50 cosmetic exact copies, 130 near copies with
    1-8 word substitutions (word 5-gram Jaccard from about 0.95 down to 0.55), some copies of copies."""
    rng = random.Random(seed)
    contexts = load_corpus("validation")["text"]
    vocabulary = sorted({word for text in contexts[:300] for word in text.split()})
    documents = [" ".join(rng.sample(contexts, 4)) for _ in range(250)]
    for _ in range(130):
        words = rng.choice(documents).split()
        for position in rng.sample(range(len(words)), rng.randint(1, 8)):
            words[position] = rng.choice(vocabulary)
        documents.append(" ".join(words))
    for _ in range(50):
        source = rng.choice(documents)
        documents.append(rng.choice([source.upper(), source.replace("е", "ё"), f"  {source} !!", source + "..."]))
    rng.shuffle(documents)
    return documents


def brute_force(texts: list[str], threshold: float) -> tuple[list[tuple[int, int]], list[int]]:
    """All pairs with 5-gram Jaccard above ``threshold``, and the components of that graph."""
    sets = [set(reference_shingles(text, 5)) for text in texts]
    pairs = [
        (i, j)
        for i, j in itertools.combinations(range(len(texts)), 2)
        if sets[i] & sets[j] and reference_jaccard(sets[i], sets[j]) > threshold
    ]
    return pairs, reference_components(len(texts), pairs)


@pytest.fixture(scope="module")
def planted():
    texts = planted_corpus()
    pairs, components = brute_force(texts, 0.7)
    return Dataset.from_dict({"text": texts, "id": list(range(len(texts)))}), pairs, components


def test_default_preset_finds_the_brute_force_duplicates(planted):
    dataset, pairs, components = planted
    labelled, report = deduplicate(dataset, keep_cluster_id=True)
    clusters = labelled["cluster_id"][:]
    assert labelled["text"][:] == dataset["text"][:]
    recall = np.mean([clusters[i] == clusters[j] for i, j in pairs])
    assert len(pairs) > 100 and recall >= 0.99
    # Precision: documents share a cluster only if a chain of pairs above the threshold joins them.
    for cluster in set(clusters):
        assert len({components[i] for i, c in enumerate(clusters) if c == cluster}) == 1
    assert all(clusters[i] == min(j for j, c in enumerate(clusters) if c == clusters[i]) for i in range(len(clusters)))
    kept, kept_report = deduplicate(dataset)
    assert kept["id"][:] == [i for i, c in enumerate(clusters) if c == i] and kept_report == report
    normalized = [reference_normalize(text) for text in dataset["text"]]
    assert report.exact_duplicates == len(normalized) - len(set(normalized))
    assert report.documents_out == len(kept) == report.documents_in - report.exact_duplicates - report.near_duplicates
    assert report.largest_cluster == max(np.bincount(clusters))
    assert 0 < report.verified_pairs <= report.candidate_pairs
    # The published 10 x 10 banding misses part of the pairs just above 0.7.
    deepvk_clusters = deduplicate(dataset, config=DedupConfig.from_preset("deepvk"), keep_cluster_id=True)[0]
    deepvk_recall = np.mean([deepvk_clusters["cluster_id"][i] == deepvk_clusters["cluster_id"][j] for i, j in pairs])
    assert deepvk_recall < recall


def test_row_order_and_indices_mappings_do_not_change_the_clusters(planted):
    def partition(labelled: Dataset) -> set[frozenset[int]]:
        groups: dict[int, set[int]] = {}
        for identifier, cluster in zip(labelled["id"], labelled["cluster_id"]):
            groups.setdefault(cluster, set()).add(identifier)
        return {frozenset(group) for group in groups.values()}

    dataset = planted[0]
    shuffled = dataset.shuffle(seed=1)  # an indices mapping over the same table
    assert partition(deduplicate(shuffled, keep_cluster_id=True)[0]) == partition(
        deduplicate(dataset, keep_cluster_id=True)[0]
    )


def test_character_shingles_catch_edited_copies():
    base = "Мама мыла раму, а папа читал газету за столом у окна в большой светлой комнате нашего дома."
    edited = base.replace("мыла", "мыла-мыла").replace("газету", "газеты").replace("окна", "окон")
    other = "Совсем другой текст о погоде в горах и о том, как быстро меняется небо над долиной."
    dataset = Dataset.from_dict({"text": [base, edited, other]})
    words = DedupConfig()
    chars = DedupConfig(ngram=5, char_shingles=True)
    assert reference_jaccard(set(reference_shingles(base, 5)), set(reference_shingles(edited, 5))) <= 0.7
    assert deduplicate(dataset, config=words)[1].documents_out == 3
    kept, report = deduplicate(dataset, config=chars)
    assert kept["text"][:] == [base, other] and report.near_duplicate_clusters == 1


def test_num_proc_does_not_change_the_result(planted):
    dataset = planted[0].select(range(200))
    single = deduplicate(dataset, num_proc=1, batch_size=37, keep_cluster_id=True)
    double = deduplicate(dataset, num_proc=2, batch_size=37, keep_cluster_id=True)
    assert single[0]["cluster_id"][:] == double[0]["cluster_id"][:] and single[1] == double[1]
    assert deduplicate(dataset, num_proc=2)[0]["id"][:] == deduplicate(dataset)[0]["id"][:]


def test_exact_copies_are_always_removed():
    texts = ["Один два три.", "ОДИН, два, три!", "один два три", "Два три четыре пять шесть.", "один  два три"]
    strict = DedupConfig(threshold=0.99, num_perm=1, bands=1, rows=1)
    kept, report = deduplicate(Dataset.from_dict({"text": texts}), config=strict)
    assert kept["text"][:] == ["Один два три.", "Два три четыре пять шесть."]
    assert report.exact_duplicates == 3 and report.near_duplicates == 0 and report.largest_cluster == 4


def test_empty_and_short_texts_are_compared_whole():
    texts = ["", "!!!", "   ", "Да", "да.", "Нет", "один два", "ОДИН, два", "один два три четыре пять шесть"]
    for config in (DedupConfig(), DedupConfig(char_shingles=True, ngram=5)):
        kept, report = deduplicate(Dataset.from_dict({"text": texts}), config=config)
        assert kept["text"][:] == ["", "Да", "Нет", "один два", "один два три четыре пять шесть"]
        assert report.exact_duplicates == 4
    only_empty, report = deduplicate(Dataset.from_dict({"text": ["", " ", "?"]}))
    assert only_empty["text"][:] == [""] and report.largest_cluster == 3
    nothing, report = deduplicate(Dataset.from_dict({"text": []}, features=Features({"text": Value("string")})))
    assert len(nothing) == 0 and report == DedupReport(0, 0, 0, 0, 0, 0, 0, 0)


def test_keep_cluster_id_refuses_an_existing_column():
    dataset = Dataset.from_dict({"text": ["a"], "cluster_id": [1]})
    with pytest.raises(ValueError, match="already exists"):
        deduplicate(dataset, keep_cluster_id=True)


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="'body' not found"):
        deduplicate(Dataset.from_dict({"text": ["a"]}), column="body")
    with pytest.raises(TypeError, match="must hold strings, but its type"):
        deduplicate(Dataset.from_dict({"text": [1, 2]}))
    with pytest.raises(TypeError, match="row 2 holds None"):
        deduplicate(Dataset.from_dict({"text": ["a", "b", None]}))


def test_report_to_dict():
    report = DedupReport(10, 7, 2, 1, 1, 3, 5, 2)
    assert report.to_dict() == {
        "documents_in": 10,
        "documents_out": 7,
        "exact_duplicates": 2,
        "near_duplicates": 1,
        "near_duplicate_clusters": 1,
        "largest_cluster": 3,
        "candidate_pairs": 5,
        "verified_pairs": 2,
    }


# ------------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def corpus_file(tmp_path):
    rows = [
        "Первый текст про кошку и собаку во дворе.",
        "ПЕРВЫЙ текст про кошку и собаку во дворе",
        "Второй текст совсем о другом.",
    ]
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps({"text": row, "n": i}, ensure_ascii=False) + "\n" for i, row in enumerate(rows)),
        encoding="utf-8",
    )
    return path


def test_cli_jsonl_to_jsonl_with_report(corpus_file, tmp_path, capsys):
    output, report = tmp_path / "out.jsonl", tmp_path / "report.json"
    assert main(["dedup", str(corpus_file), str(output), "--report", str(report), "--preset", "deepvk"]) == 0
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [row["n"] for row in rows] == [0, 2] and rows[0]["text"].startswith("Первый")
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["config"] == DedupConfig.from_preset("deepvk").to_dict() and written["exact_duplicates"] == 1
    assert "3 documents -> 2 kept" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "report.json"]


def test_cli_parquet_and_dataset_directory(corpus_file, tmp_path):
    parquet, directory = tmp_path / "out.parquet", tmp_path / "saved"
    assert main(["dedup", str(corpus_file), str(parquet), "--keep-cluster-id"]) == 0
    assert Dataset.from_parquet(str(parquet))["cluster_id"][:] == [0, 0, 2]
    assert main(["dedup", str(parquet), str(directory), "--column", "text", "--num-proc", "1"]) == 0
    assert load_from_disk(str(directory))["n"][:] == [0, 2]
    assert main(["dedup", str(directory), str(tmp_path / "again.jsonl")]) == 0


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--column", "body"], "no column 'body'"),
        (["--bands", "16", "--rows", "4"], "must equal num_perm"),
        (["--threshold", "1.5"], "threshold"),
    ],
)
def test_cli_bad_input_writes_nothing(corpus_file, tmp_path, capsys, extra, message):
    assert main(["dedup", str(corpus_file), str(tmp_path / "out.jsonl"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]


def test_cli_reports_values_that_are_not_strings(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "a"}\n{"text": null}\n', encoding="utf-8")
    assert main(["dedup", str(source), str(tmp_path / "out")]) == 2
    assert "row 1 holds None" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]


def test_cli_refuses_bad_paths(corpus_file, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    (tmp_path / "taken.jsonl").write_text("x")
    assert main(["dedup", str(tmp_path / "missing.jsonl"), str(tmp_path / "out.jsonl")]) == 2
    assert main(["dedup", str(corpus_file), str(tmp_path / "taken")]) == 2
    assert main(["dedup", str(corpus_file), str(tmp_path / "taken.jsonl")]) == 2
    assert main(["dedup", str(corpus_file), str(tmp_path / "out.csv")]) == 2
    assert main(["dedup", str(corpus_file), str(tmp_path / "out.jsonl"), "--report", str(tmp_path / "no/r.json")]) == 2
    errors = capsys.readouterr().err
    assert "No such file" in errors and errors.count("already exists") == 2 and "expected a .jsonl" in errors
    assert "does not exist" in errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "taken", "taken.jsonl"]
    assert main(["dedup", str(corpus_file), str(tmp_path / "taken.jsonl"), "--overwrite"]) == 0
    assert len((tmp_path / "taken.jsonl").read_text(encoding="utf-8").splitlines()) == 2


# ------------------------------------------------------------------------------------------- benchmark


def test_benchmark_quick_mode_runs_and_reports():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_dedup.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["documents"] == 2000 and set(summary["targets"]) <= set(summary)
    assert summary["recall"] >= 0.99 and summary["precision"] == 1.0
    assert summary["recall_datasketch"] < summary["recall"]
    assert "datasketch 10x10" in result.stdout
