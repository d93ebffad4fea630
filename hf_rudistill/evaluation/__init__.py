"""Evaluation: held-out masked-token accuracy (:mod:`.mlm`) and Russian SuperGLUE."""

from .mlm import masked_token_accuracy

__all__ = ["masked_token_accuracy"]
