"""``DistillationTrainingArguments``: ``TrainingArguments`` plus the distillation settings.

Loss = ``alpha_mlm * L_mlm + alpha_ce * L_ce + alpha_mse * L_mse + alpha_cos * L_cos + alpha_attn * L_attn``
(see :mod:`hf_rudistill.losses`). The defaults are the DistilBERT recipe (5.0 CE, 2.0 MLM, 1.0 cosine on the
last hidden states, T = 2); the recipes in ``recipes/`` set their published values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

from transformers import TrainingArguments

from .losses import HIDDEN_MATCHING_HELP, parse_hidden_matching

LOSS_NAMES = ("mlm", "ce", "mse", "cos", "attn")
TEACHER_DTYPES = ("float32", "bfloat16", "float16")


@dataclass
class DistillationTrainingArguments(TrainingArguments):
    """Arguments of :class:`~hf_rudistill.DistillationTrainer`; every ``TrainingArguments`` field also applies."""

    alpha_mlm: float = field(default=2.0, metadata={"help": "Weight of the student's masked-LM cross-entropy."})
    alpha_ce: float = field(
        default=5.0,
        metadata={"help": "Weight of the soft-target loss KL(teacher || student) * T^2 (needs equal vocabularies)."},
    )
    alpha_mse: float = field(
        default=0.0,
        metadata={"help": "Weight of the hidden-state squared error per teacher token (the DistilRuBERT-tiny loss)."},
    )
    alpha_cos: float = field(default=1.0, metadata={"help": "Weight of the hidden-state cosine loss (DistilBERT)."})
    alpha_attn: float = field(
        default=0.0,
        metadata={"help": "Weight of the attention-map squared error (needs equal vocabularies and head counts)."},
    )
    temperature: float = field(default=2.0, metadata={"help": "Softmax temperature T of the soft-target loss."})
    restrict_ce_to_mask: bool = field(
        default=True,
        metadata={"help": "Soft-target loss on masked positions only (False: every non-padding position)."},
    )
    hidden_matching: str = field(
        default="last",
        metadata={"help": f"Which hidden states the MSE/cosine/attention losses compare: {HIDDEN_MATCHING_HELP}."},
    )
    span_pooling: str = field(
        default="mean",
        metadata={
            "help": "How student pieces of one teacher token are pooled when vocabularies differ: 'mean' or 'sum' "
            "(the DistilRuBERT-tiny authors summed)."
        },
    )
    projection: str = field(
        default="none",
        metadata={
            "help": "Map from student to teacher hidden size for MSE/cosine: 'none' (sizes must be equal), 'fixed' "
            "(a seeded random linear map, the authors' default) or 'trainable' (learned, saved with checkpoints)."
        },
    )
    teacher_dtype: str = field(
        default="float32", metadata={"help": f"dtype the frozen teacher runs in: one of {', '.join(TEACHER_DTYPES)}."}
    )
    remove_unused_columns: bool = field(
        default=False,
        metadata={
            "help": "Must stay False: DataCollatorForDistillation reads columns the student's forward does not take."
        },
    )
    prediction_loss_only: bool = field(
        default=True, metadata={"help": "Evaluation reports losses (and their components) only."}
    )

    def __post_init__(self):
        super().__post_init__()
        weights = self.loss_weights
        if any(weight < 0 for weight in weights.values()):
            raise ValueError(f"Loss weights must be non-negative, got {weights}.")
        if not any(weights.values()):
            raise ValueError(
                "All loss weights (alpha_mlm, alpha_ce, alpha_mse, alpha_cos, alpha_attn) are zero: nothing to train."
            )
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}.")
        parse_hidden_matching(self.hidden_matching)
        for name, allowed in (
            ("span_pooling", ("mean", "sum")),
            ("projection", ("none", "fixed", "trainable")),
            ("teacher_dtype", TEACHER_DTYPES),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}.")
        if self.remove_unused_columns:
            raise ValueError(
                "remove_unused_columns=True would drop the teacher columns the distillation collator needs; "
                "set it to False."
            )

    @property
    def loss_weights(self) -> dict[str, float]:
        """``{"mlm": alpha_mlm, "ce": alpha_ce, ...}``."""
        return {name: getattr(self, f"alpha_{name}") for name in LOSS_NAMES}

    def distillation_dict(self) -> dict:
        """The distillation-specific fields (what ``distillation_config.json`` in a student folder holds)."""
        own = {f.name for f in fields(DistillationTrainingArguments)} - {f.name for f in fields(TrainingArguments)}
        return {name: getattr(self, name) for name in sorted(own)}

    @classmethod
    def from_json_string(cls, text: str) -> DistillationTrainingArguments:
        """Rebuild arguments from :meth:`to_json_string` output (fields that are not init arguments are skipped)."""
        values = json.loads(text)
        init_names = {f.name for f in fields(cls) if f.init}
        return cls(**{name: value for name, value in values.items() if name in init_names})
