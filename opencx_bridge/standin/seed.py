"""The people every test and benchmark needs in the stand-in: the admin who owns the API
token and the agent the AI speaks as."""

from __future__ import annotations

from opencx_bridge.standin.server import Standin

ADMIN_EMAIL = "admin@acme.test"
AI_EMAIL = "ai@acme.test"


def seed(st: Standin) -> Standin:
    """Add the admin (token owner) and the AI agent as ``st.admin`` and ``st.ai_agent``."""
    st.admin = st.add_agent(ADMIN_EMAIL, "Ada", "Admin")
    st.ai_agent = st.add_agent(AI_EMAIL, "Aiden", "Bot")
    st.add_token(st.token, owner_id=st.admin["id"])
    return st
