"""Fine-tune and score a model on the embedded word-sense task (:func:`hf_rudistill.data.load_wsd_task`).

Input: the pair (lemma, context with the target word between ``«`` and ``»``); output: one of the task's
``lemma:sense`` labels. The model is fine-tuned with ``Trainer`` on the train split and scored by accuracy on
the validation split, whose contexts no model trained on the corpus' train split has seen. The bar to clear is
:func:`majority_sense_accuracy`: answering each lemma's most frequent training sense, context unread.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class WSDFinetuneConfig:
    """Fine-tuning settings for the word-sense task: the protocol of the compact BERTs (Turc et al., 2019,
    "Well-Read Students Learn Better"): 4 epochs, batch 32, learning rate 3e-4 (the top of their grid)."""

    epochs: float = 4.0
    learning_rate: float = 3e-4
    batch_size: int = 32
    max_length: int = 96
    max_train_samples: int | None = None
    seed: int = 0


def marked_pairs(batch: dict) -> tuple[list[str], list[str]]:
    """(lemma, context with the target word marked) for a batch of word-sense rows."""
    contexts = [
        f"{text[:start]}«{text[start:end]}»{text[end:]}"
        for text, start, end in zip(batch["text"], batch["word_start"], batch["word_end"])
    ]
    return list(batch["lemma"]), contexts


def majority_sense_accuracy(task) -> float:
    """Validation accuracy of answering each lemma's most frequent sense in the train split."""
    counts: dict[str, Counter] = {}
    for lemma, label in zip(task["train"]["lemma"], task["train"]["label"]):
        counts.setdefault(lemma, Counter())[label] += 1
    majority = {lemma: counter.most_common(1)[0][0] for lemma, counter in counts.items()}
    validation = task["validation"]
    hits = sum(majority.get(lemma) == label for lemma, label in zip(validation["lemma"], validation["label"]))
    return hits / len(validation)


def finetune_wsd(model_name_or_path, tokenizer, config: WSDFinetuneConfig | None = None) -> dict:
    """Fine-tune ``model_name_or_path`` (a folder or hub id of an encoder) and return validation accuracy."""
    from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments, set_seed

    from ..data import load_wsd_task

    config = config or WSDFinetuneConfig()
    task = load_wsd_task()
    train = task["train"]
    if config.max_train_samples is not None:
        train = train.shuffle(seed=config.seed).select(range(min(config.max_train_samples, len(train))))

    def encode(batch):
        lemmas, contexts = marked_pairs(batch)
        encoded = tokenizer(lemmas, contexts, truncation="only_second", max_length=config.max_length)
        return {**encoded, "labels": batch["label"]}

    columns = task["train"].column_names
    train = train.map(encode, batched=True, remove_columns=columns, desc="Encoding word-sense train")
    validation = task["validation"].map(
        encode, batched=True, remove_columns=columns, desc="Encoding word-sense validation"
    )
    names = task["train"].features["label"].names
    set_seed(config.seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_name_or_path,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={name: index for index, name in enumerate(names)},
    )
    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(
            output_dir=scratch,
            num_train_epochs=config.epochs,
            learning_rate=config.learning_rate,
            per_device_train_batch_size=config.batch_size,
            per_device_eval_batch_size=64,
            warmup_steps=0.1,
            weight_decay=0.01,
            save_strategy="no",
            report_to="none",
            seed=config.seed,
            use_cpu=True,
            disable_tqdm=False,
            logging_strategy="no",
        )
        trainer = Trainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
        trainer.train()
        predictions = trainer.predict(validation)
    accuracy = float((np.argmax(predictions.predictions, -1) == predictions.label_ids).mean())
    return {
        "accuracy": accuracy,
        "majority_sense_accuracy": majority_sense_accuracy(task),
        "examples": len(validation),
        "labels": len(names),
        "config": asdict(config),
    }
