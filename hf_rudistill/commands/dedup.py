"""Remove exact and near-duplicate texts from a corpus (the deepvk recipe: MinHash-LSH, verified Jaccard).

Texts are normalised (NFKC, lowercase, ё -> е, words only); exact copies are dropped first, then documents
whose word 5-gram shingle sets have Jaccard similarity > 0.7 are clustered and the first document of each
cluster is kept. MinHash-LSH only proposes candidate pairs; every pair is verified by exact Jaccard before
it merges anything. Presets: `default` = 20 bands x 5 rows (finds ~99.7% of pairs with Jaccard 0.7-0.8),
`deepvk` = 10 x 10 as published (finds ~75% of them).

INPUT and OUTPUT are .jsonl (or .json lines), .parquet, or a directory written by `Dataset.save_to_disk`.
The output is written next to its destination under a temporary name, then moved into place.

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
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasets import Dataset

    from hf_rudistill.dedup import DedupConfig

FILE_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="Corpus to read: .jsonl, .parquet or a save_to_disk directory.")
    parser.add_argument("output", type=Path, help="Where to write the result: .jsonl, .parquet or a directory.")
    parser.add_argument("--column", default="text", help="Column holding the texts (default: %(default)s).")
    parser.add_argument(
        "--preset",
        choices=["default", "deepvk"],
        default="default",
        help="default: 20 bands x 5 rows; deepvk: 10 x 10 as published (default: %(default)s).",
    )
    parser.add_argument("--ngram", type=int, help="Words per shingle (characters with --char-shingles); 5.")
    parser.add_argument("--char-shingles", action="store_true", help="Shingle characters instead of words.")
    parser.add_argument("--num-perm", type=int, help="MinHash permutations; must equal bands x rows (100).")
    parser.add_argument("--bands", type=int, help="LSH bands (preset's value unless given).")
    parser.add_argument("--rows", type=int, help="Rows per band (preset's value unless given).")
    parser.add_argument("--threshold", type=float, help="Duplicate when Jaccard is strictly greater (0.7).")
    parser.add_argument("--seed", type=int, help="Seed of the MinHash permutations (42).")
    parser.add_argument("--num-proc", type=int, default=None, help="Processes for hashing (default: one).")
    parser.add_argument(
        "--keep-cluster-id",
        action="store_true",
        help="Keep every row and add a cluster_id column (the row index its cluster keeps) for auditing.",
    )
    parser.add_argument("--report", type=Path, help="Also write the report and the settings as JSON here.")


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


def _check_paths(source: Path, destination: Path, report: Path | None) -> None:
    if not source.exists():
        raise FileNotFoundError(f"Input {source} does not exist.")
    if not source.is_dir() and source.suffix not in FILE_FORMATS:
        raise ValueError(f"Input {source}: expected .jsonl, .json, .parquet or a save_to_disk directory.")
    if destination.suffix and destination.suffix not in FILE_FORMATS:
        raise ValueError(f"Output {destination}: expected .jsonl, .json, .parquet or a directory (no suffix).")
    if destination.suffix == "" and destination.exists():
        raise FileExistsError(f"Output directory {destination} already exists; remove it or choose another.")
    if destination.is_dir() and destination.suffix:
        raise FileExistsError(f"Output {destination} is an existing directory.")
    for path in (destination, report) if report else (destination,):
        if not path.parent.is_dir():
            raise FileNotFoundError(f"Folder {path.parent} of {path} does not exist.")


def _load(source: Path) -> Dataset:
    from datasets import Dataset, DatasetDict, load_from_disk

    if source.is_dir():
        dataset = load_from_disk(str(source))
        if isinstance(dataset, DatasetDict):
            raise ValueError(
                f"{source} holds several splits {list(dataset)}; pass one split's directory, e.g. {source}/train."
            )
        return dataset
    if FILE_FORMATS[source.suffix] == "parquet":
        return Dataset.from_parquet(str(source))
    return Dataset.from_json(str(source))


def _write_atomically(destination: Path, write: Callable[[Path], object]) -> None:
    """``write(path)`` to a temporary path next to ``destination``, then move it into place."""
    temporary = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        write(temporary / destination.name)
        os.replace(temporary / destination.name, destination)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _save(dataset: Dataset, path: Path) -> None:
    if path.suffix == "":
        dataset.save_to_disk(str(path))
    elif FILE_FORMATS[path.suffix] == "parquet":
        dataset.to_parquet(str(path))
    else:
        dataset.to_json(str(path), lines=True, force_ascii=False)


def run(args: argparse.Namespace) -> int:
    try:
        config = _config(args)
        _check_paths(args.input, args.output, args.report)
        from hf_rudistill.dedup import deduplicate

        dataset = _load(args.input)
        result, report = deduplicate(
            dataset, args.column, config, num_proc=args.num_proc, keep_cluster_id=args.keep_cluster_id
        )
        _write_atomically(args.output, lambda path: _save(result, path))
    except (ValueError, TypeError, KeyError, FileNotFoundError, FileExistsError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"rudistill dedup: {message}", file=sys.stderr)
        return 1
    summary = report.to_dict()
    if args.report:
        text = json.dumps({"config": config.to_dict(), **summary}, indent=2, ensure_ascii=False) + "\n"
        _write_atomically(args.report, lambda path: path.write_text(text, encoding="utf-8"))
    print(
        f"{summary['documents_in']:,} documents -> {summary['documents_out']:,} kept: "
        f"{summary['exact_duplicates']:,} exact copies and {summary['near_duplicates']:,} near duplicates "
        f"in {summary['near_duplicate_clusters']:,} clusters (largest: {summary['largest_cluster']:,} documents); "
        f"{summary['verified_pairs']:,} of {summary['candidate_pairs']:,} candidate pairs verified."
    )
    kept = "every row, with its cluster_id," if args.keep_cluster_id else f"the {summary['documents_out']:,} kept rows"
    print(f"Wrote {kept} to {args.output}" + (f" and the report to {args.report}" if args.report else "") + ".")
    return 0
