"""rudistill evaluate: not built yet."""

from ._unbuilt import add_arguments, not_built


def run(args) -> int:
    return not_built("evaluate")
