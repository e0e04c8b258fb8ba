"""Contacts: Freshchat users fetched once, merged by email (case-insensitive)."""

from __future__ import annotations

from sqlalchemy import select

from opencx_bridge.extensions import db
from opencx_bridge.store.models import Contact, ContactUser


def known_contact_id(freshchat_user_id: str) -> int | None:
    return db.session.scalar(
        select(ContactUser.contact_id).where(ContactUser.freshchat_user_id == freshchat_user_id)
    )


def link_user(freshchat_user_id: str, user: dict | None) -> int:
    """Attach a Freshchat user (as GET /v2/users/{id} returned it) to a contact; add to the
    current transaction. A user without email gets a contact of its own."""
    existing = known_contact_id(freshchat_user_id)
    if existing is not None:
        return existing
    user = user or {}
    email = (user.get("email") or "").strip().lower() or None
    contact = None
    if email:
        contact = db.session.scalar(select(Contact).where(Contact.email == email))
    if contact is None:
        contact = Contact(email=email, name=display_name(user), phone=user.get("phone") or None)
        db.session.add(contact)
        db.session.flush()
    elif not contact.name:
        contact.name = display_name(user)
    db.session.add(ContactUser(freshchat_user_id=freshchat_user_id, contact_id=contact.id))
    return contact.id


def display_name(user: dict) -> str | None:
    name = " ".join(str(p) for p in (user.get("first_name"), user.get("last_name")) if p)
    return name.strip() or None
