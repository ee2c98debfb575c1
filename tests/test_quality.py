"""Static checks as tests: ``ruff check``, ``ruff format --check`` and ``mypy --strict``.

Each runs the tool the way a contributor would (STYLE.md §10), from the repository root with the
project's own configuration (pyproject.toml), and fails with the tool's output, so a red run
says which file and line to fix. ruff is in the ``test`` extra; the mypy check is skipped where
mypy is not installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What ruff checks: the package, the tests and the benchmarks.
RUFF_PATHS = ("src", "tests", "benchmarks")
#: Generous bound for one tool run; the tools take seconds.
TOOL_TIMEOUT_S = 300


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        check=False,
    )


def _verdict(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit status {result.returncode}\n{result.stdout}\n{result.stderr}"


def test_ruff_check_is_clean():
    """``ruff check src tests benchmarks`` finds nothing (rules E, F, W, I, B, UP)."""
    result = _run("ruff", "check", "--no-fix", *RUFF_PATHS)
    assert result.returncode == 0, _verdict(result)


def test_ruff_format_is_clean():
    """``ruff format --check src tests benchmarks``: every file is already formatted."""
    result = _run("ruff", "format", "--check", *RUFF_PATHS)
    assert result.returncode == 0, _verdict(result)


def test_mypy_strict_is_clean():
    """``mypy --strict src/binance`` reports no error."""
    pytest.importorskip("mypy", reason="mypy is not installed")
    result = _run("mypy", "--strict", "src/binance")
    assert result.returncode == 0, _verdict(result)
