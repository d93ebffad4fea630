import json

import pytest
from transformers import AutoModelForMaskedLM, AutoTokenizer

from hf_rudistill.alignment import VocabMapping
from hf_rudistill.recipes import RECIPES, main, parse_recipe_arguments

QUICK = [
    "--max_steps",
    "2",
    "--max_train_samples",
    "96",
    "--max_eval_samples",
    "32",
    "--per_device_train_batch_size",
    "8",
]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_each_recipe_runs_end_to_end_on_its_demo_preset(name, tmp_path, capsys):
    assert main(name, ["--demo", "--output_dir", str(tmp_path), "--disable_tqdm", "true", *QUICK]) == 0
    assert "student ->" in capsys.readouterr().out
    student_dir = tmp_path / "student"
    student = AutoModelForMaskedLM.from_pretrained(student_dir)
    tokenizer = AutoTokenizer.from_pretrained(student_dir)
    assert len(tokenizer) <= student.config.vocab_size
    report = json.loads((student_dir / "distillation_report.json").read_text())
    assert report["recipe"] == name and report["train"]["steps"] == 2
    assert json.loads((student_dir / "distillation_config.json").read_text())["alpha_mlm"] > 0
    if RECIPES[name].published.get("vocabulary") == "train":
        mapping = VocabMapping.from_pretrained(student_dir)
        assert mapping.metadata["target_vocab_size"] == len(tokenizer)
        assert report["vocabulary"]["student"]["vocab_size"] == len(tokenizer)
    else:
        assert not (student_dir / "vocab_mapping.json").exists()
    assert not any(path.suffix in (".bin", ".pt", ".pth") for path in student_dir.iterdir())


def test_published_defaults_are_the_recipes_configuration():
    model, data, student, training = parse_recipe_arguments(RECIPES["distilrubert-tiny"], ["--output_dir", "x"])
    assert model.teacher == "DeepPavlov/rubert-base-cased-conversational" and data.dataset is None
    assert (student.architecture, student.layer_groups, student.hidden_size, student.intermediate_size) == (
        "distilbert",
        "0-3,4-7,8-11",
        264,
        792,
    )
    assert (student.num_attention_heads, student.vocabulary, student.vocab_size) == (12, "train", 30_522)
    assert (training.alpha_mlm, training.alpha_mse, training.alpha_ce, training.alpha_cos) == (0.5, 0.1, 0.0, 0.0)
    assert (training.learning_rate, training.adam_beta1, training.adam_beta2) == (5e-4, 0.9, 0.98)
    assert (training.hidden_matching, training.span_pooling, training.projection) == ("average", "sum", "fixed")

    model, data, student, training = parse_recipe_arguments(RECIPES["deberta-v1-distill"], ["--output_dir", "x"])
    assert model.teacher == "deepvk/deberta-v1-base" and student.dedup == "deepvk" and student.teacher_head == "tied"
    assert (training.alpha_mlm, training.alpha_ce) == (0.5, 0.5)
    assert training.per_device_train_batch_size * training.gradient_accumulation_steps == 3840
    assert (training.max_steps, training.warmup_steps, training.lr_scheduler_type.value) == (100_000, 5_000, "cosine")
    assert (training.adam_epsilon, training.weight_decay, training.max_grad_norm) == (1e-6, 0.01, 1.0)

    _, _, _, training = parse_recipe_arguments(RECIPES["distilrubert-base"], ["--output_dir", "x"])
    assert (training.alpha_ce, training.alpha_mlm, training.alpha_cos, training.temperature) == (5.0, 2.0, 1.0, 2.0)
    assert training.hidden_matching == "groups"


def test_demo_preset_yields_to_explicit_options():
    _, data, student, training = parse_recipe_arguments(
        RECIPES["distilrubert-tiny"], ["--demo", "--max_steps", "7", "--vocab_size", "1500"]
    )
    assert data.dataset == "embedded" and training.max_steps == 7 and student.vocab_size == 1500
    assert training.use_cpu and training.output_dir == "distilrubert-tiny-demo"


def test_a_wrong_teacher_id_offline_is_one_clear_line(tmp_path, capsys):
    argv = ["--demo", "--teacher", "nobody/no-such-teacher", "--output_dir", str(tmp_path / "out"), *QUICK]
    assert main("distilrubert-tiny", argv) == 2
    error = capsys.readouterr().err
    assert "Could not load the teacher 'nobody/no-such-teacher'" in error and "Traceback" not in error
    assert not (tmp_path / "out" / "student").exists()


def test_the_published_recipe_needs_a_dataset(tmp_path, capsys):
    assert main("distilrubert-small", ["--output_dir", str(tmp_path)]) == 2
    assert "pass --dataset" in capsys.readouterr().err
