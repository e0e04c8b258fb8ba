"""Stage 2, the engine: for one stored event, gather what Freshchat knows (gather.py), decide
with the pure rules (rules/), ask the responder (replies.py, responders.py), and write the
decision down with the outbox rows it wants (writes.py), all in step.py's one transaction.
session_actions.py: the same writes when a person acts from the dashboard or the CLI."""
