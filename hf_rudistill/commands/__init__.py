"""Subcommands of the ``rudistill`` CLI (see :mod:`hf_rudistill.cli`)."""
