"""`binance sim`: prints one JSON line, serves, exits 0 on SIGINT/SIGTERM."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys

import pytest
import requests

from binance.sim import LocalExchange
from waiting import TIMEOUT_SCALE

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _start(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from binance.cli import main; sys.exit(main())",
            "sim",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _first_line(proc: subprocess.Popen) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], 60 * TIMEOUT_SCALE)
    assert ready, "binance sim printed nothing"
    return proc.stdout.readline().decode()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_json_line_serves_and_exits_cleanly(sig):
    """One JSON line with URLs and keys; the REST API answers; the signal stops it with 0."""
    proc = _start("--seed", "5", "--port", "0")
    try:
        info = json.loads(_first_line(proc))
        assert set(info) == {
            "rest_url",
            "stream_url",
            "ws_api_url",
            "api_key",
            "api_secret",
            "keys",
        }
        assert info["rest_url"].startswith("http://127.0.0.1:")
        assert info["ws_api_url"] == info["stream_url"] + "/ws-api/v3"
        assert (
            requests.get(info["rest_url"] + "/api/v3/ping", timeout=10 * TIMEOUT_SCALE).json() == {}
        )
        types = {k["key_type"] for k in info["keys"]}
        assert types == {"HMAC", "RSA", "Ed25519"}
        for key in info["keys"]:
            if key["key_type"] != "HMAC":
                assert key["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
        if sig == signal.SIGTERM:  # same seed, same keys (an unstarted LocalExchange has them)
            local = LocalExchange(seed=5)
            assert info["keys"] == local.keys
            assert (info["api_key"], info["api_secret"]) == (local.api_key, local.api_secret)
        proc.send_signal(sig)
        assert proc.wait(timeout=30 * TIMEOUT_SCALE) == 0
        assert proc.stdout.read() == b""  # exactly one line
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_bad_setting_fails_with_a_message():
    """An unknown --set name stops the command with an error, not a traceback loop."""
    proc = _start("--set", "no_such_setting=1")
    try:
        assert proc.wait(timeout=60 * TIMEOUT_SCALE) != 0
        assert b"no_such_setting" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
