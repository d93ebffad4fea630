"""Load Russian SuperGLUE tasks from either data layout into one representation (see :mod:`.rsg_tasks`).

- The official archive: a folder holding ``RCB/train.jsonl``, ``RCB/val.jsonl``, ``RCB/test.jsonl``, ...
  and ``LiDiRus/LiDiRus.jsonl``, one JSON record per line (CRLF or LF line endings, a last line with or
  without a newline); MuSeRC and RWSD records are nested. :func:`load_archive_task`.
- The Hub dataset ``RussianNLP/russian_super_glue`` or anything with its schema: a Hub id, a folder holding
  one ``DatasetDict.save_to_disk`` folder per configuration (``rcb/``, ``parus/``, ...), or a
  :class:`~datasets.DatasetDict`. :func:`load_hub_task`.

:func:`load_task` picks the layout from the source. Every loader returns a :class:`~datasets.DatasetDict`
with the task's splits and exactly ``task.features``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Union

from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

from .rsg_tasks import HUB_DATASET, TASKS, RSGTask, get_task

DataSource = Union[str, os.PathLike, DatasetDict, Mapping[str, DatasetDict]]  # noqa: UP007 (a runtime alias)
"""A Hub id, a local folder (official archive or saved Hub-schema configurations), a ``DatasetDict`` of one
task, or a mapping from task (official or configuration name) to its ``DatasetDict``."""


class DataFormatError(ValueError):
    """A data file or dataset does not follow the layout it claims; the message names the file and line."""


def load_task(task: RSGTask | str, source: DataSource = HUB_DATASET) -> DatasetDict:
    """Load ``task`` from ``source``: an official archive folder, a folder of saved Hub-schema configurations,
    a Hub id, a ``DatasetDict`` or a mapping of them (see :data:`DataSource`)."""
    task = get_task(task) if isinstance(task, str) else task
    if isinstance(source, DatasetDict):
        return load_hub_task(task, source)
    if isinstance(source, Mapping):
        matches = [dataset for name, dataset in source.items() if get_task(name) == task]
        if not matches:
            raise DataFormatError(
                f"The datasets given have no {task.name} entry (keys: {', '.join(map(str, source))})."
            )
        return load_hub_task(task, matches[0])
    if _is_local_path(source):
        if not Path(source).expanduser().is_dir():
            raise FileNotFoundError(f"Data folder {source} does not exist.")
        return load_archive_task(task, source) if is_archive_dir(source) else load_hub_task(task, source)
    return load_hub_task(task, str(source))


def is_archive_dir(path: str | os.PathLike) -> bool:
    """Whether ``path`` looks like the official archive: it holds at least one task folder (``RCB/``, ...)."""
    return any((Path(path) / name).is_dir() for name in TASKS)


def _is_local_path(source: str | os.PathLike) -> bool:
    text = os.fspath(source)
    return (
        isinstance(source, os.PathLike)
        or os.path.exists(text)
        or text.startswith((".", "/", "~"))
        or text.count("/") > 1
    )


def load_archive_task(task: RSGTask | str, directory: str | os.PathLike) -> DatasetDict:
    """Read ``directory/TASK/*.jsonl`` of the official archive (see the module docstring)."""
    task = get_task(task) if isinstance(task, str) else task
    folder = Path(directory).expanduser() / task.name
    paths = {split: folder / filename for split, filename in task.archive_files.items()}
    missing = [path for path in paths.values() if not path.is_file()]
    if missing:
        expected = ", ".join(task.archive_files.values())
        raise FileNotFoundError(
            f"{missing[0]} is missing: the official archive layout is {Path(directory) / task.name}/{{{expected}}}."
        )
    convert = _CONVERTERS[task.name]
    splits = {}
    for split, path in paths.items():
        rows = [row for record, where in _read_jsonl(path) for row in convert(task, record, where, split)]
        splits[split] = Dataset.from_list(rows, features=task.features)
    return DatasetDict(splits)


def _read_jsonl(path: Path) -> Iterator[tuple[dict, str]]:
    """(record, "path:line") for every non-blank line; ``utf-8-sig`` drops a byte-order mark if there is one."""
    with open(path, encoding="utf-8-sig") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataFormatError(f"{where}: not a JSON record ({error.msg} at column {error.colno}).") from None
            if not isinstance(record, dict):
                raise DataFormatError(f"{where}: expected a JSON object, got {type(record).__name__}.")
            yield record, where


def _get(record: dict, name: str, kind: type, where: str) -> Any:
    if name not in record:
        raise DataFormatError(f"{where}: the record has no {name!r} field.")
    value = record[name]
    if kind is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # LiDiRus writes its idx as a string
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DataFormatError(f"{where}: field {name!r} should be {kind.__name__}, got {value!r}.")
    return value


def _label(task: RSGTask, record: dict, where: str, split: str) -> int:
    """The label id of ``record`` (spelled as ``task.archive_labels``); -1 for a test record without one."""
    if "label" not in record:
        if split == "test":
            return -1
        raise DataFormatError(f"{where}: the {split} record has no 'label' field.")
    value = record["label"]
    if type(value) is task.archive_labels:
        if isinstance(value, str) and value in task.label_names:
            return task.label_names.index(value)
        if not isinstance(value, str) and value in (0, 1):
            return int(value)
    raise DataFormatError(f"{where}: {value!r} is not a {task.name} label ({task.archive_labels.__name__} expected).")


def _fields(task: RSGTask, record: dict, where: str) -> dict:
    types = {"string": str, "int32": int}
    return {column: _get(record, column, types[dtype], where) for column, dtype in task.columns.items()}


def _flat(task: RSGTask, record: dict, where: str, split: str) -> list[dict]:
    return [
        {
            **_fields(task, record, where),
            "idx": _get(record, "idx", int, where),
            "label": _label(task, record, where, split),
        }
    ]


def _rwsd(task: RSGTask, record: dict, where: str, split: str) -> list[dict]:
    target = _get(record, "target", dict, where)
    return _flat(task, {**record, **target}, where, split)


def _muserc(task: RSGTask, record: dict, where: str, split: str) -> list[dict]:
    passage = _get(record, "passage", dict, where)
    paragraph_idx, text = _get(record, "idx", int, where), _get(passage, "text", str, where)
    rows = []
    for question in _get(passage, "questions", list, where):
        question_text, question_idx = _get(question, "question", str, where), _get(question, "idx", int, where)
        for answer in _get(question, "answers", list, where):
            rows.append(
                {
                    "paragraph": text,
                    "question": question_text,
                    "answer": _get(answer, "text", str, where),
                    "idx": {
                        "paragraph": paragraph_idx,
                        "question": question_idx,
                        "answer": _get(answer, "idx", int, where),
                    },
                    "label": _label(task, answer, where, split),
                }
            )
    return rows


_CONVERTERS = {name: _flat for name in TASKS} | {"RWSD": _rwsd, "MuSeRC": _muserc}


def load_hub_task(task: RSGTask | str, source: str | os.PathLike | DatasetDict = HUB_DATASET) -> DatasetDict:
    """Load ``task`` from a dataset with the schema of ``RussianNLP/russian_super_glue``.

    Args:
        source: a Hub id (loaded with ``datasets.load_dataset(source, task.config)``; for a repository that
            still holds a loading script, which ``datasets`` no longer runs, from its Parquet export
            ``refs/convert/parquet`` instead), a folder with one ``save_to_disk`` folder per configuration
            (``source/rcb``, ...), or the task's ``DatasetDict``.
    """
    task = get_task(task) if isinstance(task, str) else task
    if isinstance(source, DatasetDict):
        dataset, origin = source, f"the {task.name} DatasetDict"
    elif _is_local_path(source):
        folder = Path(source).expanduser() / task.config
        if not (folder / "dataset_dict.json").is_file():
            raise FileNotFoundError(
                f"{folder} is not a saved DatasetDict: a local source is either the official archive "
                f"({Path(source) / task.name}/*.jsonl) or one DatasetDict.save_to_disk folder per configuration "
                f"({folder})."
            )
        dataset, origin = load_from_disk(str(folder)), str(folder)
    else:
        dataset, origin = _load_from_hub(str(source), task.config), f"{source} ({task.config})"
    return _to_internal(task, dataset, origin)


def _load_from_hub(repo_id: str, config: str) -> DatasetDict:
    try:
        return load_dataset(repo_id, config)
    except RuntimeError as error:
        if "scripts are no longer supported" not in str(error):
            raise
        return load_dataset(repo_id, data_dir=config, revision="refs/convert/parquet")


def _to_internal(task: RSGTask, dataset: DatasetDict, origin: str) -> DatasetDict:
    splits = {}
    for split in task.splits:
        if split not in dataset:
            raise DataFormatError(f"{origin} has no {split!r} split (it has: {', '.join(dataset) or 'none'}).")
        missing = [column for column in task.features if column not in dataset[split].column_names]
        if missing:
            raise DataFormatError(f"{origin}, split {split!r}: no column {', '.join(map(repr, missing))}.")
        part = dataset[split].select_columns(list(task.features))
        splits[split] = part if part.features == task.features else part.cast(task.features)
    return DatasetDict(splits)
