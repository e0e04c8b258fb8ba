"""Dashboard accounts: create, check a password, list, delete; the last admin stays."""

import pytest

from opencx_bridge.store import users
from opencx_bridge.store.users import UserError

PASSWORD = "ten chars!"  # exactly the minimum


def test_a_new_account_is_stored_with_a_hashed_password(ctx):
    user = users.create("  Ada@Example.COM ", PASSWORD, "admin")
    assert (user.email, user.role, user.is_admin) == ("ada@example.com", "admin", True)
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert users.count() == 1
    assert users.find("ADA@example.com ") == user


def test_a_viewer_is_not_an_admin(ctx):
    assert users.create("vic@example.com", PASSWORD, "viewer").is_admin is False


@pytest.mark.parametrize("email, password, role, message", [
    ("ada@example.com", "nine char", "admin", "password must be at least 10 characters"),
    ("ada@example.com", "", "admin", "password must be at least 10 characters"),
    ("ada@example.com", None, "admin", "password must be at least 10 characters"),
    ("ada@example.com", PASSWORD, "owner", "role must be one of admin, viewer, not 'owner'"),
    ("ada.example.com", PASSWORD, "admin", "'ada.example.com' is not an email address"),
    ("", PASSWORD, "admin", "'' is not an email address"),
    (None, PASSWORD, "admin", "'' is not an email address"),
])
def test_bad_input_is_refused_with_a_clear_message(ctx, email, password, role, message):
    with pytest.raises(UserError) as caught:
        users.create(email, password, role)
    assert str(caught.value) == message
    assert users.count() == 0


def test_an_email_can_only_be_used_once_whatever_its_case(ctx):
    users.create("ada@example.com", PASSWORD, "admin")
    with pytest.raises(UserError, match="a user with the email ada@example.com already exists"):
        users.create("ADA@example.com", PASSWORD, "viewer")
    assert users.count() == 1


def test_the_right_password_signs_in_and_records_when(ctx):
    users.create("ada@example.com", PASSWORD, "admin")
    assert users.find("ada@example.com").last_login_at is None
    user = users.authenticate(" Ada@Example.com", PASSWORD)
    assert user is not None and user.email == "ada@example.com"
    assert user.last_login_at is not None


@pytest.mark.parametrize("email, password", [
    ("ada@example.com", "ten chars?"),
    ("ada@example.com", ""),
    ("ada@example.com", None),
    ("bob@example.com", PASSWORD),
    ("", PASSWORD),
    (None, None),
])
def test_anything_else_does_not(ctx, email, password):
    users.create("ada@example.com", PASSWORD, "admin")
    assert users.authenticate(email, password) is None
    assert users.find("ada@example.com").last_login_at is None


def test_users_are_listed_by_email(ctx):
    for email in ("carol@example.com", "ada@example.com", "bob@example.com"):
        users.create(email, PASSWORD, "viewer")
    assert [u.email for u in users.all_users()] == [
        "ada@example.com", "bob@example.com", "carol@example.com"]


def test_a_user_can_be_deleted(ctx):
    users.create("ada@example.com", PASSWORD, "admin")
    users.create("vic@example.com", PASSWORD, "viewer")
    users.delete(" VIC@example.com")
    assert [u.email for u in users.all_users()] == ["ada@example.com"]


def test_deleting_an_unknown_user_says_so(ctx):
    with pytest.raises(UserError, match="no user has the email nobody@example.com"):
        users.delete("nobody@example.com")


def test_the_last_admin_cannot_be_deleted(ctx):
    users.create("ada@example.com", PASSWORD, "admin")
    users.create("vic@example.com", PASSWORD, "viewer")
    with pytest.raises(UserError, match="cannot delete the last admin"):
        users.delete("ada@example.com")
    assert users.count() == 2


def test_an_admin_can_be_deleted_while_another_remains(ctx):
    users.create("ada@example.com", PASSWORD, "admin")
    users.create("bob@example.com", PASSWORD, "admin")
    users.delete("ada@example.com")
    with pytest.raises(UserError, match="cannot delete the last admin"):
        users.delete("bob@example.com")
    assert [u.email for u in users.all_users()] == ["bob@example.com"]


def test_a_new_users_session_version_starts_at_random(app):
    """SQLite may reuse a deleted user's id: the old cookie's version must not match."""
    with app.app_context():
        versions = {users.create(f"u{n}@example.com", "correct horse battery",
                                 "viewer").session_version for n in range(5)}
    assert len(versions) > 1 and all(0 <= v < 2**30 for v in versions)
