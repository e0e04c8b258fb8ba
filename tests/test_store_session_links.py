"""Changing how links are built rewrites every stored link, in the same transaction."""

import pytest

from opencx_bridge.extensions import db
from opencx_bridge.store import settings
from opencx_bridge.store.models import ChatSession, Integration
from opencx_bridge.store.settings import SettingError

ADDRESS = "https://web.freshchat.com/a/153370844780746/open/conversation/374169896285298"


@pytest.fixture
def stored(ctx):
    db.session.add(Integration(id=1, domain="acme.freshchat.com"))
    for cid, number in (("c-1", "1001"), ("c-2", None)):
        db.session.add(ChatSession(conversation_id=cid, routing_mode="auto", app_id="app",
                                   freshchat_conversation_id=number))
    db.session.commit()


def links() -> dict[str, str | None]:
    db.session.expire_all()
    return {row.conversation_id: row.freshchat_url for row in db.session.query(ChatSession)}


def test_pasting_an_address_relinks_every_session_and_emptying_it_goes_back(stored):
    settings.set_value("freshchat_link_address", ADDRESS)
    assert settings.get("freshchat_link_address") == "https://web.freshchat.com/a/153370844780746"
    assert links() == {
        "c-1": "https://web.freshchat.com/a/153370844780746/open/conversation/1001",
        "c-2": "https://acme.freshchat.com/a/app/open/conversation/c-2"}  # no number known
    settings.set_value("freshchat_link_address", "")
    assert links()["c-1"] == "https://acme.freshchat.com/a/app/open/conversation/c-1"


def test_a_wrong_address_is_refused_and_nothing_changes(stored):
    with pytest.raises(SettingError, match="freshchat_link_address: paste the address"):
        settings.set_value("freshchat_link_address", "https://web.freshchat.com/inbox")
    assert links() == {"c-1": None, "c-2": None}
