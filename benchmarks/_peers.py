"""Run peer libraries side by side with ours: a throwaway venv and a JSON-in/JSON-out runner.

Every benchmark in this folder compares us with the peers users would otherwise pick
(``python-binance==1.0.37`` and ``ccxt``). The peers cannot live in our dev venv: python-binance's
import name is ``binance``, the same as ours. So this module keeps one venv for them under
``benchmarks/.peers/`` (gitignored), creates it on first use with ``python -m venv`` + ``pip``
(PyPI is the only network access needed), reuses it afterwards, and runs a snippet or a file there
in a subprocess whose last line of standard output is JSON.

Usage from a benchmark::

    from _peers import run_peer, peer_versions, print_table

    result = run_peer(PEER_CODE, args=[str(data_file)])   # dict parsed from the JSON line
    print_table("parse+apply+top5", {"us": ours, "python-binance": result["pb"]}, base="us")

This module imports nothing from ``binance`` and never touches the network except through pip.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "PEERS_DIR",
    "PEER_REQUIREMENTS",
    "ensure_peers",
    "peer_python",
    "peer_versions",
    "print_table",
    "run_peer",
]

#: Where the peers' venv lives (gitignored: ``benchmarks/.peers/``).
PEERS_DIR = Path(__file__).resolve().parent / ".peers"

#: What the peers' venv holds. Changing this list rebuilds the venv on next use.
PEER_REQUIREMENTS: tuple[str, ...] = ("python-binance==1.0.37", "ccxt", "orjson")

_MARKER = "requirements.sha256"


def _venv_dir() -> Path:
    return PEERS_DIR / "venv"


def peer_python() -> Path:
    """Path of the peers' venv interpreter (it may not exist yet; see `ensure_peers`)."""
    if os.name == "nt":  # pragma: no cover - benchmarks run on POSIX, kept for completeness
        return _venv_dir() / "Scripts" / "python.exe"
    return _venv_dir() / "bin" / "python"


def _fingerprint() -> str:
    text = "\n".join((sys.version, *PEER_REQUIREMENTS))
    return hashlib.sha256(text.encode()).hexdigest()


def ensure_peers(*, quiet: bool = True) -> Path:
    """Create the peers' venv and install `PEER_REQUIREMENTS` once; reuse it afterwards.

    Args:
        quiet: Hide pip's output (errors are still raised with pip's output attached).

    Returns:
        The venv's interpreter path.

    Raises:
        RuntimeError: ``pip install`` failed (typically: no access to PyPI).
    """
    python = peer_python()
    marker = PEERS_DIR / _MARKER
    if python.exists() and marker.exists() and marker.read_text().strip() == _fingerprint():
        return python
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    wanted = ", ".join(PEER_REQUIREMENTS)
    print(f"[peers] creating {_venv_dir()} with {wanted} ...", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(_venv_dir())
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *PEER_REQUIREMENTS]
    proc = subprocess.run(cmd, capture_output=quiet, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"installing the peers failed:\n{proc.stdout}\n{proc.stderr}")
    marker.write_text(_fingerprint() + "\n")
    return python


def run_peer(
    code: str | Path,
    *,
    args: Sequence[str] = (),
    stdin: bytes | None = None,
    timeout_s: float = 1800.0,
) -> Any:
    """Run Python in the peers' venv and return the JSON printed on its last output line.

    The child runs isolated (``python -I``) from inside ``benchmarks/.peers/``, so neither our
    source tree nor ``PYTHONPATH`` can shadow the peers' ``binance`` package.

    Args:
        code: Source text to run (``python -c``), or a path to a ``.py`` file.
        args: Command-line arguments, seen by the child as ``sys.argv[1:]``.
        stdin: Bytes fed to the child's standard input.
        timeout_s: Give up after this many seconds.

    Returns:
        The parsed JSON value of the last non-empty line the child printed.

    Raises:
        RuntimeError: The child exited with an error or printed no JSON.
    """
    python = ensure_peers()
    if isinstance(code, Path):
        cmd = [str(python), "-I", str(code.resolve()), *args]
    else:
        cmd = [str(python), "-I", "-c", code, *args]
    proc = subprocess.run(
        cmd,
        input=stdin,
        capture_output=True,
        cwd=PEERS_DIR,
        timeout=timeout_s,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    out = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(
            f"peer run failed ({proc.returncode}):\n{out}\n{proc.stderr.decode(errors='replace')}"
        )
    lines = [line for line in out.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError(f"peer run printed nothing:\n{proc.stderr.decode(errors='replace')}")
    return json.loads(lines[-1])


_VERSIONS_CODE = """
import json
from importlib.metadata import version
print(json.dumps({n: version(n) for n in ("python-binance", "ccxt", "orjson")}))
"""


def peer_versions() -> dict[str, str]:
    """Installed versions of the peers, for the benchmark's header line."""
    return dict(run_peer(_VERSIONS_CODE))


def print_table(
    title: str,
    rates: Mapping[str, float],
    *,
    base: str,
    unit: str = "ops/s",
) -> None:
    """Print one comparison: each entry's rate and its ratio to ``base`` (``base / other``).

    Args:
        title: What was measured.
        rates: Name -> operations per second (higher is better).
        base: The entry the ratios are relative to (usually ours).
        unit: Label of the rate column.
    """
    print(f"\n{title}")
    width = max(len(name) for name in rates)
    ref = rates[base]
    for name, rate in rates.items():
        ratio = "" if name == base else f"  {base} is {ref / rate:7.2f}x"
        print(f"  {name:<{width}}  {rate:>14,.0f} {unit}{ratio}")
