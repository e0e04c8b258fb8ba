"""The knowledge-gap loop (kb/suggestions.py): a question the AI handed off and the reply a
rep gave in the stand-in become a suggestion; accepting it teaches the AI."""

from pathlib import Path

import pytest
from flows import Flow

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles, importer, suggestions
from opencx_bridge.kb.responder import KnowledgeBaseResponder
from opencx_bridge.store.models import ChatSession, Suggestion, TimelineEntry

FAQ = Path(__file__).parent / "fixtures" / "kb" / "faq.csv"
GIFT = "Do you sell gift cards?"
GIFT_ANSWER = "Yes: gift cards from 10 to 500 euros, in the shop under Gifts."


@pytest.fixture
def flow(app, client, standin, connected):
    with app.app_context():
        importer.import_path(FAQ)
    return Flow(app, client, standin, connected, responder=KnowledgeBaseResponder())


def rep_writes(flow, standin, cid, text, private=False):
    rep = standin.add_agent("rita@acme.test", "Rita", "Rep")
    message = standin.add_message(cid, actor_type="agent", actor_id=rep["id"], text=text,
                                  message_type="private" if private else "normal")
    assert flow.post(standin.message_event(message)).status_code == 200
    flow.run()


def open_suggestions(app) -> list[tuple[str, str, str | None]]:
    with app.app_context():
        return [(s.question, s.answer, s.agent_name) for s in suggestions.open_ones()]


def replies(standin, cid) -> list[str]:
    return [c["json"]["message_parts"][0]["text"]["content"] for c in standin.calls
            if c["method"] == "POST" and cid in c["path"] and c["json"].get("message_type")
            != "private"]


def test_a_rep_answer_to_a_handed_off_question_teaches_the_ai_once_accepted(app, flow,
                                                                             standin):
    cid = flow.conversation()
    flow.customer_says(cid, GIFT)
    flow.run()
    with app.app_context():
        session = db.session.scalar(db.select(ChatSession).where(
            ChatSession.conversation_id == cid))
        assert session.status == "handed_off" and session.gap_question == GIFT
    rep_writes(flow, standin, cid, "Checking, one moment", private=True)  # a note: not a reply
    assert open_suggestions(app) == []
    rep_writes(flow, standin, cid, GIFT_ANSWER)
    rep_writes(flow, standin, cid, "Anything else?")  # only the first reply is paired
    assert open_suggestions(app) == [(GIFT, GIFT_ANSWER, "Rita Rep")]
    with app.app_context():
        said = [t.summary for t in db.session.scalars(db.select(TimelineEntry).where(
            TimelineEntry.conversation_id == cid))]
        assert any("knowledge-base suggestion" in line for line in said)
        article = suggestions.add_as_article(suggestions.open_ones()[0], GIFT, GIFT_ANSWER,
                                             "shop", "lead@example.com")
        decided = db.session.scalar(db.select(Suggestion))
        assert (decided.status, decided.article_id, decided.decided_by) == (
            "added", article.id, "lead@example.com")
    again = flow.conversation()
    flow.customer_says(again, GIFT)
    flow.run()
    assert replies(standin, again) == [GIFT_ANSWER]


def test_a_handoff_the_customer_asked_for_is_no_knowledge_gap(app, flow, standin):
    cid = flow.conversation()
    flow.customer_says(cid, "I want to talk to a human")
    flow.run()
    rep_writes(flow, standin, cid, "Hi, Rita here.")
    assert open_suggestions(app) == []


def test_a_conversation_resolved_before_anyone_answered_forgets_the_question(app, flow,
                                                                            standin):
    cid = flow.conversation()
    flow.customer_says(cid, GIFT)
    flow.run()
    assert flow.post(standin.resolution_event(standin.conversation(cid))).status_code == 200
    flow.run()
    with app.app_context():
        assert db.session.scalar(db.select(ChatSession.gap_question)) is None


def test_adding_the_question_as_a_phrasing_makes_it_answered(app):
    with app.app_context():
        importer.import_path(FAQ)
        shipping = next(a for a in articles.listing() if a.topic == "shipping")
        gap = Suggestion(conversation_id="c1", question="parcel to the moon?", answer="No.",
                         status="open")
        db.session.add(gap)
        db.session.commit()

        suggestions.add_as_phrasing(gap, shipping, "  parcel   to the moon? ", "lead@x")
        assert "parcel to the moon?" in articles.phrasings_of(articles.get(shipping.id))
        best = suggestions.search("parcel to the moon?", 1)[0]
        assert best.article_id == shipping.id and best.confidence > 0.8
        assert (gap.status, gap.article_id) == ("phrasing", shipping.id)


def test_a_suggestion_is_decided_once(app):
    with app.app_context():
        gap = Suggestion(conversation_id="c1", question="q?", answer="a.", status="open")
        db.session.add(gap)
        db.session.commit()
        suggestions.dismiss(gap, "lead@x")
        with pytest.raises(suggestions.SuggestionError, match="already decided .dismissed by "
                                                              "lead@x"):
            suggestions.add_as_article(gap, "q?", "a.", None, "other@x")
        assert articles.count() == 0 and suggestions.count_open() == 0


def test_an_article_refused_keeps_the_suggestion_open(app):
    with app.app_context():
        gap = Suggestion(conversation_id="c1", question="q?", answer="a.", status="open")
        db.session.add(gap)
        db.session.commit()
        with pytest.raises(articles.ArticleError, match="empty answer"):
            suggestions.add_as_article(gap, "q?", "   ", None, "lead@x")
        db.session.expire_all()
        assert suggestions.count_open() == 1 and articles.count() == 0


@pytest.mark.parametrize(("kind", "kept"), [("low_confidence", True), ("topic", True),
                                            ("human_asked", False), ("office_hours", False),
                                            ("attachment", False)])
def test_only_a_knowledge_gap_is_remembered(kind, kept):
    session = ChatSession(conversation_id="c")
    suggestions.remember_gap(session, kind, "  How much is it?  ")
    assert session.gap_question == ("How much is it?" if kept else None)
