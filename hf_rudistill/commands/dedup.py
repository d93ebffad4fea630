"""Remove exact and near-duplicate texts from a corpus (the deepvk recipe: MinHash-LSH, verified Jaccard).

Texts are normalised (NFKC, lowercase, ё -> е, words only); exact copies are dropped first, then documents
whose word 5-gram shingle sets have Jaccard similarity > 0.7 are clustered and the first document of each
cluster is kept. MinHash-LSH only proposes candidate pairs; every pair is verified by exact Jaccard before
it merges anything. Presets: `default` = 20 bands x 5 rows, `deepvk` = 10 x 10 as published; a pair with
Jaccard 0.75 becomes a candidate with probability 0.996 under the default and 0.44 under deepvk.

INPUT is a .jsonl/.json/.parquet/.csv/.txt file, a folder written by `Dataset.save_to_disk` (--split picks
one of a DatasetDict), `embedded` (the bundled corpus) or a Hugging Face Hub dataset id. OUTPUT is a .jsonl,
.json (JSON lines) or .parquet file, or a folder (no suffix) for `Dataset.save_to_disk`; it is written beside
its destination under a temporary name and moved into place when complete.

examples:
  rudistill dedup corpus.jsonl corpus.dedup.jsonl --report dedup.json
  rudistill dedup corpus.parquet out/ --preset deepvk --num-proc 4
  rudistill dedup corpus.jsonl audit.jsonl --keep-cluster-id     # keep every row, add cluster_id
  rudistill dedup corpus.jsonl out.jsonl --char-shingles --ngram 7 --threshold 0.8
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasets import Dataset

    from hf_rudistill.dedup import DedupConfig

__all__ = ["add_arguments", "run"]

OUTPUT_SUFFIXES = (".jsonl", ".json", ".parquet")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="Corpus: a file, a save_to_disk folder, 'embedded' or a hub dataset id.")
    parser.add_argument("output", type=Path, help="Result: a .jsonl, .json or .parquet file, or a folder.")
    parser.add_argument("--column", default="text", help="Column holding the texts (default: %(default)s).")
    parser.add_argument("--split", default="train", help="Split of a DatasetDict or hub id (default: %(default)s).")
    parser.add_argument(
        "--preset",
        choices=["default", "deepvk"],
        default="default",
        help="default: 20 bands x 5 rows; deepvk: 10 x 10 as published (default: %(default)s).",
    )
    parser.add_argument("--ngram", type=int, help="Words per shingle (characters with --char-shingles); 5.")
    parser.add_argument("--char-shingles", action="store_true", help="Shingle characters instead of words.")
    parser.add_argument("--num-perm", type=int, help="MinHash permutations; must equal bands x rows (100).")
    parser.add_argument("--bands", type=int, help="LSH bands (the preset's value unless given).")
    parser.add_argument("--rows", type=int, help="Rows per band (the preset's value unless given).")
    parser.add_argument("--threshold", type=float, help="Duplicate when Jaccard is strictly greater (0.7).")
    parser.add_argument("--seed", type=int, help="Seed of the MinHash permutations (42).")
    parser.add_argument("--num-proc", type=int, default=None, help="Processes for hashing (default: one).")
    parser.add_argument(
        "--keep-cluster-id",
        action="store_true",
        help="Keep every row and add a cluster_id column (the row index its cluster keeps) for auditing.",
    )
    parser.add_argument("--report", type=Path, help="Also write the report and the settings as JSON here.")
    parser.add_argument("--overwrite", action="store_true", help="Replace OUTPUT (and --report) if they exist.")


def _config(args: argparse.Namespace) -> DedupConfig:
    from hf_rudistill.dedup import DedupConfig

    overrides = {
        name: getattr(args, name)
        for name in ("ngram", "num_perm", "bands", "rows", "threshold", "seed")
        if getattr(args, name) is not None
    }
    if args.char_shingles:
        overrides["char_shingles"] = True
    return DedupConfig.from_preset(args.preset, **overrides)


def _save(dataset: Dataset, destination: Path, overwrite: bool) -> None:
    """Write ``dataset`` to a temporary path beside ``destination``, then move it into place."""
    from hf_rudistill.atomic import atomic_directory

    if not destination.suffix:
        with atomic_directory(destination, overwrite=overwrite) as staging:
            dataset.save_to_disk(str(staging))
        return
    descriptor, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
    os.close(descriptor)
    try:
        if destination.suffix == ".parquet":
            dataset.to_parquet(temporary)
        else:
            dataset.to_json(temporary, lines=True, force_ascii=False)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    from hf_rudistill.atomic import atomic_write_text, check_destination
    from hf_rudistill.dedup import deduplicate
    from hf_rudistill.loading import load_text_dataset

    config = _config(args)
    if args.output.suffix and args.output.suffix not in OUTPUT_SUFFIXES:
        raise ValueError(f"Output {args.output}: expected a .jsonl, .json or .parquet file, or a folder (no suffix).")
    for destination in [args.output] + ([args.report] if args.report else []):
        check_destination(destination, overwrite=args.overwrite)
        if not destination.parent.is_dir():
            raise FileNotFoundError(f"The folder of {destination} does not exist.")
    dataset = load_text_dataset(args.input, split=args.split, column=args.column)
    try:
        result, report = deduplicate(
            dataset, args.column, config, num_proc=args.num_proc, keep_cluster_id=args.keep_cluster_id
        )
    except TypeError as error:  # a value that is not a string: bad input, one plain line
        raise ValueError(str(error)) from error
    _save(result, args.output, args.overwrite)
    summary = report.to_dict()
    if args.report:
        atomic_write_text(args.report, json.dumps({"config": config.to_dict(), **summary}, indent=2) + "\n")
    print(
        f"{summary['documents_in']:,} documents -> {summary['documents_out']:,} kept: "
        f"{summary['exact_duplicates']:,} exact copies and {summary['near_duplicates']:,} near duplicates "
        f"in {summary['near_duplicate_clusters']:,} clusters (largest: {summary['largest_cluster']:,} documents); "
        f"{summary['verified_pairs']:,} of {summary['candidate_pairs']:,} candidate pairs verified."
    )
    kept = "every row, with its cluster_id," if args.keep_cluster_id else f"the {summary['documents_out']:,} kept rows"
    print(f"Wrote {kept} to {args.output}" + (f" and the report to {args.report}" if args.report else "") + ".")
    return 0
