"""AI responders: what the engine asks for an answer, whichever implementation it is."""

from .responder import AcknowledgingResponder, Answer, Responder, ResponderError, Turn

__all__ = ["AcknowledgingResponder", "Answer", "Responder", "ResponderError", "Turn"]
