"""The "Open in Freshchat" link: by numbers once the team pasted an address, else by ids."""

import pytest

from opencx_bridge.freshchat.links import NotAConversationAddress, app_address, conversation_url

APP = "https://web.freshchat.com/a/153370844780746"


@pytest.mark.parametrize("pasted", [
    "https://web.freshchat.com/a/153370844780746/open/conversation/374169896285298",
    "  https://WEB.freshchat.com/a/153370844780746/inbox/2/0/conversation/374169896285298 ",
    "web.freshchat.com/a/153370844780746/",
    "https://web.freshchat.com/a/153370844780746?tab=open",
])
def test_any_conversation_address_gives_the_apps_part(pasted):
    assert app_address(pasted) == APP


@pytest.mark.parametrize("pasted", [
    "https://web.freshchat.com/open/conversation/374169896285298",  # no /a/NUMBER
    "https://web.freshchat.com/a/3f1c-uuid/open/conversation/1",  # an id, not the number
    "ftp://web.freshchat.com/a/153370844780746",
    "https:///a/153370844780746",
    "not a link at all",
])
def test_other_text_is_refused_with_an_example(pasted):
    with pytest.raises(NotAConversationAddress, match="e.g. https://web.freshchat.com/a/"):
        app_address(pasted)


def test_links_use_numbers_when_both_are_known_else_ids():
    by_ids = "https://acme.freshchat.com/a/app-uuid/open/conversation/conv-uuid"
    assert conversation_url("acme.freshchat.com", "app-uuid", "conv-uuid", "374169896285298",
                            APP) == f"{APP}/open/conversation/374169896285298"
    assert conversation_url("acme.freshchat.com", "app-uuid", "conv-uuid", "374169896285298",
                            "") == by_ids
    assert conversation_url("acme.freshchat.com", "app-uuid", "conv-uuid", None, APP) == by_ids
    assert conversation_url("acme.freshchat.com", "app-uuid", "conv-uuid", "12ab", APP) == by_ids
    assert conversation_url(None, "app-uuid", "conv-uuid") is None
