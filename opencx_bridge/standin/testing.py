"""Pytest fixture for the stand-in; tests/conftest.py imports it.

Seeds the two agents every bridge test needs: the admin who owns the API token
and the default "AI" agent the bridge speaks as.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opencx_bridge.standin.server import Standin

__all__ = ["AI_EMAIL", "ADMIN_EMAIL", "standin"]

ADMIN_EMAIL = "admin@acme.test"
AI_EMAIL = "ai@acme.test"


@pytest.fixture
def standin() -> Iterator[Standin]:
    """A running stand-in with ``st.admin`` and ``st.ai_agent`` seeded; stopped afterwards."""
    st = Standin()
    st.admin = st.add_agent(ADMIN_EMAIL, "Ada", "Admin")
    st.ai_agent = st.add_agent(AI_EMAIL, "Aiden", "Bot")
    st.add_token(st.token, owner_id=st.admin["id"])
    with st:
        yield st
