"""Property-based tests of the webhook intake: whatever a client sends, never a 5xx,
and nothing is stored for a rejected request."""

import json
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from opencx_bridge.extensions import db
from opencx_bridge.freshchat.signature import sign
from opencx_bridge.store.models import Event

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
# Text as JSON may carry it: any code point, lone UTF-16 surrogates included (written as
# "\\ud800" escapes), control characters, and integers far past 64 bits.
any_text = st.text(st.characters(blacklist_categories=()), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**80, max_value=2**80)
    | st.floats(allow_nan=False) | any_text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(st.characters(blacklist_categories=()), max_size=10), children,
                      max_size=4),
    max_leaves=12,
)
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
# Any header value a client can put on the wire: control characters (not CR/LF, which end the
# header), Latin-1, huge numbers.
wire_header = (st.text(st.characters(max_codepoint=255, blacklist_characters="\r\n"),
                       max_size=40)
               | st.integers(min_value=-2**80, max_value=2**80).map(str))


@pytest.fixture
def target(app, client, connected, standin):
    return app, client, urlsplit(connected).path, standin


def stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Event))


@FUZZ
@given(body=st.binary(max_size=2048), signature=header_text, retry=header_text)
def test_random_bytes_and_headers_never_5xx_and_store_nothing(target, body, signature, retry):
    app, client, path, _ = target
    before = stored(app)
    response = client.post(path, data=body, headers={"X-Freshchat-Signature": signature,
                                                     "X-Retry-Count": retry})
    assert response.status_code == 401  # none of these is signed by Freshchat's key
    assert stored(app) == before


@FUZZ
@given(payload=json_values)
def test_random_signed_json_never_5xx(target, payload):
    app, client, path, standin = target
    raw = json.dumps(payload).encode()
    before = stored(app)
    response = client.post(path, data=raw,
                           headers={"X-Freshchat-Signature": sign(raw, standin.private_key)})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert stored(app) == before


@FUZZ
@given(payload=json_values, retry=wire_header)
def test_signed_json_with_any_retry_header_never_5xx(target, payload, retry):
    app, client, path, standin = target
    raw = json.dumps({"action": "message_create", "data": payload}).encode()
    response = client.post(path, data=raw, headers={
        "X-Freshchat-Signature": sign(raw, standin.private_key), "X-Retry-Count": retry})
    assert response.status_code in (200, 400)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(min_value=1, max_value=120_000), brackets=st.sampled_from(["[]", "{}"]))
def test_any_nesting_depth_is_a_clean_answer(target, depth, brackets):
    app, client, path, standin = target
    opening, closing = ('{"a":', "}") if brackets == "{}" else ("[", "]")
    inner = opening * depth + "1" + closing * depth
    raw = ('{"action": "message_create", "data": ' + inner + "}").encode()
    response = client.post(path, data=raw,
                           headers={"X-Freshchat-Signature": sign(raw, standin.private_key)})
    assert response.status_code in (200, 400, 413)


@FUZZ
@given(action=any_text.filter(bool), data=json_values)
def test_random_envelopes_with_an_action_are_stored_or_refused_cleanly(target, action, data):
    app, client, path, standin = target
    raw = json.dumps({"action": action, "data": data, "actor": data}).encode()
    before = stored(app)
    response = client.post(path, data=raw,
                           headers={"X-Freshchat-Signature": sign(raw, standin.private_key)})
    if response.status_code == 400:  # a lone surrogate in the action or an id
        assert "surrogate" in response.json["error"]
        assert stored(app) == before
        return
    assert response.status_code == 200
    status = response.json["status"]
    assert status in ("accepted", "duplicate", "ignored")
    assert stored(app) == before + (0 if status == "duplicate" else 1)  # ignored is kept too


@FUZZ
@given(token=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                              exclude_characters="/?#%"), min_size=1))
def test_random_webhook_tokens_are_404(target, token):
    _, client, _, _ = target
    assert client.post(f"/webhooks/freshchat/{token}", data=b"{}").status_code == 404
