"""Dedup on Spark (local[2]) keeps the rows, and reports the counts, of the datasets backend on the same corpus."""

from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pytest
from datasets import Dataset, Features, Value
from test_dedup import planted_corpus

from hf_rudistill.cli import main
from hf_rudistill.dedup import DedupConfig, connected_components, deduplicate

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime (java not found)")


@pytest.fixture(scope="session")
def spark():
    from hf_rudistill.dedup_spark import spark_session

    # small data: few shuffle partitions, and no adaptive execution (its extra jobs double the time here)
    settings = {"spark.sql.shuffle.partitions": "4", "spark.sql.adaptive.enabled": "false"}
    session = spark_session("local[2]", **settings, **{"spark.ui.showConsoleProgress": "false"})
    yield session
    session.stop()


def spread(spark, texts: list[str], partitions: int = 3):
    """The texts (column ``id`` = position) over ``partitions`` partitions, in input order."""
    frame = spark.createDataFrame(list(zip(texts, range(len(texts)))), "text string, id long")
    return frame.repartitionByRange(partitions, "id").sortWithinPartitions("id")


def test_same_clusters_and_report_as_the_datasets_backend(spark):
    from hf_rudistill.dedup_spark import deduplicate_spark

    texts = planted_corpus()[:200]
    labelled, report = deduplicate(Dataset.from_dict({"text": texts}), keep_cluster_id=True)
    spark_labelled, spark_report = deduplicate_spark(spread(spark, texts), keep_cluster_id=True)
    rows = spark_labelled.collect()
    assert report.near_duplicates > 5 and report.exact_duplicates > 5 and report.verified_pairs > 5
    assert [row["id"] for row in rows] == list(range(len(texts)))  # every row, in input order
    assert [row["cluster_id"] for row in rows] == labelled["cluster_id"][:] and spark_report == report


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [
        DedupConfig(),
        DedupConfig.from_preset("deepvk"),
        DedupConfig(char_shingles=True, ngram=7, threshold=0.8, seed=3),
    ],
)
def test_kept_rows_and_reports_agree_on_the_whole_planted_corpus(spark, config):
    from hf_rudistill.dedup_spark import deduplicate_spark

    texts = planted_corpus()
    kept, report = deduplicate(Dataset.from_dict({"text": texts, "id": list(range(len(texts)))}), config=config)
    spark_kept, spark_report = deduplicate_spark(spread(spark, texts, partitions=4), config=config)
    assert [row["id"] for row in spark_kept.collect()] == kept["id"][:] and spark_report == report


@pytest.mark.slow
def test_connected_components_match_the_numpy_union_find(spark):
    from hf_rudistill.dedup_spark import connected_components_spark

    rng = random.Random(0)
    nodes = 400
    edges = [(i, i + 1) for i in range(100, 160)]  # a long chain, worst case for label propagation
    edges += [tuple(sorted(rng.sample(range(nodes), 2))) for _ in range(150)]
    labels = connected_components_spark(spark.createDataFrame(edges, "i long, j long")).collect()
    expected = connected_components(nodes, np.array(edges))
    assert {row["node"]: row["label"] for row in labels} == {
        node: int(expected[node]) for node in {n for edge in edges for n in edge}
    }


@pytest.mark.slow
def test_empty_input(spark):
    from hf_rudistill.dedup_spark import deduplicate_spark

    empty, report = deduplicate_spark(spark.createDataFrame([], "text string"))
    expected = deduplicate(Dataset.from_dict({"text": []}, features=Features({"text": Value("string")})))[1]
    assert empty.count() == 0 and report == expected


def test_bad_columns_give_clear_errors(spark):
    from hf_rudistill.dedup_spark import deduplicate_spark

    frame = spark.createDataFrame([("a", 1), (None, 2)], "text string, n long")
    with pytest.raises(TypeError, match="row 1 holds None"):
        deduplicate_spark(frame)
    with pytest.raises(TypeError, match="must hold strings"):
        deduplicate_spark(frame, column="n")
    with pytest.raises(ValueError, match="not found"):
        deduplicate_spark(frame, column="body")
    with pytest.raises(ValueError, match="already exists"):
        deduplicate_spark(frame, keep_cluster_id=True, cluster_column="n")


@pytest.mark.slow
def test_cli_engine_spark_writes_the_rows_the_datasets_engine_writes(spark, tmp_path, capsys):
    texts = planted_corpus()[:60]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": t, "n": i}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)))
    reports = {}
    for engine, output in (("datasets", tmp_path / "out.jsonl"), ("spark", tmp_path / "spark.jsonl")):
        arguments = [
            "dedup",
            str(source),
            str(output),
            "--engine",
            engine,
            "--report",
            str(tmp_path / f"{engine}.json"),
        ]
        assert main(arguments + (["--spark-master", "local[2]"] if engine == "spark" else [])) == 0
        reports[engine] = json.loads((tmp_path / f"{engine}.json").read_text())
    expected = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    parts = sorted((tmp_path / "spark.jsonl").glob("part-*.json"))
    got = [json.loads(line) for part in parts for line in part.read_text().splitlines()]
    assert got == expected and reports["spark"] == reports["datasets"]
    assert (tmp_path / "spark.jsonl" / "_SUCCESS").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "datasets.json", "in.jsonl", "out.jsonl", "spark.json", "spark.jsonl"
    ]  # fmt: skip
    assert main(["dedup", str(tmp_path / "missing.parquet"), str(tmp_path / "x.parquet"), "--engine", "spark"]) == 2
    assert "No such file" in capsys.readouterr().err
