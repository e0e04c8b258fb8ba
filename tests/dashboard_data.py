"""Rows for the dashboard tests: sessions with contacts, messages, timeline and calls."""

from __future__ import annotations

import json
import re

from opencx_bridge.extensions import db
from opencx_bridge.store.models import ChatSession, Contact, Message, OutboxItem, TimelineEntry


def add_session(app, conversation_id: str, status: str = "open", email: str | None = None,
                name: str | None = None, **fields) -> int:
    with app.app_context():
        contact = None
        if email or name:
            contact = Contact(email=email, name=name)
            db.session.add(contact)
            db.session.flush()
        row = ChatSession(conversation_id=conversation_id, routing_mode="auto", status=status,
                          contact_id=contact.id if contact else None, **fields)
        db.session.add(row)
        db.session.commit()
        return row.id


def add_messages(app, session_id: int, *lines: tuple[str, str]) -> None:
    with app.app_context():
        for author, text in lines:
            db.session.add(Message(session_id=session_id, author=author, text=text))
        db.session.commit()


def add_entry(app, conversation_id: str, kind: str, summary: str, detail: dict | None = None,
              **fields) -> None:
    with app.app_context():
        db.session.add(TimelineEntry(conversation_id=conversation_id, kind=kind, summary=summary,
                                     detail=json.dumps(detail) if detail else None, **fields))
        db.session.commit()


def add_call(app, conversation_id: str, kind: str = "reply", status: str = "sent",
             **fields) -> int:
    with app.app_context():
        count = db.session.scalar(db.select(db.func.count(OutboxItem.id))) or 0
        item = OutboxItem(conversation_id=conversation_id, kind=kind, status=status,
                          body=json.dumps({"status": "resolved"}),
                          idempotency_key=f"test:{count}", **fields)
        db.session.add(item)
        db.session.commit()
        return item.id


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def table_rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def section(html: str, title_id: str) -> str:
    """The <section> whose heading has this id."""
    start = html.index(f'id="{title_id}"')
    return html[start:html.index("</section>", start)]


def add_searchable(app, conversation_id: str, url: str) -> dict[str, int]:
    """Three sessions to search: by conversation id, by email, by message text."""
    ids = {
        "minji": add_session(app, conversation_id, email="minji.kim@example.com",
                             name="Minji Kim", freshchat_url=url),
        "sam": add_session(app, "conv-sam", status="handed_off", email="sam@example.com"),
        "anon": add_session(app, "conv-anon"),
    }
    add_messages(app, ids["sam"], ("customer", "My parcel 100% never arrived"))
    add_messages(app, ids["anon"], ("customer", "Do you ship to Canada?"))
    return ids


def timeline_items(html: str) -> list[tuple[str, str, str, list[str]]]:
    """(kind class, time, summary, [chip texts]) per timeline line."""
    found = []
    for kind, time, summary, rest in re.findall(
            r'<li class="entry (\w+)"><time[^>]*>([\d:]+)</time>\s*<span class="kind">[^<]*</span>'
            r' <span class="summary">(.*?)</span>(.*?)</li>', section(html, "timeline-title"),
            flags=re.S):
        chip = r'<span class="chip[^"]*">(.*?)</span>\s*(?=<span class="chip|$)'
        chips = [re.sub(r"<[^>]+>", "", c).strip()
                 for c in re.findall(chip, rest.strip(), flags=re.S)]
        found.append((kind, time, summary, chips))
    return found
