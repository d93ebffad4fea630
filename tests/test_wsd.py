"""The word-sense task's baseline: each lemma's most frequent training sense."""

from datasets import Dataset, DatasetDict

from hf_rudistill.data import load_wsd_task
from hf_rudistill.evaluation.wsd import majority_sense_accuracy


def test_majority_sense_answers_each_lemmas_most_frequent_training_sense():
    train = Dataset.from_dict({"lemma": ["лук", "лук", "лук", "ключ", "ключ"], "label": [0, 1, 1, 2, 2]})
    validation = Dataset.from_dict({"lemma": ["лук", "лук", "ключ", "ключ", "замок"], "label": [1, 0, 2, 3, 4]})
    # лук -> 1 (hit, miss), ключ -> 2 (hit, miss), замок unseen in train (miss)
    assert majority_sense_accuracy(DatasetDict(train=train, validation=validation)) == 2 / 5


def test_majority_sense_on_the_embedded_task_matches_a_brute_force_count():
    task = load_wsd_task()
    train = list(zip(task["train"]["lemma"], task["train"]["label"]))
    hits = 0
    for lemma, label in zip(task["validation"]["lemma"], task["validation"]["label"]):
        senses = [sense for other, sense in train if other == lemma]
        majority = max(senses, key=senses.count) if senses else None  # ties: the sense seen first
        hits += majority == label
    assert majority_sense_accuracy(task) == hits / len(task["validation"])
