"""The agent-UI link to a conversation: the session's "Open in Freshchat" (FRESHCHAT.md).

Freshchat's own links use numbers, e.g. a transcript e-mail's
https://web.freshchat.com/a/153370844780746/open/conversation/374169896285298. Webhooks
carry the conversation's number (`freshchat_conversation_id`) but, in every public payload
we have read, not the app's number: the team gives it once by pasting the address of any
conversation open in Freshchat (setting `freshchat_link_address`). Without it, links use
the account domain and the conversation id, which is all a webhook always has.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_APP_PATH = re.compile(r"^/a/(?P<app>[0-9]{1,40})(?:/|$)")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
EXAMPLE = "https://web.freshchat.com/a/153370844780746/open/conversation/374169896285298"


class NotAConversationAddress(ValueError):
    pass


def app_address(pasted: str) -> str:
    """From a pasted Freshchat address, the part links are built on: https://HOST/a/NUMBER."""
    text = str(pasted).strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    host = (parts.hostname or "").lower()
    found = _APP_PATH.match(parts.path)
    if parts.scheme not in ("https", "http") or not _HOST.match(host) or found is None:
        raise NotAConversationAddress(
            "paste the address of a conversation as your browser shows it in Freshchat, "
            f"e.g. {EXAMPLE} (the number after /a/ is your app's)")
    return f"https://{host}/a/{found['app']}"


def conversation_url(domain: str | None, app_id: str | None, conversation_id: str,
                     number: str | None = None, app_link: str = "") -> str | None:
    """By numbers when the team gave its app's address and the conversation has a number;
    else by the domain and ids every webhook carries; None without an app id."""
    if app_link and number and number.isdigit():
        return f"{app_link}/open/conversation/{number}"
    if not domain or not app_id:
        return None
    return f"https://{domain}/a/{app_id}/open/conversation/{conversation_id}"
