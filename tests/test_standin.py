"""The stand-in behaves as FRESHCHAT.md documents Freshchat (checked with plain requests)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from opencx_bridge.standin import Standin


class Receiver:
    """A tiny webhook endpoint on 127.0.0.1 that keeps what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                received.append({"headers": dict(self.headers), "raw": raw})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def actions(self) -> list[str]:
        return [json.loads(r["raw"])["action"] for r in self.received]

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(r["raw"]) for r in self.received]


@pytest.fixture
def receiver(standin: Standin) -> Iterator[Receiver]:
    rec = Receiver()
    rec.thread.start()
    standin.webhook_url = rec.url
    try:
        yield rec
    finally:
        rec.server.shutdown()
        rec.server.server_close()
        rec.thread.join(5)


def api(st: Standin, method: str, path: str, token: str | None = None, **kw: Any):
    """One raw call with plain requests, so the client is not what we are testing."""
    headers = {"Authorization": f"Bearer {token or st.token}", "Accept": "application/json"}
    kw.setdefault("timeout", 5)
    return requests.request(method, st.base_url + path, headers=headers, **kw)


def new_conversation(st: Standin, **kw: Any) -> str:
    user = st.add_user(email="casey@example.test")
    return st.add_conversation(user["id"], **kw)["conversation_id"]


def ids(st: Standin) -> tuple[str, str]:
    assert st.admin is not None and st.ai_agent is not None
    return st.admin["id"], st.ai_agent["id"]


# -- REST shapes -----------------------------------------------------------------------


def test_agent_pagination_shape(standin: Standin) -> None:
    for i in range(25):
        standin.add_agent(f"rep{i}@acme.test", "Rep", str(i))
    first = api(standin, "GET", "/agents").json()
    assert len(first["agents"]) == 10
    assert first["pagination"] == {
        "current_page": 1,
        "items_per_page": 10,
        "total_items": 27,
        "total_pages": 3,
    }
    assert first["links"]["next_page"]["href"] == "/v2/agents?page=2&items_per_page=10"
    last = api(standin, "GET", "/agents", params={"page": 3}).json()
    assert len(last["agents"]) == 7 and "next_page" not in last["links"]
    capped = api(standin, "GET", "/agents", params={"items_per_page": 500}).json()
    assert capped["pagination"]["items_per_page"] == 100 and len(capped["agents"]) == 27
    assert api(standin, "GET", "/agents", params={"page": 0}).status_code == 400


def test_agent_fields_and_delete(standin: Standin) -> None:
    agent = standin.add_agent("rep@acme.test", "Rae", "Rep", avatar_url="https://x/a.png")
    got = api(standin, "GET", f"/agents/{agent['id']}").json()
    assert got["avatar"] == {"url": "https://x/a.png"}
    assert got["is_deactivated"] is False and got["is_deleted"] is False
    standin.delete_agent(agent["id"])
    assert api(standin, "GET", f"/agents/{agent['id']}").status_code == 404
    emails = [a["email"] for a in api(standin, "GET", "/agents").json()["agents"]]
    assert "rep@acme.test" not in emails


def test_error_body_shape(standin: Standin) -> None:
    response = api(standin, "GET", "/agents/nope")
    assert response.status_code == 404
    expected = {"code": 404, "status": "AGENT_NOT_FOUND", "message": "agent not found"}
    assert response.json() == expected
    assert api(standin, "GET", "/conversations/nope").json()["status"] == "CONVERSATION_NOT_FOUND"
    assert api(standin, "GET", "/no/such/route").json()["code"] == 404


def test_user_without_email_has_no_email_key(standin: Standin) -> None:
    user = standin.add_user(first_name="Anon", last_name="Ymous", phone="+100")
    got = api(standin, "GET", f"/users/{user['id']}").json()
    assert "email" not in got and got["phone"] == "+100" and got["properties"] == []


def test_conversation_update_validates_and_applies(standin: Standin) -> None:
    cid = new_conversation(standin)
    _, ai = ids(standin)
    conv = api(standin, "GET", f"/conversations/{cid}").json()
    assert conv["app_id"] == standin.app_id and isinstance(conv["freshchat_conversation_id"], int)
    bad = api(standin, "PUT", f"/conversations/{cid}", json={"status": "closed"})
    assert (bad.status_code, bad.json()["status"]) == (400, "INVALID_STATUS")
    nobody = {"status": "assigned", "assigned_agent_id": "nobody"}
    bad = api(standin, "PUT", f"/conversations/{cid}", json=nobody)
    assert (bad.status_code, bad.json()["status"]) == (400, "AGENT_NOT_FOUND")
    assert api(standin, "PUT", "/conversations/nope", json={"status": "new"}).status_code == 404
    body = {"status": "assigned", "assigned_agent_id": ai}
    assert api(standin, "PUT", f"/conversations/{cid}", json=body).json()["assigned_agent_id"] == ai
    unassign = {"status": "new", "assigned_agent_id": ""}
    api(standin, "PUT", f"/conversations/{cid}", json=unassign)
    assert standin.conversation(cid)["assigned_agent_id"] is None  # type: ignore[index]


def test_post_and_list_messages(standin: Standin) -> None:
    cid = new_conversation(standin)
    _, ai = ids(standin)
    path = f"/conversations/{cid}/messages"
    parts = [{"text": {"content": "hi"}}]
    good = {"message_type": "normal", "actor_type": "agent", "actor_id": ai, "message_parts": parts}
    for change, status in [
        ({"message_type": "system"}, "INVALID_MESSAGE_TYPE"),
        ({"actor_id": "nobody"}, "AGENT_NOT_FOUND"),
        ({"actor_type": "bot"}, "INVALID_ACTOR_TYPE"),
        ({"message_parts": [{"text": {"content": " "}}]}, "INVALID_MESSAGE_PARTS"),
    ]:
        bad = api(standin, "POST", path, json={**good, **change})
        assert (bad.status_code, bad.json()["status"]) == (400, status)
    created = [api(standin, "POST", path, json=good) for _ in range(3)]
    assert all(r.status_code == 201 for r in created)
    assert {"id", "created_time", "conversation_id"} <= created[0].json().keys()
    page = api(standin, "GET", path, params={"items_per_page": 2}).json()
    assert [m["id"] for m in page["messages"]] == [created[2].json()["id"], created[1].json()["id"]]
    assert page["link"]["href"].endswith("page=2&items_per_page=2")
    assert "link" not in api(standin, "GET", path, params={"page": 2, "items_per_page": 2}).json()
    assert [m["id"] for m in standin.messages(cid)][0] == created[0].json()["id"]  # oldest first


# -- auth, faults, rate limit ----------------------------------------------------------


def test_missing_wrong_and_rotated_tokens_get_401(standin: Standin) -> None:
    no_token = requests.get(standin.base_url + "/accounts/configuration", timeout=5)
    assert (no_token.status_code, no_token.json()["status"]) == (401, "UNAUTHORIZED")
    assert api(standin, "GET", "/accounts/configuration", token="wrong").status_code == 401
    old = standin.token
    standin.rotate_token("fresh-token")
    assert api(standin, "GET", "/accounts/configuration", token=old).status_code == 401
    ok = api(standin, "GET", "/accounts/configuration", token="fresh-token")
    assert ok.status_code == 200 and "organisation_id" in ok.json()


def test_token_dies_with_its_admin(standin: Standin) -> None:
    admin, _ = ids(standin)
    standin.update_agent(admin, is_deactivated=True)
    assert api(standin, "GET", "/accounts/configuration").status_code == 401


def test_read_only_and_forbidden_tokens_get_403(standin: Standin) -> None:
    cid = new_conversation(standin)
    standin.add_token("read-only", can_manage=False)
    standin.add_token("forbidden", forbidden=True)
    assert api(standin, "GET", "/accounts/configuration", token="read-only").status_code == 200
    resolve = {"status": "resolved"}
    put = api(standin, "PUT", f"/conversations/{cid}", token="read-only", json=resolve)
    assert (put.status_code, put.json()["code"]) == (403, 403)
    assert standin.conversation(cid)["status"] == "new"  # type: ignore[index]
    assert api(standin, "GET", "/accounts/configuration", token="forbidden").status_code == 403


def test_rate_limit_gives_429_with_retry_after() -> None:
    with Standin(rate_limit_per_minute=3) as st:
        answers = [api(st, "GET", "/accounts/configuration") for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in answers[:3]] == ["2", "1", "0"]
        assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
        assert answers[3].json()["status"] == "TOO_MANY_REQUESTS"
        assert st.rejected_429 == 1


def test_fault_order_auth_then_injected_then_rate_limit() -> None:
    with Standin(rate_limit_per_minute=1) as st:
        st.fail_next("GET", "/agents*", 503, times=2, retry_after=5)
        assert api(st, "GET", "/agents", token="wrong").status_code == 401  # fault not used
        first = api(st, "GET", "/agents")
        assert (first.status_code, first.headers["Retry-After"]) == (503, "5")
        assert api(st, "GET", "/agents").status_code == 503
        assert api(st, "GET", "/agents").status_code == 200  # faults used up; takes the slot
        assert api(st, "GET", "/agents").status_code == 429
    custom = {"code": 422, "status": "ODD", "message": "odd"}
    with Standin() as st:
        st.fail_next("*", "/v2/accounts/*", 422, body=custom)
        assert api(st, "GET", "/accounts/configuration").json() == custom
        assert st.calls_to("GET", "/accounts")[0]["status"] == 422


def test_delay_then_apply_models_a_timeout_after_acceptance(standin: Standin) -> None:
    cid = new_conversation(standin)
    _, ai = ids(standin)
    body = {"actor_type": "agent", "actor_id": ai, "message_parts": [{"text": {"content": "x"}}]}
    standin.delay("POST", "/v2/conversations/*/messages", 2.0, times=1)
    with pytest.raises(requests.Timeout):
        api(standin, "POST", f"/conversations/{cid}/messages", json=body, timeout=0.3)
    assert len(standin.messages(cid)) == 1

    standin.delay("PUT", "/conversations/*", 0.2, times=1, then_apply=False)
    dropped = api(standin, "PUT", f"/conversations/{cid}", json={"status": "resolved"})
    assert dropped.status_code == 503
    assert standin.conversation(cid)["status"] == "new"  # type: ignore[index]


def test_a_delayed_call_does_not_block_others(standin: Standin) -> None:
    standin.delay("GET", "/agents", 30.0, times=1)
    slow = threading.Thread(target=api, args=(standin, "GET", "/agents"))
    slow.start()
    standin.wait_for(lambda: standin.calls_to("GET", "/agents"), timeout=10)  # now held
    assert api(standin, "GET", "/accounts/configuration", timeout=10).status_code == 200
    assert slow.is_alive()  # answered while the slow call is still held
    standin.end_delays()
    slow.join(5)
    assert not slow.is_alive()


# -- webhooks --------------------------------------------------------------------------


def _verify(armour: str, raw: bytes, signature: str) -> None:
    """Freshchat's documented recipe, done with cryptography directly."""
    body = armour.replace("-----BEGIN RSA PUBLIC KEY-----", "")
    body = "".join(body.replace("-----END RSA PUBLIC KEY-----", "").split())
    der = base64.b64decode(body)
    assert der[:4] == bytes.fromhex("30820122")  # X.509 SPKI inside "RSA PUBLIC KEY" armour
    key = serialization.load_der_public_key(der)
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(base64.b64decode(signature), raw, padding.PKCS1v15(), hashes.SHA256())


def test_webhook_signature_verifies_over_raw_bytes(standin: Standin, receiver: Receiver) -> None:
    armour = standin.public_key_text
    assert "\n" not in armour and armour.startswith("-----BEGIN RSA PUBLIC KEY-----")
    cid = new_conversation(standin)
    message = standin.customer_says(cid, "안녕하세요 🙂 where is my order?")
    [hit] = receiver.received
    assert "안녕하세요".encode() in hit["raw"]  # raw UTF-8, not \u escapes
    _verify(armour, hit["raw"], hit["headers"]["X-Freshchat-Signature"])
    assert hit["headers"]["X-Retry-Count"] == "0"
    assert hit["headers"]["X-Freshchat-Payload-Version"]
    event = json.loads(hit["raw"])
    assert event["action"] == "message_create"
    assert event["actor"] == {"actor_type": "user", "actor_id": message["actor_id"]}
    assert event["data"]["message"]["message_parts"] == [
        {"text": {"content": "안녕하세요 🙂 where is my order?"}}
    ]
    assert event["data"]["message"]["freshchat_conversation_id"]


def test_send_webhook_options(standin: Standin, receiver: Receiver) -> None:
    raw = b'{"action":"odd_action","data":{}}'
    assert standin.send_webhook(raw, sign=False, retry_count=2).status_code == 200
    standin.send_webhook({"action": "x"}, signature="bogus", headers={"X-Extra": "1"})
    first, second = receiver.received
    assert first["raw"] == raw and "X-Freshchat-Signature" not in first["headers"]
    assert first["headers"]["X-Retry-Count"] == "2"
    assert second["headers"]["X-Freshchat-Signature"] == "bogus"
    assert second["headers"]["X-Extra"] == "1"
    assert [w["status"] for w in standin.webhooks_sent] == [200, 200]


def test_api_calls_echo_webhooks_after_answering(standin: Standin, receiver: Receiver) -> None:
    cid = new_conversation(standin)
    admin, ai = ids(standin)
    body = {"actor_type": "agent", "actor_id": ai, "message_parts": [{"text": {"content": "hi"}}]}
    api(standin, "POST", f"/conversations/{cid}/messages", json=body)
    assign = {"status": "assigned", "assigned_agent_id": admin}
    api(standin, "PUT", f"/conversations/{cid}", json=assign)
    api(standin, "PUT", f"/conversations/{cid}", json={"status": "resolved"})
    expected = ["message_create", "conversation_assignment", "conversation_resolution"]
    standin.wait_for(lambda: len(receiver.received) == 3)
    assert receiver.actions() == expected
    message, assignment, resolution = receiver.payloads()
    assert message["actor"] == {"actor_type": "agent", "actor_id": ai}
    assert assignment["data"]["assignment"]["to_agent_id"] == admin
    assert assignment["data"]["assignment"]["conversation"]["status"] == "assigned"
    assert resolution["data"]["resolve"]["conversation"]["status"] == "resolved"
    assert resolution["data"]["resolve"]["interaction_id"]


def test_echo_respects_switch_and_subscriptions(standin: Standin, receiver: Receiver) -> None:
    cid = new_conversation(standin)
    standin.subscribed = {"message_create"}
    api(standin, "PUT", f"/conversations/{cid}", json={"status": "resolved"})
    standin.echo_webhooks = False
    _, ai = ids(standin)
    body = {"actor_type": "agent", "actor_id": ai, "message_parts": [{"text": {"content": "x"}}]}
    api(standin, "POST", f"/conversations/{cid}/messages", json=body)
    standin.echo_webhooks = True
    standin.agent_says(cid, ai, "sync one")  # rep simulation is synchronous
    assert receiver.actions() == ["message_create"]
    api(standin, "POST", f"/conversations/{cid}/messages", json=body)  # echoes keep order, so
    standin.wait_for(lambda: len(receiver.received) >= 2)  # nothing earlier is still coming
    assert receiver.actions() == ["message_create", "message_create"]


def test_rep_simulation_sends_events(standin: Standin, receiver: Receiver) -> None:
    cid = new_conversation(standin)
    admin, ai = ids(standin)
    standin.assign(cid, admin, by_agent_id=admin)
    note = standin.agent_says(cid, admin, "internal", private=True)
    standin.resolve(cid, by_agent_id=admin)
    standin.customer_says(cid, "one more thing")  # reopens the resolved conversation
    assert note["message_type"] == "private"
    assert receiver.actions() == [
        "conversation_assignment",
        "message_create",
        "conversation_resolution",
        "conversation_reopen",
        "message_create",
    ]
    reopen = receiver.payloads()[3]
    assert reopen["data"]["reopen"]["conversation"]["status"] == "reopened"
    assert standin.conversation(cid)["status"] == "reopened"  # type: ignore[index]


def test_legacy_payload_shape(standin: Standin, receiver: Receiver) -> None:
    standin.payload_shape = "legacy"
    cid = new_conversation(standin)
    standin.customer_says(cid, "old style")
    hit = receiver.received[0]
    message = json.loads(hit["raw"])["data"]["message"]
    assert message["msg_parts"] == [{"part_type": "text", "properties": {"text": "old style"}}]
    assert "message_parts" not in message and "freshchat_conversation_id" not in message
    assert hit["headers"]["X-Freshchat-Payload-Version"] != "v2"
    _verify(standin.public_key_text, hit["raw"], hit["headers"]["X-Freshchat-Signature"])


def test_a_customer_can_send_an_image_with_no_text(standin: Standin, receiver: Receiver) -> None:
    cid = new_conversation(standin)
    standin.customer_says(cid, parts=[{"image": {"url": "https://cdn.example/shot.png"}}])
    message = json.loads(receiver.received[0]["raw"])["data"]["message"]
    assert message["message_parts"] == [{"image": {"url": "https://cdn.example/shot.png"}}]


def test_legacy_ids_are_the_82_character_feedback_form(standin: Standin) -> None:
    standin.legacy_ids = True
    cid = new_conversation(standin)
    user_id = standin.conversation(cid)["users"][0]["id"]  # type: ignore[index]
    assert cid == f"{standin.app_id}_{user_id}_feedback" and len(cid) == 82

