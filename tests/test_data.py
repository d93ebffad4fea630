from hf_rudistill import data
from hf_rudistill.data import CORPUS_SIZES, WSD_SIZES, load_corpus, load_wsd_task


def fresh_corpus():
    data._read_package.cache_clear()
    return load_corpus()


def test_corpus_is_deterministic_and_sized_as_documented():
    first, second = fresh_corpus(), fresh_corpus()
    for split, size in CORPUS_SIZES.items():
        assert first[split]["text"] == second[split]["text"]
        assert len(first[split]) == size


def test_corpus_has_no_empty_or_duplicated_texts_and_disjoint_splits():
    corpus = load_corpus()
    texts = list(corpus["train"]["text"]) + list(corpus["validation"]["text"])
    assert all(text.strip() == text and text for text in texts)
    assert len(set(texts)) == len(texts)
    assert all("  " not in text for text in texts)


def test_corpus_is_russian():
    sample = "".join(load_corpus("validation")["text"])
    cyrillic = sum("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in sample)
    assert cyrillic / sum(ch.isalpha() for ch in sample) > 0.95


def test_wsd_task_marks_the_target_word_and_holds_out_validation_contexts():
    task = load_wsd_task()
    corpus = load_corpus()
    assert {split: len(rows) for split, rows in task.items()} == WSD_SIZES
    names = task["train"].features["label"].names
    for row in task["validation"]:
        word = row["text"][row["word_start"] : row["word_end"]]
        assert word and word == word.strip() and " " not in word
        assert names[row["label"]].startswith(row["lemma"] + ":")
    assert set(task["validation"]["text"]) <= set(corpus["validation"]["text"])
    assert not set(task["validation"]["text"]) & set(corpus["train"]["text"])
    assert set(task["train"]["text"]) <= set(corpus["train"]["text"])


def test_unknown_split_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="Unknown split 'test'"):
        load_corpus("test")


def test_single_file_sources_have_only_a_train_split(tmp_path):
    import pytest

    from hf_rudistill.arguments import DataArguments
    from hf_rudistill.loading import load_text_dataset
    from hf_rudistill.pipeline import load_splits

    path = tmp_path / "texts.txt"
    path.write_text("\n".join(f"текст номер {i}" for i in range(40)) + "\n")
    with pytest.raises(ValueError, match="single file: it has no 'validation' split"):
        load_text_dataset(str(path), split="validation")
    train, evaluation = load_splits(DataArguments(dataset=str(path), validation_split_percentage=10))
    assert (len(train), len(evaluation)) == (36, 4)
    assert not set(train["text"]) & set(evaluation["text"])
