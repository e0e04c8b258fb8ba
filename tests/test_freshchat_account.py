"""Test & Save: input checks and every Freshchat answer, against the real stand-in."""

import socket

import pytest

from opencx_bridge.freshchat.account import (
    TOKEN_REJECTED,
    ConnectError,
    ConnectRequest,
    normalise_domain,
    recheck,
)
from opencx_bridge.freshchat.account import test_connection as check
from opencx_bridge.freshchat.client import FreshchatClient
from opencx_bridge.standin.seed import AI_EMAIL


@pytest.mark.parametrize("given, expected", [
    ("https://acme.freshchat.com/", "acme.freshchat.com"),
    ("ACME.Freshchat.com", "acme.freshchat.com"),
    ("  http://acme.freshchat.com  ", "acme.freshchat.com"),
    ("api.eu.freshchat.com", "api.eu.freshchat.com"),
    ("bundle.myfreshworks.com", "bundle.myfreshworks.com"),
])
def test_domains_are_normalised(given, expected):
    assert normalise_domain(given) == expected


@pytest.mark.parametrize("given", [
    "acme.freshchat.com/a/123", "https://acme.freshchat.com/v2", "acme.freshchat.com:8443",
    "acme freshchat.com", "localhost", "", "ftp://acme.freshchat.com", "-acme.freshchat.com",
    "acme.freshchat.com?x=1", "10.0.0.1", "user@acme.freshchat.com",
])
def test_bad_domains_name_the_field_and_the_expected_form(given):
    with pytest.raises(ConnectError) as caught:
        normalise_domain(given)
    assert caught.value.field == "domain"
    assert "yourcompany.freshchat.com" in caught.value.message


def request_for(standin, **changes):
    values = dict(domain="acme.freshchat.com", access_token=standin.token,
                  default_agent_email=AI_EMAIL, auto_handle_all=True, webhook_public_key=None)
    values.update(changes)
    return ConnectRequest(**values)


def test_a_good_connection_resolves_the_agent(standin):
    verified = check(request_for(standin, default_agent_email="  AI@Acme.TEST "),
                     api_base=standin.base_url)
    assert verified.agent_id == standin.ai_agent["id"]
    assert verified.agent_name == "Aiden Bot"
    assert verified.domain == "acme.freshchat.com"


def test_the_agent_is_found_on_a_later_page(standin):
    for number in range(120):
        standin.add_agent(f"rep{number}@acme.test", "Rep", str(number))
    standin.add_agent("late@acme.test", "Lena", "Late")
    verified = check(request_for(standin, default_agent_email="LATE@acme.test"),
                     api_base=standin.base_url)
    assert verified.agent_name == "Lena Late"


def failure(standin, **changes) -> ConnectError:
    with pytest.raises(ConnectError) as caught:
        check(request_for(standin, **changes), api_base=changes.pop("api_base", standin.base_url),
              timeout=2)
    return caught.value


def test_a_rejected_token(standin):
    error = failure(standin, access_token="rotated-away")
    assert (error.field, error.message) == ("access_token", TOKEN_REJECTED)


def test_a_token_without_permission(standin):
    standin.add_token("forbidden-token", forbidden=True)
    error = failure(standin, access_token="forbidden-token")
    assert error.field == "access_token"
    assert "lacks conversation-management permission" in error.message


def test_an_unknown_agent_email(standin):
    error = failure(standin, default_agent_email="nobody@acme.test")
    assert error.field == "default_agent_email"
    assert "nobody@acme.test" in error.message


def test_a_deactivated_agent(standin):
    standin.add_agent("sleepy@acme.test", "Sleepy", "Bot", deactivated=True)
    error = failure(standin, default_agent_email="sleepy@acme.test")
    assert "deactivated" in error.message


def test_a_deleted_agent(standin):
    standin.add_agent("gone@acme.test", "Gone", "Bot", deleted=True)
    error = failure(standin, default_agent_email="gone@acme.test")
    assert error.message == ("the agent gone@acme.test was deleted in Freshchat: "
                             "choose another agent")


def test_an_unreachable_host(standin):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectError) as caught:
        check(request_for(standin), api_base=f"http://127.0.0.1:{port}/v2", timeout=2)
    assert caught.value.message.startswith("could not reach https://acme.freshchat.com")


def test_a_bad_public_key_is_refused_before_calling_freshchat(standin):
    error = failure(standin, webhook_public_key="-----BEGIN PUBLIC KEY----- nonsense")
    assert error.field == "webhook_public_key"
    assert standin.calls == []


def test_freshchats_one_line_key_is_accepted(standin):
    verified = check(request_for(standin, webhook_public_key=standin.public_key_text),
                     api_base=standin.base_url)
    assert verified.webhook_public_key == standin.public_key_text.strip()


# recheck: Test & Save's verdict on a saved connection (the diagnostics) ---------------------

def rechecked(standin, saved_agent, **changes) -> tuple[ConnectError | None, list[str]]:
    """The error (None when it passes) and the paths it called."""
    before = len(standin.calls)
    request = request_for(standin, **changes)
    with FreshchatClient(standin.base_url, request.access_token, timeout=2) as client:
        try:
            recheck(client, request, saved_agent)
            error = None
        except ConnectError as exc:
            error = exc
    return error, [c["path"] for c in standin.calls[before:]]


def test_recheck_of_an_active_saved_agent_asks_only_for_the_configuration(standin):
    for number in range(120):
        standin.add_agent(f"rep{number}@acme.test", "Rep", str(number))
    saved = standin.add_agent("late@acme.test", "Lena", "Late")
    error, paths = rechecked(standin, {**saved, "email": "Late@Acme.test"},
                             default_agent_email="late@acme.test")
    assert error is None
    assert paths == ["/v2/accounts/configuration"]  # Test & Save: 3 calls (2 agent pages)


@pytest.mark.parametrize("change, words", [
    ({"is_deactivated": True}, "is deactivated in Freshchat"),
    ({"is_deleted": True}, "was deleted in Freshchat"),
    ({"email": "renamed@acme.test"}, f"no Freshchat agent has the email {AI_EMAIL}"),
])
def test_recheck_walks_like_test_and_save_when_the_saved_agent_is_not_active(standin, change,
                                                                             words):
    standin.update_agent(standin.ai_agent["id"], **change)
    error, paths = rechecked(standin, standin.agent(standin.ai_agent["id"]))
    assert error.field == "default_agent_email" and words in error.message
    assert paths == ["/v2/accounts/configuration", "/v2/agents"]


def test_recheck_finds_an_agent_recreated_under_the_same_email(standin):
    standin.delete_agent(standin.ai_agent["id"])  # the saved id answers 404: no saved agent
    standin.add_agent(AI_EMAIL, "Aiden", "Again")
    error, paths = rechecked(standin, None)
    assert error is None and paths == ["/v2/accounts/configuration", "/v2/agents"]


def test_recheck_of_a_rejected_token_stops_at_the_configuration(standin):
    error, paths = rechecked(standin, standin.ai_agent, access_token="rotated-away")
    assert (error.field, error.message) == ("access_token", TOKEN_REJECTED)
    assert paths == ["/v2/accounts/configuration"]
