from collections import Counter

import pytest
from transformers import AutoTokenizer

from hf_rudistill.vocab import (
    corpus_alphabet,
    prune_vocabulary,
    tokenizer_family,
    train_student_tokenizer,
    vocabulary_report,
)

FAMILIES = ["wordpiece", "byte-level-bpe", "unigram"]


def ids(tokenizer, texts):
    return tokenizer(list(texts), add_special_tokens=False)["input_ids"]


@pytest.mark.parametrize("family", FAMILIES)
def test_trained_student_keeps_the_teacher_pipeline_and_round_trips(
    family, teacher_tokenizer, train_texts, heldout_texts, tmp_path
):
    teacher = teacher_tokenizer(family)
    student = train_student_tokenizer(train_texts[:800], teacher, 600, show_progress=False)
    assert type(student) is type(teacher) and tokenizer_family(student) == tokenizer_family(teacher)
    assert len(student) == 600
    assert set(student.all_special_tokens) == set(teacher.all_special_tokens)
    assert student.model_max_length == teacher.model_max_length
    assert "Москва" in student.decode(student("Москва")["input_ids"], skip_special_tokens=True)  # cased
    student.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert ids(reloaded, heldout_texts) == ids(student, heldout_texts)


@pytest.mark.parametrize("family", FAMILIES)
def test_pruned_vocabulary_keeps_specials_single_characters_and_knows_everything_the_teacher_knew(
    family, teacher_tokenizer, train_texts, heldout_texts, tmp_path
):
    teacher = teacher_tokenizer(family)
    student = prune_vocabulary(teacher, train_texts, 500)
    teacher_vocab, student_vocab = teacher.get_vocab(), student.get_vocab()
    assert len(student) == 500 and set(student_vocab) <= set(teacher_vocab)
    assert set(teacher.all_special_tokens) <= set(student_vocab)
    family_spec = tokenizer_family(teacher)
    assert {t for t in teacher_vocab if family_spec.is_single_character(t)} <= set(student_vocab)
    # student ids follow the teacher's order
    kept = sorted(student_vocab, key=student_vocab.get)
    assert kept == sorted(kept, key=teacher_vocab.get)
    unknown = lambda tok: sum(row.count(tok.unk_token_id) for row in ids(tok, heldout_texts))  # noqa: E731
    assert unknown(student) <= unknown(teacher)
    student.save_pretrained(tmp_path)
    assert ids(AutoTokenizer.from_pretrained(tmp_path), heldout_texts) == ids(student, heldout_texts)


def test_pruned_wordpiece_keeps_the_most_used_tokens(teacher_tokenizer, train_texts):
    teacher = teacher_tokenizer("wordpiece")
    student = prune_vocabulary(teacher, train_texts, 500)
    counts = Counter(token for row in ids(teacher, train_texts) for token in teacher.convert_ids_to_tokens(row))
    spec = tokenizer_family(teacher)
    optional = [
        t for t in teacher.get_vocab() if not spec.is_single_character(t) and t not in teacher.all_special_tokens
    ]
    kept = [t for t in optional if t in student.get_vocab()]
    dropped = [t for t in optional if t not in student.get_vocab()]
    assert kept and dropped
    assert min(counts[t] for t in kept) >= max(counts[t] for t in dropped)


def test_pruned_bpe_keeps_its_merges_reachable(teacher_tokenizer, train_texts, heldout_texts):
    teacher = teacher_tokenizer("byte-level-bpe")
    student = prune_vocabulary(teacher, train_texts, 500)
    used = {token for row in ids(student, train_texts) for token in student.convert_ids_to_tokens(row)}
    spec = tokenizer_family(teacher)
    merged = [
        t for t in student.get_vocab() if not spec.is_single_character(t) and t not in student.all_special_tokens
    ]
    # the pruned tokenizer still produces nearly every merged token it kept (no orphaned, unreachable merges)
    assert len(merged) > 200 and sum(t in used for t in merged) >= 0.95 * len(merged)
    assert sum(map(len, ids(student, heldout_texts))) < 1.5 * sum(map(len, ids(teacher, heldout_texts)))


@pytest.mark.parametrize("builder", ["train", "prune"])
def test_vocab_size_below_the_corpus_alphabet_is_a_clear_error(builder, teacher_tokenizer, train_texts):
    teacher = teacher_tokenizer("wordpiece")
    characters = len(corpus_alphabet(teacher, train_texts))
    with pytest.raises(ValueError, match="single"):
        if builder == "train":
            train_student_tokenizer(train_texts, teacher, characters // 2, show_progress=False)
        else:
            prune_vocabulary(teacher, train_texts, characters // 2)


@pytest.mark.parametrize("texts", [[], ["", "  "]])
def test_empty_corpus_is_a_clear_error(texts, teacher_tokenizer):
    with pytest.raises(ValueError, match="corpus is empty"):
        train_student_tokenizer(texts, teacher_tokenizer("wordpiece"), 500)
    with pytest.raises(ValueError, match="corpus is empty"):
        prune_vocabulary(teacher_tokenizer("wordpiece"), texts, 500)


def test_slow_tokenizers_are_refused():
    class NotFast:
        pass

    with pytest.raises(ValueError, match="not backed by the `tokenizers` library"):
        tokenizer_family(NotFast())


def test_report_counts_match_a_direct_count(teacher_tokenizer, train_texts, heldout_texts):
    teacher = teacher_tokenizer("wordpiece")
    student = prune_vocabulary(teacher, train_texts, 400)
    report = vocabulary_report(teacher, student, heldout_texts)
    words = sum(len(text.split()) for text in heldout_texts)
    for role, tokenizer in (("teacher", teacher), ("student", student)):
        tokens = [token for row in ids(tokenizer, heldout_texts) for token in row]
        assert report[role]["tokens_per_word"] == pytest.approx(len(tokens) / words)
        assert report[role]["unknown_rate"] == pytest.approx(tokens.count(tokenizer.unk_token_id) / len(tokens))
    assert report["student"]["tokens_per_word"] > report["teacher"]["tokens_per_word"]
    assert report["shared_tokens"] == len(student) and report["student_tokens_in_teacher_vocab"] == 1.0
