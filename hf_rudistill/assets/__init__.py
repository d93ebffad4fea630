"""Files shipped inside the package.

``demo-teacher/``: a small Russian ``BertForMaskedLM`` pretrained from scratch on the embedded corpus
by ``recipes/pretrain_demo_teacher.py`` (its ``pretraining.json`` says how, and how well). It is the
default teacher of the demo and the tests, and loads with ``AutoModelForMaskedLM.from_pretrained(DEMO_TEACHER)``.
"""

from pathlib import Path

DEMO_TEACHER = Path(__file__).resolve().parent / "demo-teacher"

__all__ = ["DEMO_TEACHER"]
