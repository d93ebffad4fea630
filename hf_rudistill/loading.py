"""Loading models, tokenizers and datasets by name, with errors that say what went wrong.

A wrong name or an offline machine otherwise surfaces as a long traceback from deep inside
``transformers`` / ``huggingface_hub``; these wrappers re-raise one plain message naming the thing asked
for. ``trust_remote_code`` stays off unless the caller asks for it.
"""

from __future__ import annotations

import os
from pathlib import Path


def _explain(kind: str, name: str, error: Exception) -> ValueError:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    where = (
        "It is a local folder, but not a valid one"
        if os.path.isdir(name)
        else "It is not a local folder, and the Hugging Face Hub did not provide it (wrong id, private repository "
        "without a token, or no network: set HF_HUB_OFFLINE=1 to use only the local cache)"
    )
    return ValueError(f"Could not load the {kind} {name!r}. {where}. Details: {reason}")


def load_model(name_or_path: str | os.PathLike, model_class=None, *, kind: str = "model", **kwargs):
    """``model_class.from_pretrained`` (default ``AutoModelForMaskedLM``) with a clear error on failure."""
    if model_class is None:
        from transformers import AutoModelForMaskedLM as model_class
    kwargs.setdefault("trust_remote_code", False)
    try:
        return model_class.from_pretrained(name_or_path, **kwargs)
    except (OSError, ValueError) as error:
        raise _explain(kind, str(name_or_path), error) from error


def load_teacher(name_or_path: str | os.PathLike, *, missing_head: str = "error", **kwargs):
    """Load a teacher ``*ForMaskedLM``, deciding what to do when its checkpoint has no MLM head weights.

    ``transformers`` silently initialises missing head weights at random, which makes soft targets noise.
    ``missing_head``: ``"error"`` (raise), ``"tied"`` (the head becomes the tied input embeddings: identity
    transform, zero bias — deepvk's public teacher ships without a head), or ``"ignore"`` (only hidden-state
    losses read the teacher).
    """
    if missing_head not in ("error", "tied", "ignore"):
        raise ValueError(f"missing_head must be 'error', 'tied' or 'ignore', not {missing_head!r}.")
    model, info = load_model(name_or_path, kind="teacher", output_loading_info=True, **kwargs)
    missing = [key for key in info["missing_keys"] if not key.startswith(f"{model.base_model_prefix}.")]
    if missing and missing_head == "error":
        raise ValueError(
            f"The teacher {str(name_or_path)!r} has no MLM head weights ({', '.join(sorted(missing)[:3])}, ...), "
            "so its soft targets would be random. Distil with hidden-state losses only (alpha_ce=0), or build the "
            "head from the tied embeddings (teacher_head='tied', see recipes/deberta_v1_distill.py)."
        )
    if missing and missing_head == "tied":
        tie_mlm_head(model)
    return model


def tie_mlm_head(model) -> None:
    """Make the MLM head the tied input embeddings: logits = LayerNorm(act(hidden)) @ embeddings^T, with an
    identity dense transform, unit LayerNorm and zero vocabulary bias."""
    import torch

    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.startswith(f"{model.base_model_prefix}."):
                continue
            if parameter.dim() == 2 and parameter.shape[0] == parameter.shape[1]:
                parameter.copy_(torch.eye(parameter.shape[0]))
            elif "norm" in name.lower() and name.endswith("weight"):
                parameter.fill_(1.0)
            elif parameter.dim() == 1:
                parameter.zero_()


def load_tokenizer(name_or_path: str | os.PathLike, *, kind: str = "tokenizer", **kwargs):
    """``AutoTokenizer.from_pretrained`` with a clear error on failure."""
    from transformers import AutoTokenizer

    kwargs.setdefault("trust_remote_code", False)
    try:
        return AutoTokenizer.from_pretrained(name_or_path, **kwargs)
    except (OSError, ValueError) as error:
        raise _explain(kind, str(name_or_path), error) from error


TEXT_FILE_TYPES = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv", ".txt": "text"}


def load_text_dataset(source: str = "embedded", *, split: str = "train", column: str = "text", **load_kwargs):
    """A dataset of texts from ``source``, checked to have a string column ``column``.

    ``source`` is ``"embedded"`` (:func:`load_corpus`), a folder written by ``Dataset.save_to_disk``, a
    ``.jsonl`` / ``.json`` / ``.parquet`` / ``.csv`` / ``.txt`` file (a ``.txt`` file gives one text per line
    in column ``text``), or a Hugging Face Hub dataset id (loaded with ``datasets.load_dataset``; extra keyword
    arguments, e.g. ``name``, go there).
    """
    from datasets import DatasetDict, load_dataset, load_from_disk

    from .data import _select, load_corpus

    path = Path(source)
    if source == "embedded":
        dataset = load_corpus(split)
    elif path.is_dir() and ((path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()):
        dataset = load_from_disk(str(path))
        if isinstance(dataset, DatasetDict):
            dataset = _select(dataset, split)
        elif split != "train":
            raise ValueError(f"{source} is a single dataset without splits: it has no {split!r} split.")
    elif path.suffix in TEXT_FILE_TYPES:
        if not path.is_file():
            raise FileNotFoundError(f"No such file: {path}")
        if split != "train":
            raise ValueError(f"{source} is a single file: it has no {split!r} split.")
        dataset = load_dataset(TEXT_FILE_TYPES[path.suffix], data_files=str(path), split="train", **load_kwargs)
    else:
        try:
            dataset = load_dataset(source, split=split, **load_kwargs)
        except Exception as error:  # datasets raises many types for a missing or unreachable dataset
            raise _explain("dataset", source, error) from error
    if column not in dataset.column_names:
        raise ValueError(f"{source} has no column {column!r}; its columns are {dataset.column_names}.")
    if dataset.features[column].dtype not in ("string", "large_string"):
        raise ValueError(f"Column {column!r} of {source} holds {dataset.features[column].dtype}, not text.")
    if len(dataset) == 0:
        raise ValueError(f"{source} ({split}) is empty.")
    return dataset
