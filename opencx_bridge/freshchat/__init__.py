"""Freshchat itself: the REST client, its errors, webhook payloads, signatures, and the
account checks of Test & Save. Imports nothing else of the bridge: no store, no Flask."""
