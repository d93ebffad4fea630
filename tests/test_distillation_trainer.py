"""DistillationTrainer on the embedded teacher: short runs, resumption, gradient accumulation, bad input."""

import json

import pytest
import torch
from datasets import Dataset
from transformers import AutoModelForMaskedLM, AutoTokenizer, BertConfig, BertModel

from hf_rudistill.assets import DEMO_TEACHER
from hf_rudistill.collator import DataCollatorForDistillation
from hf_rudistill.distillation_config import DistillationTrainingArguments
from hf_rudistill.distillation_trainer import DistillationTrainer
from hf_rudistill.student import init_student
from hf_rudistill.vocab import train_student_tokenizer

TINY = dict(layer_groups=[[0, 1], [2, 3]], hidden_size=64, intermediate_size=128, num_attention_heads=4)


@pytest.fixture(scope="module")
def teacher_tokenizer():
    return AutoTokenizer.from_pretrained(DEMO_TEACHER)


@pytest.fixture(scope="module")
def student_tokenizer(teacher_tokenizer, train_texts):
    return train_student_tokenizer(train_texts[:1_000], teacher_tokenizer, 1_000, show_progress=False)


def teacher():
    return AutoModelForMaskedLM.from_pretrained(DEMO_TEACHER)


def tokenised(texts, student_tokenizer, teacher_tokenizer):
    encode = lambda tokenizer: tokenizer(list(texts), truncation=True, max_length=48)["input_ids"]  # noqa: E731
    columns = {"input_ids": encode(student_tokenizer)}
    if teacher_tokenizer is not None:
        columns["teacher_input_ids"] = encode(teacher_tokenizer)
    return Dataset.from_dict(columns)


def arguments(tmp_path, **overrides):
    settings = dict(
        output_dir=str(tmp_path),
        per_device_train_batch_size=16,
        per_device_eval_batch_size=32,
        learning_rate=1e-3,
        max_steps=15,
        logging_steps=3,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=7,
        disable_tqdm=True,
    )
    settings.update(overrides)
    return DistillationTrainingArguments(**settings)


def reduced_vocabulary_setup(student_tokenizer, teacher_tokenizer, texts, tmp_path, dropout=True, **overrides):
    model = teacher()
    student = init_student(model, student_tokenizer=student_tokenizer, teacher_tokenizer=teacher_tokenizer, **TINY)
    if not dropout:
        _without_dropout(student)
    tiny_recipe = dict(alpha_mlm=0.5, alpha_ce=0.0, alpha_cos=0.0, alpha_mse=0.1, hidden_matching="average")
    args = arguments(tmp_path, **{**tiny_recipe, "projection": "trainable", **overrides})
    collator = DataCollatorForDistillation(student_tokenizer, teacher_tokenizer, max_length=96)
    return DistillationTrainer(
        model=student,
        teacher_model=model,
        args=args,
        data_collator=collator,
        train_dataset=tokenised(texts, student_tokenizer, teacher_tokenizer),
        eval_dataset=tokenised(texts[:64], student_tokenizer, teacher_tokenizer),
    )


def _without_dropout(model):
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model


def logged(trainer, key="loss"):
    return {entry["step"]: entry[key] for entry in trainer.state.log_history if key in entry}


def test_reduced_vocabulary_mlm_and_mse_both_go_down(student_tokenizer, teacher_tokenizer, train_texts, tmp_path):
    trainer = reduced_vocabulary_setup(student_tokenizer, teacher_tokenizer, train_texts[:400], tmp_path)
    before = trainer.evaluate()
    trainer.train()
    after = trainer.evaluate()
    assert {"eval_mlm", "eval_mse"} <= before.keys() and "eval_ce" not in before
    assert after["eval_mlm"] < before["eval_mlm"] - 0.1 and after["eval_mse"] < 0.9 * before["eval_mse"]
    assert len(logged(trainer, "mse")) == len(logged(trainer, "mlm")) == 5  # one averaged value per logging window


def test_same_vocabulary_mlm_ce_and_cosine_all_go_down(teacher_tokenizer, train_texts, tmp_path):
    model = teacher()
    torch.manual_seed(0)  # a fresh student: one initialised from the teacher would start at its soft targets
    config = BertConfig(
        vocab_size=model.config.vocab_size,
        hidden_size=model.config.hidden_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=256,
    )
    trainer = DistillationTrainer(
        model=AutoModelForMaskedLM.from_config(config),
        teacher_model=model,
        args=arguments(tmp_path, max_steps=15),
        data_collator=DataCollatorForDistillation(teacher_tokenizer),
        train_dataset=tokenised(train_texts[:320], teacher_tokenizer, None),
        eval_dataset=tokenised(train_texts[:64], teacher_tokenizer, None),
    )
    before = trainer.evaluate()
    trainer.train()
    after = trainer.evaluate()
    for name in ("eval_mlm", "eval_ce", "eval_cos"):
        assert after[name] < before[name], name


def test_resuming_from_a_checkpoint_continues_exactly(student_tokenizer, teacher_tokenizer, train_texts, tmp_path):
    settings = dict(max_steps=8, logging_steps=1, save_strategy="steps", save_steps=4)
    full = reduced_vocabulary_setup(student_tokenizer, teacher_tokenizer, train_texts[:96], tmp_path / "a", **settings)
    full.train()
    checkpoint = tmp_path / "a" / "checkpoint-4"
    assert (checkpoint / "distillation_projection.safetensors").is_file()
    resumed = reduced_vocabulary_setup(
        student_tokenizer, teacher_tokenizer, train_texts[:96], tmp_path / "b", **settings
    )
    resumed.train(resume_from_checkpoint=str(checkpoint))
    expected = logged(full)
    got = {step: loss for step, loss in logged(resumed).items() if step > 4}  # 1-4 come from the checkpoint
    assert sorted(got) == [5, 6, 7, 8]
    for step in got:
        assert got[step] == pytest.approx(expected[step], abs=1e-5)
    for name in ("mlm", "mse"):
        assert logged(resumed, name)[8] == pytest.approx(logged(full, name)[8], abs=1e-5)


def test_gradient_accumulation_4x2_equals_1x8(student_tokenizer, teacher_tokenizer, train_texts, tmp_path):
    # Plain SGD at lr 1: the weight change is the gradient itself, so a mis-scaled accumulated gradient shows
    # (Adam's first step, lr * g / (|g| + eps), would hide the scale and amplify rounding in near-zero entries).
    runs = {}
    for name, batch, accumulation in (("one", 8, 1), ("accumulated", 2, 4)):
        trainer = reduced_vocabulary_setup(
            student_tokenizer,
            teacher_tokenizer,
            train_texts[:8],
            tmp_path / name,
            dropout=False,
            max_steps=1,
            logging_steps=1,
            optim="sgd",
            learning_rate=1.0,
            per_device_train_batch_size=batch,
            gradient_accumulation_steps=accumulation,
        )
        trainer.train()
        runs[name] = (logged(trainer)[1], {k: v.clone() for k, v in trainer.model.state_dict().items()})
    assert runs["accumulated"][0] == pytest.approx(runs["one"][0], abs=1e-5)
    for key, value in runs["one"][1].items():
        torch.testing.assert_close(runs["accumulated"][1][key], value, rtol=0, atol=1e-5)


def test_checkpoints_hold_the_student_alone_and_reload(student_tokenizer, teacher_tokenizer, train_texts, tmp_path):
    trainer = reduced_vocabulary_setup(student_tokenizer, teacher_tokenizer, train_texts[:32], tmp_path, max_steps=2)
    trainer.train()
    trainer.save_model(tmp_path / "student")
    files = {path.name for path in (tmp_path / "student").iterdir()}
    assert {
        "model.safetensors",
        "distillation_config.json",
        "vocab_mapping.json",
        "distillation_projection.safetensors",
    } <= files
    assert not any(name.endswith((".bin", ".pt", ".pth")) for name in files)
    from safetensors.torch import load_file

    weights = load_file(tmp_path / "student" / "model.safetensors")
    assert weights.keys() <= trainer.model.state_dict().keys() and "distillation_projection.weight" not in weights
    assert sum(t.numel() for t in weights.values()) < trainer.teacher.num_parameters() / 4  # no teacher inside
    reloaded, info = AutoModelForMaskedLM.from_pretrained(tmp_path / "student", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert json.loads((tmp_path / "student" / "distillation_config.json").read_text())["alpha_mse"] == 0.1


def test_the_teacher_computes_only_what_the_losses_read(student_tokenizer, teacher_tokenizer, train_texts, tmp_path):
    trainer = reduced_vocabulary_setup(student_tokenizer, teacher_tokenizer, train_texts[:32], tmp_path, max_steps=2)
    calls = {"teacher_decoder": 0, "student_forward": 0, "student_decoder_rows": []}
    trainer.teacher.get_output_embeddings().register_forward_hook(lambda *a: calls.__setitem__("teacher_decoder", 1))
    trainer.model.get_input_embeddings().register_forward_hook(
        lambda *a: calls.__setitem__("student_forward", calls["student_forward"] + 1)
    )
    trainer.model.get_output_embeddings().register_forward_hook(
        lambda m, i, o: calls["student_decoder_rows"].append(o.shape)
    )
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(8)])
    trainer.compute_loss(trainer.model, batch)
    assert calls["teacher_decoder"] == 0 and calls["student_forward"] == 1
    assert calls["student_decoder_rows"] == [(int((batch["labels"] != -100).sum()), len(student_tokenizer))]


def test_bad_setups_fail_before_training(student_tokenizer, teacher_tokenizer, train_texts, tmp_path):
    texts = train_texts[:16]
    with pytest.raises(ValueError, match="alpha_ce > 0 needs teacher and student to share one vocabulary"):
        reduced_vocabulary_setup(student_tokenizer, teacher_tokenizer, texts, tmp_path, alpha_ce=1.0)
    with pytest.raises(ValueError, match="hidden-state losses need projection"):
        reduced_vocabulary_setup(student_tokenizer, teacher_tokenizer, texts, tmp_path, projection="none")
    with pytest.raises(ValueError, match="All loss weights"):
        arguments(tmp_path, alpha_mlm=0, alpha_ce=0, alpha_cos=0)
    model = teacher()
    student = init_student(model, student_tokenizer=student_tokenizer, teacher_tokenizer=teacher_tokenizer, **TINY)
    with pytest.raises(ValueError, match="does not belong to this student"):
        DistillationTrainer(
            model=student,
            teacher_model=model,
            args=arguments(tmp_path),
            data_collator=DataCollatorForDistillation(teacher_tokenizer),
        )
    with pytest.raises(ValueError, match="treats them as one"):
        DistillationTrainer(
            model=student,
            teacher_model=model,
            args=arguments(tmp_path, alpha_ce=0, projection="fixed"),
            data_collator=DataCollatorForDistillation(student_tokenizer),
        )
    encoder = BertModel(model.config, add_pooling_layer=False)
    with pytest.raises(ValueError, match="bare encoder"):
        DistillationTrainer(
            model=init_student(model, layers="even"),
            teacher_model=encoder,
            args=arguments(tmp_path),
            data_collator=DataCollatorForDistillation(teacher_tokenizer),
        )


def test_masked_lm_alone_trains_without_a_teacher(student_tokenizer, train_texts, tmp_path):
    config = BertConfig(
        vocab_size=len(student_tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    args = arguments(tmp_path, alpha_mlm=1.0, alpha_ce=0.0, alpha_cos=0.0, max_steps=3)
    trainer = DistillationTrainer(
        model=AutoModelForMaskedLM.from_config(config),
        args=args,
        data_collator=DataCollatorForDistillation(student_tokenizer),
        train_dataset=tokenised(train_texts[:48], student_tokenizer, None),
    )
    trainer.train()
    assert trainer.teacher is None and len(logged(trainer, "mlm")) == 1
    with pytest.raises(ValueError, match="The ce, cos loss\\(es\\) need a teacher"):
        DistillationTrainer(
            model=AutoModelForMaskedLM.from_config(config),
            args=arguments(tmp_path),
            data_collator=DataCollatorForDistillation(student_tokenizer),
        )


def test_a_headless_teacher_checkpoint_is_refused_for_soft_targets_or_given_a_tied_head(tmp_path):
    from hf_rudistill.loading import load_teacher

    encoder = BertModel(
        BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    )
    encoder.save_pretrained(tmp_path / "encoder")
    with pytest.raises(ValueError, match="has no MLM head weights"):
        load_teacher(tmp_path / "encoder")
    tied = load_teacher(tmp_path / "encoder", missing_head="tied")
    transform = tied.cls.predictions.transform
    assert torch.equal(transform.dense.weight, torch.eye(16)) and not transform.dense.bias.any()
    assert (
        not tied.cls.predictions.bias.any()
        and tied.get_output_embeddings().weight is tied.get_input_embeddings().weight
    )
    assert torch.equal(tied.bert.embeddings.word_embeddings.weight, encoder.embeddings.word_embeddings.weight)
