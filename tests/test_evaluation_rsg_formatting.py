"""Task formatting: marked spans, pair inputs, multiple choice for PARus."""

from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import BertTokenizerFast

from hf_rudistill.evaluation import TASKS, encode_task, load_archive_task
from hf_rudistill.evaluation.rsg_formatting import PARUS_CUES, mark_spans, rwsd_span, task_texts, word_span

SAMPLE = Path(__file__).parent / "data" / "rsg_sample"


@pytest.fixture(scope="module")
def tokenizer():
    texts = [line for path in SAMPLE.glob("*/*.jsonl") for line in path.read_text(encoding="utf-8").splitlines()]
    model = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    model.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    model.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    model.train_from_iterator(
        texts, trainers.WordPieceTrainer(vocab_size=3000, special_tokens=special, show_progress=False)
    )
    return BertTokenizerFast(vocab=model.get_vocab(), do_lower_case=False, strip_accents=False)


def test_mark_spans_wraps_each_span_including_nested_ones():
    assert mark_spans("abc def ghi", [(4, 7, "*")]) == "abc *def* ghi"
    assert mark_spans("abc def ghi", [(8, 11, "#"), (0, 3, "*")]) == "*abc* def #ghi#"
    assert mark_spans("abc def", [(0, 7, "*"), (4, 7, "#")]) == "*abc #def#*"


def test_word_span_trims_spaces_and_punctuation_and_clamps():
    text = "В нашей деревне осталось от силы двадцать дворов"
    assert text[slice(*word_span(text, 42, 49))] == "дворов"  # official offsets run past the end
    assert "засада!"[slice(*word_span("засада!", 0, 7))] == "засада"
    assert word_span("abc", 5, 9) == (3, 3)


def test_rwsd_span_uses_the_word_index_or_the_nearest_occurrence_of_the_span_text():
    text = "Члены городского совета отказали организаторам митинга в разрешении, потому что они опасались насилия."
    start, end = rwsd_span(text, 10, "они опасались")
    assert text[start:end] == "они опасались"
    # Official RWSD val record 1: span2_index 13 points at "их матери", but span2_text is "их увидела".
    rwsd = load_archive_task("RWSD", SAMPLE)["validation"][1]
    assert (rwsd["span2_index"], rwsd["span2_text"]) == (13, "их увидела")
    start, end = rwsd_span(rwsd["text"], rwsd["span2_index"], rwsd["span2_text"])
    assert rwsd["text"][start:end] == "их увидела"
    # Two occurrences: the one whose word index is nearest wins.
    assert rwsd_span("он и он и он", 4, "он") == (10, 12)
    assert rwsd_span("он и он и он", 2, "он") == (5, 7)
    # The text is absent: fall back to the word index and the span's word count.
    assert rwsd_span("a b c d", 1, "x y") == (2, 5)


def test_every_sample_rwsd_span_is_marked_on_its_own_text():
    for split in ("train", "validation", "test"):
        batch = load_archive_task("RWSD", SAMPLE)[split][:]
        texts, second = task_texts(TASKS["RWSD"], batch)
        assert second is None
        for text, span1, span2 in zip(texts, batch["span1_text"], batch["span2_text"]):
            assert f"*{span1}*" in text
            assert f"#{span2}#" in text


def test_russe_marks_the_target_word_in_both_sentences_and_names_it():
    batch = load_archive_task("RUSSE", SAMPLE)["train"][:2]
    firsts, seconds = task_texts(TASKS["RUSSE"], batch)
    assert firsts[0] == "двор: В нашей деревне осталось от силы двадцать *дворов*"
    assert seconds[0] == "Солнце стояло уже высоко, когда справа от дороги я увидел деревеньку *дворов* в пятнадцать"
    assert firsts[1].startswith("доклад: Табличка на дверях: «Без *доклада* не входить»")


@pytest.mark.parametrize(
    "name, first, second",
    [
        ("RCB", "premise", "hypothesis"),
        ("TERRa", "premise", "hypothesis"),
        ("LiDiRus", "sentence1", "sentence2"),
        ("DaNetQA", "question", "passage"),
    ],
)
def test_pair_tasks_use_the_tokenizer_pair_api(tokenizer, name, first, second):
    task = TASKS[name]
    split = task.splits[0]
    dataset = load_archive_task(task, SAMPLE)[split]
    encoded = encode_task(task, dataset, tokenizer, max_length=512)
    assert encoded.column_names == ["input_ids", "token_type_ids", "attention_mask", "labels"]
    assert encoded["labels"] == dataset["label"]
    expected = tokenizer(dataset[0][first], dataset[0][second], truncation=True, max_length=512)
    assert encoded[0]["input_ids"] == expected["input_ids"]
    assert set(encoded[0]["token_type_ids"]) == {0, 1}


def test_muserc_pairs_paragraph_with_question_and_answer_and_truncates(tokenizer):
    dataset = load_archive_task("MuSeRC", SAMPLE)["train"]
    encoded = encode_task(TASKS["MuSeRC"], dataset, tokenizer, max_length=64)
    row = dataset[0]
    expected = tokenizer(row["paragraph"], f"{row['question']} {row['answer']}", truncation=True, max_length=64)
    assert encoded[0]["input_ids"] == expected["input_ids"]
    assert max(len(ids) for ids in encoded["input_ids"]) == 64
    # The question and answer survive truncation: the long paragraph is what gets cut.
    second = [t for t, segment in zip(encoded[0]["input_ids"], encoded[0]["token_type_ids"]) if segment == 1]
    decoded = tokenizer.decode(second, skip_special_tokens=True)
    assert decoded.replace(" ", "") == f"{row['question']}{row['answer']}".replace(" ", "")


def test_parus_is_multiple_choice_with_one_pair_per_choice(tokenizer):
    dataset = load_archive_task("PARus", SAMPLE)["train"]
    encoded = encode_task(TASKS["PARus"], dataset, tokenizer, max_length=64)
    row, first = dataset[0], encoded[0]
    assert len(first["input_ids"]) == 2 and first["labels"] == row["label"]
    context = f"{row['premise']} {PARUS_CUES[row['question']]}"
    for choice, ids in zip((row["choice1"], row["choice2"]), first["input_ids"]):
        assert ids == tokenizer(context, choice, truncation=True, max_length=64)["input_ids"]
    with pytest.raises(ValueError, match="neither 'cause' nor 'effect'"):
        encode_task(TASKS["PARus"], dataset.map(lambda r: {"question": "why"}), tokenizer, max_length=64)
