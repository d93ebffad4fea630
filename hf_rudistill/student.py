"""Student initialisation from teacher weights.

:func:`init_student` builds a smaller ``*ForMaskedLM`` of the teacher's architecture (or a DistilBERT
from a BERT teacher) and fills it from the teacher:

- depth: a layer selection (``"even"`` = 0, 2, 4, …; ``"odd"``; ``"distilbert"`` = DistilBERT's
  0, 2, 4, 7, 9, 11; or an explicit list), or ``layer_groups`` where each student layer is the
  element-wise mean of a group of teacher layers (the DistilRuBERT-tiny init: layer k = mean of 4k..4k+3);
- width: every matrix, vector and embedding sliced top-left to the student's hidden / FFN size (the
  DistilRuBERT-tiny init), with DeBERTa's fused query-key-value projection sliced per part;
- vocabulary: with a new student tokenizer, each student token's embedding row, MLM decoder row and bias
  are the mean over the teacher tokens of its greedy teacher split (special tokens map to special tokens);
- everything else (position embeddings, LayerNorms, the MLM transform) is carried over, sliced.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Sequence

import torch

from .alignment import VocabMapping

logger = logging.getLogger(__name__)

SUPPORTED_TEACHERS = ("bert", "distilbert", "roberta", "xlm-roberta", "camembert", "deberta")
LAYER_PRESETS = ("even", "odd", "distilbert")
_LAYER = re.compile(r"\.layer\.(\d+)\.")

# DistilBERT parameter name -> BERT parameter name, for converting a BERT teacher into a DistilBERT student.
_DISTILBERT_TO_BERT = [
    (r"^distilbert\.embeddings\.", "bert.embeddings."),
    (r"^distilbert\.transformer\.layer\.(\d+)\.attention\.q_lin\.", r"bert.encoder.layer.\1.attention.self.query."),
    (r"^distilbert\.transformer\.layer\.(\d+)\.attention\.k_lin\.", r"bert.encoder.layer.\1.attention.self.key."),
    (r"^distilbert\.transformer\.layer\.(\d+)\.attention\.v_lin\.", r"bert.encoder.layer.\1.attention.self.value."),
    (
        r"^distilbert\.transformer\.layer\.(\d+)\.attention\.out_lin\.",
        r"bert.encoder.layer.\1.attention.output.dense.",
    ),
    (r"^distilbert\.transformer\.layer\.(\d+)\.sa_layer_norm\.", r"bert.encoder.layer.\1.attention.output.LayerNorm."),
    (r"^distilbert\.transformer\.layer\.(\d+)\.ffn\.lin1\.", r"bert.encoder.layer.\1.intermediate.dense."),
    (r"^distilbert\.transformer\.layer\.(\d+)\.ffn\.lin2\.", r"bert.encoder.layer.\1.output.dense."),
    (r"^distilbert\.transformer\.layer\.(\d+)\.output_layer_norm\.", r"bert.encoder.layer.\1.output.LayerNorm."),
    (r"^vocab_transform\.", "cls.predictions.transform.dense."),
    (r"^vocab_layer_norm\.", "cls.predictions.transform.LayerNorm."),
    (r"^vocab_projector\.weight$", "bert.embeddings.word_embeddings.weight"),
    (r"^vocab_projector\.bias$", "cls.predictions.bias"),
]


def resolve_layers(layers: Sequence[int] | str, num_teacher_layers: int) -> list[int]:
    """Teacher layer indices of a preset name or an explicit list."""
    if isinstance(layers, str):
        if layers == "even":
            return list(range(0, num_teacher_layers, 2))
        if layers == "odd":
            return list(range(1, num_teacher_layers, 2))
        if layers == "distilbert":
            if num_teacher_layers != 12:
                raise ValueError(
                    "The 'distilbert' layer preset [0, 2, 4, 7, 9, 11] needs a 12-layer teacher, "
                    f"not {num_teacher_layers}."
                )
            return [0, 2, 4, 7, 9, 11]
        raise ValueError(f"Unknown layer preset {layers!r}: choose one of {LAYER_PRESETS} or give a list of indices.")
    return [int(index) for index in layers]


def init_student(
    teacher,
    *,
    layers: Sequence[int] | str | None = None,
    layer_groups: Sequence[Sequence[int]] | None = None,
    hidden_size: int | None = None,
    intermediate_size: int | None = None,
    num_attention_heads: int | None = None,
    student_tokenizer=None,
    teacher_tokenizer=None,
    architecture: str | None = None,
):
    """A student ``*ForMaskedLM`` initialised from ``teacher`` (a model or a path / hub id).

    Args:
        layers: teacher layers to keep, by preset (``"even"``, ``"odd"``, ``"distilbert"``) or index list.
        layer_groups: alternatively, groups of teacher layers; student layer k is the mean of group k.
        hidden_size, intermediate_size, num_attention_heads: a narrower student (weights sliced top-left).
        student_tokenizer, teacher_tokenizer: give both for a new student vocabulary.
        architecture: ``"distilbert"`` to turn a BERT teacher into a DistilBERT student.

    Keeps all layers, the full width and the teacher vocabulary by default. Student parameters the teacher
    lacks (e.g. the MLM head of a teacher checkpoint shipped without one) keep their fresh initialisation
    and are logged.
    """
    from transformers import AutoModelForMaskedLM

    if isinstance(teacher, (str, bytes)) or hasattr(teacher, "__fspath__"):
        teacher = AutoModelForMaskedLM.from_pretrained(teacher)
    teacher_config = teacher.config
    if teacher_config.model_type not in SUPPORTED_TEACHERS:
        raise ValueError(
            f"Teacher architecture {teacher_config.model_type!r} is not supported; "
            f"supported: {', '.join(SUPPORTED_TEACHERS)}."
        )
    if architecture not in (None, teacher_config.model_type, "distilbert"):
        raise ValueError(f"architecture must be None (the teacher's) or 'distilbert', not {architecture!r}.")
    if architecture == "distilbert" and teacher_config.model_type not in ("bert", "distilbert"):
        raise ValueError(
            f"Only a BERT teacher can be converted into a DistilBERT student, not {teacher_config.model_type!r}."
        )
    if layers is not None and layer_groups is not None:
        raise ValueError("Give either `layers` (a selection) or `layer_groups` (averaged groups), not both.")
    if (student_tokenizer is None) != (teacher_tokenizer is None):
        raise ValueError("A new student vocabulary needs both `student_tokenizer` and `teacher_tokenizer`.")

    depth = _get(teacher_config, "num_hidden_layers", "n_layers")
    groups = (
        [list(group) for group in layer_groups]
        if layer_groups is not None
        else [[index] for index in resolve_layers(layers if layers is not None else list(range(depth)), depth)]
    )
    for group in groups:
        if not group:
            raise ValueError("Every layer group needs at least one teacher layer.")
        for index in group:
            if not 0 <= index < depth:
                raise ValueError(f"Teacher layer {index} is out of range: the teacher has layers 0..{depth - 1}.")

    reverse = VocabMapping.build(student_tokenizer, teacher_tokenizer) if student_tokenizer is not None else None
    config = _student_config(
        teacher_config,
        architecture or teacher_config.model_type,
        num_layers=len(groups),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_attention_heads=num_attention_heads,
        tokenizer=student_tokenizer,
    )
    config.dtype = torch.float32  # students train in float32, whatever dtype the teacher was loaded in
    student = AutoModelForMaskedLM.from_config(config, dtype=torch.float32)
    _copy_weights(
        teacher,
        student,
        groups,
        reverse,
        convert_from_bert=config.model_type == "distilbert" != teacher_config.model_type,
    )
    return student


def _get(config, *names):
    for name in names:
        if hasattr(config, name):
            return getattr(config, name)
    raise AttributeError(f"{type(config).__name__} has none of {names}")


def _student_config(
    teacher_config, model_type, *, num_layers, hidden_size, intermediate_size, num_attention_heads, tokenizer
):
    from transformers import DistilBertConfig

    teacher_hidden = _get(teacher_config, "hidden_size", "dim")
    teacher_ffn = _get(teacher_config, "intermediate_size", "hidden_dim")
    hidden = hidden_size or teacher_hidden
    ffn = intermediate_size or teacher_ffn
    heads = num_attention_heads or _get(teacher_config, "num_attention_heads", "n_heads")
    if hidden > teacher_hidden or ffn > teacher_ffn:
        raise ValueError(
            f"A student cannot be wider than its teacher (hidden {hidden} vs {teacher_hidden}, "
            f"FFN {ffn} vs {teacher_ffn})."
        )
    if hidden % heads:
        raise ValueError(f"hidden_size {hidden} is not divisible by num_attention_heads {heads}.")
    vocab_size = len(tokenizer) if tokenizer is not None else teacher_config.vocab_size
    special_ids = {}
    if tokenizer is not None:
        special_ids = {
            name: getattr(tokenizer, name)
            for name in ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id")
            if getattr(tokenizer, name, None) is not None
        }
    if model_type == "distilbert" and teacher_config.model_type == "bert":
        return DistilBertConfig(
            vocab_size=vocab_size,
            max_position_embeddings=teacher_config.max_position_embeddings,
            n_layers=num_layers,
            n_heads=heads,
            dim=hidden,
            hidden_dim=ffn,
            dropout=teacher_config.hidden_dropout_prob,
            attention_dropout=teacher_config.attention_probs_dropout_prob,
            activation=teacher_config.hidden_act,
            initializer_range=teacher_config.initializer_range,
            pad_token_id=special_ids.get("pad_token_id", teacher_config.pad_token_id),
        )
    config = copy.deepcopy(teacher_config)
    sizes = {"vocab_size": vocab_size, **special_ids}
    if model_type == "distilbert":
        sizes.update(n_layers=num_layers, n_heads=heads, dim=hidden, hidden_dim=ffn)
    else:
        sizes.update(
            num_hidden_layers=num_layers, num_attention_heads=heads, hidden_size=hidden, intermediate_size=ffn
        )
    for name, value in sizes.items():
        setattr(config, name, value)
    config.architectures = None
    return config


def _teacher_name(student_name: str, convert_from_bert: bool) -> str:
    if convert_from_bert:
        for pattern, replacement in _DISTILBERT_TO_BERT:
            if re.search(pattern, student_name):
                return re.sub(pattern, replacement, student_name)
    return student_name


@torch.no_grad()
def _copy_weights(teacher, student, groups, reverse: VocabMapping | None, convert_from_bert: bool) -> None:
    teacher_state = teacher.state_dict()
    if teacher.base_model is teacher:  # a bare encoder (no MLM head): name its weights as inside a *ForMaskedLM
        teacher_state = {f"{student.base_model_prefix}.{name}": tensor for name, tensor in teacher_state.items()}
    teacher_heads = _get(teacher.config, "num_attention_heads", "n_heads")
    student_heads = _get(student.config, "num_attention_heads", "n_heads")
    vocab_indexed = {id(student.get_input_embeddings().weight)}
    output = student.get_output_embeddings()
    if output is not None:
        vocab_indexed |= {id(output.weight)} | ({id(output.bias)} if output.bias is not None else set())

    missing = []
    for name, parameter in student.named_parameters():
        template = _teacher_name(name, convert_from_bert)
        match = _LAYER.search(template)
        sources = (
            [_LAYER.sub(f".layer.{index}.", template, count=1) for index in groups[int(match.group(1))]]
            if match
            else [template]
        )
        if not all(source in teacher_state for source in sources):
            missing.append(name)
            continue
        value = torch.stack([teacher_state[source].float() for source in sources]).mean(0)
        if convert_from_bert and template == "bert.embeddings.position_embeddings.weight":
            value = value + teacher_state["bert.embeddings.token_type_embeddings.weight"][0].float()
        if id(parameter) in vocab_indexed and reverse is not None:
            value = _average_rows(value, reverse)
        if name.endswith("attention.self.in_proj.weight"):
            value = _slice_fused_qkv(value, teacher_heads, student_heads, parameter.shape)
        parameter.copy_(_slice(value, parameter.shape, name))
    if any(_LAYER.search(name) for name in missing):
        raise ValueError(
            f"The teacher has no weights for student layer parameters {missing[:5]}: incompatible models."
        )
    if missing:
        logger.warning("Teacher has no weights for %s; they keep their fresh initialisation.", ", ".join(missing))


def _average_rows(teacher_rows: torch.Tensor, reverse: VocabMapping) -> torch.Tensor:
    """Row j = mean of the teacher rows of student token j's teacher split."""
    pieces = torch.from_numpy(reverse.pieces)
    lengths = torch.from_numpy(reverse.lengths)
    owner = torch.repeat_interleave(torch.arange(len(lengths)), lengths)
    rows = teacher_rows.reshape(teacher_rows.shape[0], -1)
    total = torch.zeros(len(lengths), rows.shape[1]).index_add_(0, owner, rows[pieces])
    return (total / lengths.unsqueeze(1)).reshape(len(lengths), *teacher_rows.shape[1:])


def _slice(value: torch.Tensor, shape: torch.Size, name: str) -> torch.Tensor:
    if any(want > have for want, have in zip(shape, value.shape)) or value.dim() != len(shape):
        raise ValueError(f"Cannot slice teacher weight of shape {tuple(value.shape)} to {tuple(shape)} for {name}.")
    return value[tuple(slice(0, size) for size in shape)]


def _slice_fused_qkv(value: torch.Tensor, teacher_heads: int, student_heads: int, shape: torch.Size) -> torch.Tensor:
    """DeBERTa v1 ``in_proj`` rows are per head (query, key, value): slice each part top-left, then re-fuse."""
    hidden_in = value.shape[1]
    head_dim = value.shape[0] // (3 * teacher_heads)
    parts = (
        value.view(teacher_heads, 3, head_dim, hidden_in)
        .transpose(0, 1)
        .reshape(3, teacher_heads * head_dim, hidden_in)
    )
    student_all, student_in = shape[0] // 3, shape[1]
    sliced = parts[:, :student_all, :student_in]
    return sliced.reshape(3, student_heads, student_all // student_heads, student_in).transpose(0, 1).reshape(shape)
