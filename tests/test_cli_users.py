"""`flask users create|list|delete`, as an operator on the server would use them."""


import pytest

from opencx_bridge.store import users

PASSWORD = "correct horse battery"


pytestmark = pytest.mark.usefixtures("quick_password_hashes")  # see conftest


def emails(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(u.email, u.role) for u in users.all_users()]


def create(runner, email="ada@example.com", role="admin", password=PASSWORD, **kwargs):
    args = ["users", "create", email, "--role", role]
    if password is not None:
        args += ["--password", password]
    return runner.invoke(args=args, **kwargs)


def test_create_an_admin(app, runner):
    result = create(runner, email="Ada@Example.com")
    assert result.exit_code == 0, result.output
    assert result.output == "created admin ada@example.com\n"
    assert emails(app) == [("ada@example.com", "admin")]
    with app.app_context():
        assert users.authenticate("ada@example.com", PASSWORD) is not None


def test_create_a_viewer(app, runner):
    assert create(runner, email="vic@example.com", role="viewer").exit_code == 0
    assert emails(app) == [("vic@example.com", "viewer")]


def test_the_password_is_prompted_twice_and_not_echoed(app, runner):
    result = create(runner, password=None, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    assert PASSWORD not in result.output
    with app.app_context():
        assert users.authenticate("ada@example.com", PASSWORD) is not None


def test_a_mistyped_confirmation_is_asked_again(app, runner):
    result = create(runner, password=None,
                    input=f"{PASSWORD}\ntypo\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert emails(app) == [("ada@example.com", "admin")]


def test_a_short_prompted_password_is_refused(app, runner):
    result = create(runner, password=None, input="short\nshort\n")
    assert result.exit_code == 1
    assert "Error: password must be at least 10 characters" in result.output
    assert emails(app) == []


@pytest.mark.parametrize("args, message", [
    (dict(role="owner"), "Invalid value for '--role': 'owner' is not one of 'admin', 'viewer'"),
    (dict(password="short"), "Error: password must be at least 10 characters"),
    (dict(email="not-an-email"), "Error: 'not-an-email' is not an email address"),
])
def test_bad_input_fails_with_a_clear_message(app, runner, args, message):
    result = create(runner, **args)
    assert result.exit_code != 0
    assert message in result.output
    assert emails(app) == []


def test_the_role_is_required(app, runner):
    result = runner.invoke(args=["users", "create", "ada@example.com", "--password", PASSWORD])
    assert result.exit_code == 2
    assert "Missing option '--role'" in result.output
    assert emails(app) == []


def test_a_duplicate_email_fails(app, runner):
    create(runner)
    result = create(runner, email="ADA@example.com", role="viewer")
    assert result.exit_code == 1
    assert "Error: a user with the email ada@example.com already exists" in result.output
    assert emails(app) == [("ada@example.com", "admin")]


def test_list_with_no_users_says_how_to_add_one(runner):
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert "no users yet" in result.output


def test_list_shows_every_user_with_role_and_last_login(app, runner):
    create(runner, email="bob@example.com", role="viewer")
    create(runner, email="ada@example.com")
    with app.app_context():
        users.authenticate("ada@example.com", PASSWORD)
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    ada, bob = result.output.splitlines()
    assert ada.startswith("ada@example.com\tadmin\tlast login 20")
    assert bob == "bob@example.com\tviewer\tlast login never"
    assert PASSWORD not in result.output


def test_delete_a_user(app, runner):
    create(runner)
    create(runner, email="vic@example.com", role="viewer")
    result = runner.invoke(args=["users", "delete", "VIC@example.com"])
    assert result.exit_code == 0
    assert result.output == "deleted vic@example.com\n"
    assert emails(app) == [("ada@example.com", "admin")]


def test_deleting_an_unknown_user_fails(app, runner):
    result = runner.invoke(args=["users", "delete", "nobody@example.com"])
    assert result.exit_code == 1
    assert "Error: no user has the email nobody@example.com" in result.output


def test_the_last_admin_cannot_be_deleted(app, runner):
    create(runner)
    create(runner, email="vic@example.com", role="viewer")
    result = runner.invoke(args=["users", "delete", "ada@example.com"])
    assert result.exit_code == 1
    assert "Error: cannot delete the last admin" in result.output
    assert emails(app) == [("ada@example.com", "admin"), ("vic@example.com", "viewer")]


def test_a_user_made_on_the_command_line_can_sign_in(app, runner):
    from conftest import login

    create(runner)
    client = app.test_client()
    assert login(client, "ada@example.com", PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
