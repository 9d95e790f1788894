"""The one exception family lstmtune raises for bad input.

Every user-facing failure (a bad file, a bad parameter, a study that cannot run)
is a :class:`LstmtuneError` whose message names what is wrong; the CLI prints the
message and exits with status 2, never a traceback.
"""


class LstmtuneError(ValueError):
    """Bad input: the message names the file, row, column or parameter at fault."""


class DataError(LstmtuneError):
    """A series could not be loaded or is unusable."""


class SpecError(LstmtuneError):
    """A study specification (file or object) is invalid."""
