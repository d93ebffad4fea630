"""The published distillation recipes as presets, and the pipeline that runs one end to end.

Each :class:`Recipe` holds the published configuration (teacher, student architecture and initialisation,
vocabulary, losses and weights, optimiser, schedule, batch, steps) as defaults of the four argument dataclasses
(:class:`~hf_rudistill.arguments.ModelArguments`, :class:`~hf_rudistill.arguments.DataArguments`,
:class:`StudentArguments`, :class:`~hf_rudistill.DistillationTrainingArguments`), and a ``demo`` preset that
scales it to the embedded teacher and corpus (``--demo``). Every value can be overridden on the command line.
``recipes/<name>.py`` and ``rudistill demo`` run them through :func:`run_recipe`:

dedup -> student vocabulary -> teacher-to-student mapping -> student initialisation -> tokenisation with
``datasets.map`` -> :class:`~hf_rudistill.DistillationTrainer` -> ``OUTPUT_DIR/student`` (weights, tokenizer,
mapping, distillation config) and ``distillation_report.json`` (what was done and measured).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .arguments import DataArguments, ModelArguments

PUBLISHED_CORPUS_NOTE = (
    "The published training corpora (OpenSubtitles, Dirty, Pikabu, Taiga for DistilRuBERT; deepvk's mix) are not "
    "available as one public dataset: pass --dataset (a hub id, files or a saved dataset), or --demo."
)


@dataclass
class StudentArguments:
    """How the student is built from the teacher."""

    layers: str | None = field(
        default=None, metadata={"help": "Teacher layers to keep: even, odd, distilbert (0,2,4,7,9,11) or 0,2,4."}
    )
    layer_groups: str | None = field(
        default=None, metadata={"help": "Instead: groups averaged into one student layer each, e.g. 0-3,4-7,8-11."}
    )
    hidden_size: int | None = field(default=None, metadata={"help": "Student hidden size (default: teacher's)."})
    intermediate_size: int | None = field(default=None, metadata={"help": "Student FFN size (default: teacher's)."})
    num_attention_heads: int | None = field(default=None, metadata={"help": "Student heads (default: teacher's)."})
    architecture: str | None = field(
        default=None, metadata={"help": "'distilbert' turns a BERT teacher into a DistilBERT student."}
    )
    vocabulary: str = field(
        default="teacher",
        metadata={"help": "Student vocabulary: 'teacher' (shared), 'train' (a new one) or 'prune' (teacher's, cut)."},
    )
    vocab_size: int | None = field(default=None, metadata={"help": "Size of a trained or pruned vocabulary."})
    dedup: str = field(
        default="default",
        metadata={
            "help": "Near-duplicate removal before training: 'default' (20x5 bands), 'deepvk' (10x10) or 'none'."
        },
    )
    teacher_head: str = field(
        default="checkpoint",
        metadata={
            "help": "Teacher MLM head: 'checkpoint' (from the weights) or 'tied' (built from the tied embeddings, "
            "for checkpoints that ship without one, like deepvk/deberta-v1-base)."
        },
    )
    demo: bool = field(default=False, metadata={"help": "Scale the recipe to the embedded teacher and corpus."})


@dataclass(frozen=True)
class Recipe:
    """A published variant: its defaults, its demo preset, and what had to be chosen where nothing was published."""

    name: str
    summary: str
    published: dict
    demo: dict
    choices: tuple[str, ...] = ()


_DEMO_COMMON = dict(
    teacher="embedded",
    dataset="embedded",
    max_length=128,
    per_device_train_batch_size=32,
    per_device_eval_batch_size=64,
    gradient_accumulation_steps=1,
    max_steps=300,
    warmup_steps=0.05,
    logging_steps=25,
    eval_strategy="no",
    save_strategy="no",
    fp16=False,
    use_cpu=True,
    dataloader_num_workers=0,
    report_to="none",
)

_DISTILRUBERT_OPTIMISER = dict(
    learning_rate=5e-4,
    adam_beta1=0.9,
    adam_beta2=0.98,
    per_device_train_batch_size=32,
    gradient_accumulation_steps=8,
    max_steps=100_000,
    warmup_steps=0.05,
    lr_scheduler_type="linear",
    max_length=512,
)

RECIPES = {
    "distilrubert-tiny": Recipe(
        name="distilrubert-tiny",
        summary="DistilRuBERT-tiny: 3 layers, hidden 264, new 30,522-token vocabulary, MLM + MSE (no KL).",
        published=dict(
            teacher="DeepPavlov/rubert-base-cased-conversational",
            dataset=None,
            architecture="distilbert",
            layer_groups="0-3,4-7,8-11",
            hidden_size=264,
            intermediate_size=792,
            num_attention_heads=12,
            vocabulary="train",
            vocab_size=30_522,
            alpha_mlm=0.5,
            alpha_mse=0.1,
            alpha_ce=0.0,
            alpha_cos=0.0,
            alpha_attn=0.0,
            hidden_matching="average",
            span_pooling="sum",
            projection="fixed",
            **_DISTILRUBERT_OPTIMISER,
        ),
        demo=dict(
            _DEMO_COMMON,
            layer_groups="0-1,2-3",
            hidden_size=128,
            intermediate_size=384,
            num_attention_heads=4,
            vocab_size=2_000,
            learning_rate=1e-3,
            alpha_mse=0.01,
        ),
        choices=(
            "Batch, steps and schedule were not published: 32 x 8 accumulated sequences of 512 tokens, 100k steps, "
            "5% linear warm-up (lr 5e-4 and AdamW betas (0.9, 0.98) are the authors').",
            "Student pieces of a teacher token are summed and projected by a fixed random map, as in the authors' "
            "code; --span_pooling mean and --projection trainable are the saner options.",
            "The demo preset weights the MSE 0.01, not 0.1: summed over hidden dimensions it starts near 270 against "
            "an MLM loss near 7, and in a 300-step run at 0.1 it leaves the student at the most-frequent-token "
            "baseline (3.2% held-out masked-token accuracy after 600 steps; 6.9% at 0.01 after 300).",
        ),
    ),
    "distilrubert-small": Recipe(
        name="distilrubert-small",
        summary="DistilRuBERT-small: 2 layers, teacher vocabulary, KL + MLM + cosine + attention-map MSE.",
        published=dict(
            teacher="DeepPavlov/rubert-base-cased-conversational",
            dataset=None,
            architecture="distilbert",
            layers="5,11",
            alpha_ce=5.0,
            alpha_mlm=2.0,
            alpha_cos=1.0,
            alpha_attn=1.0,
            alpha_mse=0.0,
            temperature=2.0,
            hidden_matching="groups",
            **_DISTILRUBERT_OPTIMISER,
        ),
        demo=dict(_DEMO_COMMON, layers="1,3", learning_rate=5e-4),
        choices=(
            "Student layers start from teacher layers 5 and 11, the last of the two groups of six they are "
            "matched to.",
            "The attention-map loss weight was not published: 1.0 beside DistilBERT's 5.0 KL, 2.0 MLM, 1.0 cosine.",
            "Batch, steps and schedule as for distilrubert-tiny (not published).",
        ),
    ),
    "distilrubert-base": Recipe(
        name="distilrubert-base",
        summary="DistilRuBERT-base: 6 layers, teacher vocabulary, KL + MLM + cosine (DistilBERT losses).",
        published=dict(
            teacher="DeepPavlov/rubert-base-cased-conversational",
            dataset=None,
            architecture="distilbert",
            layers="odd",
            alpha_ce=5.0,
            alpha_mlm=2.0,
            alpha_cos=1.0,
            alpha_mse=0.0,
            alpha_attn=0.0,
            temperature=2.0,
            hidden_matching="groups",
            **_DISTILRUBERT_OPTIMISER,
        ),
        demo=dict(_DEMO_COMMON, layers="odd", learning_rate=5e-4),
        choices=(
            "Student layer i starts from teacher layer 2i+1, the later of the two layers whose mean it is matched to.",
            "Batch, steps and schedule as for distilrubert-tiny (not published).",
        ),
    ),
    "deberta-v1-distill": Recipe(
        name="deberta-v1-distill",
        summary="deepvk deberta-v1-distill: 6 of 12 DeBERTa layers, 0.5 MLM + 0.5 soft targets.",
        published=dict(
            teacher="deepvk/deberta-v1-base",
            dataset=None,
            layers="odd",
            dedup="deepvk",
            teacher_head="tied",
            alpha_mlm=0.5,
            alpha_ce=0.5,
            alpha_cos=0.0,
            alpha_mse=0.0,
            alpha_attn=0.0,
            temperature=1.0,
            learning_rate=5e-4,
            adam_beta1=0.9,
            adam_beta2=0.98,
            adam_epsilon=1e-6,
            weight_decay=0.01,
            per_device_train_batch_size=32,
            gradient_accumulation_steps=120,
            max_steps=100_000,
            warmup_steps=5_000,
            lr_scheduler_type="cosine",
            max_grad_norm=1.0,
            fp16=True,
            max_length=512,
        ),
        demo=dict(_DEMO_COMMON, layers="odd", teacher_head="checkpoint", learning_rate=5e-4),
        choices=(
            "The soft-target temperature was not published: T = 1 (plain KL between the distributions).",
            "The public deepvk/deberta-v1-base checkpoint ships without an MLM head; its head is built from the tied "
            "embeddings (--teacher_head tied). Without a trained head the soft targets are weak: --alpha_ce 0 "
            "--alpha_cos 1 distils from hidden states only.",
            "Batch 3840 = 32 per device x 120 accumulation steps on one device (divide the accumulation by the "
            "number of GPUs). fp16 applies on GPU only.",
            "'Every second layer' is read as teacher layers 1, 3, 5, 7, 9, 11 (the last one feeds the MLM head).",
            "The demo preset distils the embedded BERT teacher: the recipe's losses and depth ratio, not DeBERTa.",
        ),
    ),
}


def build_parser(recipe: Recipe, demo: bool = False):
    """``HfArgumentParser`` over the four argument dataclasses, with the recipe's (or its demo's) defaults."""
    import argparse

    from transformers import HfArgumentParser

    from .distillation_config import DistillationTrainingArguments

    parser = HfArgumentParser(
        (ModelArguments, DataArguments, StudentArguments, DistillationTrainingArguments),
        prog=f"{recipe.name.replace('-', '_')}.py",
        description=f"{recipe.summary}\n\nChoices where nothing was published:\n"
        + "\n".join(f"  - {choice}" for choice in recipe.choices),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(output_dir=f"{recipe.name}-output", **recipe.published)
    if demo:
        parser.set_defaults(**recipe.demo, output_dir=f"{recipe.name}-demo")
    return parser


def parse_recipe_arguments(recipe: Recipe, argv: list[str] | None = None):
    """(model, data, student, training) arguments; with ``--demo`` the demo preset replaces the published
    defaults, and options given on the command line still win."""
    argv = sys.argv[1:] if argv is None else list(argv)
    demo = any(
        a == "--demo" or (a.startswith("--demo=") and a.split("=", 1)[1].lower() in ("1", "true")) for a in argv
    )
    return build_parser(recipe, demo).parse_args_into_dataclasses(args=argv)


def run_recipe(recipe: Recipe, model_args, data_args, student_args, training_args, *, callbacks=None) -> dict:
    """Run the whole pipeline; return the report also written to ``OUTPUT_DIR/student/distillation_report.json``."""
    from .assets import DEMO_TEACHER
    from .atomic import atomic_directory, atomic_write_text
    from .commands.init_student import parse_layer_groups, parse_layers
    from .dedup import DedupConfig, deduplicate
    from .loading import load_model, load_teacher, load_tokenizer
    from .pipeline import distil, load_splits
    from .student import init_student
    from .vocab import prune_vocabulary, train_student_tokenizer, vocabulary_report

    if data_args.dataset is None:
        raise ValueError(PUBLISHED_CORPUS_NOTE)
    for name, allowed in (
        ("vocabulary", ("teacher", "train", "prune")),
        ("dedup", ("default", "deepvk", "none")),
        ("teacher_head", ("checkpoint", "tied")),
    ):
        if getattr(student_args, name) not in allowed:
            raise ValueError(f"--{name} must be one of {allowed}, not {getattr(student_args, name)!r}.")
    if student_args.vocabulary != "teacher" and not student_args.vocab_size:
        raise ValueError(f"--vocabulary {student_args.vocabulary} needs --vocab_size.")
    remote = {"trust_remote_code": model_args.trust_remote_code}
    teacher_path = str(DEMO_TEACHER) if model_args.teacher == "embedded" else model_args.teacher
    if student_args.teacher_head == "tied":
        missing_head = "tied"
    else:
        missing_head = "error" if training_args.alpha_ce > 0 else "ignore"
    teacher = load_teacher(teacher_path, missing_head=missing_head, **remote)
    teacher_tokenizer = load_tokenizer(teacher_path, kind="teacher tokenizer", **remote)
    report = {"recipe": recipe.name, "teacher": model_args.teacher, "dataset": data_args.dataset}

    # Under torchrun / accelerate launch the main process prepares the data and the student vocabulary first; the
    # others then reuse its datasets cache and load its vocabulary (training one is not deterministic across
    # processes: the tokenizers library's hash maps are seeded per process).
    shared_vocabulary = Path(training_args.output_dir) / "student_tokenizer" if training_args.world_size > 1 else None
    with training_args.main_process_first(local=False, desc="preparing the corpus and the student"):
        train_texts, eval_texts = load_splits(data_args, seed=training_args.seed)
        if student_args.dedup != "none":
            dedup_config = DedupConfig.from_preset(student_args.dedup)
            train_texts, dedup_report = deduplicate(
                train_texts, data_args.text_column, dedup_config, num_proc=data_args.preprocessing_num_workers
            )
            settings = {"preset": student_args.dedup, "config": dedup_config.to_dict()}
            report["dedup"] = {**settings, **dedup_report.to_dict()}

        if model_args.student:
            student = load_model(model_args.student, kind="student", **remote)
            student_tokenizer = load_tokenizer(model_args.student, kind="student tokenizer", **remote)
        else:
            texts = train_texts[data_args.text_column]
            if student_args.vocabulary == "teacher":
                student_tokenizer = teacher_tokenizer
            elif shared_vocabulary is not None and training_args.process_index > 0:
                student_tokenizer = load_tokenizer(shared_vocabulary, kind="main process's student tokenizer")
            else:
                if student_args.vocabulary == "train":
                    student_tokenizer = train_student_tokenizer(texts, teacher_tokenizer, student_args.vocab_size)
                else:
                    student_tokenizer = prune_vocabulary(teacher_tokenizer, texts, student_args.vocab_size)
                if shared_vocabulary is not None:
                    with atomic_directory(shared_vocabulary, overwrite=True) as staging:
                        student_tokenizer.save_pretrained(staging)
            if student_tokenizer is not teacher_tokenizer:
                heldout = eval_texts[data_args.text_column]
                report["vocabulary"] = {
                    "method": student_args.vocabulary,
                    **vocabulary_report(teacher_tokenizer, student_tokenizer, heldout),
                }
            init = {
                "layers": parse_layers(student_args.layers) if student_args.layers else None,
                "layer_groups": parse_layer_groups(student_args.layer_groups) if student_args.layer_groups else None,
                "hidden_size": student_args.hidden_size,
                "intermediate_size": student_args.intermediate_size,
                "num_attention_heads": student_args.num_attention_heads,
                "architecture": student_args.architecture,
            }
            new_vocabulary = student_tokenizer is not teacher_tokenizer
            student = init_student(
                teacher,
                student_tokenizer=student_tokenizer if new_vocabulary else None,
                teacher_tokenizer=teacher_tokenizer if new_vocabulary else None,
                **init,
            )
            report["initialisation"] = init

    if training_args.world_size > 1:
        _check_same_vocabulary_on_every_process(student_tokenizer)
    parameters = {"teacher": teacher.num_parameters(), "student": student.num_parameters()}
    run = distil(
        student,
        teacher,
        student_tokenizer,
        teacher_tokenizer,
        data_args,
        training_args,
        texts=(train_texts, eval_texts),
        callbacks=callbacks,
    )
    report["train"] = {"steps": run.train_output.global_step, **run.train_output.metrics}
    report["evaluation"] = run.evaluation
    report["parameters"] = parameters  # counted before training adds a projection to the student
    report["arguments"] = {
        "model": asdict(model_args),
        "data": asdict(data_args),
        "student": asdict(student_args),
        "distillation": training_args.distillation_dict(),
    }
    student_dir = run.student_dir
    if training_args.should_save:  # the main process of a multi-process run
        atomic_write_text(
            student_dir / "distillation_report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        )
    report["student_dir"] = str(student_dir)
    return report


def _check_same_vocabulary_on_every_process(tokenizer) -> None:
    """Stop a multi-process run whose processes hold different student vocabularies (training would diverge)."""
    import hashlib

    from accelerate.utils import gather_object

    vocabulary = json.dumps(sorted(tokenizer.get_vocab().items()), ensure_ascii=False)
    if len(set(gather_object([hashlib.sha256(vocabulary.encode()).hexdigest()]))) > 1:
        raise RuntimeError(
            "The processes of this run have different student vocabularies: --output_dir must be a folder every "
            "machine sees (the main process shares its vocabulary there), or build the student once (`rudistill "
            "vocab`, then `rudistill init-student`) and pass its folder with --student."
        )


def main(name: str, argv: list[str] | None = None) -> int:
    """Entry point of ``recipes/<name>.py``."""
    recipe = RECIPES[name]
    model_args, data_args, student_args, training_args = parse_recipe_arguments(recipe, argv)
    try:
        report = run_recipe(recipe, model_args, data_args, student_args, training_args)
    except (ValueError, FileExistsError, FileNotFoundError) as error:
        print(f"{recipe.name}: error: {error}", file=sys.stderr)
        return 2
    metrics = ", ".join(
        f"{k} {v:.4f}" for k, v in report["evaluation"].items() if k.startswith("eval_") and isinstance(v, float)
    )
    if training_args.process_index == 0:
        print(f"{recipe.name}: student -> {report['student_dir']}  ({metrics})")
    return 0
