import importlib.util
import math
import sys
from collections import Counter
from pathlib import Path

import torch
from transformers import BertConfig, BertForMaskedLM

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "pretrain_demo_teacher.py"
spec = importlib.util.spec_from_file_location("pretrain_demo_teacher", RECIPE)
pretrain_demo_teacher = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses need it
spec.loader.exec_module(pretrain_demo_teacher)


def test_neighbour_init_points_layer0_heads_at_their_offsets_and_leaves_other_layers_alone():
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=40,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        attn_implementation="eager",
    )
    model = BertForMaskedLM(config)
    upper_layer = {name: t.clone() for name, t in model.bert.encoder.layer[1].state_dict().items()}
    blocks = torch.randint(5, 40, (64, 16))
    facts = pretrain_demo_teacher.neighbour_init(model, blocks, mask_token_id=4, steps=150, seed=0)

    # The real forward pass (not the recipe's helper) must route each head to its neighbour.
    attentions = model(input_ids=blocks[:8], output_attentions=True).attentions[0]  # (batch, heads, q, k)
    for head, offset in enumerate(pretrain_demo_teacher.NEIGHBOUR_OFFSETS):
        queries = torch.arange(max(0, -offset), 16 - max(0, offset))
        mass = attentions[:, head, queries, queries + offset]
        assert mass.mean() > 0.9, (head, offset, mass.mean())
    assert facts["layer0_attention_on_neighbour"] > 0.9

    attention = model.bert.encoder.layer[0].attention
    assert torch.equal(attention.self.value.weight, torch.eye(32))
    assert torch.equal(attention.output.dense.weight, torch.eye(32))
    assert all(torch.equal(t, model.bert.encoder.layer[1].state_dict()[name]) for name, t in upper_layer.items())

    counts = Counter(blocks.flatten().tolist())
    total = blocks.numel() + config.vocab_size
    expected = torch.tensor([math.log((counts[token] + 1) / total) for token in range(config.vocab_size)])
    assert torch.allclose(model.cls.predictions.bias, expected, atol=1e-5)
    assert all(p.grad is None for p in model.parameters())
