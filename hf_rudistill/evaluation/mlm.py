"""Held-out masked-token accuracy, with the most-frequent-token baseline on the same positions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import torch


@torch.inference_mode()
def masked_token_accuracy(
    model,
    tokenizer,
    texts: Sequence[str],
    *,
    mask_probability: float = 0.15,
    seed: int = 0,
    batch_size: int = 64,
    max_length: int = 128,
    baseline_texts: Sequence[str] | None = None,
) -> dict[str, float]:
    """Replace a seeded ``mask_probability`` share of the non-special tokens of ``texts`` by the mask token
    and return how often ``model`` (a ``*ForMaskedLM``) predicts the original token there.

    The masked positions depend only on ``texts``, ``tokenizer``, ``mask_probability`` and ``seed``, so
    models sharing a tokenizer are compared on identical positions. With ``baseline_texts``, the result
    also holds ``baseline_accuracy``: the accuracy of always predicting the most frequent non-special token
    of ``baseline_texts`` (typically the training split).
    """
    if not texts:
        raise ValueError("masked_token_accuracy needs at least one text.")
    if tokenizer.mask_token_id is None:
        raise ValueError(
            f"{type(tokenizer).__name__} has no mask token, so it cannot be used for masked-LM evaluation."
        )
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    correct = total = 0
    masked_targets: list[torch.Tensor] = []
    for begin in range(0, len(texts), batch_size):
        batch = tokenizer(
            list(texts[begin : begin + batch_size]),
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
            return_special_tokens_mask=True,
        )
        input_ids = batch["input_ids"]
        maskable = (batch.pop("special_tokens_mask") == 0) & (batch["attention_mask"] == 1)
        masked = maskable & (torch.rand(input_ids.shape, generator=generator) < mask_probability)
        targets = input_ids[masked]
        batch["input_ids"] = input_ids.masked_fill(masked, tokenizer.mask_token_id)
        batch = {name: tensor.to(device) for name, tensor in batch.items()}
        logits = model(**batch).logits
        predictions = logits[masked.to(device)].argmax(-1).cpu()
        correct += int((predictions == targets).sum())
        total += int(targets.numel())
        masked_targets.append(targets)
    model.train(was_training)
    result = {"accuracy": correct / max(total, 1), "masked_tokens": total}
    if baseline_texts is not None:
        most_frequent = _most_frequent_token(tokenizer, baseline_texts)
        result["baseline_accuracy"] = float((torch.cat(masked_targets) == most_frequent).float().mean())
        result["baseline_token"] = tokenizer.convert_ids_to_tokens(most_frequent)
    return result


def _most_frequent_token(tokenizer, texts: Sequence[str]) -> int:
    special = set(tokenizer.all_special_ids)
    counts = Counter()
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        counts.update(token for token in ids if token not in special)
    return counts.most_common(1)[0][0]
