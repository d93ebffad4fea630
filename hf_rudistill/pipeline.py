"""The distillation pipeline's data and training steps, shared by ``rudistill distill``, the recipes and the demo.

- :func:`load_splits`: train / evaluation texts from any dataset source;
- :func:`tokenize_for_distillation`: student (and teacher) ids with ``datasets.map`` — batched, multi-process,
  cached by fingerprint for datasets backed by files;
- :func:`build_collator`: the :class:`DataCollatorForDistillation` the data arguments describe;
- :func:`save_student`: the trained student, written atomically;
- :func:`distil`: all of the above around one :class:`~hf_rudistill.DistillationTrainer` run.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    if data.max_eval_samples is not None:
        evaluation = evaluation.select(range(min(data.max_eval_samples, len(evaluation))))
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
    """Write the trained student (weights, tokenizer, mapping, distillation config) atomically to ``destination``.

    Under torchrun / accelerate launch every process must call it (FSDP and DeepSpeed gather the sharded weights
    collectively); only the main process writes, and every process returns once the folder is in place.
    """
    if trainer.args.should_save:
        with atomic_directory(destination, overwrite=True) as staging:
            trainer.save_model(str(staging))
    else:
        trainer.save_model(str(destination))  # joins the collective gathers; writes nothing on this process
    trainer.accelerator.wait_for_everyone()
    return Path(destination)


@dataclass
class DistillationRun:
    """What :func:`distil` returns."""

    trainer: object
    train_output: object
    evaluation: dict
    student_dir: Path


def distil(
    student,
    teacher,
    student_tokenizer,
    teacher_tokenizer,
    data: DataArguments,
    training_args,
    *,
    mapping=None,
    texts=None,
    callbacks=None,
) -> DistillationRun:
    """Tokenise, collate, train ``student`` (from ``teacher``, or alone with masked-LM when ``teacher`` is None),
    evaluate, and save the student to ``OUTPUT_DIR/student``. ``texts``: (train, evaluation) datasets of texts,
    loaded from ``data`` when omitted."""
    from .distillation_trainer import DistillationTrainer

    shared = teacher_tokenizer is None or student_tokenizer.get_vocab() == teacher_tokenizer.get_vocab()
    teacher_side = None if shared else teacher_tokenizer
    # under torchrun / accelerate launch the main process tokenises first; the others reuse its datasets cache
    with training_args.main_process_first(desc="tokenising the corpus"):
        train_texts, eval_texts = texts if texts is not None else load_splits(data, seed=training_args.seed)
        train = tokenize_for_distillation(train_texts, student_tokenizer, teacher_side, data=data)
        evaluation = tokenize_for_distillation(eval_texts, student_tokenizer, teacher_side, data=data)
    trainer = DistillationTrainer(
        model=student,
        teacher_model=teacher,
        args=training_args,
        data_collator=build_collator(data, student_tokenizer, teacher_side, mapping, train),
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=student_tokenizer,
        callbacks=callbacks,
    )
    train_output = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    metrics = trainer.evaluate()
    student_dir = save_student(trainer, Path(training_args.output_dir) / "student")
    return DistillationRun(trainer, train_output, metrics, student_dir)
