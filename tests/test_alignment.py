import json

import numpy as np
import pytest

from hf_rudistill.alignment import VocabMapping
from hf_rudistill.vocab import prune_vocabulary, tokenizer_family, train_student_tokenizer

FAMILIES = ["wordpiece", "byte-level-bpe", "unigram"]


@pytest.fixture(scope="module")
def pairs(teacher_tokenizer, train_texts):
    """(teacher, student) tokenizers per family: a new student vocabulary trained on a smaller corpus."""
    built = {}
    for family in FAMILIES:
        teacher = teacher_tokenizer(family)
        built[family] = (teacher, train_student_tokenizer(train_texts[:500], teacher, 450, show_progress=False))
    return built


def reference_align(mapping, ids, mask, max_length=None):
    """Plain per-token loops: the pieces of every real teacher token, concatenated, then padding."""
    rows, spans = [], []
    for row_ids, row_mask in zip(ids.tolist(), mask.tolist()):
        row, span = [], []
        for position, (token, real) in enumerate(zip(row_ids, row_mask)):
            pieces = mapping.split(token) if real else []
            if max_length is not None and len(row) + len(pieces) > max_length:
                break
            row += pieces
            span += [position] * len(pieces)
        rows.append(row)
        spans.append(span)
    width = max(map(len, rows))
    out = np.full((len(rows), width), mapping.target_pad_id)
    span_index = np.full((len(rows), width), -1)
    for b, (row, span) in enumerate(zip(rows, spans)):
        out[b, : len(row)], span_index[b, : len(span)] = row, span
    return out, span_index


@pytest.mark.parametrize("family", FAMILIES)
def test_pieces_spell_every_teacher_token_longest_match_first(family, pairs):
    teacher, student = pairs[family]
    mapping = VocabMapping.build(teacher, student)
    prefix = tokenizer_family(student).continuation_prefix
    student_vocab = {t for t in student.get_vocab() if t not in student.all_special_tokens}
    checked = 0
    for token, teacher_id in teacher.get_vocab().items():
        pieces = student.convert_ids_to_tokens(mapping.split(teacher_id))
        if token in teacher.all_special_tokens or pieces == [student.unk_token]:
            continue
        internal = bool(prefix) and token.startswith(prefix)
        body = token[len(prefix) :] if internal else token
        leads = (
            [prefix if (index or internal) else "" for index in range(len(pieces))] if prefix else [""] * len(pieces)
        )
        assert all(piece.startswith(lead) for piece, lead in zip(pieces, leads))
        bodies = [piece[len(lead) :] for piece, lead in zip(pieces, leads)]
        assert "".join(bodies) == body
        # brute force: at each piece's start, no longer student token matches
        start = 0
        for lead, piece_body in zip(leads, bodies):
            longer = (lead + body[start:end] for end in range(start + len(piece_body) + 1, len(body) + 1))
            assert not any(candidate in student_vocab for candidate in longer)
            start += len(piece_body)
        checked += 1
    assert checked > 0.9 * len(teacher)


def test_special_tokens_map_to_the_same_role(pairs):
    teacher, student = pairs["byte-level-bpe"]
    mapping = VocabMapping.build(teacher, student)
    for role in ("cls_token", "sep_token", "pad_token", "mask_token", "unk_token", "bos_token", "eos_token"):
        teacher_id = teacher.convert_tokens_to_ids(getattr(teacher, role))
        assert mapping.split(teacher_id) == [student.convert_tokens_to_ids(getattr(student, role))]


def test_a_token_with_no_student_spelling_maps_to_unknown(teacher_tokenizer, train_texts):
    teacher = teacher_tokenizer("wordpiece")
    without_yo = [text.replace("ё", "е").replace("Ё", "Е") for text in train_texts[:500]]
    student = train_student_tokenizer(without_yo, teacher, 400, show_progress=False)
    mapping = VocabMapping.build(teacher, student)
    with_yo = [i for t, i in teacher.get_vocab().items() if "ё" in t]
    assert with_yo and all(mapping.split(i) == [student.unk_token_id] for i in with_yo)
    assert mapping.metadata["unknown_splits"] >= len(with_yo)


@pytest.mark.parametrize("max_length", [None, 40])
def test_batch_alignment_equals_the_per_token_reference(pairs, max_length):
    teacher, student = pairs["wordpiece"]
    mapping = VocabMapping.build(teacher, student)
    rng = np.random.default_rng(0)
    for _ in range(20):
        ids = rng.integers(0, len(teacher), size=(5, 30))
        mask = (np.arange(30) < rng.integers(0, 31, size=(5, 1))).astype(int)  # includes an all-padding row at times
        aligned = mapping.align(ids, mask, max_length=max_length)
        expected_ids, expected_span = reference_align(mapping, ids, mask, max_length)
        width = expected_ids.shape[1]
        assert aligned.input_ids.shape[1] == width
        np.testing.assert_array_equal(aligned.input_ids, expected_ids)
        np.testing.assert_array_equal(aligned.span_index, expected_span)
        np.testing.assert_array_equal(aligned.attention_mask, expected_span >= 0)
        counts = np.stack([np.bincount(row[row >= 0], minlength=30) for row in expected_span])
        np.testing.assert_array_equal(aligned.span_length, counts)
        np.testing.assert_array_equal(aligned.teacher_mask, (counts > 0) & (mask == 1))


def test_mapping_round_trips_as_json_and_safetensors(pairs, tmp_path):
    teacher, student = pairs["unigram"]
    mapping = VocabMapping.build(teacher, student)
    mapping.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vocab_mapping.json", "vocab_mapping.safetensors"]
    assert json.loads((tmp_path / "vocab_mapping.json").read_text())["family"] == "unigram"
    loaded = VocabMapping.from_pretrained(tmp_path)
    np.testing.assert_array_equal(loaded.offsets, mapping.offsets)
    np.testing.assert_array_equal(loaded.pieces, mapping.pieces)
    assert (loaded.target_pad_id, loaded.target_unk_id, loaded.metadata) == (
        mapping.target_pad_id,
        mapping.target_unk_id,
        mapping.metadata,
    )


def test_pruned_student_maps_kept_tokens_one_to_one(teacher_tokenizer, train_texts):
    teacher = teacher_tokenizer("wordpiece")
    student = prune_vocabulary(teacher, train_texts, 500)
    mapping = VocabMapping.build(teacher, student)
    for token, student_id in student.get_vocab().items():
        assert mapping.split(teacher.convert_tokens_to_ids(token)) == [student_id]


def test_tokenizers_of_different_families_cannot_be_mapped(pairs):
    with pytest.raises(ValueError, match="Cannot map a wordpiece vocabulary onto a byte-level-bpe one"):
        VocabMapping.build(pairs["wordpiece"][0], pairs["byte-level-bpe"][1])


def test_a_student_missing_a_teacher_special_token_is_refused(pairs):
    from transformers import BertTokenizerFast

    teacher, student = pairs["wordpiece"]
    vocab = {t: i for t, i in student.get_vocab().items() if t != "[MASK]"}
    vocab = {t: n for n, t in enumerate(sorted(vocab, key=vocab.get))}
    no_mask = BertTokenizerFast(vocab=vocab, do_lower_case=False, mask_token=None)
    with pytest.raises(ValueError, match="no mask_token"):
        VocabMapping.build(teacher, no_mask)


def test_align_rejects_ids_outside_the_teacher_vocabulary(pairs):
    teacher, student = pairs["wordpiece"]
    mapping = VocabMapping.build(teacher, student)
    with pytest.raises(ValueError, match="Teacher ids must lie in"):
        mapping.align(np.array([[1, len(teacher)]]))
