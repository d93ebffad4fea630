"""Model and data arguments shared by ``rudistill distill`` and the recipes (``HfArgumentParser`` dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelArguments:
    """Which teacher to distil, and into which student."""

    teacher: str = field(
        default="embedded",
        metadata={"help": "Teacher *ForMaskedLM: hub id, folder, or 'embedded' for the demo teacher shipped here."},
    )
    student: str | None = field(
        default=None,
        metadata={"help": "Initialised student folder (from `rudistill init-student`): model, tokenizer, mapping."},
    )
    trust_remote_code: bool = field(default=False, metadata={"help": "Run model code from the Hub (off for safety)."})


@dataclass
class DataArguments:
    """The distillation corpus and how it is tokenised and masked."""

    dataset: str = field(
        default="embedded",
        metadata={"help": "'embedded', a .jsonl/.json/.parquet/.csv/.txt file, a save_to_disk folder, or a hub id."},
    )
    dataset_config: str | None = field(default=None, metadata={"help": "Config name of a hub dataset."})
    text_column: str = field(default="text", metadata={"help": "Column holding the texts."})
    validation_split_percentage: int = field(
        default=5,
        metadata={"help": "Percent of texts held out for evaluation when the dataset has no validation split."},
    )
    max_length: int = field(default=128, metadata={"help": "Longest tokenised sequence (teacher and student sides)."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Use at most this many training texts."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Use at most this many evaluation texts."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "Processes for datasets.map."})
    mlm_probability: float = field(default=0.15, metadata={"help": "Share of student tokens selected for MLM."})
    whole_word_mask: bool = field(default=False, metadata={"help": "Mask whole words instead of single tokens."})
    frequency_smoothing: float | None = field(
        default=None,
        metadata={"help": "Select tokens with probability ~ count ** -x (DistilBERT used 0.7); default: uniformly."},
    )
    pad_to_multiple_of: int | None = field(
        default=None, metadata={"help": "Pad sequence lengths to a multiple of this."}
    )
