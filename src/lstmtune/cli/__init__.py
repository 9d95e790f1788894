"""The command line: parse, call the library, print. Thin over :mod:`lstmtune.workflow` and the
layers below it; nothing imports it."""

from lstmtune.cli.app import app, main

__all__ = ["app", "main"]
