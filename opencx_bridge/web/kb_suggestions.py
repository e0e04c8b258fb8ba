"""Suggestions in the dashboard: questions the AI handed off, with the reply a human gave,
to add as a new article or as a phrasing of an existing one, or to dismiss. Everyone signed
in reads; only admins decide.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from opencx_bridge.kb import articles, suggestions
from opencx_bridge.kb.search import search
from opencx_bridge.store.models import Suggestion
from opencx_bridge.web.auth import require_admin

bp = Blueprint("kb_suggestions", __name__, url_prefix="/kb/suggestions")
CANDIDATES = 5  # articles offered to take the question as a phrasing


class DecisionForm(FlaskForm):
    """Only the CSRF token: the fields are read from the request, per suggestion."""


@bp.get("/")
def page():
    return _render()


@bp.post("/<int:suggestion_id>/article")
def add_article(suggestion_id: int):
    suggestion = _decidable(suggestion_id)
    typed = _typed()
    try:
        article = suggestions.add_as_article(suggestion, typed["question"], typed["answer"],
                                             typed["topic"], current_user.email)
    except (articles.ArticleError, suggestions.SuggestionError) as exc:
        return _render(suggestion_id, str(exc), typed), 422
    flash(f"Article “{article.question}” added: the AI answers it from now on.", "success")
    return redirect(url_for("kb_suggestions.page"))


@bp.post("/<int:suggestion_id>/phrasing")
def add_phrasing(suggestion_id: int):
    suggestion = _decidable(suggestion_id)
    typed = _typed()
    article = articles.get(_int(request.form.get("article_id")))
    if article is None:
        return _render(suggestion_id, "choose the article this question belongs to", typed), 422
    try:
        suggestions.add_as_phrasing(suggestion, article, typed["question"], current_user.email)
    except (articles.ArticleError, suggestions.SuggestionError) as exc:
        return _render(suggestion_id, str(exc), typed), 422
    flash(f"“{typed['question']}” is now a phrasing of “{article.question}”.", "success")
    return redirect(url_for("kb_suggestions.page"))


@bp.post("/<int:suggestion_id>/dismiss")
def dismiss(suggestion_id: int):
    suggestion = _decidable(suggestion_id)
    try:
        suggestions.dismiss(suggestion, current_user.email)
    except suggestions.SuggestionError as exc:
        return _render(suggestion_id, str(exc), {}), 422
    flash("Suggestion dismissed.", "info")
    return redirect(url_for("kb_suggestions.page"))


def _decidable(suggestion_id: int) -> Suggestion:
    require_admin()
    if not DecisionForm().validate_on_submit():
        abort(400, "The form expired: reload the page and try again.")
    suggestion = suggestions.get(suggestion_id)
    if suggestion is None:
        abort(404, f"no suggestion with id {suggestion_id}")
    return suggestion


def _typed() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in ("question", "answer", "topic")}


def _int(value: str | None) -> int:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 19 else 0


def _render(failed_id: int | None = None, error: str = "", typed: dict | None = None):
    rows = [(s, search(s.question, CANDIDATES, by_meaning=False))  # words: one page, no calls
            for s in suggestions.open_ones()]
    return render_template("kb_suggestions.html", rows=rows, form=DecisionForm(),
                           failed_id=failed_id, error=error, typed=typed or {})
