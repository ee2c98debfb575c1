"""Canonical query strings and the three REST signers (NOTES.md §2).

The payload Binance signs is the percent-encoded query string followed by the body, exactly as
sent (NOTES.md §2.1: encode *before* signing, mandatory for non-ASCII since 2026-01-15). We build
that string once, sign its bytes, and send those same bytes, so what is signed is what arrives.

HMAC-SHA256 gives a hex signature; RSA (PKCS#1 v1.5, SHA-256) and Ed25519 give base64, which is
percent-encoded when placed in the request. Secrets live only inside the signer objects, whose
``repr`` shows the key type and nothing else.

No I/O here (key files are read by the caller); imports nothing from the client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import quote

__all__ = [
    "Signer",
    "HmacSigner",
    "RsaSigner",
    "Ed25519Signer",
    "encode_params",
    "load_private_key_signer",
]


def _quote(text: str) -> str:
    # RFC 3986 unreserved characters stay; everything else (UTF-8 bytes) is %XX-encoded.
    return quote(text, safe="-_.~")


def encode_params(pairs: Iterable[tuple[str, str]]) -> str:
    """``k=v&k=v`` with names and values percent-encoded, in the given order."""
    out = []
    for name, value in pairs:
        # Fast path: most names and values are plain ASCII words or numbers.
        if value.isalnum() and value.isascii():
            out.append(f"{name}={value}")
        else:
            out.append(f"{name}={_quote(value)}")
    return "&".join(out)


class Signer(Protocol):
    """Turns the payload (query string + body, as sent) into the ``signature`` parameter."""

    key_type: str

    def sign(self, payload: bytes) -> str:
        """The signature, already percent-encoded for the wire."""
        ...


class HmacSigner:
    """HMAC-SHA256 with the API secret; hex output (NOTES.md §2.1)."""

    key_type = "HMAC"
    __slots__ = ("_mac",)

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode() if isinstance(secret, str) else bytes(secret)
        # A keyed template: copying it skips re-hashing the key on every call.
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def sign(self, payload: bytes) -> str:
        mac = self._mac.copy()
        mac.update(payload)
        return mac.hexdigest()

    def __repr__(self) -> str:
        return "HmacSigner(<secret redacted>)"


class RsaSigner:
    """RSASSA-PKCS1-v1_5 with SHA-256, base64 then percent-encoded (NOTES.md §2.1)."""

    key_type = "RSA"
    __slots__ = ("_key",)

    def __init__(self, private_key: Any) -> None:
        self._key = private_key

    def sign(self, payload: bytes) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        raw = self._key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return _quote(base64.b64encode(raw).decode("ascii"))

    def __repr__(self) -> str:
        return "RsaSigner(<private key redacted>)"


class Ed25519Signer:
    """Ed25519 over the payload bytes, base64 then percent-encoded (NOTES.md §2.1)."""

    key_type = "ED25519"
    __slots__ = ("_key",)

    def __init__(self, private_key: Any) -> None:
        self._key = private_key

    def sign(self, payload: bytes) -> str:
        return _quote(base64.b64encode(self._key.sign(payload)).decode("ascii"))

    def __repr__(self) -> str:
        return "Ed25519Signer(<private key redacted>)"


def load_private_key_signer(pem: bytes | str | Any, password: str | bytes | None = None) -> Signer:
    """A signer for an RSA or Ed25519 private key (PEM text/bytes, or a ``cryptography`` key).

    Args:
        pem: PEM-encoded PKCS#8 private key, or an already loaded key object.
        password: the PEM's passphrase, if it is encrypted.

    Raises:
        ValueError: the key is neither RSA nor Ed25519, or cannot be read (wrong passphrase...).
    """
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if isinstance(pem, (bytes, str)):
        data = pem.encode() if isinstance(pem, str) else pem
        secret = password.encode() if isinstance(password, str) else password
        try:
            key = load_pem_private_key(data, password=secret)
        except (ValueError, TypeError) as exc:
            # The library's message never contains key material; keep it, drop the traceback.
            raise ValueError(f"cannot load the private key: {exc}") from None
    else:
        key = pem
    if isinstance(key, rsa.RSAPrivateKey):
        return RsaSigner(key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519Signer(key)
    raise ValueError(f"unsupported private key type {type(key).__name__}: use RSA or Ed25519")
