"""Secrets at rest: encrypted under SECRET_KEY, compared by digest, never shown."""

import pytest
from flask import Flask

from opencx_bridge.store import secrets_box
from opencx_bridge.store.secrets_box import SecretUnreadable

TOKEN = "fc-access-token-Zq8xW2"


@pytest.fixture
def keyed():
    """An app context keyed with one SECRET_KEY; the box needs nothing else."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "first-secret-key"
    with app.app_context():
        yield app


def test_what_is_encrypted_decrypts_to_the_same_text(keyed):
    for plain in (TOKEN, "", "토큰 🔑 with spaces", "x" * 5000):
        assert secrets_box.decrypt(secrets_box.encrypt(plain)) == plain


def test_the_ciphertext_does_not_contain_the_plaintext(keyed):
    token = secrets_box.encrypt(TOKEN)
    assert TOKEN not in token
    assert "Zq8xW2" not in token


def test_encrypting_twice_gives_different_ciphertexts(keyed):
    assert secrets_box.encrypt(TOKEN) != secrets_box.encrypt(TOKEN)


def test_a_secret_stored_under_another_secret_key_is_unreadable(keyed):
    token = secrets_box.encrypt(TOKEN)
    keyed.config["SECRET_KEY"] = "second-secret-key"
    with pytest.raises(SecretUnreadable, match="SECRET_KEY"):
        secrets_box.decrypt(token)


def test_a_secret_is_readable_again_with_the_original_key(keyed):
    token = secrets_box.encrypt(TOKEN)
    keyed.config["SECRET_KEY"] = "second-secret-key"
    with pytest.raises(SecretUnreadable):
        secrets_box.decrypt(token)
    keyed.config["SECRET_KEY"] = "first-secret-key"
    assert secrets_box.decrypt(token) == TOKEN


@pytest.mark.parametrize("garbage", ["", "not a fernet token", "gAAAAA", "é"])
def test_garbage_is_unreadable_not_a_crash(keyed, garbage):
    with pytest.raises(SecretUnreadable):
        secrets_box.decrypt(garbage)


def test_the_digest_is_stable_and_is_not_the_secret():
    assert secrets_box.digest(TOKEN) == secrets_box.digest(TOKEN)
    assert secrets_box.digest(TOKEN) != secrets_box.digest(TOKEN + "x")
    assert TOKEN not in secrets_box.digest(TOKEN)


def test_same_secret_is_true_only_for_the_right_value():
    stored = secrets_box.digest(TOKEN)
    assert secrets_box.same_secret(TOKEN, stored) is True
    assert secrets_box.same_secret(TOKEN + "x", stored) is False
    assert secrets_box.same_secret(TOKEN.upper(), stored) is False
    assert secrets_box.same_secret("", stored) is False


@pytest.mark.parametrize("missing", [None, ""])
def test_same_secret_is_false_when_nothing_is_stored(missing):
    assert secrets_box.same_secret(TOKEN, missing) is False
    assert secrets_box.same_secret("", missing) is False


def test_the_mask_says_a_secret_is_saved_without_revealing_any_of_it():
    secrets = ["q", "Zq8xW2", TOKEN, "토큰🔑", "y" * 300]
    masks = {secrets_box.mask(secret) for secret in secrets}
    assert len(masks) == 1, "the mask must not depend on the secret (length, characters)"
    [shown] = masks
    assert shown
    for secret in secrets:
        assert secret not in shown


@pytest.mark.parametrize("nothing", [None, ""])
def test_the_mask_is_empty_when_no_secret_is_set(nothing):
    assert secrets_box.mask(nothing) == ""
