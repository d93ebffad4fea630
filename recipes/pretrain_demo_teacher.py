"""Pretrain the embedded demo teacher: a small Russian BertForMaskedLM, from scratch, on CPU.

    python recipes/pretrain_demo_teacher.py                      # writes hf_rudistill/assets/demo-teacher
    python recipes/pretrain_demo_teacher.py --max_steps 50 --output_dir /tmp/teacher   # a quick try

Steps: train a cased WordPiece vocabulary on the train split of the embedded corpus, pack the tokenised
texts into blocks of ``block_size`` tokens, pretrain with masked-language modelling (15%, 80/10/10) using
the standard ``Trainer`` (its loss applies the MLM head at masked positions only, a third less work),
measure held-out masked-token accuracy against the most-frequent-token baseline, and save the weights
in float16 (the config says float32, so ``from_pretrained`` loads them in float32) with the tokenizer
and ``pretraining.json`` holding the figures.
"""

from __future__ import annotations

import json
import resource
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from transformers import (
    BertConfig,
    BertForMaskedLM,
    DataCollatorForLanguageModeling,
    HfArgumentParser,
    Trainer,
    TrainingArguments,
)

from hf_rudistill.assets import DEMO_TEACHER
from hf_rudistill.data import load_corpus
from hf_rudistill.evaluation import masked_token_accuracy
from hf_rudistill.vocab import train_wordpiece_tokenizer


@dataclass
class TeacherArguments:
    vocab_size: int = field(default=6_000, metadata={"help": "WordPiece vocabulary size, special tokens included."})
    hidden_size: int = field(default=256, metadata={"help": "Hidden size of the teacher."})
    num_hidden_layers: int = field(default=4, metadata={"help": "Number of Transformer layers."})
    num_attention_heads: int = field(default=4, metadata={"help": "Number of attention heads per layer."})
    intermediate_size: int = field(default=1_024, metadata={"help": "Feed-forward size."})
    dropout: float = field(default=0.1, metadata={"help": "Hidden and attention dropout."})
    block_size: int = field(default=64, metadata={"help": "Tokens per packed training sequence."})
    mlm_probability: float = field(default=0.15, metadata={"help": "Share of tokens selected for prediction."})
    save_dtype: str = field(default="float16", metadata={"help": "dtype of the saved weights (float16 or float32)."})


class SparseMLMTrainer(Trainer):
    """``Trainer`` whose loss applies the MLM head only at masked positions: the same mean cross-entropy
    as ``BertForMaskedLM(labels=...)``, without computing logits over the vocabulary everywhere."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        hidden = model.bert(**inputs).last_hidden_state
        masked = labels != -100
        logits = model.cls(hidden[masked])
        loss = torch.nn.functional.cross_entropy(logits, labels[masked], reduction="sum")
        loss = loss / (num_items_in_batch if num_items_in_batch is not None else masked.sum())
        return (loss, logits) if return_outputs else loss


def pack(dataset, tokenizer, block_size: int):
    """Tokenise and pack texts into ``block_size`` blocks of ``[CLS] ... [SEP]``."""
    body = block_size - 2

    def tokenize_and_pack(batch):
        ids = [token for row in tokenizer(batch["text"], add_special_tokens=False)["input_ids"] for token in row]
        blocks = [ids[i : i + body] for i in range(0, len(ids) - body + 1, body)]
        return {"input_ids": [[tokenizer.cls_token_id, *block, tokenizer.sep_token_id] for block in blocks]}

    return dataset.map(tokenize_and_pack, batched=True, batch_size=2_000, remove_columns=dataset.column_names)


def main(argv: list[str] | None = None) -> dict:
    parser = HfArgumentParser((TeacherArguments, TrainingArguments))
    parser.set_defaults(
        output_dir=str(DEMO_TEACHER),
        max_steps=3_000,
        per_device_train_batch_size=32,
        learning_rate=1e-3,
        weight_decay=0.01,
        adam_beta2=0.98,
        adam_epsilon=1e-6,
        warmup_steps=0.05,
        lr_scheduler_type="linear",
        logging_steps=100,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=42,
        dataloader_drop_last=True,
    )
    teacher_args, training_args = parser.parse_args_into_dataclasses(args=argv)
    output_dir = Path(training_args.output_dir)
    torch.manual_seed(training_args.seed)
    corpus = load_corpus()

    started = time.perf_counter()
    tokenizer = train_wordpiece_tokenizer(corpus["train"]["text"], teacher_args.vocab_size)
    train_blocks = pack(corpus["train"], tokenizer, teacher_args.block_size)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=teacher_args.hidden_size,
        num_hidden_layers=teacher_args.num_hidden_layers,
        num_attention_heads=teacher_args.num_attention_heads,
        intermediate_size=teacher_args.intermediate_size,
        max_position_embeddings=512,
        hidden_dropout_prob=teacher_args.dropout,
        attention_probs_dropout_prob=teacher_args.dropout,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertForMaskedLM(config)
    with tempfile.TemporaryDirectory() as scratch:
        training_args.output_dir = scratch
        trainer = SparseMLMTrainer(
            model=model,
            args=training_args,
            train_dataset=train_blocks,
            data_collator=DataCollatorForLanguageModeling(
                tokenizer, mlm_probability=teacher_args.mlm_probability, seed=training_args.seed
            ),
            processing_class=tokenizer,
        )
        train_output = trainer.train()
    wall_time = time.perf_counter() - started

    evaluation = masked_token_accuracy(
        model, tokenizer, corpus["validation"]["text"], baseline_texts=corpus["train"]["text"]
    )
    facts = {
        "parameters": model.num_parameters(),
        "train_texts": len(corpus["train"]),
        "train_blocks": len(train_blocks),
        "steps": train_output.global_step,
        "final_train_loss": train_output.training_loss,
        "pretraining_wall_time_s": round(wall_time, 1),
        "pretraining_cpu_time_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1),
        "heldout_masked_token_accuracy": evaluation["accuracy"],
        "heldout_most_frequent_token_accuracy": evaluation["baseline_accuracy"],
        "most_frequent_token": evaluation["baseline_token"],
        "heldout_masked_tokens": evaluation["masked_tokens"],
        "teacher_arguments": asdict(teacher_args),
        "training_arguments": {
            name: getattr(training_args, name)
            for name in ("max_steps", "per_device_train_batch_size", "learning_rate", "warmup_steps", "seed")
        },
    }
    save(model, tokenizer, facts, output_dir, getattr(torch, teacher_args.save_dtype))
    print(json.dumps(facts, indent=2, ensure_ascii=False))
    return facts


def save(model, tokenizer, facts: dict, output_dir: Path, dtype: torch.dtype) -> None:
    """Write the checkpoint to a temporary folder beside ``output_dir``, then move it into place."""
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
    try:
        # Stored compactly; the config keeps float32, so from_pretrained loads float32 for CPU work.
        model.save_pretrained(staging, state_dict={name: t.to(dtype) for name, t in model.state_dict().items()})
        tokenizer.save_pretrained(staging)
        (staging / "pretraining.json").write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n")
        if output_dir.exists():
            shutil.rmtree(output_dir)
        staging.rename(output_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":
    main()
