"""Freshchat webhook signatures: every key format admins paste, every way a check fails."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from opencx_bridge.freshchat.signature import (
    InvalidPublicKey,
    SignatureError,
    fingerprint,
    freshchat_armour,
    generate_private_key,
    load_public_key,
    sign,
    verify,
)

FIXTURES = Path(__file__).parent / "fixtures" / "freshchat"
BODY = b'{"action":"message_create","data":{"message":{"id":"m-1"}}}'


@pytest.fixture(scope="module")
def private_key() -> RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def other_private_key() -> RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def public_key(private_key):
    return private_key.public_key()


def _pem(public_key, fmt: serialization.PublicFormat) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, fmt).decode()


def _der_b64(public_key, fmt: serialization.PublicFormat) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, fmt)
    return base64.b64encode(der).decode()


def _one_line(pem: str) -> str:
    return pem.replace("\n", "")


def _same_key(a, b) -> bool:
    return a.public_numbers() == b.public_numbers()


# --- accepted key formats -------------------------------------------------------------


def test_freshchat_armour_is_one_line_rsa_label_around_spki(public_key):
    armour = freshchat_armour(public_key)
    assert "\n" not in armour
    assert armour.startswith("-----BEGIN RSA PUBLIC KEY-----MII")
    assert armour.endswith("-----END RSA PUBLIC KEY-----")
    inner = armour.removeprefix("-----BEGIN RSA PUBLIC KEY-----")
    inner = inner.removesuffix("-----END RSA PUBLIC KEY-----")
    assert base64.b64decode(inner)[:4] == bytes.fromhex("30820122")  # SPKI, not PKCS#1


def test_loads_freshchat_armour_one_line(public_key):
    assert _same_key(load_public_key(freshchat_armour(public_key)), public_key)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda a: a.replace("-----BEGIN RSA PUBLIC KEY-----", "-----BEGIN RSA PUBLIC KEY----- ")
        .replace("-----END", " -----END"),
        lambda a: a.replace("KEY-----", "KEY-----\n", 1).replace("-----END", "\n-----END"),
        lambda a: "\r\n  " + a.replace("KEY-----", "KEY-----\r\n", 1) + "\r\n\n",
        lambda a: a[:100] + "\n" + a[100:200] + " \t" + a[200:],
    ],
    ids=["spaces", "newlines", "crlf-and-padding", "broken-mid-body"],
)
def test_loads_freshchat_armour_with_whitespace(public_key, mangle):
    assert _same_key(load_public_key(mangle(freshchat_armour(public_key))), public_key)


def test_loads_genuine_pkcs1_pem_multiline(public_key):
    pem = _pem(public_key, serialization.PublicFormat.PKCS1)
    assert pem.startswith("-----BEGIN RSA PUBLIC KEY-----\n")
    assert _same_key(load_public_key(pem), public_key)


def test_loads_genuine_pkcs1_pem_one_line(public_key):
    pem = _one_line(_pem(public_key, serialization.PublicFormat.PKCS1))
    assert _same_key(load_public_key(pem), public_key)


def test_loads_spki_pem_multiline(public_key):
    pem = _pem(public_key, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert _same_key(load_public_key(pem), public_key)


def test_loads_spki_pem_one_line_with_crlf_padding(public_key):
    pem = _one_line(_pem(public_key, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert _same_key(load_public_key(f"  \r\n{pem}\r\n"), public_key)


def test_loads_bare_base64_spki_der(public_key):
    text = _der_b64(public_key, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert _same_key(load_public_key(text), public_key)


def test_loads_bare_base64_pkcs1_der(public_key):
    text = _der_b64(public_key, serialization.PublicFormat.PKCS1)
    assert _same_key(load_public_key(text), public_key)


# --- rejected keys ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \r\n\t "], ids=["empty", "whitespace"])
def test_rejects_empty_key(text):
    with pytest.raises(InvalidPublicKey, match="empty.*accepted formats"):
        load_public_key(text)


def test_rejects_garbage_that_is_not_base64():
    with pytest.raises(InvalidPublicKey, match="not valid base64.*accepted formats"):
        load_public_key("-----BEGIN PUBLIC KEY----- this is not a key! -----END PUBLIC KEY-----")


def test_rejects_base64_that_is_not_a_key():
    junk = base64.b64encode(b"hello, I am definitely not DER").decode()
    with pytest.raises(InvalidPublicKey, match="neither an X.509.*nor a PKCS#1"):
        load_public_key(junk)


def test_rejects_armour_with_nothing_inside():
    with pytest.raises(InvalidPublicKey, match="no content"):
        load_public_key("-----BEGIN RSA PUBLIC KEY----------END RSA PUBLIC KEY-----")


def test_rejects_non_rsa_key():
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(InvalidPublicKey, match="not an RSA key"):
        load_public_key(_pem(ec_public, serialization.PublicFormat.SubjectPublicKeyInfo))


def test_rejects_a_private_key_pasted_by_mistake(private_key):
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(InvalidPublicKey, match="'PRIVATE KEY', not a public key"):
        load_public_key(pem)


def test_invalid_public_key_is_a_value_error():
    assert issubclass(InvalidPublicKey, ValueError)


# --- verification ---------------------------------------------------------------------


def test_signed_body_verifies(private_key, public_key):
    verify(BODY, sign(BODY, private_key), public_key)


def test_header_with_surrounding_whitespace_verifies(private_key, public_key):
    verify(BODY, f"  {sign(BODY, private_key)}\r\n", public_key)


def test_verifies_with_key_loaded_from_freshchat_armour(private_key, public_key):
    loaded = load_public_key(freshchat_armour(public_key))
    verify(BODY, sign(BODY, private_key), loaded)


@pytest.mark.parametrize("header", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_missing_signature(public_key, header):
    with pytest.raises(SignatureError, match="^missing X-Freshchat-Signature header$"):
        verify(BODY, header, public_key)


@pytest.mark.parametrize("header", ["not base64!!", "abc", "üñï"], ids=["symbols", "short", "utf8"])
def test_signature_not_base64(public_key, header):
    with pytest.raises(SignatureError, match="^X-Freshchat-Signature is not valid base64$"):
        verify(BODY, header, public_key)


def test_tampered_body_fails(private_key, public_key):
    signature = sign(BODY, private_key)
    with pytest.raises(SignatureError, match="does not match the body"):
        verify(BODY.replace(b"m-1", b"m-2"), signature, public_key)


def test_wrong_key_fails(other_private_key, public_key):
    with pytest.raises(SignatureError, match=r"wrong public key, or the body was altered"):
        verify(BODY, sign(BODY, other_private_key), public_key)


def test_valid_base64_of_wrong_length_is_a_mismatch(public_key):
    with pytest.raises(SignatureError, match="does not match the body"):
        verify(BODY, base64.b64encode(b"\x00" * 16).decode(), public_key)


def test_korean_and_emoji_body_verifies_over_raw_bytes(private_key, public_key):
    raw = (FIXTURES / "message_create_korean_emoji.json").read_bytes()
    assert "안녕하세요".encode() in raw and "😢".encode() in raw
    verify(raw, sign(raw, private_key), public_key)


def test_reserialised_json_does_not_verify(private_key, public_key):
    """Why the bridge must verify request bytes, never json.dumps(request.json)."""
    raw = (FIXTURES / "message_create_korean_emoji.json").read_bytes()
    signature = sign(raw, private_key)
    reserialised = json.dumps(json.loads(raw)).encode()
    assert reserialised != raw and b"\\uc548" in reserialised  # Korean escaped by ensure_ascii
    with pytest.raises(SignatureError, match="does not match the body"):
        verify(reserialised, signature, public_key)


def test_verify_refuses_decoded_text(private_key, public_key):
    with pytest.raises(TypeError, match="raw body bytes"):
        verify(BODY.decode(), sign(BODY, private_key), public_key)  # type: ignore[arg-type]


# --- helpers ---------------------------------------------------------------------------


def test_generated_key_is_2048_bit(private_key):
    assert private_key.key_size == 2048


def test_fingerprint_is_short_stable_and_format_independent(public_key, other_private_key):
    short = fingerprint(public_key)
    assert len(short) == 16 and int(short, 16) >= 0
    pkcs1 = _pem(public_key, serialization.PublicFormat.PKCS1)
    assert fingerprint(load_public_key(pkcs1)) == short
    assert fingerprint(other_private_key.public_key()) != short
