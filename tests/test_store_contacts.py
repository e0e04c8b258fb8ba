"""Contacts: one per person, Freshchat users merged by email whatever its case."""

import pytest
from sqlalchemy import func, select

from opencx_bridge.extensions import db
from opencx_bridge.store import contacts
from opencx_bridge.store.models import Contact, ContactUser


def contact_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Contact))


def user_ids_of(contact_id: int) -> set[str]:
    return set(db.session.scalars(
        select(ContactUser.freshchat_user_id).where(ContactUser.contact_id == contact_id)))


MINJI = {"id": "user-web", "first_name": "Minji", "last_name": "Kim",
         "email": "Minji.Kim@Example.com", "phone": "+82 10 1234 5678"}


def test_a_new_user_becomes_a_contact_with_email_name_and_phone(ctx):
    contact_id = contacts.link_user("user-web", MINJI)
    db.session.commit()
    contact = db.session.get(Contact, contact_id)
    assert contact.email == "minji.kim@example.com"
    assert contact.name == "Minji Kim"
    assert contact.phone == "+82 10 1234 5678"
    assert user_ids_of(contact_id) == {"user-web"}


def test_two_users_whose_emails_differ_only_in_case_are_one_contact(ctx):
    first = contacts.link_user("user-web", MINJI)
    second = contacts.link_user("user-mobile", {"email": "  MINJI.KIM@EXAMPLE.COM "})
    db.session.commit()
    assert first == second
    assert contact_rows() == 1
    assert user_ids_of(first) == {"user-web", "user-mobile"}


def test_a_merged_user_fills_a_missing_name_but_keeps_an_existing_one(ctx):
    first = contacts.link_user("user-a", {"email": "sam@example.com"})
    assert db.session.get(Contact, first).name is None
    contacts.link_user("user-b", {"email": "SAM@example.com", "first_name": "Sam"})
    assert db.session.get(Contact, first).name == "Sam"
    contacts.link_user("user-c", {"email": "sam@example.com", "first_name": "Samuel",
                                  "last_name": "Lee"})
    db.session.commit()
    assert db.session.get(Contact, first).name == "Sam"


def test_different_emails_are_different_contacts(ctx):
    one = contacts.link_user("user-a", {"email": "a@example.com"})
    two = contacts.link_user("user-b", {"email": "b@example.com"})
    assert one != two
    assert contact_rows() == 2


@pytest.mark.parametrize("user", [{"first_name": "Guest"}, {"email": ""}, {"email": "   "},
                                  {"email": None}, {}, None])
def test_a_user_without_email_gets_a_contact_of_its_own(ctx, user):
    one = contacts.link_user("anonymous-1", user)
    two = contacts.link_user("anonymous-2", user)
    db.session.commit()
    assert one != two
    assert db.session.get(Contact, one).email is None
    assert user_ids_of(one) == {"anonymous-1"}
    assert user_ids_of(two) == {"anonymous-2"}


def test_a_known_user_id_returns_its_contact_without_a_new_row(ctx):
    contact_id = contacts.link_user("user-web", MINJI)
    db.session.commit()
    again = contacts.link_user("user-web", {"email": "someone.else@example.com",
                                            "first_name": "Other"})
    db.session.commit()
    assert again == contact_id
    assert contact_rows() == 1
    assert db.session.get(Contact, contact_id).email == "minji.kim@example.com"
    assert db.session.scalar(select(func.count()).select_from(ContactUser)) == 1


def test_a_known_user_without_email_is_found_again_before_commit(ctx):
    contact_id = contacts.link_user("guest", None)
    assert contacts.link_user("guest", None) == contact_id
    assert contact_rows() == 1


def test_known_contact_id_knows_only_linked_users(ctx):
    assert contacts.known_contact_id("user-web") is None
    contact_id = contacts.link_user("user-web", MINJI)
    assert contacts.known_contact_id("user-web") == contact_id
    assert contacts.known_contact_id("USER-WEB") is None


@pytest.mark.parametrize(("user", "name"), [
    ({"first_name": "Minji", "last_name": "Kim"}, "Minji Kim"),
    ({"first_name": "Minji"}, "Minji"),
    ({"last_name": "Kim"}, "Kim"),
    ({"first_name": "", "last_name": "Kim"}, "Kim"),
    ({"first_name": None, "last_name": None}, None),
    ({}, None),
    ({"first_name": "  "}, None),
])
def test_the_name_is_made_from_first_and_last_name(user, name):
    assert contacts.display_name(user) == name
