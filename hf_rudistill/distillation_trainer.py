"""``DistillationTrainer``: ``transformers.Trainer`` that distils a frozen teacher into the student.

Per step: the teacher (eval mode, inference mode, optionally bf16/fp16, never saved) runs on its inputs and
computes only what the active losses read — no LM head when ``alpha_ce == 0``, no hidden states when no
hidden-state loss is on. The student runs once: with different vocabularies, its masked-LM rows and its
unmasked teacher-to-student rows (the two passes of the DistilRuBERT-tiny recipe) are one batched forward.
Both LM heads are applied only at the positions the losses read.

Loss components (``mlm``, ``ce``, ``mse``, ``cos``, ``attn``) are normalised by their item counts over all
gradient-accumulation micro-batches and processes (see :mod:`hf_rudistill.losses`), and logged averaged over
the logging window and across processes.
"""

from __future__ import annotations

import contextlib
import json
import math
import os

import torch
from torch import nn
from transformers import Trainer, TrainerCallback

from .collator import DataCollatorForDistillation
from .distillation_config import DistillationTrainingArguments
from .loading import load_model, load_teacher
from .losses import (
    attention_mse_loss,
    cosine_loss,
    hidden_mse_loss,
    masked_lm_loss,
    match_hidden_states,
    parse_hidden_matching,
    pool_spans,
    soft_target_loss,
)
from .model_card import ModelCardCallback

PROJECTION_NAME = "distillation_projection"
PROJECTION_FILE = "distillation_projection.safetensors"
CONFIG_FILE = "distillation_config.json"


class _HeadPositions:
    """Forward pre-hook on a model's LM decoder: while ``positions`` is set, the decoder sees only the hidden
    states at those flat positions, so vocabulary logits are computed only where a loss reads them."""

    def __init__(self, model: nn.Module):
        decoder = model.get_output_embeddings()
        if decoder is None:
            raise ValueError(f"{type(model).__name__} has no MLM head, but a masked-LM or soft-target loss needs one.")
        self.positions: torch.Tensor | None = None
        decoder.register_forward_pre_hook(self)

    def __call__(self, module, args):
        if self.positions is None:
            return None
        hidden = args[0]
        return (hidden.reshape(-1, hidden.shape[-1])[self.positions], *args[1:])

    @contextlib.contextmanager
    def only(self, positions: torch.Tensor):
        self.positions = positions
        try:
            yield
        finally:
            self.positions = None


class _ProjectedHiddenStates:
    """Forward hook on the student: while ``rows`` is set, the student's hidden states are its last ``rows`` rows
    (those compared to the teacher) mapped to the teacher's width by the distillation projection.

    The projection runs inside the student's forward so that DDP, FSDP and DeepSpeed see it as part of the model: a
    trainable parameter used after the forward is never synchronised by DDP ("marked ready twice"), and FSDP frees
    it after the forward. Pooling over spans and averaging over layers are linear, so they commute with it.
    """

    def __init__(self, model: nn.Module, projection: nn.Module):
        self.projection = projection
        self.rows: int | None = None
        model.register_forward_hook(self)

    def __call__(self, module, args, output):
        if self.rows is None or output.hidden_states is None:
            return None
        output.hidden_states = tuple(self.projection(state[-self.rows :]) for state in output.hidden_states)
        return output

    @contextlib.contextmanager
    def only(self, rows: int):
        self.rows = rows
        try:
            yield
        finally:
            self.rows = None


class _CollatorEpoch(TrainerCallback):
    """Tell the collator the epoch, so every epoch draws new masks (and a resumed run the same ones)."""

    def __init__(self, collator: DataCollatorForDistillation):
        self.collator = collator

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.collator.set_epoch(math.floor((state.epoch or 0) + 1e-6))


class DistillationTrainer(Trainer):
    """Distil ``teacher_model`` into ``model`` (the student) with the losses weighted in ``args``.

    Args:
        model: the student ``*ForMaskedLM`` (or a path / hub id).
        teacher_model: the teacher ``*ForMaskedLM`` (or a path / hub id); it is frozen and never saved.
        args: :class:`DistillationTrainingArguments`.
        data_collator: a :class:`DataCollatorForDistillation` (built from ``processing_class`` when omitted and
            teacher and student share one vocabulary).
        Other arguments are those of ``transformers.Trainer``.
    """

    def __init__(
        self,
        model=None,
        teacher_model=None,
        args: DistillationTrainingArguments | None = None,
        data_collator: DataCollatorForDistillation | None = None,
        train_dataset=None,
        eval_dataset=None,
        processing_class=None,
        **kwargs,
    ):
        if not isinstance(args, DistillationTrainingArguments):
            raise TypeError("DistillationTrainer needs args=DistillationTrainingArguments(...).")
        teacher_losses = [name for name, weight in args.loss_weights.items() if weight > 0 and name != "mlm"]
        if model is None:
            raise ValueError("DistillationTrainer needs a student (model=...).")
        if teacher_model is None and teacher_losses:
            raise ValueError(f"The {', '.join(teacher_losses)} loss(es) need a teacher (teacher_model=...).")
        if isinstance(model, (str, os.PathLike)):
            model = load_model(model, kind="student")
        if isinstance(teacher_model, (str, os.PathLike)):  # (None: masked-LM training alone, e.g. from scratch)
            teacher_model = load_teacher(teacher_model, missing_head="error" if args.alpha_ce > 0 else "ignore")
        if data_collator is None and processing_class is not None:
            data_collator = DataCollatorForDistillation(processing_class)
        check_compatibility(model, teacher_model, args, data_collator)
        if args.alpha_attn > 0:  # only eager attention returns attention maps (a teacher is there: checked above)
            model.set_attn_implementation("eager")
            teacher_model.set_attn_implementation("eager")
        hidden_losses = args.alpha_mse > 0 or args.alpha_cos > 0
        projected_states = None
        if hidden_losses and args.projection != "none":
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(args.seed)
                projection = nn.Linear(model.config.hidden_size, teacher_model.config.hidden_size, bias=False)
            projection.requires_grad_(args.projection == "trainable")
            model.add_module(PROJECTION_NAME, projection)
            projected_states = _ProjectedHiddenStates(model, projection)

        super().__init__(
            model=model,
            args=args,
            data_collator=data_collator,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=processing_class if processing_class is not None else data_collator.tokenizer,
            **kwargs,
        )
        self.loss_is_scaled_for_ga = True  # every component is normalised by its global item count
        self.teacher = None
        if teacher_model is not None:
            teacher_model.eval().requires_grad_(False)
            teacher_model.to(getattr(torch, args.teacher_dtype))
            self.teacher = self._prepare_teacher(teacher_model)
        self._student_head = _HeadPositions(model) if args.alpha_mlm > 0 or args.alpha_ce > 0 else None
        self._teacher_head = _HeadPositions(teacher_model) if args.alpha_ce > 0 else None
        self._hidden_losses = hidden_losses
        self._projected_states = projected_states
        self.add_callback(_CollatorEpoch(data_collator))
        self.model_card_callback = ModelCardCallback()  # training facts for the model card (training_facts.json)
        self.add_callback(self.model_card_callback)
        self._component_sums: dict[str, dict[str, torch.Tensor]] = {"train": {}, "eval": {}}
        self._component_steps = {"train": 0.0, "eval": 0.0}

    def _prepare_teacher(self, teacher: nn.Module) -> nn.Module:
        """The frozen teacher on this process's device, never wrapped for gradient synchronisation.

        DDP and FSDP: a full copy on every process (accelerate leaves models where they are under FSDP, so it is
        moved here); an encoder teacher fits on one device, and a replica costs no communication. DeepSpeed: TRL's
        ``prepare_deepspeed`` pattern, an inference engine of its own, partitioned under ZeRO-3 (a model loaded
        while a ZeRO-3 config is active is already partitioned and needs the engine to gather its weights) and with
        ZeRO disabled otherwise.
        """
        if self.is_deepspeed_enabled:
            return _deepspeed_inference_engine(teacher, self.accelerator.state.deepspeed_plugin.deepspeed_config)
        if self.is_fsdp_enabled:
            teacher.to(self.accelerator.device)
        return self.accelerator.prepare_model(teacher, evaluation_mode=True)

    # ---- loss ---------------------------------------------------------------------------------------------

    def _item_counts(self, inputs: dict) -> dict[str, torch.Tensor]:
        """Items each loss component averages over, for one batch (see :mod:`hf_rudistill.losses`)."""
        masked = (inputs["labels"] != -100).sum()
        positions = inputs["attention_mask"].sum()
        tokens = inputs["teacher_token_mask"].sum() if "teacher_token_mask" in inputs else positions
        return {
            "mlm": masked,
            "ce": masked if self.args.restrict_ce_to_mask else positions,
            "mse": tokens,
            "cos": tokens,
            "attn": positions,
        }

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device) -> dict[str, torch.Tensor] | None:
        """Item counts of every loss component over the micro-batches of one optimizer step, all processes."""
        if not batch_samples:
            return None
        counts = [self._item_counts(batch) for batch in batch_samples]
        totals = {name: sum(count[name] for count in counts).to(device).float() for name in counts[0]}
        if self.args.world_size > 1:
            totals = {name: self.accelerator.reduce(value, reduction="sum") for name, value in totals.items()}
        return totals

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        args = self.args
        weights = args.loss_weights
        global_counts = isinstance(num_items_in_batch, dict)
        counts = num_items_in_batch if global_counts else self._item_counts(inputs)
        same_vocabulary = "t2s_input_ids" not in inputs
        needs_student_logits = weights["mlm"] > 0 or weights["ce"] > 0

        # one student forward: masked-LM rows, plus (vocabularies differ) the unmasked teacher-to-student rows
        rows = []
        if needs_student_logits or same_vocabulary:
            rows.append((inputs["input_ids"], inputs["attention_mask"]))
        if not same_vocabulary and self._hidden_losses:
            rows.append((inputs["t2s_input_ids"], inputs["t2s_attention_mask"]))
        input_ids, attention_mask = _stack_rows(rows, pad_id=self.data_collator.tokenizer.pad_token_id)
        # flat positions in the stacked (rows, width) layout; the masked-LM rows come first
        width = input_ids.shape[1]
        labels = nn.functional.pad(inputs["labels"], (0, width - inputs["labels"].shape[1]), value=-100).reshape(-1)
        mlm_positions = (labels != -100).nonzero().squeeze(-1)
        if args.restrict_ce_to_mask:
            ce_positions = mlm_positions
        else:
            ce_positions = attention_mask[: inputs["labels"].shape[0]].reshape(-1).nonzero().squeeze(-1)
        head_positions = ce_positions if weights["ce"] > 0 else mlm_positions

        teacher = self._teacher_forward(inputs, ce_positions if weights["ce"] > 0 else None)
        batch = inputs["input_ids"].shape[0]
        head = self._student_head.only(head_positions) if needs_student_logits else contextlib.nullcontext()
        projected = self._projected_states.only(batch) if self._projected_states else contextlib.nullcontext()
        with head, projected:
            outputs = model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                output_hidden_states=self._hidden_losses,
                output_attentions=weights["attn"] > 0,
            )

        components = {}
        if weights["mlm"] > 0:
            logits = outputs.logits
            if head_positions is not mlm_positions:  # logits at every position; keep the masked ones
                logits = logits[(labels[head_positions] != -100).nonzero().squeeze(-1)]
            components["mlm"] = masked_lm_loss(logits, labels[mlm_positions], counts["mlm"])
        if weights["ce"] > 0:
            components["ce"] = soft_target_loss(outputs.logits, teacher["logits"], args.temperature, counts["ce"])
        if self._hidden_losses:
            student_states = [state[-batch:] for state in outputs.hidden_states]  # the rows compared to the teacher
            pairs = match_hidden_states(student_states, teacher["hidden_states"], args.hidden_matching)
            if same_vocabulary:
                mask = inputs["attention_mask"]
                pairs = [(s[:, : t.shape[1]], t) for s, t in pairs]
            else:
                mask = inputs["teacher_token_mask"]
                span_index = inputs["t2s_span_index"]
                pairs = [
                    (pool_spans(s[:, : span_index.shape[1]], span_index, t.shape[1], args.span_pooling), t)
                    for s, t in pairs
                ]
            pairs = [(s, t.clone()) for s, t in pairs]  # teacher targets leave inference mode
            if weights["mse"] > 0:
                losses = [hidden_mse_loss(s, t, mask, num_items=counts["mse"]) for s, t in pairs]
                components["mse"] = torch.stack(losses).mean()
            if weights["cos"] > 0:
                losses = [cosine_loss(s, t, mask, num_items=counts["cos"]) for s, t in pairs]
                components["cos"] = torch.stack(losses).mean()
        if weights["attn"] > 0:
            pairs = match_hidden_states(
                outputs.attentions, teacher["attentions"], args.hidden_matching, with_embeddings=False
            )
            mask = inputs["attention_mask"]
            components["attn"] = torch.stack(
                [attention_mse_loss(s, t.clone(), mask, counts["attn"]) for s, t in pairs]
            ).mean()

        loss = sum(weights[name] * value for name, value in components.items())
        self._record(components, "train" if model.training else "eval")
        if global_counts and self.args.world_size > 1:
            loss = loss * self.args.world_size  # gradients are averaged across processes; counts were global
        return (loss, {"loss_components": components}) if return_outputs else loss

    def _teacher_forward(self, inputs: dict, ce_positions: torch.Tensor | None) -> dict:
        """Teacher outputs the active losses read: logits at ``ce_positions`` and/or hidden states/attentions."""
        args = self.args
        if self.teacher is None:  # masked-LM training alone
            return {}
        wants_all_states = self._hidden_losses and parse_hidden_matching(args.hidden_matching) != "last"
        kwargs = {
            "input_ids": inputs["teacher_input_ids"],
            "attention_mask": inputs["teacher_attention_mask"],
            "output_attentions": args.alpha_attn > 0,
        }
        teacher = self.teacher
        with torch.inference_mode():
            if ce_positions is not None:
                with self._teacher_head.only(ce_positions):
                    outputs = teacher(**kwargs, output_hidden_states=self._hidden_losses)
                states = outputs.hidden_states
            else:
                outputs = teacher.base_model(**kwargs, output_hidden_states=wants_all_states)
                states = outputs.hidden_states if wants_all_states else (outputs.last_hidden_state,)
        return {
            "logits": getattr(outputs, "logits", None),
            "hidden_states": states,
            "attentions": outputs.attentions,
        }

    # ---- logging of loss components ----------------------------------------------------------------------

    def _record(self, components: dict[str, torch.Tensor], kind: str) -> None:
        sums = self._component_sums[kind]
        for name, value in components.items():
            sums[name] = sums.get(name, 0) + value.detach().float()
        accumulation = getattr(self, "current_gradient_accumulation_steps", 1) if kind == "train" else 1
        self._component_steps[kind] += 1 / accumulation

    def _averaged_components(self, kind: str) -> dict[str, float]:
        """Mean per optimizer step (train) or per batch (eval), combined across processes, then reset.

        Training and evaluation alike, each process's component is its own loss sum divided by the item count of
        all processes (``_get_num_items_in_batch`` reduces the counts; ``prediction_step`` calls it too), so the
        sum over processes is the value of the global batch: what one process with the whole batch would log.
        """
        sums, steps = self._component_sums[kind], self._component_steps[kind]
        self._component_sums[kind], self._component_steps[kind] = {}, 0.0
        if not steps:
            return {}
        return {name: float(self.accelerator.reduce(value / steps, reduction="sum")) for name, value in sums.items()}

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:
            logs.update(self._averaged_components("train"))
        super().log(logs, start_time)

    def evaluation_loop(
        self, dataloader, description, prediction_loss_only=None, ignore_keys=None, metric_key_prefix="eval"
    ):
        collator = self.data_collator
        epoch = collator.epoch
        collator.set_epoch(0)  # the same masks at every evaluation, so evaluations compare
        self._component_sums["eval"], self._component_steps["eval"] = {}, 0.0
        try:
            output = super().evaluation_loop(
                dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix
            )
        finally:
            collator.set_epoch(epoch)
        for name, value in self._averaged_components("eval").items():
            output.metrics[f"{metric_key_prefix}_{name}"] = value
        return output

    # ---- saving: the student alone, plus the projection, the mapping and the distillation config ---------

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        output_dir = output_dir if output_dir is not None else self.args.output_dir
        model = self.accelerator.unwrap_model(self.model)
        projection = None
        if hasattr(model, PROJECTION_NAME):
            # from the state dict: under FSDP / DeepSpeed ZeRO-3 it is the one gathered from every process
            state_dict = state_dict if state_dict is not None else model.state_dict()
            projection = state_dict.get(f"{PROJECTION_NAME}.weight")
            state_dict = {k: v for k, v in state_dict.items() if not k.startswith(f"{PROJECTION_NAME}.")}
        super()._save(output_dir, state_dict=state_dict)
        if not self.args.should_save:
            return
        # the arguments as JSON, not as the pickle Trainer writes (never unpickle what you download)
        pickled = os.path.join(output_dir, "training_args.bin")
        if os.path.isfile(pickled):
            os.remove(pickled)
        with open(os.path.join(output_dir, "training_args.json"), "w", encoding="utf-8") as handle:
            handle.write(self.args.to_json_string())
        if projection is not None:
            from safetensors.torch import save_file

            save_file({"weight": projection.detach().cpu().contiguous()}, os.path.join(output_dir, PROJECTION_FILE))
        if self.data_collator.mapping is not None:
            self.data_collator.mapping.save_pretrained(output_dir)
        with open(os.path.join(output_dir, CONFIG_FILE), "w", encoding="utf-8") as handle:
            json.dump(self.args.distillation_dict(), handle, indent=2)
        self.model_card_callback.save(output_dir)

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model=None) -> None:
        super()._load_from_checkpoint(resume_from_checkpoint, model)
        projection = getattr(self.accelerator.unwrap_model(model or self.model), PROJECTION_NAME, None)
        path = os.path.join(resume_from_checkpoint, PROJECTION_FILE)
        if projection is not None and os.path.isfile(path):
            from safetensors.torch import load_file

            with torch.no_grad():
                projection.weight.copy_(load_file(path)["weight"])

    def _issue_warnings_after_load(self, load_result) -> None:
        # the projection is stored beside the student's weights, not inside them
        load_result.missing_keys[:] = [k for k in load_result.missing_keys if not k.startswith(f"{PROJECTION_NAME}.")]
        super()._issue_warnings_after_load(load_result)


def _deepspeed_inference_engine(model: nn.Module, training_config: dict) -> nn.Module:
    """``model`` in a DeepSpeed engine for inference (TRL's ``prepare_deepspeed``): the training config without what
    only training reads, ZeRO-3 kept (its "auto" bucket sizes filled from the hidden size, as TRL does) and any
    other stage off."""
    import copy

    import deepspeed

    # no optimizer or scheduler; batch sizes only as DeepSpeed requires them (one process's batch, no accumulation)
    dropped = ("optimizer", "scheduler", "train_batch_size", "gradient_accumulation_steps")
    config = {k: v for k, v in copy.deepcopy(training_config).items() if k not in dropped}
    if not isinstance(config.get("train_micro_batch_size_per_gpu"), int):
        config["train_micro_batch_size_per_gpu"] = 1
    zero = config.setdefault("zero_optimization", {})
    if zero.get("stage") == 3:
        hidden = model.config.hidden_size
        sizes = {
            "reduce_bucket_size": hidden * hidden,
            "stage3_param_persistence_threshold": 10 * hidden,
            "stage3_prefetch_bucket_size": int(0.9 * hidden * hidden),
        }
        zero.update({key: value for key, value in sizes.items() if zero.get(key) == "auto"})
    else:
        config["zero_optimization"] = {"stage": 0}
    engine, *_ = deepspeed.initialize(model=model, config=config)
    engine.eval()  # (DeepSpeedEngine.eval returns None)
    return engine


def _stack_rows(rows: list[tuple[torch.Tensor, torch.Tensor]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenate (ids, mask) row blocks along the batch, right-padding them to one length."""
    if len(rows) == 1:
        return rows[0]
    width = max(ids.shape[1] for ids, _ in rows)
    ids = torch.cat([nn.functional.pad(ids, (0, width - ids.shape[1]), value=pad_id) for ids, _ in rows])
    mask = torch.cat([nn.functional.pad(mask, (0, width - mask.shape[1]), value=0) for _, mask in rows])
    return ids, mask


def check_compatibility(student, teacher, args: DistillationTrainingArguments, collator) -> None:
    """Raise a clear error, before any training, when the models, the collator and the losses do not fit."""
    if not isinstance(collator, DataCollatorForDistillation):
        raise ValueError("DistillationTrainer needs data_collator=DataCollatorForDistillation(...).")
    student_vocab = student.config.vocab_size
    if len(collator.tokenizer) > student_vocab:
        raise ValueError(
            f"The collator's student tokenizer has {len(collator.tokenizer)} tokens but the student model only "
            f"{student_vocab} embeddings: the tokenizer does not belong to this student."
        )
    if (args.alpha_mlm > 0 or args.alpha_ce > 0) and student.get_output_embeddings() is None:
        raise ValueError("The masked-LM and soft-target losses need a student with an MLM head (*ForMaskedLM).")
    if teacher is None:
        return
    teacher_vocab = teacher.config.vocab_size
    if collator.same_vocabulary and teacher_vocab != student_vocab:
        raise ValueError(
            f"Teacher ({teacher_vocab} tokens) and student ({student_vocab}) vocabularies differ, but the collator "
            "treats them as one: give it teacher_tokenizer=... so it maps teacher tokens to student tokens."
        )
    if not collator.same_vocabulary:
        if collator.mapping.source_vocab_size > teacher_vocab:
            raise ValueError(
                f"The collator maps a {collator.mapping.source_vocab_size}-token teacher vocabulary, but the teacher "
                f"model has {teacher_vocab} embeddings: the teacher tokenizer does not belong to this teacher."
            )
        if args.alpha_ce > 0:
            raise ValueError(
                "alpha_ce > 0 needs teacher and student to share one vocabulary (soft targets are distributions over "
                "it); with a reduced vocabulary use hidden-state losses (alpha_mse / alpha_cos) and set alpha_ce=0."
            )
        if args.alpha_attn > 0:
            raise ValueError(
                "alpha_attn > 0 compares attention maps position by position: it needs equal vocabularies."
            )
    hidden_losses = args.alpha_mse > 0 or args.alpha_cos > 0
    if hidden_losses and student.config.hidden_size != teacher.config.hidden_size and args.projection == "none":
        raise ValueError(
            f"Student hidden size {student.config.hidden_size} differs from the teacher's "
            f"{teacher.config.hidden_size}: "
            "hidden-state losses need projection='fixed' or 'trainable'."
        )
    if args.alpha_attn > 0 and student.config.num_attention_heads != teacher.config.num_attention_heads:
        raise ValueError("alpha_attn > 0 needs the same number of attention heads in teacher and student.")
    if args.alpha_ce > 0 and teacher.get_output_embeddings() is None:
        raise ValueError("alpha_ce > 0 needs a teacher with an MLM head; this teacher is a bare encoder.")
    if hidden_losses or args.alpha_attn > 0:
        layers = student.config.num_hidden_layers, teacher.config.num_hidden_layers
        states = [torch.empty(0)] * (layers[0] + 1), [torch.empty(0)] * (layers[1] + 1)
        match_hidden_states(*states, args.hidden_matching)  # raises on a matching the depths do not allow
