"""rudistill card: not built yet."""

from ._unbuilt import add_arguments, not_built

__all__ = ["add_arguments", "run"]


def run(args) -> int:
    return not_built("card")
