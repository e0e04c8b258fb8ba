"""AI responders: what the engine asks for an answer, whichever implementation it is."""

from opencx_bridge.ai.responder import Answer, Responder, ResponderError, Turn

__all__ = ["Answer", "Responder", "ResponderError", "Turn"]
