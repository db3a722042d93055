"""The ``synthkit`` command: thin, one module per subcommand.

Each subcommand module defines ``add_parser(subparsers)`` and ``run(args) -> int`` and
only parses arguments and calls the library. Errors a user can act on (bad arguments,
bad files, bad data) print one line and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

COMMANDS = ("fit", "sample", "evaluate", "design", "backbones", "datasets", "demo")
EXIT_USAGE, EXIT_ERROR = 2, 1


class UsageError(Exception):
    """Bad command-line arguments."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + exit inside argparse
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    from synthkit import __version__

    parser = _Parser(prog="synthkit", description="Generative models for synthetic data.")
    parser.add_argument("--version", action="version", version=f"synthkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"synthkit.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"synthkit.cli.{name}":
                continue  # subcommand not part of this installation
            raise
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    formatwarning = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        return _run(parser, argv)
    finally:
        warnings.formatwarning = formatwarning


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """Library warnings a user acts on (``UserWarning``: a skipped entry, a missing
    checkpoint) as one line, without the source location."""
    if issubclass(category, UserWarning):
        return f"synthkit: warning: {message}\n"
    return f"{filename}:{lineno}: {category.__name__}: {message}\n"


def _run(parser, argv) -> int:
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        return int(args.run(args) or 0)
    except UsageError as err:
        print(f"{err} (see 'synthkit --help')", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, FileNotFoundError, ImportError, PermissionError, IsADirectoryError) as err:
        print(f"synthkit: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("synthkit: interrupted", file=sys.stderr)
        return 130


def parse_params(items: list[str] | None) -> dict:
    """``["key=value", ...]`` to a dict; values are read as JSON when they parse (numbers, lists, true)."""
    import json

    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--param expects KEY=VALUE, got {item!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params
