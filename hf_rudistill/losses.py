"""Distillation losses as pure functions of tensors.

Every loss returns ``sum of per-item losses / normaliser``. The normaliser defaults to the number of items
in the batch; pass ``num_items`` (the count over all gradient-accumulation micro-batches and processes) to
make accumulated gradients equal those of one large batch. An item is:

- :func:`masked_lm_loss`: a labelled (masked) position — cross-entropy;
- :func:`soft_target_loss`: a compared position — ``KL(softmax(t/T) || softmax(s/T)) * T**2``;
- :func:`hidden_mse_loss`: a real teacher token — squared error summed over hidden dimensions (the
  DistilRuBERT-tiny ``L_mse``);
- :func:`cosine_loss`: a compared position — ``1 - cos(s, t)``;
- :func:`attention_mse_loss`: a real query position — squared error summed over keys, averaged over heads.

Helpers: :func:`pool_spans` pools student positions over the span of each teacher token;
:func:`match_hidden_states` pairs student and teacher layers for hidden-state losses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
import torch.nn.functional as F

HIDDEN_MATCHING_HELP = (
    "'last' (last layers), 'average' (mean of all hidden states, embeddings included, on each side), "
    "'groups' (student layer i <-> mean of the i-th group of consecutive teacher layers, embeddings <-> "
    "embeddings), or explicit pairs of hidden-state indices 'student:teacher,...' (0 = embeddings)"
)


def _normalise(total: torch.Tensor, count, num_items) -> torch.Tensor:
    denominator = num_items if num_items is not None else count
    return total / torch.clamp(torch.as_tensor(denominator, dtype=total.dtype, device=total.device), min=1)


def masked_lm_loss(logits: torch.Tensor, labels: torch.Tensor, num_items=None) -> torch.Tensor:
    """Cross-entropy of ``logits`` (..., V) against ``labels`` (...) where ``labels != -100``."""
    flat_labels = labels.reshape(-1)
    total = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(), flat_labels, ignore_index=-100, reduction="sum"
    )
    return _normalise(total, (flat_labels != -100).sum(), num_items)


def soft_target_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0, num_items=None
) -> torch.Tensor:
    """``KL(softmax(teacher/T) || softmax(student/T)) * T**2`` summed over positions (rows of (N, V) logits)."""
    student_log_probs = F.log_softmax(student_logits.float() / temperature, dim=-1)
    teacher_log_probs = F.log_softmax(teacher_logits.float() / temperature, dim=-1)
    total = F.kl_div(student_log_probs, teacher_log_probs, reduction="sum", log_target=True) * temperature**2
    return _normalise(total, student_logits.shape[0], num_items)


def pool_spans(
    student_hidden: torch.Tensor, span_index: torch.Tensor, num_positions: int, mode: str = "mean"
) -> torch.Tensor:
    """(B, S, H) student states -> (B, T, H): teacher position t gets the ``sum`` or ``mean`` of the student
    positions j with ``span_index[b, j] == t`` (``-1`` marks padding; positions with no piece give zeros)."""
    if mode not in ("sum", "mean"):
        raise ValueError(f"span pooling must be 'mean' or 'sum', not {mode!r}")
    batch, _, hidden = student_hidden.shape
    valid = span_index >= 0
    target = torch.where(valid, span_index, num_positions)  # padding goes to a dropped extra slot
    pooled = student_hidden.new_zeros(batch, num_positions + 1, hidden)
    pooled.scatter_add_(1, target.unsqueeze(-1).expand(-1, -1, hidden), student_hidden * valid.unsqueeze(-1))
    pooled = pooled[:, :num_positions]
    if mode == "mean":
        counts = torch.zeros(batch, num_positions + 1, dtype=student_hidden.dtype, device=student_hidden.device)
        counts.scatter_add_(1, target, valid.to(student_hidden.dtype))
        pooled = pooled / counts[:, :num_positions].clamp(min=1).unsqueeze(-1)
    return pooled


def hidden_mse_loss(
    student_hidden: torch.Tensor,
    teacher_hidden: torch.Tensor,
    mask: torch.Tensor,
    projection: torch.nn.Module | None = None,
    num_items=None,
) -> torch.Tensor:
    """Squared error between (optionally projected) student and teacher states (B, T, H), summed over
    hidden dimensions and the positions where ``mask`` is 1."""
    if projection is not None:
        student_hidden = projection(student_hidden)
    squared = (student_hidden.float() - teacher_hidden.float()).pow(2).sum(-1)
    return _normalise((squared * mask).sum(), mask.sum(), num_items)


def cosine_loss(
    student_hidden: torch.Tensor,
    teacher_hidden: torch.Tensor,
    mask: torch.Tensor,
    projection: torch.nn.Module | None = None,
    num_items=None,
) -> torch.Tensor:
    """``1 - cos(student, teacher)`` summed over the positions where ``mask`` is 1 (DistilBERT's L_cos)."""
    if projection is not None:
        student_hidden = projection(student_hidden)
    distance = 1 - F.cosine_similarity(student_hidden.float(), teacher_hidden.float(), dim=-1)
    return _normalise((distance * mask).sum(), mask.sum(), num_items)


def attention_mse_loss(
    student_attention: torch.Tensor, teacher_attention: torch.Tensor, mask: torch.Tensor, num_items=None
) -> torch.Tensor:
    """Squared error between attention maps (B, heads, T, T) over real query and key positions, summed over
    keys, averaged over heads, summed over queries."""
    pair_mask = (mask.unsqueeze(-1) * mask.unsqueeze(-2)).unsqueeze(1)
    squared = (student_attention.float() - teacher_attention.float()).pow(2) * pair_mask
    total = squared.sum() / student_attention.shape[1]
    return _normalise(total, mask.sum(), num_items)


def parse_hidden_matching(spec: str) -> str | list[tuple[int, int]]:
    """Validate a hidden-state matching spec (see :data:`HIDDEN_MATCHING_HELP`)."""
    if spec in ("last", "average", "groups"):
        return spec
    if not re.fullmatch(r"\s*\d+\s*:\s*\d+\s*(,\s*\d+\s*:\s*\d+\s*)*", spec or ""):
        raise ValueError(f"hidden_matching {spec!r} is not valid: use {HIDDEN_MATCHING_HELP}.")
    return [tuple(int(x) for x in pair.split(":")) for pair in spec.split(",")]


def match_hidden_states(
    student_states: Sequence[torch.Tensor],
    teacher_states: Sequence[torch.Tensor],
    spec: str,
    *,
    with_embeddings: bool = True,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs (student, teacher) of per-layer tensors to compare under the matching ``spec``.

    ``states`` are the tuples models return: hidden states start with the embeddings
    (``with_embeddings=True``); attention maps do not (``with_embeddings=False``), and an explicit pair
    ``s:t`` of hidden-state indices then compares the attention maps of layers ``s`` and ``t`` (1-based).
    """
    matching = parse_hidden_matching(spec)
    if matching == "last":
        return [(student_states[-1], teacher_states[-1])]
    if matching == "average":
        return [(torch.stack(tuple(student_states)).mean(0), torch.stack(tuple(teacher_states)).mean(0))]
    offset = int(with_embeddings)
    if matching == "groups":
        student_layers, teacher_layers = len(student_states) - offset, len(teacher_states) - offset
        if student_layers < 1 or teacher_layers % student_layers:
            raise ValueError(
                f"'groups' matching needs the teacher's {teacher_layers} layers to split evenly over the "
                f"student's {student_layers}."
            )
        size = teacher_layers // student_layers
        pairs = [(student_states[0], teacher_states[0])] if with_embeddings else []
        for layer in range(student_layers):
            group = teacher_states[offset + layer * size : offset + (layer + 1) * size]
            pairs.append((student_states[offset + layer], torch.stack(tuple(group)).mean(0)))
        return pairs
    shift = 1 - offset
    pairs = [(s - shift, t - shift) for s, t in matching if min(s, t) >= shift]
    for student_index, teacher_index in pairs:
        if student_index >= len(student_states) or teacher_index >= len(teacher_states):
            raise ValueError(
                f"hidden_matching pair {student_index + shift}:{teacher_index + shift} is out of range: the student "
                f"has {len(student_states)} and the teacher {len(teacher_states)} "
                f"{'hidden states' if offset else 'layers'}."
            )
    return [(student_states[s], teacher_states[t]) for s, t in pairs]
