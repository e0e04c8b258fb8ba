"""Freshchat webhook signature: RSA PKCS#1 v1.5 + SHA-256 over the raw body bytes.

Freshchat signs every webhook with its private key and puts the base64 signature in
the ``X-Freshchat-Signature`` header. It is not an HMAC: the admin pastes Freshchat's
*public* key into the bridge. The key Freshchat shows is labelled ``RSA PUBLIC KEY``
(PKCS#1) but usually carries an X.509 SubjectPublicKeyInfo inside, often on one
line, so the loader ignores the label and tries both DER layouts.

The body must be verified exactly as received: re-serialising the JSON changes the
bytes (escaping of Korean, emoji, key order, spacing) and breaks the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = [
    "InvalidPublicKey",
    "SignatureError",
    "fingerprint",
    "freshchat_armour",
    "generate_private_key",
    "load_public_key",
    "sign",
    "verify",
]

HEADER = "X-Freshchat-Signature"

ACCEPTED_FORMATS = (
    "accepted formats: Freshchat's '-----BEGIN RSA PUBLIC KEY----- ... -----END RSA PUBLIC "
    "KEY-----' (one line or several), a PKCS#1 'RSA PUBLIC KEY' PEM, an X.509 'PUBLIC KEY' "
    "PEM, or the bare base64 of either"
)

_ARMOUR = re.compile(r"-----(BEGIN|END) ([A-Z0-9 ]+)-----")
_PUBLIC_LABELS = frozenset({"PUBLIC KEY", "RSA PUBLIC KEY"})
_WHITESPACE = re.compile(r"\s+")


class InvalidPublicKey(ValueError):
    """The configured Freshchat public key cannot be used; the message says why."""


class SignatureError(Exception):
    """A webhook failed signature verification; the message names the reason."""


def load_public_key(text: str) -> RSAPublicKey:
    """Parse the key an admin pasted, whatever armour or line breaks it came with."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidPublicKey(f"the public key is empty; {ACCEPTED_FORMATS}")
    der = _decode_base64_body(_strip_armour(text.strip()))
    key = _load_der(der)
    if not isinstance(key, RSAPublicKey):
        raise InvalidPublicKey(
            f"the public key is not an RSA key ({type(key).__name__}); "
            f"Freshchat signs with RSA; {ACCEPTED_FORMATS}"
        )
    return key


def _strip_armour(text: str) -> str:
    """Drop BEGIN/END lines, refusing labels that are not a public key."""
    for match in _ARMOUR.finditer(text):
        label = match.group(2).strip()
        if label not in _PUBLIC_LABELS:
            raise InvalidPublicKey(
                f"the text is a '{label}', not a public key "
                f"(paste the public key from Freshchat's webhook settings); {ACCEPTED_FORMATS}"
            )
    return _WHITESPACE.sub("", _ARMOUR.sub("", text))


def _decode_base64_body(body: str) -> bytes:
    """Base64-decode the key body, tolerating missing padding but not stray characters."""
    if not body:
        raise InvalidPublicKey(f"the public key has no content between its armour lines; "
                               f"{ACCEPTED_FORMATS}")
    padded = body + "=" * (-len(body) % 4)
    try:
        der = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidPublicKey(f"the public key is not valid base64; {ACCEPTED_FORMATS}") from exc
    if not der:
        raise InvalidPublicKey(f"the public key decodes to nothing; {ACCEPTED_FORMATS}")
    return der


def _load_der(der: bytes) -> object:
    """Try X.509 SubjectPublicKeyInfo first (what Freshchat ships), then PKCS#1."""
    try:
        return serialization.load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass
    pkcs1_pem = _pem("RSA PUBLIC KEY", der)
    try:
        return serialization.load_pem_public_key(pkcs1_pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidPublicKey(
            f"the public key decodes but is neither an X.509 SubjectPublicKeyInfo nor a "
            f"PKCS#1 RSA public key; {ACCEPTED_FORMATS}"
        ) from exc


def _pem(label: str, der: bytes) -> bytes:
    """Wrap DER in PEM armour with 64-column lines."""
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]).encode()


def verify(raw: bytes, signature: str | None, public_key: RSAPublicKey) -> None:
    """Raise SignatureError unless `signature` signs exactly these bytes."""
    if isinstance(raw, str):
        raise TypeError("verify() needs the raw body bytes as received, not decoded text")
    if signature is None or not signature.strip():
        raise SignatureError(f"missing {HEADER} header")
    try:
        sig = base64.b64decode(_WHITESPACE.sub("", signature), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"{HEADER} is not valid base64") from exc
    try:
        public_key.verify(sig, bytes(raw), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureError(
            "signature does not match the body (wrong public key, or the body was altered)"
        ) from exc


def sign(raw: bytes, private_key: RSAPrivateKey) -> str:
    """Produce the header value Freshchat would send for this body (tests, stand-in)."""
    sig = private_key.sign(bytes(raw), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(sig).decode("ascii")


def generate_private_key() -> RSAPrivateKey:
    """A fresh 2048-bit key, the size Freshchat uses, for tests and the stand-in."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _spki_der(public_key: RSAPublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def freshchat_armour(public_key: RSAPublicKey) -> str:
    """Render the key the way Freshchat's settings page does: SPKI inside RSA armour, one line."""
    body = base64.b64encode(_spki_der(public_key)).decode("ascii")
    return f"-----BEGIN RSA PUBLIC KEY-----{body}-----END RSA PUBLIC KEY-----"


def fingerprint(public_key: RSAPublicKey) -> str:
    """Short SHA-256 of the SPKI DER so admins can compare keys at a glance."""
    return hashlib.sha256(_spki_der(public_key)).hexdigest()[:16]
