"""What a customer sent besides text, written into the question as the transcript shows it
("[image https://…]", "[file invoice.pdf https://…]", one line each), and read back out:
the text goes to the responder, the image addresses to a model that reads images."""

from __future__ import annotations

import re

_LINE = re.compile(r"^\[(?P<kind>image|file|video|audio)(?: (?P<rest>[^\]\n]*))?\]$")


def with_attachments(text: str, attachments: tuple[str, ...]) -> str:
    """A message as one piece of text: its words, then a line per attachment."""
    return "\n".join([text, *(f"[{what}]" for what in attachments)]).strip()


def split_question(question: str) -> tuple[str, tuple[str, ...]]:
    """The question's words, and the addresses of the images in it."""
    words, images = [], []
    for line in question.split("\n"):
        found = _LINE.match(line.strip())
        if found is None:
            words.append(line)
        elif found["kind"] == "image" and found["rest"]:
            url = found["rest"].split()[-1]
            if url.startswith(("https://", "http://")):
                images.append(url)
    return "\n".join(words).strip(), tuple(images)
