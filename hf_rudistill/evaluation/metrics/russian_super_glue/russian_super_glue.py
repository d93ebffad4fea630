"""Russian SuperGLUE metrics as an ``evaluate`` module, one configuration per task.

Load it by path (no network): ``evaluate.load(".../metrics/russian_super_glue", "rcb")``, or through
``hf_rudistill.evaluation.load_rsg_metric("RCB")``. Configurations and what ``compute`` returns:

- ``rcb``: ``{"f1": ..., "accuracy": ...}``. ``f1`` is the mean of the per-class F1 of all three classes, a
  class with no true positive scoring 0 even when it occurs in neither references nor predictions. This is
  what the benchmark's own evaluation code does (RussianNLP/RussianSuperGLUE, ``jiant-russian-v2``,
  ``RCBTask.get_metrics``: three ``F1Measure`` scorers, one per class, averaged), and differs from
  scikit-learn's ``f1_score(average="macro")``, which averages only the labels present.
- ``muserc``: ``{"f1a": ..., "em": ...}``. ``f1a`` is F1 over all answer options of the split pooled together
  (precision 1 when nothing is predicted true, recall 1 when nothing is true); ``em`` is the share of
  questions whose answers are all predicted correctly. Needs ``idx`` (``{"paragraph", "question", "answer"}``
  per answer, as in the Hub dataset) to group answers by question. Same definitions as the benchmark's
  reference code (``tfidf_baseline/MuSeRC.py``: ``per_dataset_metric`` and ``exact_match_metrics_origin``).
- ``lidirus``: ``{"mcc": ...}``, Matthews correlation of the binary labels (0 when undefined, as scikit-learn).
- ``parus``, ``terra``, ``russe``, ``rwsd``, ``danetqa``: ``{"accuracy": ...}``.

Predictions and references are label ids (the ``ClassLabel`` ids of the Hub dataset).
"""

from __future__ import annotations

import math
from collections import defaultdict

import datasets
import evaluate

_DESCRIPTION = "Official metrics of the Russian SuperGLUE benchmark, one configuration per task."

_CITATION = """\
@article{shavrina2020russiansuperglue,
  title={RussianSuperGLUE: A Russian Language Understanding Evaluation Benchmark},
  author={Shavrina, Tatiana and Fenogenova, Alena and Emelyanov, Anton and Shevelev, Denis and Artemova,
          Ekaterina and Malykh, Valentin and Mikhailov, Vladislav and Tikhonova, Maria and Chertok, Andrey and
          Evlampiev, Andrey},
  journal={arXiv preprint arXiv:2010.15925},
  year={2020}
}
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: predicted label ids.
    references: gold label ids.
    idx: (``muserc`` only) one ``{"paragraph": int, "question": int, "answer": int}`` per answer.
Returns:
    rcb: f1, accuracy; muserc: f1a, em; lidirus: mcc; other tasks: accuracy.
Example:
    >>> metric = evaluate.load("hf_rudistill/evaluation/metrics/russian_super_glue", "rcb")
    >>> metric.compute(predictions=[0, 1, 0], references=[0, 1, 1])
    {'f1': 0.4444444444444444, 'accuracy': 0.6666666666666666}
"""

ACCURACY_TASKS = ("parus", "terra", "russe", "rwsd", "danetqa")
RCB_CLASSES = 3


def accuracy(predictions: list[int], references: list[int]) -> float:
    return sum(p == r for p, r in zip(predictions, references)) / len(references)


def _f1(true_positives: int, predicted: int, actual: int) -> float:
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / actual if actual else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def rcb_f1(predictions: list[int], references: list[int]) -> float:
    """Mean over the three RCB classes of the one-vs-rest F1; a class never predicted correctly scores 0."""
    per_class = []
    for label in range(RCB_CLASSES):
        true_positives = sum(p == r == label for p, r in zip(predictions, references))
        per_class.append(_f1(true_positives, predictions.count(label), references.count(label)))
    return sum(per_class) / RCB_CLASSES


def muserc_f1a_em(predictions: list[int], references: list[int], idx: list[dict]) -> dict[str, float]:
    agreed = sum(p * r for p, r in zip(predictions, references))
    predicted, correct = sum(predictions), sum(references)
    precision = agreed / predicted if predicted else 1.0
    recall = agreed / correct if correct else 1.0
    f1a = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    questions: dict[tuple[int, int], bool] = defaultdict(lambda: True)
    for prediction, reference, ids in zip(predictions, references, idx):
        key = (ids["paragraph"], ids["question"])
        questions[key] = questions[key] and prediction == reference
    return {"f1a": f1a, "em": sum(questions.values()) / len(questions)}


def matthews_correlation(predictions: list[int], references: list[int]) -> float:
    tp = sum(p == 1 and r == 1 for p, r in zip(predictions, references))
    tn = sum(p == 0 and r == 0 for p, r in zip(predictions, references))
    fp = sum(p == 1 and r == 0 for p, r in zip(predictions, references))
    fn = sum(p == 0 and r == 1 for p, r in zip(predictions, references))
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / denominator if denominator else 0.0


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class RussianSuperGlue(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        if self.config_name not in (*ACCURACY_TASKS, "rcb", "muserc", "lidirus"):
            raise KeyError(
                f"Unknown Russian SuperGLUE metric configuration {self.config_name!r}: choose one of "
                "rcb, parus, muserc, terra, russe, rwsd, danetqa, lidirus."
            )
        features = {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
        if self.config_name == "muserc":
            features["idx"] = {name: datasets.Value("int64") for name in ("paragraph", "question", "answer")}
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(features),
            homepage="https://russiansuperglue.com/",
        )

    def _compute(self, predictions, references, idx=None):
        predictions, references = [int(p) for p in predictions], [int(r) for r in references]
        if self.config_name == "rcb":
            return {"f1": rcb_f1(predictions, references), "accuracy": accuracy(predictions, references)}
        if self.config_name == "muserc":
            return muserc_f1a_em(predictions, references, idx)
        if self.config_name == "lidirus":
            return {"mcc": matthews_correlation(predictions, references)}
        return {"accuracy": accuracy(predictions, references)}
