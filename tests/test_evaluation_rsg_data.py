"""Loading Russian SuperGLUE from the official archive and from the Hub schema into one representation."""

import json
import shutil
from pathlib import Path

import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from hf_rudistill.evaluation import (
    TASKS,
    DataFormatError,
    get_task,
    load_archive_task,
    load_hub_task,
    load_task,
    resolve_tasks,
    rsg_data,
)

SAMPLE = Path(__file__).parent / "data" / "rsg_sample"

# --- The Hub dataset RussianNLP/russian_super_glue, rebuilt here from the archive records by following its
# --- loading script (russian_super_glue.py): its features and its _generate_examples, independently of our loader.

_BINARY = ClassLabel(names=["False", "True"])
_HUB_FEATURES = {
    "lidirus": Features(
        {
            **{
                f: Value("string")
                for f in [
                    "sentence1",
                    "sentence2",
                    "knowledge",
                    "lexical-semantics",
                    "logic",
                    "predicate-argument-structure",
                ]
            },
            "idx": Value("int32"),
            "label": ClassLabel(names=["entailment", "not_entailment"]),
        }
    ),
    "rcb": Features(
        {
            **{f: Value("string") for f in ["premise", "hypothesis", "verb", "negation"]},
            "idx": Value("int32"),
            "label": ClassLabel(names=["entailment", "contradiction", "neutral"]),
        }
    ),
    "parus": Features(
        {
            **{f: Value("string") for f in ["premise", "choice1", "choice2", "question"]},
            "idx": Value("int32"),
            "label": ClassLabel(names=["choice1", "choice2"]),
        }
    ),
    "muserc": Features(
        {
            **{f: Value("string") for f in ["paragraph", "question", "answer"]},
            "idx": {"paragraph": Value("int32"), "question": Value("int32"), "answer": Value("int32")},
            "label": _BINARY,
        }
    ),
    "terra": Features(
        {
            "premise": Value("string"),
            "hypothesis": Value("string"),
            "idx": Value("int32"),
            "label": ClassLabel(names=["entailment", "not_entailment"]),
        }
    ),
    "russe": Features(
        {
            **{f: Value("string") for f in ["word", "sentence1", "sentence2"]},
            **{f: Value("int32") for f in ["start1", "start2", "end1", "end2", "gold_sense1", "gold_sense2"]},
            "idx": Value("int32"),
            "label": _BINARY,
        }
    ),
    "rwsd": Features(
        {
            "text": Value("string"),
            "span1_index": Value("int32"),
            "span2_index": Value("int32"),
            "span1_text": Value("string"),
            "span2_text": Value("string"),
            "idx": Value("int32"),
            "label": _BINARY,
        }
    ),
    "danetqa": Features(
        {"question": Value("string"), "passage": Value("string"), "idx": Value("int32"), "label": _BINARY}
    ),
}
_SCRIPT_FEATURES = {
    "lidirus": ["sentence1", "sentence2", "knowledge", "lexical-semantics", "logic", "predicate-argument-structure"],
    "rcb": ["premise", "hypothesis", "verb", "negation"],
    "parus": ["premise", "choice1", "choice2", "question"],
    "terra": ["premise", "hypothesis"],
    "russe": ["word", "sentence1", "sentence2", "start1", "start2", "end1", "end2", "gold_sense1", "gold_sense2"],
    "rwsd": ["text", "span1_index", "span2_index", "span1_text", "span2_text"],
    "danetqa": ["question", "passage"],
}


def _cast_label(label):
    return ("True" if label else "False") if isinstance(label, bool) else label


def _hub_examples(config: str, row: dict, split: str):
    """The examples the Hub loading script yields for one archive record."""
    if config == "muserc":
        paragraph = row["passage"]
        for question in paragraph["questions"]:
            for answer in question["answers"]:
                label = answer.get("label")
                yield {
                    "paragraph": paragraph["text"],
                    "question": question["question"],
                    "answer": answer["text"],
                    "label": -1 if label is None else _cast_label(bool(label)),
                    "idx": {"paragraph": row["idx"], "question": question["idx"], "answer": answer["idx"]},
                }
        return
    features = _SCRIPT_FEATURES[config]
    if config in ("lidirus", "rcb"):
        example = {feature: row.get(feature, "") for feature in features}
    elif config == "russe" and split == "test":
        example = {feature: row[feature] for feature in features if feature not in ("gold_sense1", "gold_sense2")}
        example["gold_sense1"] = example["gold_sense2"] = -1
    else:
        if config == "rwsd":
            row.update(row["target"])
        example = {feature: row[feature] for feature in features}
    example["idx"] = row["idx"]
    if "label" in row:
        example["label"] = (
            ("choice2" if row["label"] else "choice1") if config == "parus" else _cast_label(row["label"])
        )
    else:
        example["label"] = -1
    yield example


def hub_dataset(task_name: str) -> DatasetDict:
    """The task's Hub configuration built from the sample archive records."""
    task = TASKS[task_name]
    splits = {}
    for split, filename in task.archive_files.items():
        with open(SAMPLE / task.name / filename, encoding="utf-8") as file:
            rows = [json.loads(line) for line in file]
        examples = [example for row in rows for example in _hub_examples(task.config, row, split)]
        features = _HUB_FEATURES[task.config]
        splits[split] = Dataset.from_list(examples, features=features)
    return DatasetDict(splits)


# --- Tests


def _raw_lines(path: Path) -> list[str]:
    return [line for line in path.read_bytes().decode("utf-8").split("\n") if line.strip()]


def test_sample_files_keep_the_official_crlf_endings_and_missing_final_newlines():
    assert b"\r\n" in (SAMPLE / "TERRa" / "train.jsonl").read_bytes()
    assert not (SAMPLE / "LiDiRus" / "LiDiRus.jsonl").read_bytes().endswith(b"\n")
    assert not (SAMPLE / "PARus" / "test.jsonl").read_bytes().endswith(b"\n")


@pytest.mark.parametrize("name", list(TASKS))
def test_archive_loader_reads_every_record_into_the_task_schema(name):
    task = TASKS[name]
    data = load_archive_task(task, SAMPLE)
    assert list(data) == list(task.archive_files)
    for split, filename in task.archive_files.items():
        records = [json.loads(line) for line in _raw_lines(SAMPLE / name / filename)]
        assert data[split].features == task.features
        if name == "MuSeRC":
            answers = [a for r in records for q in r["passage"]["questions"] for a in q["answers"]]
            assert len(data[split]) == len(answers)
            assert [row["answer"] for row in data[split]] == [a["text"] for a in answers]
        else:
            assert len(data[split]) == len(records)
            assert data[split]["idx"] == [int(r["idx"]) for r in records]
        for row in data[split]:
            assert all(not value.endswith("\r") for value in row.values() if isinstance(value, str))
        labels = set(data[split]["label"])
        assert labels == {-1} if split == "test" and name != "LiDiRus" else -1 not in labels


def test_archive_labels_follow_the_hub_class_label_ids():
    rcb = load_archive_task("RCB", SAMPLE)["train"]
    raw = [json.loads(line)["label"] for line in _raw_lines(SAMPLE / "RCB" / "train.jsonl")]
    assert [rcb.features["label"].int2str(label) for label in rcb["label"]] == raw
    parus = load_archive_task("PARus", SAMPLE)["validation"]
    assert parus["label"] == [json.loads(line)["label"] for line in _raw_lines(SAMPLE / "PARus" / "val.jsonl")]
    rwsd = load_archive_task("RWSD", SAMPLE)["train"]
    assert rwsd["label"] == [int(json.loads(line)["label"]) for line in _raw_lines(SAMPLE / "RWSD" / "train.jsonl")]


@pytest.mark.parametrize("name", list(TASKS))
def test_the_same_records_from_both_layouts_give_the_same_examples(name):
    from_archive = load_archive_task(name, SAMPLE)
    from_hub = load_hub_task(name, hub_dataset(name))
    assert list(from_archive) == list(from_hub)
    for split in from_archive:
        assert from_hub[split].features == from_archive[split].features
        assert from_hub[split].to_list() == from_archive[split].to_list()


def test_load_task_detects_the_layout_of_a_folder(tmp_path):
    for name in ("RCB", "MuSeRC", "LiDiRus"):
        hub_dataset(name).save_to_disk(str(tmp_path / TASKS[name].config))
    for name in ("RCB", "MuSeRC", "LiDiRus"):
        from_disk = load_task(name, tmp_path)
        from_archive = load_task(name, SAMPLE)
        assert {split: d.to_list() for split, d in from_disk.items()} == {
            split: d.to_list() for split, d in from_archive.items()
        }
    mapping = {"rcb": hub_dataset("RCB")}
    assert load_task("RCB", mapping)["test"].to_list() == load_task("RCB", SAMPLE)["test"].to_list()
    with pytest.raises(DataFormatError, match="no TERRa entry"):
        load_task("TERRa", mapping)


def test_hub_id_falls_back_to_the_parquet_export_of_a_script_dataset(monkeypatch):
    calls = []

    def fake_load_dataset(path, name=None, **kwargs):
        calls.append((path, name, kwargs))
        if len(calls) == 1:
            raise RuntimeError("Dataset scripts are no longer supported, but found russian_super_glue.py")
        return hub_dataset("TERRa")

    monkeypatch.setattr(rsg_data, "load_dataset", fake_load_dataset)
    data = load_task("terra", "RussianNLP/russian_super_glue")
    assert calls == [
        ("RussianNLP/russian_super_glue", "terra", {}),
        ("RussianNLP/russian_super_glue", None, {"data_dir": "terra", "revision": "refs/convert/parquet"}),
    ]
    assert data["validation"].to_list() == load_archive_task("TERRa", SAMPLE)["validation"].to_list()


def test_hub_schema_errors_name_the_problem():
    incomplete = DatasetDict({"train": hub_dataset("RCB")["train"], "test": hub_dataset("RCB")["test"]})
    with pytest.raises(DataFormatError, match="no 'validation' split"):
        load_hub_task("RCB", incomplete)
    renamed = hub_dataset("TERRa").rename_column("hypothesis", "claim")
    with pytest.raises(DataFormatError, match="no column 'hypothesis'"):
        load_hub_task("TERRa", renamed)


@pytest.mark.parametrize("name", ["foo", "RuCoS", ""])
def test_unknown_task_is_rejected(name):
    with pytest.raises(ValueError, match="Unknown Russian SuperGLUE task"):
        get_task(name)
    with pytest.raises(ValueError, match="Unknown Russian SuperGLUE task"):
        resolve_tasks(["RCB", name])


def test_task_names_any_case_and_run_order():
    assert [task.name for task in resolve_tasks(["lidirus", "terra", "Rcb"])] == ["RCB", "TERRa", "LiDiRus"]
    assert [task.name for task in resolve_tasks()] == [
        "RCB",
        "PARus",
        "MuSeRC",
        "TERRa",
        "LiDiRus",
        "RUSSE",
        "RWSD",
        "DaNetQA",
    ]
    with pytest.raises(ValueError, match="select TERRa too"):
        resolve_tasks(["LiDiRus"])


def _archive_copy(tmp_path: Path, task: str) -> Path:
    shutil.copytree(SAMPLE / task, tmp_path / task)
    return tmp_path


def test_missing_split_names_the_file(tmp_path):
    root = _archive_copy(tmp_path, "RCB")
    (root / "RCB" / "val.jsonl").unlink()
    with pytest.raises(FileNotFoundError, match=r"RCB/val\.jsonl is missing"):
        load_task("RCB", root)


def test_malformed_line_names_file_and_line(tmp_path):
    root = _archive_copy(tmp_path, "TERRa")
    path = root / "TERRa" / "train.jsonl"
    lines = path.read_bytes().split(b"\r\n")
    lines[6] = lines[6][:-5]  # cut the record's end
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(DataFormatError, match=rf"{path}:7: not a JSON record"):
        load_task("TERRa", root)


@pytest.mark.parametrize(
    "task, line, message",
    [
        ("RCB", '{"premise": "a", "hypothesis": "b", "idx": 0, "label": "maybe"}', "'maybe' is not a RCB label"),
        ("RCB", '{"premise": "a", "idx": 0, "label": "neutral"}', "no 'hypothesis' field"),
        ("RCB", '{"premise": "a", "hypothesis": "b", "idx": 0}', "the train record has no 'label' field"),
        ("RWSD", '{"text": "a", "idx": 0, "label": true}', "no 'target' field"),
        (
            "PARus",
            '{"premise": "a", "choice1": "b", "choice2": "c", "question": "cause", "idx": "x", "label": 0}',
            "'idx' should be int",
        ),
        ("DaNetQA", '{"question": "a", "passage": "b", "idx": 0, "label": "yes"}', "'yes' is not a DaNetQA label"),
        (
            "MuSeRC",
            json.dumps(
                {
                    "idx": 0,
                    "passage": {
                        "text": "t",
                        "questions": [{"question": "q", "idx": 0, "answers": [{"idx": 0, "text": "a", "label": 7}]}],
                    },
                }
            ),
            "7 is not a MuSeRC label",
        ),
        ("TERRa", "[1, 2]", "expected a JSON object"),
    ],
)
def test_invalid_records_name_file_line_and_field(tmp_path, task, line, message):
    root = _archive_copy(tmp_path, task)
    path = root / task / "train.jsonl"
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    number = len(_raw_lines(path))
    with pytest.raises(DataFormatError, match=rf"train\.jsonl:{number}: .*{message}"):
        load_task(task, root)


def test_missing_folder_and_wrong_layout_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_task("RCB", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="not a saved DatasetDict"):
        load_task("RCB", tmp_path)
    root = _archive_copy(tmp_path, "RCB")
    with pytest.raises(FileNotFoundError, match=r"TERRa.*is missing"):
        load_task("TERRa", root)
