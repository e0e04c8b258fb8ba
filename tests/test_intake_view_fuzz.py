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
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


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
@given(action=st.text(min_size=1, max_size=80), data=json_values)
def test_random_envelopes_with_an_action_are_stored_or_refused_cleanly(target, action, data):
    app, client, path, standin = target
    raw = json.dumps({"action": action, "data": data, "actor": data}).encode()
    before = stored(app)
    response = client.post(path, data=raw,
                           headers={"X-Freshchat-Signature": sign(raw, standin.private_key)})
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
