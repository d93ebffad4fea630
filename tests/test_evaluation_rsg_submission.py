"""Leaderboard submission files and the results file."""

import json
import os
from pathlib import Path

import pytest

from hf_rudistill.evaluation import (
    TASKS,
    load_archive_task,
    read_results,
    submission_records,
    write_results,
    write_submission,
)

SAMPLE = Path(__file__).parent / "data" / "rsg_sample"


def _sample_submission(name: str) -> list[dict]:
    return [json.loads(line) for line in (SAMPLE / "sample_submission" / f"{name}.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("name", [name for name in TASKS if name != "MuSeRC"])
def test_flat_submission_lines_look_like_the_official_sample(name):
    task = TASKS[name]
    official = _sample_submission(name)
    # Our spelling table covers every label of the official sample, with the same JSON types.
    assert all(line["label"] in task.submission_labels for line in official)
    assert all(type(line["label"]) is type(task.submission_labels[0]) for line in official)
    test = load_archive_task(task, SAMPLE)["test"]
    predictions = [i % task.num_labels for i in range(len(test))]
    records = submission_records(task, test, predictions)
    assert [set(record) for record in records] == [set(official[0])] * len(test)
    assert [record["idx"] for record in records] == test["idx"]
    assert [record["label"] for record in records] == [task.submission_labels[p] for p in predictions]


def test_muserc_submission_is_nested_like_the_test_file_and_the_official_sample():
    task = TASKS["MuSeRC"]
    test = load_archive_task(task, SAMPLE)["test"]
    predictions = [(i * 7) % 2 for i in range(len(test))]
    records = submission_records(task, test, predictions)
    source = [json.loads(line) for line in (SAMPLE / "MuSeRC" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["idx"] for r in records] == [s["idx"] for s in source]
    for record, original in zip(records, source):
        assert [q["idx"] for q in record["passage"]["questions"]] == [
            q["idx"] for q in original["passage"]["questions"]
        ]
        for question, original_question in zip(record["passage"]["questions"], original["passage"]["questions"]):
            assert [a["idx"] for a in question["answers"]] == [a["idx"] for a in original_question["answers"]]
    labels = [a["label"] for r in records for q in r["passage"]["questions"] for a in q["answers"]]
    assert labels == predictions
    official = _sample_submission("MuSeRC")[0]
    assert set(records[0]) == set(official) and set(records[0]["passage"]) == set(official["passage"])
    assert set(records[0]["passage"]["questions"][0]["answers"][0]) == {"idx", "label"}


def test_write_submission_is_one_json_line_per_record(tmp_path):
    task = TASKS["RWSD"]
    test = load_archive_task(task, SAMPLE)["test"]
    path = write_submission(task, test, [1] * len(test), tmp_path / "submission")
    assert path == tmp_path / "submission" / "RWSD.jsonl"
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"idx": i, "label": "True"} for i in test["idx"]]
    assert os.listdir(path.parent) == ["RWSD.jsonl"]
    with pytest.raises(ValueError, match="3 predictions for 20 test examples"):
        write_submission(task, test, [0, 1, 0], tmp_path)


def test_results_round_trip_and_format_check(tmp_path):
    results = {"format": "hf_rudistill/russian-superglue-results", "format_version": 1, "tasks": {}, "score": None}
    path = write_results(results, tmp_path / "results.json")
    assert read_results(path) == results
    write_results({**results, "format_version": 2}, path)
    with pytest.raises(ValueError, match="version 2"):
        read_results(path)
    path.write_text('{"something": "else"}')
    with pytest.raises(ValueError, match="not a Russian SuperGLUE results file"):
        read_results(path)
