"""`rudistill demo` end to end, shortened: every stage runs and every promised output exists."""

import json

from transformers import AutoModelForMaskedLM

from hf_rudistill.data import load_wsd_task
from hf_rudistill.demo import format_summary, run_demo
from hf_rudistill.evaluation.wsd import majority_sense_accuracy


def test_the_demo_runs_every_stage_and_says_where_the_outputs_are(tmp_path):
    results = run_demo(tmp_path, max_steps=3, wsd_epochs=0.02, example_card=tmp_path / "example.md")
    assert json.loads((tmp_path / "results.json").read_text()) == results
    for name in ("teacher", "distilled", "scratch"):
        model = results["models"][name]
        assert 0 <= model["masked_token_accuracy"] <= 1 and 0 <= model["wsd_accuracy"] <= 1
        assert model["time_s_b16"] > 0 and model["parameters"] > 0
        AutoModelForMaskedLM.from_pretrained(model["path"])
    assert results["models"]["distilled"]["parameters"] < results["models"]["teacher"]["parameters"]
    card = (tmp_path / "distilled" / "student" / "README.md").read_text()
    assert card == (tmp_path / "example.md").read_text() and "## Speed and memory" in card
    assert (tmp_path / "benchmark" / "benchmark.json").is_file()
    summary = format_summary(results, tmp_path)
    assert str(tmp_path.resolve()) in summary and "distilled" in summary and "scratch" in summary
    majority = majority_sense_accuracy(load_wsd_task())
    assert results["models"]["scratch"]["majority_sense_accuracy"] == majority
    assert f"most frequent sense scores {majority:.3f}" in summary and "after 0.02 epoch(s)" in summary
