"""opencx-bridge: a self-hosted bridge between Freshchat and an AI support agent.

Nothing is imported here: the pure rooms (engine/rules, freshchat) load without Flask or
SQLAlchemy. The layout is drawn in docs/ARCHITECTURE.md.
"""

from __future__ import annotations


def create_app(test_config: dict | None = None):
    """The Flask app (factory.py), for `flask --app app` and the tests."""
    from opencx_bridge.factory import create_app as build

    return build(test_config)
