"""The one exception family lstmtune raises for bad input.

Every user-facing failure (a bad file, a bad parameter, a study that cannot run)
is a :class:`LstmtuneError` whose message names what is wrong; the CLI prints the
message and exits with status 2, never a traceback.

A message names an option as its reader gave it: ``--horizon`` on the command line (the
commands run inside :func:`on_the_command_line`), ``horizon`` from Python (a probe found
``lstmtune.auto(frame, 0)`` answered "--horizon must be ...", and ``levels=(0,)`` "--level 0").
"""

import contextlib
import contextvars

_COMMAND_LINE = contextvars.ContextVar("lstmtune_command_line", default=False)
_PARAMETERS = {"--level": "levels"}
"""Flags whose Python parameter is not the flag's name with ``_`` for ``-``."""


@contextlib.contextmanager
def on_the_command_line():
    """Within it, messages name options by their flags (:func:`option`)."""
    token = _COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _COMMAND_LINE.reset(token)


def option(flag: str) -> str:
    """How a message names the option ``flag`` (``"--season-length"``): the flag on the command
    line, else the Python parameter (``season_length``)."""
    return flag if _COMMAND_LINE.get() else _PARAMETERS.get(flag, flag.lstrip("-").replace("-", "_"))


def cli_or_python(command_line: str, python: str) -> str:
    """``command_line``'s text on the command line, else ``python``'s (examples in messages)."""
    return command_line if _COMMAND_LINE.get() else python


class LstmtuneError(ValueError):
    """Bad input: the message names the file, row, column or parameter at fault."""


class DataError(LstmtuneError):
    """A series could not be loaded or is unusable."""


class SpecError(LstmtuneError):
    """A study specification (file or object) is invalid."""
