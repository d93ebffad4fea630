import json

from conftest import make_teacher
from transformers import AutoModelForMaskedLM, AutoTokenizer

from hf_rudistill.alignment import VocabMapping
from hf_rudistill.cli import main


def test_vocab_then_init_student_from_the_command_line(tmp_path, teacher_tokenizer, train_texts, capsys):
    teacher = make_teacher(tmp_path / "teacher", teacher_tokenizer("wordpiece"))
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in train_texts[:400]))
    assert (
        main(
            [
                "vocab",
                "--teacher",
                teacher,
                "--dataset",
                str(corpus),
                "--vocab-size",
                "450",
                "--output-dir",
                str(tmp_path / "tok"),
            ]
        )
        == 0
    )
    assert "tokens per word" in capsys.readouterr().out
    report = json.loads((tmp_path / "tok" / "vocab_report.json").read_text())
    assert report["student"]["vocab_size"] == 450 and report["texts"] == 20  # 5% held out
    assert len(AutoTokenizer.from_pretrained(tmp_path / "tok")) == 450
    assert VocabMapping.from_pretrained(tmp_path / "tok").source_vocab_size == len(teacher_tokenizer("wordpiece"))

    args = [
        "init-student",
        "--teacher",
        teacher,
        "--student-tokenizer",
        str(tmp_path / "tok"),
        "--layer-groups",
        "0-1,2-3",
    ]
    assert main([*args, "--hidden-size", "16", "--output-dir", str(tmp_path / "student")]) == 0
    student = AutoModelForMaskedLM.from_pretrained(tmp_path / "student")
    assert (
        student.config.vocab_size == 450 and student.config.num_hidden_layers == 2 and student.config.hidden_size == 16
    )
    assert json.loads((tmp_path / "student" / "student_init.json").read_text())["layer_groups"] == [[0, 1], [2, 3]]


def test_bad_input_is_one_line_and_leaves_nothing_behind(tmp_path, teacher_tokenizer, capsys):
    teacher = make_teacher(tmp_path / "teacher", teacher_tokenizer("wordpiece"))
    output = tmp_path / "tok"
    assert main(["vocab", "--teacher", teacher, "--vocab-size", "20", "--output-dir", str(output)]) == 2
    assert "error: vocab_size=20 is below" in capsys.readouterr().err
    assert not output.exists() and [p.name for p in tmp_path.iterdir()] == ["teacher"]
    assert main(["init-student", "--teacher", teacher, "--layers", "0,7", "--output-dir", str(tmp_path / "s")]) == 2
    assert "Teacher layer 7 is out of range" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
    assert main(["init-student", "--teacher", teacher, "--output-dir", str(tmp_path / "teacher")]) == 2
    assert "already exists" in capsys.readouterr().err
