import pytest

import hf_rudistill
from hf_rudistill.cli import COMMANDS, main


def test_package_imports_and_has_a_version():
    assert hf_rudistill.__version__


def test_cli_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    listing = capsys.readouterr().out
    for command in ["dedup", "vocab", "init-student", "distill", "evaluate", "benchmark", "card", "push", "demo"]:
        assert command in COMMANDS and f"    {command}" in listing


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_subcommand_has_help(command, capsys):
    try:
        code = main([command, "--help"])
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 0
    assert f"usage: rudistill {command}" in capsys.readouterr().out


def test_every_public_name_resolves():
    for name in hf_rudistill.__all__:
        assert getattr(hf_rudistill, name) is not None
