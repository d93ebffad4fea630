"""Model cards: the training-facts callback, the rendered card (one golden pattern of the whole card), metadata
that huggingface_hub parses back, sections left out when their inputs are missing, and `rudistill card`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import make_teacher
from datasets import Dataset, DatasetDict
from huggingface_hub import ModelCard, ModelCardData
from huggingface_hub.repocard import metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results
from safetensors.torch import load_file
from transformers import AutoModelForMaskedLM

from hf_rudistill.cli import main
from hf_rudistill.distillation_config import DistillationTrainingArguments
from hf_rudistill.model_card import (
    RSG_METRICS,
    TRAINING_FACTS_FILE,
    build_model_card,
    non_default_arguments,
    write_model_card,
)
from hf_rudistill.recipes import RECIPES, parse_recipe_arguments, run_recipe

DATA = Path(__file__).parent / "data"
BENCHMARK = DATA / "benchmark.json"
EVALUATION = DATA / "rsg_results.json"
PATTERN = Path(__file__).parent / "model_card_pattern.md"
REPO_ID = "tester/distilrubert-tiny-test"
# wildcards of the golden pattern: everything else in the pattern file must match literally
WILDCARDS = {
    "<<num>>": r"-?[0-9][0-9,]*(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?",
    "<<text>>": r"[^\n]+?",
}


@pytest.fixture(scope="module")
def student(tmp_path_factory, teacher_tokenizer, train_texts, heldout_texts) -> Path:
    """A student distilled by the distilrubert-tiny recipe (demo preset, scaled down) from a hidden-32 teacher."""
    root = tmp_path_factory.mktemp("distilled")
    teacher = make_teacher(root / "teacher", teacher_tokenizer("wordpiece"))
    corpus = root / "corpus"
    DatasetDict(
        train=Dataset.from_dict({"text": train_texts[:200]}),
        validation=Dataset.from_dict({"text": heldout_texts[:32]}),
    ).save_to_disk(corpus)
    recipe = RECIPES["distilrubert-tiny"]
    argv = ["--demo", "--teacher", teacher, "--dataset", str(corpus), "--output_dir", str(root / "run")]
    argv += ["--max_steps", "3", "--logging_steps", "2", "--per_device_train_batch_size", "4"]
    argv += ["--per_device_eval_batch_size", "8", "--max_length", "32", "--vocab_size", "300"]
    argv += ["--hidden_size", "16", "--intermediate_size", "32", "--num_attention_heads", "2"]
    report = run_recipe(recipe, *parse_recipe_arguments(recipe, argv))
    return Path(report["student_dir"])


def student_copy(student: Path, destination: Path) -> Path:
    shutil.copytree(student, destination)
    return destination


# ---- the callback ---------------------------------------------------------------------------------------------


def test_non_default_arguments_match_a_comparison_with_a_default_instance(tmp_path):
    args = DistillationTrainingArguments(
        output_dir=str(tmp_path / "run"),
        learning_rate=3e-4,
        max_steps=7,
        adam_beta2=0.98,
        lr_scheduler_type="cosine",
        logging_steps=3,
        save_steps=7,
        hub_model_id="me/model",
        hub_token="hf_secret_value",
        alpha_mse=0.1,
        temperature=3.0,
        use_cpu=True,
    )
    # reference: every field compared with a freshly built default instance (fine outside training)
    defaults = DistillationTrainingArguments(output_dir=str(tmp_path / "run"), use_cpu=True).to_dict()
    reference = {name: value for name, value in args.to_dict().items() if value != defaults[name]}
    left_out = {"logging_steps", "save_steps", "hub_model_id", "alpha_mse", "temperature"}  # bookkeeping, losses
    assert left_out < set(reference)
    found = non_default_arguments(args)
    # use_cpu differs from the class default (False), which the reference instance overrode
    assert found == {name: value for name, value in reference.items() if name not in left_out} | {"use_cpu": True}
    assert set(found) == {"learning_rate", "max_steps", "adam_beta2", "lr_scheduler_type", "use_cpu"}
    assert "hf_secret_value" not in json.dumps(found)


def test_the_trainer_records_training_facts(student):
    facts = json.loads((student / TRAINING_FACTS_FILE).read_text())
    assert facts["finished"] is True and facts["global_step"] == 3 and facts["max_steps"] == 3
    assert facts["wall_time_seconds"] > 0
    assert facts["loss_weights"] == {"mlm": 0.5, "ce": 0.0, "mse": 0.01, "cos": 0.0, "attn": 0.0}
    assert facts["hyperparameters"]["max_steps"] == 3 and facts["hyperparameters"]["learning_rate"] == 1e-3
    assert "output_dir" not in facts["hyperparameters"] and "logging_steps" not in facts["hyperparameters"]
    assert facts["hardware"]["cpu"] and facts["hardware"]["gpus"] == [] and facts["hardware"]["processes"] == 1
    assert facts["train_examples"] == 200  # deduplication removed nothing from these 200 distinct texts
    last = facts["last_train_log"]
    assert last["step"] == 2 and {"loss", "mlm", "mse"} <= set(last)
    report = json.loads((student / "distillation_report.json").read_text())
    assert facts["last_evaluation"]["eval_loss"] == pytest.approx(report["evaluation"]["eval_loss"])
    assert facts["mean_train_loss"] == pytest.approx(report["train"]["train_loss"])


# ---- the card ------------------------------------------------------------------------------------------------


def pattern_regex(pattern: str) -> str:
    parts = re.split("(" + "|".join(map(re.escape, WILDCARDS)) + ")", pattern)
    return "".join(WILDCARDS.get(part, re.escape(part)) for part in parts)


def test_the_whole_card_matches_the_golden_pattern(student):
    card = str(build_model_card(student, benchmark=BENCHMARK, evaluation=EVALUATION, repo_id=REPO_ID))
    regex = pattern_regex(PATTERN.read_text(encoding="utf-8"))
    if not re.fullmatch(regex, card, flags=re.DOTALL):
        expected, actual = PATTERN.read_text(encoding="utf-8").splitlines(), card.splitlines()
        first = next(
            (i for i, (e, a) in enumerate(zip(expected, actual)) if not re.fullmatch(pattern_regex(e), a)),
            min(len(expected), len(actual)),
        )
        pytest.fail(f"card differs from the pattern at line {first + 1}:\n  pattern: {expected[first:first + 1]}\n"
                    f"  card:    {actual[first:first + 1]}")  # fmt: skip


def test_card_metadata_round_trips_through_huggingface_hub(student, tmp_path):
    folder = student_copy(student, tmp_path / "student")
    path = write_model_card(folder, benchmark=BENCHMARK, evaluation=EVALUATION, repo_id=REPO_ID, license="mit")
    metadata = metadata_load(path)
    assert metadata["language"] == "ru" and metadata["license"] == "mit"
    assert metadata["library_name"] == "transformers" and metadata["pipeline_tag"] == "fill-mask"
    assert {"distillation", "russian", "distilrubert-tiny"} <= set(metadata["tags"])
    assert "base_model" not in metadata  # the teacher is a local folder, not a Hub id
    data = ModelCardData(**metadata, ignore_metadata_errors=False)
    assert yaml.safe_load(data.to_yaml()) == metadata  # the metadata survives ModelCardData unchanged
    assert ModelCard.load(path, ignore_metadata_errors=False).data.to_dict() == data.to_dict()

    name, results = model_index_to_eval_results(metadata["model-index"])
    assert name == REPO_ID
    evaluation = json.loads(EVALUATION.read_text())
    task_types = {"PARus": "multiple-choice", "MuSeRC": "question-answering", "DaNetQA": "question-answering"}
    # every (task, metric) of the results file is in model-index once, with its value, split, config and task type
    expected = {
        (f"Russian SuperGLUE ({task})", RSG_METRICS[metric][0], RSG_METRICS[metric][1]): (
            round(value, 4),
            evaluation["tasks"][task]["split"],
            (task.lower(), task_types.get(task, "text-classification")),
        )
        for task in evaluation["tasks"]
        for metric, value in evaluation["tasks"][task]["metrics"].items()
    }
    found = {
        (r.dataset_name, r.metric_type, r.metric_name): (
            r.metric_value,
            r.dataset_split,
            (r.dataset_config, r.task_type),
        )
        for r in results
    }
    assert found == expected
    assert all(r.dataset_type == "RussianNLP/russian_super_glue" for r in results)


def sections(card: str, level: int = 2) -> dict[str, str]:
    """Headings of ``level`` (and deeper) in the card's body -> the text up to the next heading of that level."""
    body = card.split("---", 2)[2]
    parts = re.split(rf"^(#{{{level}}} .+)$", body, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts), 2)}


def test_sections_without_inputs_are_left_out(student, tmp_path):
    card = str(build_model_card(student))
    found = sections(card)
    assert "## Size" not in found and "## Speed and memory" not in found and "## Russian SuperGLUE" not in found
    assert "model-index" not in card and "## Training" in found and "## Usage" in found
    assert str(student) in found["## Usage"]  # no repo id: the snippet loads the local folder

    # a bare saved model: no report, no training facts, no distillation config
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(student / name, bare / name)
    card = str(build_model_card(bare, repo_id="tester/bare"))
    found = sections(card)
    assert set(found) == {"## Usage", "## Citation"}
    stored = sum(tensor.numel() for tensor in load_file(bare / "model.safetensors").values())
    assert stored == AutoModelForMaskedLM.from_pretrained(bare).num_parameters()
    assert f"| {stored / 1e6:.2f}M |" in card  # counted from model.safetensors
    for text in (str(build_model_card(student)), card):
        assert not re.search(r"\bNone\b|\bnull\b|\{\{|\{%|nan\b", text.split("---", 2)[2])
        for level in (2, 3):  # no heading without content
            assert all(body for body in sections(text, level).values())
        assert "\n\n\n" not in text


def test_deberta_recipe_uses_its_own_template(student, tmp_path):
    folder = student_copy(student, tmp_path / "student")
    report = json.loads((folder / "distillation_report.json").read_text())
    report["recipe"], report["teacher"] = "deberta-v1-distill", "deepvk/deberta-v1-base"
    (folder / "distillation_report.json").write_text(json.dumps(report))
    card = str(build_model_card(folder, repo_id=REPO_ID))
    assert "deepvk's [deberta-v1-distill](https://huggingface.co/deepvk/deberta-v1-distill)" in card
    assert "2205.02340" not in card and "DistilRuBERT" not in card
    assert metadata_from(card)["base_model"] == "deepvk/deberta-v1-base"
    assert "deberta-v1-distill" in metadata_from(card)["tags"]


def metadata_from(card: str) -> dict:
    return yaml.safe_load(card.split("---", 2)[1])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"benchmark": "missing/benchmark.json"}, FileNotFoundError, "No benchmark results"),
        ({"evaluation": BENCHMARK}, ValueError, "not a Russian SuperGLUE results file"),
        ({"evaluation": DATA}, FileNotFoundError, "No Russian SuperGLUE results file at .*results.json"),
        ({"evaluation": "missing.json"}, FileNotFoundError, "No Russian SuperGLUE results"),
        ({"benchmark": EVALUATION}, ValueError, "schema version"),
        ({"license": "Apache 2.0"}, ValueError, "Hub license id"),
        ({"repo_id": "not a/valid id"}, ValueError, "not a valid Hub repository id"),
    ],
)
def test_bad_inputs_raise_clear_errors_and_write_nothing(student, tmp_path, kwargs, error, message):
    folder = student_copy(student, tmp_path / "student")
    with pytest.raises(error, match=message):
        write_model_card(folder, **kwargs)
    assert not (folder / "README.md").exists()
    with pytest.raises(FileNotFoundError, match="no config.json"):
        write_model_card(tmp_path)


def test_card_command_writes_readme_and_keeps_a_foreign_one(student, tmp_path, capsys):
    folder = student_copy(student, tmp_path / "student")
    args = ["card", str(folder), "--benchmark", str(BENCHMARK), "--evaluation", str(EVALUATION)]
    assert main([*args, "--repo-id", REPO_ID]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {folder / 'README.md'}"
    assert "## Russian SuperGLUE" in (folder / "README.md").read_text()
    assert main(["card", str(folder), "--license", "mit"]) == 0  # our own card is regenerated
    assert metadata_load(folder / "README.md")["license"] == "mit"

    (folder / "README.md").write_text("# My own notes\n")
    assert main(["card", str(folder)]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert (folder / "README.md").read_text() == "# My own notes\n"
    assert main(["card", str(folder), "--overwrite"]) == 0
    assert "## Usage" in (folder / "README.md").read_text()


def test_templates_are_package_data():
    from fnmatch import fnmatch

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    import hf_rudistill.model_card as module

    root = Path(__file__).parent.parent
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    templates = [str(path.relative_to(root / "hf_rudistill")) for path in module.TEMPLATES.glob("*")]
    assert len(templates) == 3 and all(any(fnmatch(t, p) for p in patterns["hf_rudistill"]) for t in templates)
