"""Entry point for `flask --app app ...`: the bridge with its default configuration."""

from opencx_bridge import create_app

app = create_app()
