"""Helpers for the `binance` command's tests: run it in-process, as a subprocess, or on a pty."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from binance.cli import main
from waiting import TIMEOUT_SCALE

#: Environment variables that make ``rich`` treat any output as a terminal (some CI services
#: set FORCE_COLOR): cleared, so output is a terminal exactly when a test says so.
TERMINAL_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run ``binance ARGS`` in this process; returns (exit status, stdout, stderr)."""
    for name in TERMINAL_ENV:
        monkeypatch.delenv(name, raising=False)

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


def command_env(**extra: str) -> dict[str, str]:
    """The child's environment: unbuffered, 100 columns, not a terminal unless ``extra`` says."""
    env = {k: v for k, v in os.environ.items() if k not in TERMINAL_ENV}
    env.update(PYTHONUNBUFFERED="1", COLUMNS="100", **extra)
    return env


def spawn(*argv: str, env: dict[str, str] | None = None, text: bool = True, **kwargs):
    """Start ``binance ARGS`` with stdout and stderr piped."""
    return subprocess.Popen(
        [*binance_command(), *argv],
        stdout=kwargs.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env or command_env(),
        text=text,
        **kwargs,
    )


def stop_process(proc: subprocess.Popen) -> None:
    """Kill ``proc`` if it still runs and reap it (tests leave no process behind)."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


class OutputReader:
    """Reads a child's output as it arrives, with deadlines; no thread (a selector on the fd).

    Args:
        fd: a readable file descriptor (a pipe, or a pty's master side).
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = b""
        self.eof = False

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def read_until(self, predicate, seconds: float, what: str) -> str:
        """Read until ``predicate(text so far)`` holds; fail after ``seconds`` (scaled) or at
        the end of the output."""
        end = time.monotonic() + seconds * TIMEOUT_SCALE
        with selectors.DefaultSelector() as selector:
            selector.register(self.fd, selectors.EVENT_READ)
            while not predicate(self.text):
                if self.eof:
                    pytest.fail(f"output ended before {what}:\n{self.text[-3000:]}")
                left = end - time.monotonic()
                if left <= 0:
                    pytest.fail(f"timed out waiting for {what}:\n{self.text[-3000:]}")
                if selector.select(left):
                    self._read_some()
        return self.text

    def read_to_end(self, seconds: float) -> str:
        """Everything until the writer closes its side."""
        return self.read_until(lambda _: self.eof, seconds, "the end of the output")

    def _read_some(self) -> None:
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # a pty whose other side closed (EIO on Linux)
            chunk = b""
        if chunk:
            self.data += chunk
        else:
            self.eof = True


def refused_url() -> str:
    """An http URL on loopback where nothing listens (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
