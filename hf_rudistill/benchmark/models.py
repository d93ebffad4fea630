"""Which models a run measures: hub ids, local paths or configs, resolved to a config and a model class.

A model is built from its config with random weights, as PyTorchBenchmark did, unless ``load_weights`` asks for
the real weights. Its parameter count is taken on the meta device, so describing a 178M-parameter model costs no
memory and no initialisation time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .presets import PresetModel, PublishedFigures, preset
from .settings import BenchmarkInputError, describe_error

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel

BYTES_PER_ELEMENT = {"float32": 4, "float16": 2, "bfloat16": 2}
MB = 2**20  # PyTorchBenchmark's megabyte (bytes >> 20); the card's "Mem., MB" of the large models is this unit.


@dataclass(frozen=True)
class ModelSpec:
    """A model to benchmark: ``source`` (hub id, local directory or config.json file) or ``config``.

    ``architecture`` is the transformers class to build (default: the one the config names, else the bare
    encoder, as PyTorchBenchmark chose); ``published`` carries a card's figures for side-by-side tables.
    """

    name: str
    source: str | None = None
    config: PretrainedConfig | None = None
    architecture: str | None = None
    load_weights: bool = False
    published: PublishedFigures | None = None

    @classmethod
    def from_source(cls, source: str, load_weights: bool = False) -> ModelSpec:
        """A hub id or local path, named after it (a local path by its directory name)."""
        path = Path(source).expanduser()
        if path.exists():
            name = (path.parent if path.is_file() else path).resolve().name
        else:
            name = source
        return cls(name=name, source=source, load_weights=load_weights)

    @classmethod
    def from_preset(cls, model: PresetModel, load_weights: bool = False) -> ModelSpec:
        from transformers import AutoConfig

        config = AutoConfig.for_model(model.model_type, **model.config)
        return cls(
            name=model.name,
            source=model.hub_id,
            config=config,
            architecture=model.architecture,
            load_weights=load_weights,
            published=model.published,
        )


@dataclass(frozen=True)
class ResolvedModel:
    """A spec with its config loaded and its model class chosen."""

    spec: ModelSpec
    config: PretrainedConfig
    architecture: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    @property
    def max_positions(self) -> int | None:
        return getattr(self.config, "max_position_embeddings", None)


def preset_specs(name: str, load_weights: bool = False) -> list[ModelSpec]:
    """The specs of a named preset (see ``presets.PRESETS``)."""
    return [ModelSpec.from_preset(model, load_weights) for model in preset(name)]


def load_config(source: str) -> PretrainedConfig:
    """``AutoConfig.from_pretrained`` with ``trust_remote_code`` off and an error that says what to do."""
    from huggingface_hub import is_offline_mode
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError) as error:
        if Path(source).expanduser().exists():
            problem = "the local path holds no readable config.json"
            hint = "give a model directory saved with save_pretrained, or its config.json file"
        elif is_offline_mode():
            problem = "it is not a local path, and offline mode is on (HF_HUB_OFFLINE=1)"
            hint = (
                "only models already in the local Hugging Face cache can be used offline: give a local directory "
                "or config.json file, or a preset"
            )
        else:
            problem = "it is not a local path and the Hugging Face Hub did not provide it"
            hint = (
                "check the id or the path; without network, set HF_HUB_OFFLINE=1 and give a local directory or "
                "config.json file, or a preset"
            )
        raise BenchmarkInputError(
            f"cannot load the config of model {source!r}: {problem}; {hint}. ({describe_error(error)})"
        ) from error


def model_class(name: str) -> type[PreTrainedModel]:
    import transformers

    cls = getattr(transformers, name, None)
    if cls is None or not hasattr(cls, "from_pretrained"):
        raise BenchmarkInputError(f"{name!r} is not a model class of transformers {transformers.__version__}.")
    return cls


def default_architecture(config: PretrainedConfig) -> str:
    """PyTorchBenchmark's choice: the first class the config names, else the bare encoder of its type."""
    import transformers
    from transformers import MODEL_MAPPING

    named = [name for name in (config.architectures or []) if hasattr(transformers, name)]
    if named:
        return named[0]
    if type(config) not in MODEL_MAPPING:
        raise BenchmarkInputError(f"transformers has no model for config type {type(config).__name__}.")
    return MODEL_MAPPING[type(config)].__name__


def resolve(spec: ModelSpec) -> ResolvedModel:
    """Load the config (no weights) and check the model can be benchmarked; raises ``BenchmarkInputError``."""
    if spec.config is None and spec.source is None:
        raise BenchmarkInputError(f"model {spec.name!r} has neither a source nor a config.")
    if spec.load_weights and (spec.source is None or Path(spec.source).expanduser().is_file()):
        raise BenchmarkInputError(
            f"model {spec.name!r}: loading real weights needs a hub id or a model directory, got {spec.source!r}."
        )
    config = spec.config if spec.config is not None else load_config(spec.source)
    if getattr(config, "vocab_size", None) is None:
        raise BenchmarkInputError(f"model {spec.name!r}: its config has no vocab_size, so no input ids can be drawn.")
    architecture = spec.architecture or default_architecture(config)
    model_class(architecture)
    return ResolvedModel(spec=spec, config=config, architecture=architecture)


def count_parameters(model: PreTrainedModel) -> int:
    """Distinct parameters: a tied matrix (e.g. an MLM decoder tied to the embeddings) counts once."""
    return sum(parameter.numel() for parameter in model.parameters())


def parameter_count(model: ResolvedModel) -> int:
    """Parameters of the model's class, built on the meta device (no memory, no initialisation)."""
    import torch

    with torch.device("meta"):
        built = model_class(model.architecture)(model.config)
    return count_parameters(built)


def weights_mb(num_parameters: int, dtype: str) -> float:
    """Size of the weights: parameters x bytes per element of ``dtype``, in MB of 2**20 bytes."""
    return num_parameters * BYTES_PER_ELEMENT[dtype] / MB
