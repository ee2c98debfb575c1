"""Signing: the documented HMAC vector (NOTES.md §2.2), RSA and Ed25519 verified with their keys."""

from __future__ import annotations

import base64
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from binance._signing import (
    Ed25519Signer,
    HmacSigner,
    RsaSigner,
    encode_params,
    load_private_key_signer,
)

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
PAYLOAD = (
    b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    b"&recvWindow=5000&timestamp=1499827319559"
)
SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_hmac_matches_the_documented_vector():
    """HMAC-SHA256 of the §2.2 payload is Binance's published signature."""
    assert HmacSigner(SECRET).sign(PAYLOAD) == SIGNATURE


def test_hmac_signer_is_reusable():
    """The keyed template is copied per call, so signing twice gives the same answer."""
    signer = HmacSigner(SECRET.encode())
    assert signer.sign(PAYLOAD) == signer.sign(PAYLOAD) == SIGNATURE
    assert signer.sign(b"") != SIGNATURE


def test_rsa_signature_verifies_with_the_public_key():
    """RSA PKCS#1 v1.5 / SHA-256, base64, percent-encoded: the public key verifies it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wire = RsaSigner(key).sign(PAYLOAD)
    assert "+" not in wire and "/" not in wire and "=" not in wire  # percent-encoded
    raw = base64.b64decode(unquote(wire))
    key.public_key().verify(raw, PAYLOAD, padding.PKCS1v15(), hashes.SHA256())


def test_ed25519_signature_verifies_with_the_public_key():
    """Ed25519 over the payload bytes, base64, percent-encoded."""
    key = ed25519.Ed25519PrivateKey.generate()
    wire = Ed25519Signer(key).sign(PAYLOAD)
    key.public_key().verify(base64.b64decode(unquote(wire)), PAYLOAD)


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_pem_keys_load_with_and_without_passphrase(kind):
    """PKCS#8 PEM keys load, encrypted ones with their passphrase; the signer type follows."""
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "rsa"
        else ed25519.Ed25519PrivateKey.generate()
    )
    plain = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    locked = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    )
    expected = RsaSigner if kind == "rsa" else Ed25519Signer
    assert isinstance(load_private_key_signer(plain), expected)
    assert isinstance(load_private_key_signer(locked.decode(), "pass"), expected)
    with pytest.raises(ValueError, match="cannot load"):
        load_private_key_signer(locked, "wrong")


def test_signers_never_show_secrets():
    """repr of a signer names its type only."""
    assert SECRET not in repr(HmacSigner(SECRET))
    assert "redacted" in repr(HmacSigner(SECRET))


def test_encode_params_percent_encodes_before_signing():
    """Non-ASCII and reserved characters are %XX-encoded (mandatory since 2026-01-15)."""
    text = encode_params(
        [("symbol", "这是测试币456"), ("price", "0.1"), ("symbols", '["A","B"]'), ("x", "a b&c")]
    )
    assert text == (
        "symbol=%E8%BF%99%E6%98%AF%E6%B5%8B%E8%AF%95%E5%B8%81456&price=0.1"
        "&symbols=%5B%22A%22%2C%22B%22%5D&x=a%20b%26c"
    )
    assert text.isascii()
