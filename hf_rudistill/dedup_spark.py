"""Exact and near-duplicate removal on Apache Spark, with the functions and the result of :mod:`hf_rudistill.dedup`.

:func:`deduplicate_spark` takes a Spark DataFrame with a string column and returns the kept rows (in input order,
the lowest row of each cluster) with the :class:`~hf_rudistill.dedup.DedupReport` that the ``datasets`` backend
gives for the same rows. The text functions are not reimplemented: Spark tasks call
:func:`~hf_rudistill.dedup.document_hashes` (normalisation, shingles, MinHash, band keys, exact hash),
:func:`~hf_rudistill.dedup.document_shingles` and :func:`~hf_rudistill.dedup.jaccard_similarities` on their
partitions (``mapInPandas``). Spark does the data movement:

1. a row index that follows the input order (``monotonically_increasing_id`` made consecutive per partition);
2. exact copies: ``groupBy`` on the 128-bit exact hash, lowest row;
3. candidates: the distinct documents joined with themselves on (band, key), pairs ``i < j``, ``distinct``;
4. verification: both shingle sets joined onto each pair, exact Jaccard strictly above the threshold;
5. clusters: connected components of the verified pairs (:func:`connected_components_spark`: minimum-label
   propagation with pointer jumping, as joins and ``groupBy`` until no label changes); exact copies join the
   cluster of their first copy.

Needs PySpark (``pip install hf_rudistill[spark]``) and Java 17+. ``rudistill dedup --engine spark`` runs it from
the command line; on a cluster submit this file (``spark-submit ... hf_rudistill/dedup_spark.py INPUT OUTPUT``,
the same options as ``rudistill dedup``), with hf_rudistill installed on every executor.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Iterator

import numpy as np

from hf_rudistill.dedup import (
    DedupConfig,
    DedupReport,
    document_hashes,
    document_shingles,
    jaccard_similarities,
)

READERS = (".jsonl", ".json", ".parquet", ".csv", ".txt")
"""Suffixes :func:`read_texts` reads with Spark's own readers."""
ROW = "_rudistill_row"
"""Name of the row-index column used internally (dropped from the output)."""
_PARTITION_BITS = 33  # monotonically_increasing_id = partition id << 33 | record number in the partition


def spark_session(master: str | None = None, app_name: str = "rudistill-dedup", **settings: str):
    """The SparkSession to run on: the one ``spark-submit`` configured (``master`` None under spark-submit), or a
    new one on ``master`` (default ``local[*]``). A local session's Python workers run this interpreter (unless
    PYSPARK_PYTHON says otherwise) and its shuffles are sized for its cores (4 partitions per core instead of
    Spark's 200); ``settings`` are extra ``spark.*`` options."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master is None and "PYSPARK_GATEWAY_PORT" in os.environ:  # started by spark-submit: keep its settings
        return builder.getOrCreate()
    master = master or "local[*]"
    builder = builder.master(master).config("spark.ui.enabled", "false")
    match = re.fullmatch(r"local\[(\d+|\*)(,\d+)?\]", master)
    if match is not None:
        # local Python workers start PYSPARK_PYTHON (default: the first python3 on PATH, maybe not this environment)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        cores = (os.cpu_count() or 1) if match.group(1) == "*" else int(match.group(1))
        builder = builder.config("spark.sql.shuffle.partitions", str(4 * cores))
        builder = builder.config("spark.default.parallelism", str(4 * cores))
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def read_texts(spark, source: str, column: str = "text", split: str = "train"):
    """A DataFrame of ``source``: a .parquet/.jsonl/.json/.csv/.txt file or folder, or any Hadoop URI with such a
    suffix (``hdfs://``, ``s3a://``), read by Spark; anything else (``embedded``, a ``save_to_disk`` folder, a hub
    id) is loaded with :func:`~hf_rudistill.loading.load_text_dataset` and handed to Spark."""
    suffix = os.path.splitext(source.rstrip("/"))[1]
    if "://" not in source and suffix in READERS and not os.path.exists(source):
        raise FileNotFoundError(f"No such file: {source}")
    if suffix in (".jsonl", ".json"):
        frame = spark.read.json(source)
    elif suffix == ".parquet":
        frame = spark.read.parquet(source)
    elif suffix == ".csv":
        frame = spark.read.csv(source, header=True, multiLine=True, escape='"')
    elif suffix == ".txt":
        frame = spark.read.text(source).withColumnRenamed("value", column)
    else:
        from hf_rudistill.loading import load_text_dataset

        frame = spark.createDataFrame(load_text_dataset(source, split=split, column=column).to_pandas())
    if column not in frame.columns:
        raise ValueError(f"{source} has no column {column!r}; its columns are {frame.columns}.")
    return frame


def write_frame(frame, destination: str, *, overwrite: bool = False) -> None:
    """Write ``frame`` as Spark does, a folder of part files: JSON lines for a .jsonl/.json destination, parquet
    otherwise. A local destination is written beside itself and moved into place when complete."""
    from hf_rudistill.atomic import atomic_directory

    kind = "json" if os.path.splitext(destination.rstrip("/"))[1] in (".jsonl", ".json") else "parquet"
    if "://" in destination:  # cluster storage: Spark's committer writes _SUCCESS when the job succeeded
        frame.write.mode("overwrite" if overwrite else "errorifexists").format(kind).save(destination)
        return
    with atomic_directory(destination, overwrite=overwrite) as staging:
        frame.write.mode("overwrite").format(kind).save(str(staging))


def _as_int64(values: np.ndarray) -> np.ndarray:
    """uint64 hashes as the int64 Spark stores (same bits: equal exactly when the hashes are)."""
    return np.ascontiguousarray(values).view(np.int64)


def _hash_partition(batches: Iterator, column: str, config: DedupConfig) -> Iterator:
    import pandas as pd

    for batch in batches:
        hashes = document_hashes(batch[column].tolist(), config)
        exact = _as_int64(hashes["exact_hash"])
        yield pd.DataFrame(
            {
                ROW: batch[ROW].to_numpy(),
                "exact_0": exact[:, 0],
                "exact_1": exact[:, 1],
                "band_keys": list(_as_int64(hashes["band_keys"])),
            }
        )


def _shingle_partition(batches: Iterator, column: str, config: DedupConfig) -> Iterator:
    import pandas as pd

    for batch in batches:
        hashes, offsets = document_shingles(batch[column].tolist(), config)
        yield pd.DataFrame({ROW: batch[ROW].to_numpy(), "shingles": np.split(_as_int64(hashes), offsets[1:-1])})


def _verify_partition(batches: Iterator, threshold: float) -> Iterator:
    """Pairs (i, j, left shingles, right shingles) -> the pairs whose exact Jaccard is above ``threshold``."""
    for batch in batches:
        if batch.empty:
            continue
        sets = list(batch["left"]) + list(batch["right"])
        offsets = np.concatenate([[0], np.cumsum([len(hashes) for hashes in sets])])
        count = len(batch)
        pairs = np.stack([np.arange(count), np.arange(count) + count], axis=1)
        similarity = jaccard_similarities(np.concatenate(sets).view(np.uint64), offsets, pairs)
        yield batch.loc[similarity > threshold, ["i", "j"]]


def connected_components_spark(edges, first: str = "i", second: str = "j"):
    """Connected components of an undirected graph given as a DataFrame of edges (two long columns).

    Returns a DataFrame ``(node, label)`` with one row per node that has an edge; ``label`` is the lowest node of
    its component (what :func:`hf_rudistill.dedup.connected_components` returns). Minimum-label propagation:
    every node takes the lowest label among itself and its neighbours, then the label of its label (pointer
    jumping, which halves long chains each round); repeated until no label changes. Each round's labels are
    materialised with ``localCheckpoint`` so the query plan does not grow with the rounds.
    """
    from pyspark.sql import functions as F

    links = edges.select(F.col(first).alias("node"), F.col(second).alias("neighbour"))
    links = links.union(links.select(F.col("neighbour").alias("node"), F.col("node").alias("neighbour")))
    links = links.localCheckpoint()
    labels = links.groupBy("node").agg(F.least(F.min("neighbour"), F.col("node")).alias("label")).localCheckpoint()
    while True:
        offered = links.join(labels.withColumnRenamed("node", "neighbour"), "neighbour")
        offered = offered.groupBy("node").agg(F.min("label").alias("offered"))
        lowered = labels.join(offered, "node").select("node", F.least("label", "offered").alias("label"))
        parents = lowered.select(F.col("node").alias("parent"), F.col("label").alias("parent_label"))
        jumped = lowered.join(parents, lowered["label"] == parents["parent"])
        jumped = jumped.select("node", F.least("label", "parent_label").alias("label")).localCheckpoint()
        changed = jumped.join(labels.withColumnRenamed("label", "before"), "node").where("label != before").count()
        labels = jumped
        if not changed:
            return labels


def _with_row_index(frame):
    """``frame`` with column ``ROW``: 0, 1, ... in input order (partition by partition), persisted."""
    from pyspark.sql import functions as F

    tagged = frame.withColumn(ROW, F.monotonically_increasing_id()).persist()
    partition = (F.col(ROW).bitwiseAND(~((1 << _PARTITION_BITS) - 1))).alias("partition")
    sizes = sorted(tuple(row) for row in tagged.groupBy(partition).count().collect())
    starts, total = [], 0
    for first_id, size in sizes:
        starts.append((first_id, total))
        total += size
    spark = frame.sparkSession
    offsets = spark.createDataFrame(starts or [(0, 0)], "partition long, start long")
    indexed = tagged.withColumn("partition", partition).join(F.broadcast(offsets), "partition")
    indexed = indexed.withColumn(ROW, F.col(ROW) - F.col("partition") + F.col("start")).drop("partition", "start")
    return indexed.persist(), tagged


def _check_text_column(frame, column: str) -> None:
    from pyspark.sql.types import StringType

    if column not in frame.columns:
        raise ValueError(f"Column {column!r} not found; the dataset has columns {frame.columns}.")
    if not isinstance(frame.schema[column].dataType, StringType):
        raise TypeError(f"Column {column!r} must hold strings, but its type is {frame.schema[column].dataType}.")


def deduplicate_spark(
    frame,
    column: str = "text",
    config: DedupConfig | None = None,
    *,
    keep_cluster_id: bool = False,
    cluster_column: str = "cluster_id",
):
    """Remove exact and near-duplicate texts from ``frame[column]``, with the result of
    :func:`hf_rudistill.dedup.deduplicate` on the same rows (see the module docstring).

    Args:
        frame: a Spark DataFrame with a string column ``column``.
        config: settings; :class:`~hf_rudistill.dedup.DedupConfig` defaults (word 5-grams, 20 x 5 bands, > 0.7).
        keep_cluster_id: keep every row and add ``cluster_column`` (the row index its cluster keeps) instead of
            dropping duplicates.

    Returns:
        ``(frame, report)``: the deduplicated DataFrame (input order, lowest row of each cluster kept, input
        columns) and a :class:`~hf_rudistill.dedup.DedupReport`, computed here (Spark jobs run).
    """
    from pyspark.sql import functions as F

    config = config or DedupConfig()
    _check_text_column(frame, column)
    if keep_cluster_id and cluster_column in frame.columns:
        raise ValueError(f"Column {cluster_column!r} already exists; choose another cluster_column.")
    if ROW in frame.columns:
        raise ValueError(f"Column {ROW!r} is reserved for the row index; rename it.")
    columns = frame.columns
    indexed, tagged = _with_row_index(frame)
    missing = indexed.where(F.col(column).isNull()).select(ROW).first()
    if missing is not None:
        raise TypeError(f"Column {column!r} must hold strings; row {missing[0]} holds None.")

    hash_schema = f"{ROW} long, exact_0 long, exact_1 long, band_keys array<long>"
    hashed = (
        indexed.select(ROW, column)
        .mapInPandas(functools.partial(_hash_partition, column=column, config=config), hash_schema)
        .persist()
    )
    first_copy = hashed.groupBy("exact_0", "exact_1").agg(F.min(ROW).alias("first_copy"))
    documents = hashed.join(first_copy, ["exact_0", "exact_1"]).select(ROW, "first_copy", "band_keys").persist()

    keys = documents.where(F.col(ROW) == F.col("first_copy")).select(ROW, F.posexplode("band_keys"))
    left, right = keys.alias("left"), keys.alias("right")
    same_bucket = (
        (F.col("left.pos") == F.col("right.pos"))
        & (F.col("left.col") == F.col("right.col"))
        & (F.col(f"left.{ROW}") < F.col(f"right.{ROW}"))
    )
    pairs = left.join(right, same_bucket).select(F.col(f"left.{ROW}").alias("i"), F.col(f"right.{ROW}").alias("j"))
    pairs = pairs.distinct().persist()

    members = pairs.select(F.col("i").alias(ROW)).union(pairs.select(F.col("j").alias(ROW))).distinct()
    shingles = indexed.join(members, ROW).select(ROW, column)
    shingles = shingles.mapInPandas(
        functools.partial(_shingle_partition, column=column, config=config), f"{ROW} long, shingles array<long>"
    )
    both = pairs.join(shingles.select(F.col(ROW).alias("i"), F.col("shingles").alias("left")), "i").join(
        shingles.select(F.col(ROW).alias("j"), F.col("shingles").alias("right")), "j"
    )
    verified = both.select("i", "j", "left", "right").mapInPandas(
        functools.partial(_verify_partition, threshold=config.threshold), "i long, j long"
    )
    verified = verified.persist()

    labels = connected_components_spark(verified).select(F.col("node").alias("first_copy"), "label")
    assigned = documents.join(labels, "first_copy", "left")
    assigned = assigned.select(ROW, "first_copy", F.coalesce("label", "first_copy").alias("cluster")).persist()

    totals = assigned.agg(
        F.count(F.lit(1)).alias("documents"),
        F.sum((F.col(ROW) != F.col("first_copy")).cast("long")).alias("copies"),
        F.sum((F.col(ROW) == F.col("cluster")).cast("long")).alias("kept"),
    ).first()
    documents_in, copies, kept = totals["documents"], totals["copies"] or 0, totals["kept"] or 0
    sizes = assigned.groupBy("cluster").agg(
        F.count(F.lit(1)).alias("size"), F.sum((F.col(ROW) == F.col("first_copy")).cast("long")).alias("distinct")
    )
    clusters = sizes.agg(F.max("size").alias("largest"), F.sum((F.col("distinct") > 1).cast("long")).alias("near"))
    clusters = clusters.first()
    report = DedupReport(
        documents_in=documents_in,
        documents_out=kept,
        exact_duplicates=copies,
        near_duplicates=documents_in - copies - kept,
        near_duplicate_clusters=clusters["near"] or 0,
        largest_cluster=clusters["largest"] or 0,
        candidate_pairs=pairs.count(),
        verified_pairs=verified.count(),
    )
    for intermediate in (hashed, pairs, verified, documents, tagged):
        intermediate.unpersist()

    result = indexed.join(assigned.select(ROW, "cluster"), ROW)
    if keep_cluster_id:
        result = result.withColumn(cluster_column, F.col("cluster"))
        columns = [*columns, cluster_column]
    else:
        result = result.where(F.col(ROW) == F.col("cluster"))
    return result.orderBy(ROW).select(*columns), report


if __name__ == "__main__":  # spark-submit hf_rudistill/dedup_spark.py INPUT OUTPUT [rudistill dedup options]
    from hf_rudistill.cli import main

    sys.exit(main(["dedup", *sys.argv[1:], "--engine", "spark"]))
