"""Russian SuperGLUE metrics (the shipped ``evaluate`` module) against hand-computed values and naive references."""

import math
import random
from collections import defaultdict

import pytest

from hf_rudistill.evaluation import TASKS, compute_rsg_metrics, load_rsg_metric, overall_score


def test_rcb_f1_is_the_mean_over_all_three_classes_even_when_one_never_occurs():
    # Class 2 (neutral) is in neither references nor predictions. Class 0: tp 1, fp 1, fn 0 -> F1 2/3;
    # class 1: tp 1, fp 0, fn 1 -> F1 2/3; class 2 -> 0. Official (jiant RCBTask): (2/3 + 2/3 + 0) / 3 = 4/9,
    # where scikit-learn's macro F1 over the labels present would give 2/3.
    result = load_rsg_metric("RCB").compute(predictions=[0, 1, 0], references=[0, 1, 1])
    assert result["f1"] == pytest.approx(4 / 9)
    assert result["accuracy"] == pytest.approx(2 / 3)


def test_rcb_f1_when_a_gold_class_is_never_predicted():
    # Class 2 occurs in references but is never predicted: its F1 is 0.
    # Class 0: tp 1, fp 1, fn 0 -> 2/3. Class 1: tp 1, fp 1, fn 0 -> 2/3. Class 2: tp 0 -> 0.
    result = load_rsg_metric("rcb").compute(predictions=[0, 1, 0, 1], references=[0, 1, 2, 2])
    assert result == pytest.approx({"f1": 4 / 9, "accuracy": 0.5})


def test_rcb_f1_mixed_hand_computed():
    # refs  [0, 0, 1, 2, 2, 2], preds [0, 1, 1, 2, 2, 0]
    # class 0: tp 1, fp 1, fn 1 -> p 1/2, r 1/2, F1 1/2; class 1: tp 1, fp 1, fn 0 -> p 1/2, r 1, F1 2/3;
    # class 2: tp 2, fp 0, fn 1 -> p 1, r 2/3, F1 4/5.
    result = load_rsg_metric("rcb").compute(predictions=[0, 1, 1, 2, 2, 0], references=[0, 0, 1, 2, 2, 2])
    assert result["f1"] == pytest.approx((1 / 2 + 2 / 3 + 4 / 5) / 3)
    assert result["accuracy"] == pytest.approx(4 / 6)


def _ids(paragraph, question, answer):
    return {"paragraph": paragraph, "question": question, "answer": answer}


def test_muserc_f1a_over_all_answers_and_em_per_question():
    # Paragraph 0: question 0 has answers 0-2, question 1 has answers 3-4; paragraph 1: question 2, answers 5-7.
    idx = [
        _ids(0, 0, 0),
        _ids(0, 0, 1),
        _ids(0, 0, 2),
        _ids(0, 1, 3),
        _ids(0, 1, 4),
        _ids(1, 2, 5),
        _ids(1, 2, 6),
        _ids(1, 2, 7),
    ]
    references = [1, 0, 1, 0, 1, 1, 1, 0]
    predictions = [1, 0, 1, 1, 1, 1, 0, 0]
    # Pooled: predicted true 5, true 5, agreed 4 -> p 4/5, r 4/5, F1a 4/5.
    # Questions: q0 all right, q1 answer 3 wrong, q2 answer 6 wrong -> EM 1/3.
    result = load_rsg_metric("MuSeRC").compute(predictions=predictions, references=references, idx=idx)
    assert result == pytest.approx({"f1a": 4 / 5, "em": 1 / 3})


def test_muserc_groups_questions_by_paragraph_and_question():
    # The same question idx under two paragraphs are two questions: one right, one wrong -> EM 1/2.
    idx = [_ids(0, 0, 0), _ids(1, 0, 0)]
    result = load_rsg_metric("muserc").compute(predictions=[1, 1], references=[1, 0], idx=idx)
    assert result["em"] == pytest.approx(1 / 2)
    # predicted true 2, true 1, agreed 1 -> p 1/2, r 1 -> F1a 2/3
    assert result["f1a"] == pytest.approx(2 / 3)


def test_muserc_conventions_when_nothing_is_predicted_or_true():
    idx = [_ids(0, 0, 0), _ids(0, 0, 1)]
    # Nothing predicted true, nothing true: precision 1 and recall 1 by the benchmark's convention.
    assert load_rsg_metric("muserc").compute(predictions=[0, 0], references=[0, 0], idx=idx) == {"f1a": 1.0, "em": 1.0}
    # Nothing predicted true, one true: precision 1 (nothing predicted), recall 0 -> F1a 0.
    assert load_rsg_metric("muserc").compute(predictions=[0, 0], references=[1, 0], idx=idx) == {"f1a": 0.0, "em": 0.0}


def test_lidirus_matthews_correlation_hand_computed():
    # tp 2, tn 1, fp 1, fn 0 -> (2*1 - 1*0) / sqrt(3 * 2 * 2 * 1) = 2 / sqrt(12)
    result = load_rsg_metric("LiDiRus").compute(predictions=[1, 1, 1, 0], references=[1, 1, 0, 0])
    assert result["mcc"] == pytest.approx(2 / math.sqrt(12))
    # Constant predictions: undefined, reported as 0 (scikit-learn's convention).
    assert load_rsg_metric("lidirus").compute(predictions=[0, 0, 0], references=[1, 0, 1])["mcc"] == 0.0
    assert load_rsg_metric("lidirus").compute(predictions=[0, 1, 1, 0], references=[1, 0, 0, 1])[
        "mcc"
    ] == pytest.approx(-1)


@pytest.mark.parametrize("task", ["PARus", "TERRa", "RUSSE", "RWSD", "DaNetQA"])
def test_accuracy_tasks(task):
    assert load_rsg_metric(task).compute(predictions=[1, 0, 1, 1], references=[1, 1, 1, 0]) == {"accuracy": 0.5}


def _naive_rcb_f1(predictions, references):
    scores = []
    for label in (0, 1, 2):
        pairs = list(zip(predictions, references))
        tp = len([1 for p, r in pairs if p == label and r == label])
        fp = len([1 for p, r in pairs if p == label and r != label])
        fn = len([1 for p, r in pairs if p != label and r == label])
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / 3


def _naive_muserc(predictions, references, idx):
    agreed = sum(1 for p, r in zip(predictions, references) if p == r == 1)
    p = agreed / sum(predictions) if sum(predictions) else 1.0
    r = agreed / sum(references) if sum(references) else 1.0
    questions = defaultdict(list)
    for prediction, reference, ids in zip(predictions, references, idx):
        questions[ids["paragraph"], ids["question"]].append(prediction == reference)
    return {"f1a": 2 * p * r / (p + r) if p + r else 0.0, "em": sum(map(all, questions.values())) / len(questions)}


def _naive_mcc(predictions, references):
    n = len(references)
    mean_p, mean_r = sum(predictions) / n, sum(references) / n
    covariance = sum((p - mean_p) * (r - mean_r) for p, r in zip(predictions, references))
    spread = math.sqrt(sum((p - mean_p) ** 2 for p in predictions) * sum((r - mean_r) ** 2 for r in references))
    return covariance / spread if spread else 0.0


def test_metrics_match_naive_references_on_random_inputs():
    rng = random.Random(0)
    rcb, muserc, lidirus = load_rsg_metric("rcb"), load_rsg_metric("muserc"), load_rsg_metric("lidirus")
    for _ in range(30):
        n = rng.randint(1, 40)
        predictions, references = [rng.randrange(3) for _ in range(n)], [rng.randrange(3) for _ in range(n)]
        assert rcb.compute(predictions=predictions, references=references)["f1"] == pytest.approx(
            _naive_rcb_f1(predictions, references)
        )
        predictions, references = [rng.randrange(2) for _ in range(n)], [rng.randrange(2) for _ in range(n)]
        idx = [_ids(rng.randrange(3), rng.randrange(4), answer) for answer in range(n)]
        assert muserc.compute(predictions=predictions, references=references, idx=idx) == pytest.approx(
            _naive_muserc(predictions, references, idx)
        )
        assert lidirus.compute(predictions=predictions, references=references)["mcc"] == pytest.approx(
            _naive_mcc(predictions, references)
        )


def test_task_score_is_the_mean_of_its_metrics_and_the_score_the_mean_over_tasks():
    rcb = compute_rsg_metrics("RCB", predictions=[0, 1, 0], references=[0, 1, 1])
    assert rcb["score"] == pytest.approx((4 / 9 + 2 / 3) / 2)
    terra = compute_rsg_metrics("TERRa", predictions=[0, 1], references=[0, 0])
    assert terra["score"] == 0.5
    assert overall_score({"RCB": rcb["score"], "TERRa": terra["score"]}) == pytest.approx(
        ((4 / 9 + 2 / 3) / 2 + 0.5) / 2
    )
    with pytest.raises(ValueError):
        overall_score({})


def test_metric_module_knows_every_task_and_rejects_others():
    for task in TASKS.values():
        assert load_rsg_metric(task).config_name == task.config
    with pytest.raises(ValueError, match="Unknown Russian SuperGLUE task"):
        load_rsg_metric("RuCoS")
