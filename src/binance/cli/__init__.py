"""The ``binance`` command: one sub-command per module, heavy imports done lazily.

Each sub-command module exposes ``register(subparsers)`` which adds its parser and sets
``func`` to a callable taking the parsed arguments and returning an exit code.

Exit statuses: 0 success, 1 failure (the exchange refused or could not be reached), 2 bad
arguments, 130 interrupted. Errors are one line on stderr, never a traceback, and never contain
keys or secrets.

Importing this package (and ``binance --help``) loads only argparse and the small command
modules; the client, the simulator and ``rich`` are imported when a command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from binance.cli._common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CommandError,
    UsageError,
    describe_error,
    write_err,
)

__all__ = ["build_parser", "main"]

# Sub-command modules, in the order `binance --help` lists them.
_COMMANDS = ("demo", "klines", "book", "ticker", "time", "sim")

_EPILOG = """\
examples:
  binance demo                      a tour of the library on a local exchange
  binance demo --live               the public-data part against Binance itself
  binance klines BTCUSDT 1h "1 Jan, 2024" -o btc-1h.csv
  binance book BTCUSDT --sim        a live order book (here from a local exchange)
  binance ticker BTCUSDT ETHUSDT
  binance sim                       serve a local exchange for other programs

`binance COMMAND --help` describes each command."""


def build_parser() -> argparse.ArgumentParser:
    """The ``binance`` parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="binance",
        description="Binance Spot from the shell, and a local Binance-compatible exchange.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from binance import __version__

    parser.add_argument("--version", action="version", version=f"binance {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in _COMMANDS:
        importlib.import_module(f"binance.cli.{name}").register(subparsers)
        # Errors found after parsing are reported by the sub-command's own parser.
        subparsers.choices[name].set_defaults(_parser=subparsers.choices[name])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``binance`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    Bad arguments print argparse's usage message and return 2; ``--help`` returns 0.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad argument (already reported)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    sub: argparse.ArgumentParser = getattr(args, "_parser", parser)
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        sub.print_usage(sys.stderr)
        write_err(sub.prog, str(exc))
        return EXIT_USAGE
    except CommandError as exc:
        write_err(sub.prog, str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        sys.stderr.write(f"{sub.prog}: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as exc:
        message = describe_error(exc, getattr(args, "_where", "the exchange"))
        if message is None:
            raise
        write_err(sub.prog, message)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
