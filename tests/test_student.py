import logging

import pytest
import torch
from conftest import perturbed
from transformers import (
    AutoModelForMaskedLM,
    BertConfig,
    BertForMaskedLM,
    BertModel,
    DebertaConfig,
    DistilBertConfig,
    DistilBertForMaskedLM,
    RobertaConfig,
    XLMRobertaConfig,
)

from hf_rudistill.student import init_student
from hf_rudistill.vocab import prune_vocabulary, train_student_tokenizer

SIZES = dict(vocab_size=120, hidden_size=32, num_hidden_layers=4, num_attention_heads=4, intermediate_size=64)
CONFIGS = {
    "bert": lambda: BertConfig(**SIZES, max_position_embeddings=64),
    "roberta": lambda: RobertaConfig(**SIZES, max_position_embeddings=66, pad_token_id=1),
    "xlm-roberta": lambda: XLMRobertaConfig(**SIZES, max_position_embeddings=66, pad_token_id=1),
    "deberta": lambda: DebertaConfig(
        **SIZES,
        max_position_embeddings=64,
        relative_attention=True,
        pos_att_type=["p2c", "c2p"],
        max_relative_positions=16,
        position_biased_input=False,
    ),
    "distilbert": lambda: DistilBertConfig(vocab_size=120, dim=32, n_layers=4, n_heads=4, hidden_dim=64),
}


def teacher_of(kind):
    torch.manual_seed(0)
    return perturbed(AutoModelForMaskedLM.from_config(CONFIGS[kind]()))


def layer_params(model, index):
    prefix = f".layer.{index}."
    return {name.split(prefix)[1]: p for name, p in model.named_parameters() if prefix in name}


INPUT = torch.randint(5, 120, (2, 11), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_keeping_everything_reproduces_the_teacher_exactly(kind):
    teacher = teacher_of(kind)
    student = init_student(teacher).eval()
    assert type(student) is type(teacher)
    with torch.no_grad():
        assert torch.equal(student(INPUT).logits, teacher(INPUT).logits)


def test_bert_teacher_converts_into_a_distilbert_student():
    teacher = teacher_of("bert")
    student = init_student(teacher, architecture="distilbert").eval()
    assert isinstance(student, DistilBertForMaskedLM) and student.config.n_layers == 4
    with torch.no_grad():
        torch.testing.assert_close(student(INPUT).logits, teacher(INPUT).logits, rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", ["bert", "deberta"])
@pytest.mark.parametrize("layers,expected", [("even", [0, 2]), ("odd", [1, 3]), ([3, 0, 1], [3, 0, 1])])
def test_selected_layers_equal_the_teachers(kind, layers, expected):
    teacher = teacher_of(kind)
    student = init_student(teacher, layers=layers)
    assert student.config.num_hidden_layers == len(expected)
    for student_layer, teacher_layer in enumerate(expected):
        mine, theirs = layer_params(student, student_layer), layer_params(teacher, teacher_layer)
        assert mine.keys() == theirs.keys()
        assert all(torch.equal(mine[name], theirs[name]) for name in mine)


def test_distilbert_layer_preset_picks_0_2_4_7_9_11():
    teacher = perturbed(BertForMaskedLM(BertConfig(**{**SIZES, "num_hidden_layers": 12})))
    student = init_student(teacher, layers="distilbert", architecture="distilbert")
    for student_layer, teacher_layer in enumerate([0, 2, 4, 7, 9, 11]):
        assert torch.equal(
            student.distilbert.transformer.layer[student_layer].ffn.lin1.weight,
            teacher.bert.encoder.layer[teacher_layer].intermediate.dense.weight,
        )


def test_layer_groups_average_the_teacher_layers():
    teacher = teacher_of("bert")
    student = init_student(teacher, layer_groups=[[0, 1, 2], [3]])
    averaged = layer_params(student, 0)
    groups = [layer_params(teacher, i) for i in (0, 1, 2)]
    for name, value in averaged.items():
        torch.testing.assert_close(value, sum(group[name] for group in groups) / 3)
    assert all(torch.equal(v, layer_params(teacher, 3)[n]) for n, v in layer_params(student, 1).items())


@pytest.mark.parametrize("kind", ["bert", "deberta", "distilbert"])
def test_width_reduction_slices_every_matrix_top_left(kind):
    teacher = teacher_of(kind)
    student = init_student(teacher, layers=[1], hidden_size=16, intermediate_size=24, num_attention_heads=2)
    teacher_state = teacher.state_dict()
    for name, value in student.state_dict().items():
        source = name.replace(".layer.0.", ".layer.1.")
        if name.endswith("in_proj.weight"):  # DeBERTa: per head (query, key, value), each sliced top-left
            parts = teacher_state[source].view(4, 3, 8, 32).transpose(0, 1).reshape(3, 32, 32)
            expected = parts[:, :16, :16].reshape(3, 2, 8, 16).transpose(0, 1).reshape(48, 16)
        else:
            expected = teacher_state[source][tuple(slice(0, n) for n in value.shape)]
        assert torch.equal(value, expected), name
    assert student(INPUT).logits.shape == (2, 11, 120)


@pytest.fixture(scope="module")
def wordpiece_pair(teacher_tokenizer, train_texts):
    teacher_tok = teacher_tokenizer("wordpiece")
    return teacher_tok, train_student_tokenizer(train_texts[:600], teacher_tok, 450, show_progress=False)


def naive_teacher_split(token, teacher_vocab):
    """Longest-match-first teacher spelling of one student token (WordPiece), written plainly."""
    internal = token.startswith("##") and len(token) > 2
    body, pieces, start = (token[2:] if internal else token), [], 0
    while start < len(body):
        lead = "##" if (start or internal) else ""
        end = max(e for e in range(start + 1, len(body) + 1) if lead + body[start:e] in teacher_vocab)
        pieces.append(teacher_vocab[lead + body[start:end]])
        start = end
    return pieces


def test_new_vocabulary_rows_are_means_of_the_teacher_spelling(wordpiece_pair):
    teacher_tok, student_tok = wordpiece_pair
    teacher = perturbed(BertForMaskedLM(BertConfig(**{**SIZES, "vocab_size": len(teacher_tok)})))
    student = init_student(
        teacher,
        student_tokenizer=student_tok,
        teacher_tokenizer=teacher_tok,
        hidden_size=16,
        num_attention_heads=2,
        intermediate_size=32,
    )
    assert student.config.vocab_size == len(student_tok)
    teacher_vocab = {t: i for t, i in teacher_tok.get_vocab().items() if t not in teacher_tok.all_special_tokens}
    embeddings, bias = teacher.bert.embeddings.word_embeddings.weight, teacher.cls.predictions.bias
    for token, student_id in student_tok.get_vocab().items():
        pieces = (
            [teacher_tok.convert_tokens_to_ids(token)]
            if token in student_tok.all_special_tokens
            else naive_teacher_split(token, teacher_vocab)
        )
        torch.testing.assert_close(
            student.bert.embeddings.word_embeddings.weight[student_id], embeddings[pieces, :16].mean(0)
        )
        torch.testing.assert_close(student.cls.predictions.bias[student_id], bias[pieces].mean())
    assert student.get_output_embeddings().weight is student.get_input_embeddings().weight


def test_pruned_vocabulary_rows_are_the_teachers_rows(teacher_tokenizer, train_texts):
    teacher_tok = teacher_tokenizer("wordpiece")
    student_tok = prune_vocabulary(teacher_tok, train_texts, 400)
    teacher = perturbed(BertForMaskedLM(BertConfig(**{**SIZES, "vocab_size": len(teacher_tok)})))
    student = init_student(teacher, student_tokenizer=student_tok, teacher_tokenizer=teacher_tok)
    kept = teacher_tok.convert_tokens_to_ids(student_tok.convert_ids_to_tokens(list(range(len(student_tok)))))
    assert torch.equal(
        student.bert.embeddings.word_embeddings.weight, teacher.bert.embeddings.word_embeddings.weight[kept]
    )
    assert torch.equal(student.cls.predictions.bias, teacher.cls.predictions.bias[kept])


def test_teacher_without_an_mlm_head_gives_a_student_with_a_fresh_head(caplog):
    encoder = perturbed(BertModel(BertConfig(**SIZES), add_pooling_layer=False))
    with caplog.at_level(logging.WARNING):
        student = init_student(encoder, layers="even")
    assert isinstance(student, BertForMaskedLM)
    assert torch.equal(student.bert.encoder.layer[1].output.dense.weight, encoder.encoder.layer[2].output.dense.weight)
    assert "cls.predictions.transform.dense.weight" in caplog.text


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"layers": [0, 4]}, "Teacher layer 4 is out of range: the teacher has layers 0..3"),
        ({"layer_groups": [[0, 1], [-1]]}, "Teacher layer -1 is out of range"),
        ({"layers": "distilbert"}, "needs a 12-layer teacher"),
        ({"layers": "every-third"}, "Unknown layer preset"),
        ({"hidden_size": 30, "num_attention_heads": 4}, "hidden_size 30 is not divisible by num_attention_heads 4"),
        ({"hidden_size": 64}, "cannot be wider than its teacher"),
        ({"layers": [0], "layer_groups": [[0]]}, "not both"),
        ({"architecture": "roberta"}, "architecture must be"),
    ],
)
def test_bad_student_specifications_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        init_student(teacher_of("bert"), **kwargs)


def test_only_bert_converts_to_distilbert_and_unknown_architectures_are_refused():
    with pytest.raises(ValueError, match="Only a BERT teacher can be converted"):
        init_student(teacher_of("roberta"), architecture="distilbert")
    from transformers import GPT2Config, GPT2LMHeadModel

    with pytest.raises(ValueError, match="'gpt2' is not supported"):
        init_student(GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=50)))
