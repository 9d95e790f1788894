"""Usage errors (an unknown option or command, a value of the wrong type, a missing
argument) are one ``error:`` line naming the command, with exit status 2, like every other
bad input; Typer's own handler draws a box of several lines."""

import pytest
from typer.testing import CliRunner

from lstmtune.cli.app import app


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["auto", "x.csv", "--horizon", "abc"], ["lstmtune auto", "--horizon"]),
        (["auto", "x.csv", "--horizn", "3"], ["lstmtune auto", "--horizn", "--horizon"]),
        (["auto"], ["lstmtune auto", "Missing argument"]),
        (["nosuch"], ["lstmtune", "nosuch"]),
        (["run", "--units", "3"], ["lstmtune run", "--units"]),
        (["forecast", "m", "--horizon", "1.5"], ["lstmtune forecast", "--horizon"]),
    ],
)
def test_a_usage_error_is_one_line_naming_the_command_and_exits_two(args, names):
    result = CliRunner().invoke(app, args, prog_name="lstmtune")
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    for name in names:
        assert name in lines[0]
    assert "--help" in lines[0]  # where to look next


def test_help_and_a_command_that_succeeds_still_exit_zero():
    assert CliRunner().invoke(app, ["--help"]).exit_code == 0
    assert CliRunner().invoke(app, ["datasets"]).exit_code == 0


def test_no_arguments_prints_the_help():
    result = CliRunner().invoke(app, [])
    assert "Usage" in result.output and "auto" in result.output
    assert result.exit_code == 2


def test_what_a_command_returns_is_not_its_exit_status():
    """Typer ignores a command's return value; so does the one-line error handling around it."""
    import typer

    from lstmtune.cli.common import _Commands

    demo = typer.Typer(cls=_Commands)

    @demo.command()
    def four() -> int:
        return 4

    @demo.command()
    def three() -> None:
        raise typer.Exit(code=3)

    assert CliRunner().invoke(demo, ["four"]).exit_code == 0
    assert CliRunner().invoke(demo, ["three"]).exit_code == 3


def test_an_output_path_under_a_file_names_that_file(tmp_path):
    """`reproduce --out FILE/sub` said only "FILE/sub: Not a directory"."""
    (tmp_path / "notadir").write_text("mine")
    result = CliRunner().invoke(app, ["reproduce", "--out", str(tmp_path / "notadir" / "sub")])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {tmp_path / 'notadir' / 'sub'}: {tmp_path / 'notadir'} is a file, not a directory", result.output
    assert (tmp_path / "notadir").read_text() == "mine"


def test_a_name_holding_colons_is_printed_as_written(tmp_path):
    """Rich read ``:smile:`` in a path as an emoji code (``x😄y.csv: no such file``; a probe)."""
    res = CliRunner().invoke(app, ["auto", str(tmp_path / "x:smile:y.csv"), "--horizon", "3", "--out", str(tmp_path / "o")])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "x:smile:y.csv" in said and "\U0001f604" not in said, said
