"""`rudistill evaluate` end to end: the embedded teacher fine-tuned on the sample records of every task."""

import json
import math
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from hf_rudistill.assets import DEMO_TEACHER
from hf_rudistill.cli import main
from hf_rudistill.evaluation import TASKS, encode_task, load_archive_task, read_results

SAMPLE = Path(__file__).parent / "data" / "rsg_sample"
MAX_LENGTH = 32


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    output = tmp_path_factory.mktemp("rsg") / "out"
    # Tiny settings keep the whole file fast on a shared CPU: 1 epoch (2 for RCB, to exercise model selection),
    # 16 training examples per task, 32 tokens per input.
    argv = ["evaluate", str(DEMO_TEACHER), "--data", str(SAMPLE), "--output-dir", str(output), "--use-cpu"]
    argv += ["--epochs", "1", "--batch-size", "16", "--max-length", str(MAX_LENGTH), "--max-train-samples", "16"]
    argv += ["--override", "RCB.num_train_epochs=2", "--override", "RCB.learning_rate=1e-4", "--save-models"]
    return main(argv), output


def _predict(model_dir: Path, task_name: str, split: str) -> list[int]:
    task = TASKS[task_name]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    encoded = encode_task(task, load_archive_task(task, SAMPLE)[split], tokenizer, MAX_LENGTH)
    batch = tokenizer.pad(
        [{k: row[k] for k in ("input_ids", "token_type_ids", "attention_mask")} for row in encoded],
        return_tensors="pt",
    )
    with torch.no_grad():
        return model(**batch).logits.argmax(-1).tolist()


def test_run_finishes_and_writes_results_for_every_task(run):
    code, output = run
    assert code == 0
    results = read_results(output / "results.json")
    assert results["complete"] and list(results["tasks"]) == results["tasks_requested"]
    assert set(results["tasks"]) == set(TASKS)
    assert results["model"] == str(DEMO_TEACHER) and results["seed"] == 42 and results["max_train_samples"] == 16
    for name, entry in results["tasks"].items():
        task = TASKS[name]
        assert list(entry["metrics"]) == list(task.metrics)
        assert entry["score"] == pytest.approx(sum(entry["metrics"].values()) / len(task.metrics))
        assert entry["wall_time_seconds"] > 0
        low = -1 if name == "LiDiRus" else 0
        assert all(low <= value <= 1 for value in entry["metrics"].values())
        sizes = {split: len(data) for split, data in load_archive_task(task, SAMPLE).items()}
        if name == "LiDiRus":
            assert entry["split"] == "test" and entry["model_from"] == "TERRa" and entry["num_examples"] == sizes
            continue
        assert entry["split"] == "validation"
        assert entry["num_examples"] == {**sizes, "train": 16}
        hyperparameters = entry["hyperparameters"]
        assert hyperparameters["max_length"] == MAX_LENGTH and hyperparameters["batch_size"] == 16
        assert hyperparameters["num_train_epochs"] == (2 if name == "RCB" else 1)
        expected_lr = 1e-4 if name == "RCB" else task.defaults.learning_rate
        assert hyperparameters["learning_rate"] == pytest.approx(expected_lr)
        assert entry["best_epoch"] in ((1.0, 2.0) if name == "RCB" else (1.0,))
    scores = [entry["score"] for entry in results["tasks"].values()]
    assert results["score"] == pytest.approx(sum(scores) / len(scores))


def test_submission_files_cover_the_test_splits(run):
    _, output = run
    results = read_results(output / "results.json")
    for name, task in TASKS.items():
        path = output / results["tasks"][name]["submission"]
        assert path == output / "submission" / f"{name}.jsonl"
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        test = load_archive_task(task, SAMPLE)["test"]
        if name == "MuSeRC":
            answers = [a for line in lines for q in line["passage"]["questions"] for a in q["answers"]]
            assert [a["idx"] for a in answers] == [ids["answer"] for ids in test["idx"]]
            assert {a["label"] for a in answers} <= {0, 1}
        else:
            assert [line["idx"] for line in lines] == test["idx"]
            assert {line["label"] for line in lines} <= set(task.submission_labels)
    leftovers = [p.name for p in output.rglob("*") if p.name.startswith(".") or p.name == "checkpoints"]
    assert leftovers == []


def test_lidirus_is_predicted_by_the_terra_model_and_scored_by_matthews_correlation(run):
    _, output = run
    results = read_results(output / "results.json")
    labels = TASKS["LiDiRus"].submission_labels
    predicted = [
        labels.index(json.loads(line)["label"])
        for line in (output / "submission" / "LiDiRus.jsonl").read_text().splitlines()
    ]
    assert predicted == _predict(output / "models" / "TERRa", "LiDiRus", "test")
    gold = load_archive_task("LiDiRus", SAMPLE)["test"]["label"]
    tp = sum(p == 1 and g == 1 for p, g in zip(predicted, gold))
    tn = sum(p == 0 and g == 0 for p, g in zip(predicted, gold))
    fp = sum(p == 1 and g == 0 for p, g in zip(predicted, gold))
    fn = sum(p == 0 and g == 1 for p, g in zip(predicted, gold))
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    expected = (tp * tn - fp * fn) / denominator if denominator else 0.0
    assert results["tasks"]["LiDiRus"]["metrics"]["mcc"] == pytest.approx(expected)


def test_reported_validation_metrics_are_those_of_the_kept_model(run):
    _, output = run
    results = read_results(output / "results.json")
    predicted = _predict(output / "models" / "RCB", "RCB", "validation")
    gold = load_archive_task("RCB", SAMPLE)["validation"]["label"]
    accuracy = sum(p == g for p, g in zip(predicted, gold)) / len(gold)
    assert results["tasks"]["RCB"]["metrics"]["accuracy"] == pytest.approx(accuracy)
    test = [
        TASKS["RCB"].submission_labels.index(json.loads(line)["label"])
        for line in (output / "submission" / "RCB.jsonl").read_text().splitlines()
    ]
    assert test == _predict(output / "models" / "RCB", "RCB", "test")


@pytest.mark.parametrize(
    "make_bad, argv, message",
    [
        (None, ["--tasks", "RCB", "Foo"], "Unknown Russian SuperGLUE task 'Foo'"),
        (None, ["--tasks", "LiDiRus"], "select TERRa too"),
        (lambda root: (root / "TERRa" / "val.jsonl").unlink(), ["--tasks", "TERRa"], "TERRa/val.jsonl is missing"),
        (
            lambda root: (root / "RCB" / "test.jsonl").write_text('{"premise": "a"\n', encoding="utf-8"),
            ["--tasks", "rcb"],
            "RCB/test.jsonl:1: not a JSON record",
        ),
        (None, ["--override", "RCB.epochs=3"], "Unknown hyperparameter 'epochs'"),
        (None, ["--override", "RCB=3"], "not of the form TASK.NAME=VALUE"),
    ],
)
def test_bad_input_is_refused_before_any_work_with_a_clear_message(tmp_path, capsys, make_bad, argv, message):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    if make_bad:
        make_bad(data)
    output = tmp_path / "out"
    code = main(["evaluate", str(DEMO_TEACHER), "--data", str(data), "--output-dir", str(output), *argv])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not output.exists()


def test_a_non_empty_output_dir_is_refused_without_overwrite(tmp_path, capsys):
    output = tmp_path / "out"
    output.mkdir()
    (output / "results.json").write_text("{}")
    code = main(["evaluate", str(DEMO_TEACHER), "--data", str(SAMPLE), "--output-dir", str(output), "--tasks", "RCB"])
    assert code == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert (output / "results.json").read_text() == "{}"


def test_hyperparameters_defaults_then_global_values_then_task_overrides():
    from hf_rudistill.evaluation import RSGEvaluationConfig, task_hyperparameters

    rwsd, rcb = TASKS["RWSD"], TASKS["RCB"]
    assert task_hyperparameters(rwsd, RSGEvaluationConfig()) == rwsd.defaults
    config = RSGEvaluationConfig(learning_rate=3e-5, max_length=64, task_overrides={"rwsd": {"learning_rate": "1e-4"}})
    assert task_hyperparameters(rwsd, config).learning_rate == 1e-4
    assert task_hyperparameters(rwsd, config).max_length == 64
    assert task_hyperparameters(rcb, config).learning_rate == 3e-5
    assert task_hyperparameters(rcb, config).num_train_epochs == rcb.defaults.num_train_epochs
    with pytest.raises(ValueError, match="batch_size must be positive"):
        task_hyperparameters(rcb, RSGEvaluationConfig(batch_size=0))
    with pytest.raises(ValueError, match="reuses the TERRa model"):
        task_hyperparameters(TASKS["LiDiRus"], RSGEvaluationConfig())
