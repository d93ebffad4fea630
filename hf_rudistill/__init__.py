"""hf_rudistill: distil Russian encoder language models with vocabulary reduction."""

__version__ = "0.1.0"
