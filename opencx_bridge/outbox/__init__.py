"""Stage 3, the outbox: Freshchat writes as rows first, then calls, in order per conversation
(delivery.py); every call through one client that records it (api_calls.py) and spends the
one shared rate budget (pacing.py)."""
