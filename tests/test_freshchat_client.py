"""FreshchatClient against the stand-in over real HTTP on 127.0.0.1."""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from opencx_bridge.freshchat import errors
from opencx_bridge.freshchat.client import (
    CallRecord,
    FreshchatClient,
    api_base_for,
    has_next_page,
)
from opencx_bridge.standin import Standin


@pytest.fixture
def client(standin: Standin) -> Iterator[FreshchatClient]:
    with FreshchatClient(standin.base_url, standin.token, timeout=5.0) as c:
        yield c


@pytest.fixture
def conversation(standin: Standin) -> dict[str, Any]:
    user = standin.add_user(email="casey@example.test")
    return standin.add_conversation(user["id"])


def ai_id(st: Standin) -> str:
    assert st.ai_agent is not None
    return st.ai_agent["id"]


# -- base URL --------------------------------------------------------------------------


def test_api_base_for_builds_from_domain_and_prefers_override() -> None:
    assert api_base_for("acme.freshchat.com") == "https://acme.freshchat.com/v2"
    assert api_base_for(" https://acme.freshchat.com/ ") == "https://acme.freshchat.com/v2"
    assert api_base_for("acme.freshchat.com", "http://127.0.0.1:9/v2/") == "http://127.0.0.1:9/v2"


# -- every call ------------------------------------------------------------------------


def test_get_configuration_sends_bearer_and_accept(client: FreshchatClient, standin: Standin):
    body = client.get_configuration()
    assert body["organisation_id"] == standin.organisation_id
    call = standin.calls_to("GET", "/accounts/configuration")[0]
    assert call["headers"]["Authorization"] == f"Bearer {standin.token}"
    assert call["headers"]["Accept"] == "application/json"
    assert "Content-Type" not in call["headers"]


def test_list_and_get_agent(client: FreshchatClient, standin: Standin) -> None:
    page = client.list_agents(page=1, items_per_page=1)
    assert len(page["agents"]) == 1
    assert page["pagination"]["total_pages"] == 2
    assert standin.calls[-1]["query"] == {"page": "1", "items_per_page": "1"}
    assert client.get_agent(ai_id(standin))["email"] == "ai@acme.test"


def test_get_user_and_conversation(
    client: FreshchatClient,
    standin: Standin,
    conversation: dict[str, Any],
) -> None:
    user_id = conversation["users"][0]["id"]
    assert client.get_user(user_id)["email"] == "casey@example.test"
    got = client.get_conversation(conversation["conversation_id"])
    assert got["conversation_id"] == conversation["conversation_id"]
    assert got["status"] == "new"


def test_assign_unassign_resolve_send_documented_bodies(
    client: FreshchatClient,
    standin: Standin,
    conversation: dict[str, Any],
) -> None:
    cid = conversation["conversation_id"]
    assert client.assign_conversation(cid, ai_id(standin))["assigned_agent_id"] == ai_id(standin)
    assert not client.unassign_conversation(cid)["assigned_agent_id"]
    assert client.resolve_conversation(cid)["status"] == "resolved"
    assert client.update_conversation(cid, {"status": "reopened"})["status"] == "reopened"
    bodies = [c["json"] for c in standin.calls_to("PUT", f"/conversations/{cid}")]
    assert bodies == [
        {"status": "assigned", "assigned_agent_id": ai_id(standin)},
        {"status": "new", "assigned_agent_id": ""},
        {"status": "resolved"},
        {"status": "reopened"},
    ]
    headers = standin.calls_to("PUT", "/conversations")[0]["headers"]
    assert headers["Content-Type"] == "application/json"


def test_post_message_body_and_list_messages(
    client: FreshchatClient,
    standin: Standin,
    conversation: dict[str, Any],
) -> None:
    cid = conversation["conversation_id"]
    created = client.post_message(cid, "Hallo 안녕 👋", ai_id(standin))
    note = client.post_message(cid, "internal", ai_id(standin), message_type="private")
    assert created["id"] and note["message_type"] == "private"
    assert standin.calls_to("POST", f"/conversations/{cid}/messages")[0]["json"] == {
        "message_type": "normal",
        "actor_type": "agent",
        "actor_id": ai_id(standin),
        "message_parts": [{"text": {"content": "Hallo 안녕 👋"}}],
    }
    listed = client.list_messages(cid, page=1, items_per_page=1)
    assert [m["id"] for m in listed["messages"]] == [note["id"]]
    assert "href" in listed["link"]
    with pytest.raises(ValueError):
        client.post_message(cid, "x", ai_id(standin), message_type="system")


# -- pagination ------------------------------------------------------------------------


def test_iter_agents_follows_three_pages_and_email_match_ignores_case(
    client: FreshchatClient,
    standin: Standin,
) -> None:
    for i in range(230):
        standin.add_agent(f"rep{i}@acme.test", "Rep", str(i))
    target = standin.add_agent("  Zed.Last@ACME.test", "Zed", "Last")  # lands on page 3

    assert len(list(client.iter_agents(items_per_page=100))) == 233
    found = client.find_agent_by_email("zed.last@acme.TEST ")
    assert found is not None and found["id"] == target["id"]
    pages = [c["query"]["page"] for c in standin.calls_to("GET", "/agents")]
    assert pages == ["1", "2", "3", "1", "2", "3"]
    assert client.find_agent_by_email("nobody@acme.test") is None


def test_find_agent_by_email_prefers_active_match(client: FreshchatClient, standin: Standin):
    standin.add_agent("dup@acme.test", "Old", "One", deactivated=True)
    active = standin.add_agent("DUP@acme.test", "New", "One")
    assert client.find_agent_by_email("dup@acme.test")["id"] == active["id"]  # type: ignore[index]
    standin.delete_agent(active["id"])
    assert client.find_agent_by_email("dup@acme.test")["is_deactivated"] is True  # type: ignore[index]


class CannedSession(requests.Session):
    """Answers every request with a page produced by ``page_for(n)``; no network."""

    def __init__(self, page_for: Any) -> None:
        super().__init__()
        self.page_for = page_for
        self.urls: list[str] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        self.urls.append(url)
        response = requests.Response()
        response.status_code = 200
        response._content = requests.compat.json.dumps(
            self.page_for(kwargs["params"]["page"])
        ).encode()
        return response


def test_iter_agents_stops_on_empty_page_and_at_the_cap() -> None:
    def endless(n: int) -> dict[str, Any]:
        return {"agents": [{"id": str(n)}], "links": {"next_page": {"href": "/next"}}}

    def empty_third(n: int) -> dict[str, Any]:
        agents = [] if n == 3 else [{"id": str(n)}]
        return {"agents": agents, "pagination": {"total_pages": 9}}

    with CannedSession(empty_third) as session:
        assert len(list(FreshchatClient("http://x/v2", "t", session=session).iter_agents())) == 2
        assert len(session.urls) == 3
    with CannedSession(endless) as session:
        assert len(list(FreshchatClient("http://x/v2", "t", session=session).iter_agents())) == 1000

    def ignores_page(n: int) -> dict[str, Any]:
        return {"agents": [{"id": "same"}], "pagination": {"total_pages": 5}}

    with CannedSession(ignores_page) as session:
        assert len(list(FreshchatClient("http://x/v2", "t", session=session).iter_agents())) == 1


@pytest.mark.parametrize(("body", "page", "more"), [
    ({"pagination": {"total_pages": 3}}, 2, True),
    ({"pagination": {"total_pages": 3}}, 3, False),
    ({"links": {"next_page": {"href": "/v2/agents?page=2"}}}, 1, True),
    ({"links": {}}, 1, False),
    ({"pagination": {"total_items": 250}}, 2, True),  # asked 100 a page: 200 seen of 250
    ({"pagination": {"total_items": 250}}, 3, False),
    ({"pagination": {"total_items": 25, "items_per_page": 10}}, 2, True),
    ({"pagination": {"total_items": 20, "items_per_page": 10}}, 2, False),
    ({"pagination": {"total_items": True}}, 1, False),
    ({"pagination": "12"}, 1, False),
    ({}, 1, False),
])
def test_the_next_agents_page_is_seen_in_any_of_the_three_forms(body, page, more):
    assert has_next_page(body, page, asked_per_page=100) is more


def test_iter_agents_walks_pages_that_only_say_how_many_agents_there_are() -> None:
    def counted(n: int) -> dict[str, Any]:
        agents = [{"id": f"{n}-{i}"} for i in range(100 if n < 3 else 50)]
        return {"agents": agents, "pagination": {"total_items": 250}}

    with CannedSession(counted) as session:
        assert len(list(FreshchatClient("http://x/v2", "t", session=session).iter_agents())) == 250
        assert len(session.urls) == 3


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class", "retryable"),
    [
        (401, errors.Unauthorized, False),
        (403, errors.Forbidden, False),
        (404, errors.NotFound, False),
        (400, errors.ClientError, False),
        (409, errors.ClientError, False),
        (422, errors.ClientError, False),
        (500, errors.ServerError, True),
        (503, errors.ServerError, True),
    ],
)
def test_status_codes_map_to_error_classes(
    client: FreshchatClient,
    standin: Standin,
    status: int,
    error_class: type[errors.FreshchatError],
    retryable: bool,
) -> None:
    body = {"code": status, "status": "SOMETHING_WRONG", "message": "it went wrong"}
    standin.fail_next("GET", "/v2/agents/*", status, body=body)
    with pytest.raises(error_class) as info:
        client.get_agent(ai_id(standin))
    assert type(info.value) is error_class
    assert (info.value.status, info.value.code, info.value.message) == (
        status,
        "SOMETHING_WRONG",
        "it went wrong",
    )
    assert info.value.retryable is retryable
    assert "it went wrong" in str(info.value) and str(status) in str(info.value)


def test_real_401_404_and_400_from_the_standin(client: FreshchatClient, standin: Standin):
    with pytest.raises(errors.NotFound) as info:
        client.get_agent("no-such-agent")
    assert info.value.code == "AGENT_NOT_FOUND"
    user = standin.add_user()
    cid = standin.add_conversation(user["id"])["conversation_id"]
    with pytest.raises(errors.ClientError) as bad:
        client.assign_conversation(cid, "no-such-agent")
    assert bad.value.status == 400 and bad.value.code == "AGENT_NOT_FOUND"
    standin.rotate_token("new-token")
    with pytest.raises(errors.Unauthorized):
        client.get_configuration()


def test_rate_limited_reads_retry_after_seconds_and_http_date(
    client: FreshchatClient,
    standin: Standin,
) -> None:
    standin.fail_next("GET", "/v2/accounts/configuration", 429, retry_after=7)
    with pytest.raises(errors.RateLimited) as info:
        client.get_configuration()
    assert info.value.retry_after == 7.0 and info.value.retryable

    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    standin.fail_next("GET", "/v2/accounts/configuration", 429, retry_after=when)
    with pytest.raises(errors.RateLimited) as dated:
        client.get_configuration()
    assert dated.value.retry_after is not None and 25 <= dated.value.retry_after <= 31

    standin.fail_next("GET", "/v2/accounts/configuration", 429)
    with pytest.raises(errors.RateLimited) as bare:
        client.get_configuration()
    assert bare.value.retry_after is None


def test_real_rate_limit_from_the_standin() -> None:
    with Standin(rate_limit_per_minute=2) as st, FreshchatClient(st.base_url, st.token) as c:
        c.get_configuration()
        c.get_configuration()
        with pytest.raises(errors.RateLimited) as info:
            c.get_configuration()
    assert info.value.retry_after is not None and 1 <= info.value.retry_after <= 60


def test_non_json_error_and_bad_2xx_bodies(client: FreshchatClient, standin: Standin):
    standin.fail_next("GET", "/accounts/configuration", 502, body="<html><b>Bad</b> gateway</html>")
    with pytest.raises(errors.ServerError) as proxy:
        client.get_configuration()
    assert proxy.value.code is None and "gateway" in proxy.value.message

    standin.fail_next("GET", "/accounts/configuration", 200, body="<html>login</html>")
    with pytest.raises(errors.BadResponse):
        client.get_configuration()
    standin.fail_next("GET", "/accounts/configuration", 200, body="[1, 2]")
    with pytest.raises(errors.BadResponse, match="JSON object"):
        client.get_configuration()


def closed_port_url() -> str:
    """A base URL nothing listens on: bind a free port, then let it go."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v2"


def test_connection_refused_is_unreachable() -> None:
    with (
        FreshchatClient(closed_port_url(), "t", timeout=2) as c,
        pytest.raises(errors.Unreachable) as info,
    ):
        c.get_configuration()
    assert type(info.value) is errors.Unreachable
    assert info.value.retryable and info.value.status is None


def test_slow_answer_is_timeout_and_call_may_still_apply(
    standin: Standin,
    conversation: dict[str, Any],
) -> None:
    cid = conversation["conversation_id"]
    standin.delay("POST", "/v2/conversations/*/messages", 2.0, times=1)
    with FreshchatClient(standin.base_url, standin.token, timeout=0.3) as c:
        with pytest.raises(errors.Timeout) as info:
            c.post_message(cid, "hello", ai_id(standin))
        assert isinstance(info.value, errors.Unreachable) and info.value.retryable
        assert [m["message_parts"] for m in standin.messages(cid)] == [
            [{"text": {"content": "hello"}}]
        ]
        standin.latency = 1.0
        with pytest.raises(errors.Timeout):
            c.get_configuration()


# -- observer and session --------------------------------------------------------------


def test_observer_gets_a_record_per_call_with_rate_limit_headers() -> None:
    records: list[CallRecord] = []
    with (
        Standin(rate_limit_per_minute=60) as st,
        FreshchatClient(st.base_url, st.token, observer=records.append) as c,
    ):
        c.get_configuration()
        with pytest.raises(errors.NotFound):
            c.get_agent("nobody")
    ok, failed = records
    assert (ok.method, ok.path, ok.status) == ("GET", "/accounts/configuration", 200)
    assert ok.error is None
    assert (ok.rate_limit_total, ok.rate_limit_remaining) == (60, 59)
    assert ok.latency_ms > 0
    assert (failed.path, failed.status) == ("/agents/nobody", 404)
    assert failed.error is not None and failed.error.startswith("NotFound:")
    assert failed.rate_limit_remaining == 58


def test_observer_sees_transport_failures_and_cannot_break_calls(standin: Standin):
    records: list[CallRecord] = []
    unreachable = FreshchatClient(closed_port_url(), "t", observer=records.append, timeout=2)
    with unreachable as c, pytest.raises(errors.Unreachable):
        c.get_configuration()
    assert records[0].status is None
    assert (records[0].error or "").startswith("Unreachable:")

    def broken(record: CallRecord) -> None:
        raise RuntimeError("logger down")

    with FreshchatClient(standin.base_url, standin.token, observer=broken) as c:
        assert "organisation_id" in c.get_configuration()


class RecordingSession(requests.Session):
    """A real session that remembers URLs and whether someone closed it."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.closed = False

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        self.urls.append(url)
        return super().request(method, url, *args, **kwargs)

    def close(self) -> None:
        self.closed = True
        super().close()


def test_injected_session_is_used_not_closed_and_ids_are_quoted(standin: Standin):
    with RecordingSession() as session:
        client = FreshchatClient(standin.base_url, standin.token, session=session)
        with client as c, pytest.raises(errors.NotFound):
            c.get_user("a b/../c?d")
        assert session.urls == [f"{standin.base_url}/users/a%20b%2F..%2Fc%3Fd"]
        assert session.closed is False


def test_client_closes_the_session_it_created(standin: Standin) -> None:
    c = FreshchatClient(standin.base_url, standin.token)
    closed: list[bool] = []
    original = c._session.close
    c._session.close = lambda: (closed.append(True), original())[1]  # type: ignore[method-assign]
    c.close()
    assert closed == [True]
