"""Each loss against a naive reference written with loops over positions."""

import math

import pytest
import torch

from hf_rudistill.losses import (
    attention_mse_loss,
    cosine_loss,
    hidden_mse_loss,
    masked_lm_loss,
    match_hidden_states,
    parse_hidden_matching,
    pool_spans,
    soft_target_loss,
)

torch.manual_seed(0)


def naive_log_softmax(row):
    top = max(row)
    total = sum(math.exp(x - top) for x in row)
    return [x - top - math.log(total) for x in row]


def test_masked_lm_loss_matches_a_loop_and_ignores_unlabelled_positions():
    logits, labels = torch.randn(3, 5, 7), torch.randint(0, 7, (3, 5))
    labels[0, :3] = -100
    labels[2, 4] = -100
    expected, count = 0.0, 0
    for b in range(3):
        for t in range(5):
            if labels[b, t] != -100:
                expected -= naive_log_softmax(logits[b, t].tolist())[labels[b, t]]
                count += 1
    assert masked_lm_loss(logits, labels).item() == pytest.approx(expected / count, rel=1e-5)
    assert masked_lm_loss(logits, labels, num_items=40).item() == pytest.approx(expected / 40, rel=1e-5)


@pytest.mark.parametrize("temperature", [1.0, 2.0, 4.0])
def test_soft_target_loss_is_kl_times_t_squared_per_position(temperature):
    student, teacher = torch.randn(6, 9), torch.randn(6, 9) * 3
    expected = 0.0
    for s_row, t_row in zip(student.tolist(), teacher.tolist()):
        log_p_t = naive_log_softmax([x / temperature for x in t_row])
        log_p_s = naive_log_softmax([x / temperature for x in s_row])
        expected += sum(math.exp(a) * (a - b) for a, b in zip(log_p_t, log_p_s))
    expected *= temperature**2
    assert soft_target_loss(student, teacher, temperature).item() == pytest.approx(expected / 6, rel=1e-5)
    assert soft_target_loss(student, teacher, temperature, num_items=10).item() == pytest.approx(
        expected / 10, rel=1e-5
    )
    assert soft_target_loss(teacher, teacher, temperature).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_span_pooling_matches_a_loop(mode):
    hidden = torch.randn(2, 6, 4)
    span_index = torch.tensor([[0, 1, 1, 2, 3, -1], [0, 0, 0, 1, -1, -1]])
    pooled = pool_spans(hidden, span_index, num_positions=5, mode=mode)
    for b in range(2):
        for t in range(5):
            members = [hidden[b, j] for j in range(6) if span_index[b, j] == t]
            expected = torch.zeros(4) if not members else torch.stack(members).sum(0)
            if mode == "mean" and members:
                expected = expected / len(members)
            torch.testing.assert_close(pooled[b, t], expected)
    with pytest.raises(ValueError, match="'mean' or 'sum'"):
        pool_spans(hidden, span_index, 5, mode="max")


def test_hidden_mse_is_summed_over_dimensions_and_normalised_per_real_teacher_token():
    student, teacher = torch.randn(2, 4, 3), torch.randn(2, 4, 5)
    projection = torch.nn.Linear(3, 5, bias=False)
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]])
    projected = projection(student)
    expected, tokens = 0.0, 0
    for b in range(2):
        for t in range(4):
            if mask[b, t]:
                expected += sum((projected[b, t, d].item() - teacher[b, t, d].item()) ** 2 for d in range(5))
                tokens += 1
    assert hidden_mse_loss(student, teacher, mask, projection).item() == pytest.approx(expected / tokens, rel=1e-5)
    assert hidden_mse_loss(student, teacher, mask, projection, num_items=8).item() == pytest.approx(
        expected / 8, rel=1e-5
    )


def test_cosine_loss_averages_one_minus_cosine_over_positions():
    student, teacher = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    expected = []
    for b in range(2):
        for t in range(3):
            if mask[b, t]:
                s, r = student[b, t].tolist(), teacher[b, t].tolist()
                dot = sum(x * y for x, y in zip(s, r))
                norms = math.sqrt(sum(x * x for x in s)) * math.sqrt(sum(y * y for y in r))
                expected.append(1 - dot / norms)
    assert cosine_loss(student, teacher, mask).item() == pytest.approx(sum(expected) / len(expected), rel=1e-5)


def test_attention_mse_over_real_queries_and_keys_averaged_over_heads():
    student = torch.softmax(torch.randn(2, 3, 4, 4), -1)
    teacher = torch.softmax(torch.randn(2, 3, 4, 4), -1)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    expected, queries = 0.0, 0
    for b in range(2):
        for q in range(4):
            if not mask[b, q]:
                continue
            queries += 1
            for h in range(3):
                for k in range(4):
                    if mask[b, k]:
                        expected += (student[b, h, q, k].item() - teacher[b, h, q, k].item()) ** 2 / 3
    assert attention_mse_loss(student, teacher, mask).item() == pytest.approx(expected / queries, rel=1e-5)


def test_summing_micro_batches_normalised_by_the_global_count_equals_the_full_batch():
    logits, labels = torch.randn(8, 6, 11), torch.randint(0, 11, (8, 6))
    labels[torch.rand(8, 6) < 0.6] = -100
    total = (labels != -100).sum()
    parts = sum(masked_lm_loss(logits[i : i + 2], labels[i : i + 2], num_items=total) for i in range(0, 8, 2))
    assert parts.item() == pytest.approx(masked_lm_loss(logits, labels).item(), rel=1e-6)


def test_layer_matching():
    student = [torch.full((1,), float(i)) for i in range(4)]  # embeddings + 3 layers
    teacher = [torch.full((1,), float(i)) for i in range(7)]  # embeddings + 6 layers
    assert [(s.item(), t.item()) for s, t in match_hidden_states(student, teacher, "last")] == [(3, 6)]
    assert [(s.item(), t.item()) for s, t in match_hidden_states(student, teacher, "average")] == [(1.5, 3)]
    groups = match_hidden_states(student, teacher, "groups")
    assert [(s.item(), t.item()) for s, t in groups] == [(0, 0), (1, 1.5), (2, 3.5), (3, 5.5)]
    assert [(s.item(), t.item()) for s, t in match_hidden_states(student, teacher, "0:0,3:6")] == [(0, 0), (3, 6)]
    attentions = match_hidden_states(student[1:], teacher[1:], "groups", with_embeddings=False)
    assert [(s.item(), t.item()) for s, t in attentions] == [(1, 1.5), (2, 3.5), (3, 5.5)]
    attentions = match_hidden_states(student[1:], teacher[1:], "0:0,3:6", with_embeddings=False)
    assert [(s.item(), t.item()) for s, t in attentions] == [(3, 6)]
    with pytest.raises(ValueError, match="split evenly"):
        match_hidden_states(student, teacher[:6], "groups")
    with pytest.raises(ValueError, match="out of range"):
        match_hidden_states(student, teacher, "4:1")
    with pytest.raises(ValueError, match="is not valid"):
        parse_hidden_matching("first")
