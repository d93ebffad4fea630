"""Named model sets defined by their configs (no download), with the figures their model cards published.

``distilrubert-tiny-card`` holds the five models compared on the DistilRuBERT-tiny model card, with the values
of their ``config.json`` files on the Hub. Each entry names the model class whose parameter count the card
printed; the benchmark times the encoder of that class (see ``BenchmarkSettings.include_head``):

=========================================  ======================  ==============  ===========
model                                       class                   parameters      card, M
=========================================  ======================  ==============  ===========
rubert-base-cased-conversational            BertModel               177,853,440     177.9
distilrubert-base-cased-conversational      DistilBertForMaskedLM   135,445,755     135.5 [1]
distilrubert-small-cased-conversational     DistilBertForMaskedLM   107,094,267     107.1
cointegrated/rubert-tiny                    BertModel               11,784,168      11.8
distilrubert-tiny-cased-conversational      DistilBertForMaskedLM   10,394,898      10.4
=========================================  ======================  ==============  ===========

RuBERT counts include the pooler and no pre-training head (rubert-base-cased-conversational's checkpoint was a
711 MB file, the size of these weights in float32, until a 2021 upload added the MLM and NSP heads); the
DistilRuBERT counts include the masked-LM head, whose decoder is tied to the word embeddings (their checkpoints
are 542, 428 and 41.6 MB). [1] 135,445,755 rounds to 135.4, which is what the
distilrubert-base card itself says; the tiny card's 135.5 is within 0.1 M. The other classes do not reproduce the
card: the bare ``DistilBertModel`` gives 134.7 / 106.4 / 10.3 M and ``BertForPreTraining`` gives 178.6 / 11.9 M.

The published figures (``PublishedFigures``) are reference data copied from the card for side-by-side comparison;
they are never reported as measured results.
"""

from __future__ import annotations

from dataclasses import dataclass

from .settings import BenchmarkInputError

DISTILRUBERT_TINY_CARD_URL = "https://huggingface.co/DeepPavlov/distilrubert-tiny-cased-conversational-v1"
DISTILRUBERT_TINY_CARD_SETUP = (
    "transformers.PyTorchBenchmark; Intel Xeon E5-2698 v4 @ 2.20GHz and NVIDIA Tesla P100-SXM2 16GB"
)


@dataclass(frozen=True)
class PublishedRun:
    """One row of a card's speed/memory table: seconds per forward and memory in MB, on CPU and on GPU."""

    batch_size: int
    sequence_length: int
    time_s_cpu: float
    time_s_gpu: float
    memory_mb_cpu: int
    memory_mb_gpu: int


@dataclass(frozen=True)
class PublishedFigures:
    """What a model card printed for one model (published figures, not ours)."""

    source: str
    setup: str
    num_parameters_m: float
    vocab_k: int
    weights_mb: int
    runs: tuple[PublishedRun, ...]

    def run(self, batch_size: int, sequence_length: int) -> PublishedRun | None:
        return next((r for r in self.runs if (r.batch_size, r.sequence_length) == (batch_size, sequence_length)), None)


@dataclass(frozen=True)
class PresetModel:
    """A model defined by its config: ``hub_id`` is where its real weights live, for ``--load-weights``."""

    name: str
    hub_id: str
    model_type: str
    config: dict
    architecture: str
    published: PublishedFigures


def _card_figures(params_m: float, vocab_k: int, weights_mb: int, batch_1: tuple, batch_16: tuple) -> PublishedFigures:
    return PublishedFigures(
        source=DISTILRUBERT_TINY_CARD_URL,
        setup=DISTILRUBERT_TINY_CARD_SETUP,
        num_parameters_m=params_m,
        vocab_k=vocab_k,
        weights_mb=weights_mb,
        runs=(PublishedRun(1, 512, *batch_1), PublishedRun(16, 512, *batch_16)),
    )


_RUBERT_BASE = {
    "vocab_size": 119547,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
}
_DISTILRUBERT_768 = {
    "vocab_size": 119547,
    "dim": 768,
    "n_heads": 12,
    "hidden_dim": 3072,
    "max_position_embeddings": 512,
    "sinusoidal_pos_embds": False,
}

PRESETS: dict[str, tuple[PresetModel, ...]] = {
    "distilrubert-tiny-card": (
        PresetModel(
            name="rubert-base-cased-conversational",
            hub_id="DeepPavlov/rubert-base-cased-conversational",
            model_type="bert",
            config=_RUBERT_BASE,
            architecture="BertModel",
            published=_card_figures(177.9, 120, 679, (0.147, 0.014, 897, 1531), (2.839, 0.182, 1499, 2071)),
        ),
        PresetModel(
            name="distilrubert-base-cased-conversational",
            hub_id="DeepPavlov/distilrubert-base-cased-conversational",
            model_type="distilbert",
            config={**_DISTILRUBERT_768, "n_layers": 6},
            architecture="DistilBertForMaskedLM",
            published=_card_figures(135.5, 120, 517, (0.083, 0.006, 766, 1423), (1.065, 0.055, 2541, 2927)),
        ),
        PresetModel(
            name="distilrubert-small-cased-conversational",
            hub_id="DeepPavlov/distilrubert-small-cased-conversational",
            model_type="distilbert",
            config={**_DISTILRUBERT_768, "n_layers": 2},
            architecture="DistilBertForMaskedLM",
            published=_card_figures(107.1, 120, 409, (0.03, 0.002, 600, 1243), (0.373, 0.003, 1360, 1943)),
        ),
        PresetModel(
            name="cointegrated/rubert-tiny",
            hub_id="cointegrated/rubert-tiny",
            model_type="bert",
            config={
                "vocab_size": 29564,
                "hidden_size": 312,
                "num_hidden_layers": 3,
                "num_attention_heads": 12,
                "intermediate_size": 600,
                "max_position_embeddings": 512,
                "type_vocab_size": 2,
            },
            architecture="BertModel",
            published=_card_figures(11.8, 30, 46, (0.041, 0.003, 272, 919), (0.628, 0.004, 1293, 2221)),
        ),
        PresetModel(
            name="distilrubert-tiny-cased-conversational",
            # The Hub repository without "-v1" holds distilrubert-small under the wrong name (its card says so).
            hub_id="DeepPavlov/distilrubert-tiny-cased-conversational-v1",
            model_type="distilbert",
            config={
                "vocab_size": 30522,
                "dim": 264,
                "n_layers": 3,
                "n_heads": 12,
                "hidden_dim": 792,
                "max_position_embeddings": 512,
                "sinusoidal_pos_embds": False,
            },
            architecture="DistilBertForMaskedLM",
            published=_card_figures(10.4, 31, 41, (0.023, 0.003, 206, 855), (0.219, 0.003, 633, 1291)),
        ),
    ),
}


def preset(name: str) -> tuple[PresetModel, ...]:
    """The models of a named preset; a clear error for an unknown name."""
    if name not in PRESETS:
        raise BenchmarkInputError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}.")
    return PRESETS[name]
