"""Helpers for the `binance` command's tests: run it in-process or as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from binance.cli import main

#: Deadline scale for slow machines (the suite's BINANCE_TEST_TIMEOUT_SCALE).
TIMEOUT_SCALE = float(os.environ.get("BINANCE_TEST_TIMEOUT_SCALE", "1"))


@pytest.fixture
def run_cli(capsys):
    """Run ``binance ARGS`` in this process; returns (exit status, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = main(list(argv))
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture
def sim_opts(sim):
    """Connection options pointing the command at the session's local exchange."""
    return ["--base-url", sim.rest_url]


def binance_command() -> list[str]:
    """How a user runs the command: the installed console script, else ``python -m``."""
    script = Path(sys.executable).with_name("binance")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "binance.cli"]


def spawn(*argv: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="100")
    return subprocess.Popen(
        [*binance_command(), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        **kwargs,
    )


def refused_url() -> str:
    """An http URL on loopback where nothing listens (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
