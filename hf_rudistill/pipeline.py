"""The distillation pipeline's data and training steps, shared by ``rudistill distill``, the recipes and the demo.

- :func:`load_splits`: train / evaluation texts from any dataset source;
- :func:`tokenize_for_distillation`: student (and teacher) ids with ``datasets.map`` — batched, multi-process,
  cached by fingerprint for datasets backed by files;
- :func:`build_collator`: the :class:`DataCollatorForDistillation` the data arguments describe;
- :func:`save_student`: the trained student, written atomically.
"""

from __future__ import annotations

from pathlib import Path

from .arguments import DataArguments
from .atomic import atomic_directory
from .collator import DataCollatorForDistillation, count_token_frequencies
from .loading import load_text_dataset


def load_splits(data: DataArguments, seed: int = 42):
    """(train, evaluation) datasets of texts; evaluation is the source's validation split, or a held-out share."""
    kwargs = {"name": data.dataset_config} if data.dataset_config else {}
    train = load_text_dataset(data.dataset, split="train", column=data.text_column, **kwargs)
    try:
        evaluation = load_text_dataset(data.dataset, split="validation", column=data.text_column, **kwargs)
    except (ValueError, KeyError):
        split = train.train_test_split(test_size=data.validation_split_percentage / 100, seed=seed)
        train, evaluation = split["train"], split["test"]
    if data.max_train_samples is not None:
        train = train.select(range(min(data.max_train_samples, len(train))))
    return train, evaluation


def tokenize_for_distillation(dataset, student_tokenizer, teacher_tokenizer=None, *, data: DataArguments):
    """``input_ids`` with the student tokenizer and, when given, ``teacher_input_ids`` with the teacher's."""

    def encode(batch):
        texts = batch[data.text_column]
        columns = {"input_ids": student_tokenizer(texts, truncation=True, max_length=data.max_length)["input_ids"]}
        if teacher_tokenizer is not None:
            columns["teacher_input_ids"] = teacher_tokenizer(texts, truncation=True, max_length=data.max_length)[
                "input_ids"
            ]
        return columns

    return dataset.map(
        encode,
        batched=True,
        num_proc=data.preprocessing_num_workers,
        remove_columns=dataset.column_names,
        desc="Tokenising for distillation",
    )


def build_collator(data: DataArguments, student_tokenizer, teacher_tokenizer=None, mapping=None, train_dataset=None):
    """The collator for these data arguments (frequency counts are taken from ``train_dataset``)."""
    counts = None
    if data.frequency_smoothing is not None:
        counts = count_token_frequencies(train_dataset, len(student_tokenizer))
    return DataCollatorForDistillation(
        student_tokenizer,
        teacher_tokenizer,
        mapping,
        mlm_probability=data.mlm_probability,
        whole_word_mask=data.whole_word_mask,
        token_counts=counts,
        frequency_smoothing=data.frequency_smoothing or 0.7,
        max_length=data.max_length,
        pad_to_multiple_of=data.pad_to_multiple_of,
        seed=0,
    )


def save_student(trainer, destination: str | Path) -> Path:
    """Write the trained student (weights, tokenizer, mapping, distillation config) atomically to ``destination``."""
    with atomic_directory(destination, overwrite=True) as staging:
        trainer.save_model(str(staging))
    return Path(destination)
