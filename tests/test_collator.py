import numpy as np
import pytest
import torch

from hf_rudistill.alignment import VocabMapping
from hf_rudistill.collator import DataCollatorForDistillation, count_token_frequencies
from hf_rudistill.vocab import train_student_tokenizer


@pytest.fixture(scope="module")
def tokenizers(teacher_tokenizer, train_texts):
    teacher = teacher_tokenizer("wordpiece")
    return teacher, train_student_tokenizer(train_texts[:500], teacher, 450, show_progress=False)


@pytest.fixture(scope="module")
def examples(tokenizers, train_texts):
    teacher, student = tokenizers
    texts = train_texts[:64]
    return [
        {"text": text, "input_ids": s, "teacher_input_ids": t}
        for text, s, t in zip(texts, student(texts)["input_ids"], teacher(texts)["input_ids"])
    ]


def test_masking_rates_follow_15_80_10_10_and_never_touch_special_tokens(tokenizers, examples):
    _, student = tokenizers
    collator = DataCollatorForDistillation(student)
    selected = masked = randomised = candidates = 0
    for epoch in range(6):
        collator.set_epoch(epoch)
        batch = collator([{"input_ids": e["input_ids"]} for e in examples])
        original = torch.where(batch["labels"] != -100, batch["labels"], batch["input_ids"])
        special = torch.isin(original, torch.tensor(student.all_special_ids))
        chosen = batch["labels"] != -100
        assert not (chosen & special).any() and not (chosen & (batch["attention_mask"] == 0)).any()
        candidates += int((~special & (batch["attention_mask"] == 1)).sum())
        selected += int(chosen.sum())
        masked += int((batch["input_ids"][chosen] == student.mask_token_id).sum())
        randomised += int((batch["input_ids"][chosen] != batch["labels"][chosen]).sum()) - int(
            (batch["input_ids"][chosen] == student.mask_token_id).sum()
        )
    assert selected / candidates == pytest.approx(0.15, abs=0.01)
    assert masked / selected == pytest.approx(0.8, abs=0.03)
    assert randomised / selected == pytest.approx(0.1, abs=0.02)  # the rest (about 10%) keep their token


def test_masks_depend_on_seed_epoch_and_example_only(tokenizers, examples):
    _, student = tokenizers
    rows = [{"input_ids": e["input_ids"]} for e in examples[:8]]
    whole = DataCollatorForDistillation(student, seed=3)(rows)
    in_pairs = [DataCollatorForDistillation(student, seed=3)(rows[i : i + 2]) for i in range(0, 8, 2)]
    for i, part in enumerate(in_pairs):
        width = part["labels"].shape[1]
        assert torch.equal(part["labels"], whole["labels"][2 * i : 2 * i + 2, :width])
    assert torch.equal(DataCollatorForDistillation(student, seed=3)(rows)["labels"], whole["labels"])
    assert not torch.equal(DataCollatorForDistillation(student, seed=4)(rows)["labels"], whole["labels"])
    next_epoch = DataCollatorForDistillation(student, seed=3)
    next_epoch.set_epoch(1)
    assert not torch.equal(next_epoch(rows)["labels"], whole["labels"])


def test_whole_word_masking_selects_every_piece_of_a_word(tokenizers, examples):
    _, student = tokenizers
    batch = DataCollatorForDistillation(student, whole_word_mask=True, mlm_probability=0.3)(
        [{"input_ids": e["input_ids"]} for e in examples]
    )
    split_words = 0
    for row, labels in zip(batch["input_ids"], batch["labels"]):
        original = torch.where(labels != -100, labels, row)
        tokens = student.convert_ids_to_tokens(original)
        chosen = (labels != -100).tolist()
        for position in range(1, len(tokens)):
            if tokens[position].startswith("##"):
                split_words += 1
                assert chosen[position] == chosen[position - 1]
    assert split_words > 50 and batch["labels"].ne(-100).any()


def test_frequency_smoothed_masking_prefers_rare_tokens(tokenizers, examples):
    from datasets import Dataset

    _, student = tokenizers
    dataset = Dataset.from_dict({"input_ids": [e["input_ids"] for e in examples]})
    counts = count_token_frequencies(dataset, len(student))
    assert counts.sum() == sum(len(e["input_ids"]) for e in examples)
    rows = [{"input_ids": e["input_ids"]} for e in examples]
    uniform, smoothed = DataCollatorForDistillation(student), DataCollatorForDistillation(student, token_counts=counts)
    mean_count = {}
    for name, collator in (("uniform", uniform), ("smoothed", smoothed)):
        labels = collator(rows)["labels"]
        mean_count[name] = counts[labels[labels != -100].numpy()].mean()
    assert mean_count["smoothed"] < 0.75 * mean_count["uniform"]


def test_different_vocabularies_give_unmasked_teacher_ids_and_the_alignment(tokenizers, examples):
    teacher, student = tokenizers
    collator = DataCollatorForDistillation(student, teacher, pad_to_multiple_of=8, max_length=64)
    batch = collator(examples[:4])
    assert all(tensor.shape[1] % 8 == 0 for tensor in batch.values())
    for row, example in zip(batch["teacher_input_ids"], examples[:4]):
        assert row[: len(example["teacher_input_ids"])].tolist() == example["teacher_input_ids"]
        assert teacher.mask_token_id not in row.tolist()
    teacher_ids, teacher_mask = batch["teacher_input_ids"].numpy(), batch["teacher_attention_mask"].numpy()
    aligned = VocabMapping.build(teacher, student).align(teacher_ids, teacher_mask, max_length=64)
    width = aligned.input_ids.shape[1]
    assert np.array_equal(batch["t2s_input_ids"][:, :width].numpy(), aligned.input_ids)
    assert np.array_equal(batch["t2s_span_index"][:, :width].numpy(), aligned.span_index)
    assert (batch["t2s_span_index"][:, width:] == -1).all() and (batch["t2s_attention_mask"][:, width:] == 0).all()
    assert np.array_equal(batch["teacher_token_mask"].numpy(), aligned.teacher_mask)
    assert batch["t2s_input_ids"].shape[1] <= 64


def test_raw_text_equals_pretokenised_input(tokenizers, examples):
    teacher, student = tokenizers
    collator = DataCollatorForDistillation(student, teacher)
    from_text = collator([{"text": e["text"]} for e in examples[:6]])
    from_ids = collator(
        [{"input_ids": e["input_ids"], "teacher_input_ids": e["teacher_input_ids"]} for e in examples[:6]]
    )
    assert from_text.keys() == from_ids.keys()
    assert all(torch.equal(from_text[name], from_ids[name]) for name in from_text)


def test_same_vocabulary_feeds_the_teacher_the_masked_student_input(tokenizers, examples):
    teacher, _ = tokenizers
    batch = DataCollatorForDistillation(teacher, teacher)(
        [{"input_ids": e["teacher_input_ids"]} for e in examples[:4]]
    )
    assert torch.equal(batch["teacher_input_ids"], batch["input_ids"]) and "t2s_input_ids" not in batch


def test_bad_input_is_a_clear_error(tokenizers, examples):
    teacher, student = tokenizers
    with pytest.raises(ValueError, match="needs 'teacher_input_ids'"):
        DataCollatorForDistillation(student, mapping=VocabMapping.build(teacher, student), teacher_tokenizer=None)(
            [{"input_ids": examples[0]["input_ids"]}]
        )
    with pytest.raises(ValueError, match="do not belong together"):
        DataCollatorForDistillation(teacher, student, mapping=VocabMapping.build(teacher, student))
    with pytest.raises(ValueError, match="not both"):
        DataCollatorForDistillation(student, whole_word_mask=True, token_counts=np.ones(len(student)))
    with pytest.raises(ValueError, match="mlm_probability"):
        DataCollatorForDistillation(student, mlm_probability=1.5)
