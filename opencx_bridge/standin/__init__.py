"""A local, in-memory Freshchat for tests and the sandbox: REST API v2 plus signed webhooks.

    with Standin() as st:
        ai = st.add_agent("ai@acme.test", "Aiden", "Bot")
        client = FreshchatClient(st.base_url, st.token)

It follows FRESHCHAT.md rather than our client, so the client is tested against
the documented behaviour, including faults (``fail_next``, ``delay``, rate limit).
"""

from opencx_bridge.standin.server import Standin

__all__ = ["Standin"]
