import json

from conftest import make_teacher
from transformers import AutoModelForMaskedLM, AutoTokenizer

from hf_rudistill.cli import main


def test_vocab_init_and_distill_from_the_command_line(tmp_path, teacher_tokenizer, train_texts, capsys):
    teacher = make_teacher(tmp_path / "teacher", teacher_tokenizer("wordpiece"))
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in train_texts[:120]))
    assert (
        main(
            [
                "vocab",
                "--teacher",
                teacher,
                "--dataset",
                str(corpus),
                "--vocab-size",
                "400",
                "--output-dir",
                str(tmp_path / "tok"),
            ]
        )
        == 0
    )
    init = ["init-student", "--teacher", teacher, "--student-tokenizer", str(tmp_path / "tok"), "--layers", "even"]
    assert (
        main([*init, "--hidden-size", "16", "--num-attention-heads", "2", "--output-dir", str(tmp_path / "init")]) == 0
    )
    run = tmp_path / "run"
    args = ["distill", "--teacher", teacher, "--student", str(tmp_path / "init"), "--dataset", str(corpus)]
    args += ["--output_dir", str(run), "--max_steps", "3", "--per_device_train_batch_size", "4", "--alpha_ce", "0"]
    args += [
        "--alpha_cos",
        "0",
        "--alpha_mse",
        "0.1",
        "--alpha_mlm",
        "0.5",
        "--projection",
        "fixed",
        "--max_length",
        "32",
    ]
    args += ["--report_to", "none", "--use_cpu", "--save_strategy", "no"]
    assert main(args) == 0
    assert "distilled student ->" in capsys.readouterr().out
    student = AutoModelForMaskedLM.from_pretrained(run / "student")
    assert student.config.vocab_size == 400 and student.config.hidden_size == 16
    assert len(AutoTokenizer.from_pretrained(run / "student")) == 400
    assert json.loads((run / "student" / "distillation_config.json").read_text())["projection"] == "fixed"


def test_distill_help_lists_the_distillation_arguments(capsys):
    assert main(["distill", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--alpha_mse" in text and "--hidden_matching" in text and "--student" in text and "--learning_rate" in text


def test_distill_needs_a_student(capsys):
    assert main(["distill", "--output_dir", "/tmp/never-written-rudistill", "--report_to", "none"]) == 2
    assert "--student is required" in capsys.readouterr().err
