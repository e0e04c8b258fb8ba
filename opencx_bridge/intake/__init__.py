"""Stage 1, the intake: POST /webhooks/freshchat/<token> verifies a delivery (view.py) and
stores it as a pending event behind its dedup key (accept.py). Nothing else."""
