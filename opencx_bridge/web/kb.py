"""The knowledge base in the dashboard: list and search, new, edit, delete.

Everyone signed in can read; only admins change (others get 403).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from opencx_bridge.kb import articles, suggestions
from opencx_bridge.kb.search import search
from opencx_bridge.store import settings
from opencx_bridge.store.models import Article
from opencx_bridge.web.auth import require_admin
from opencx_bridge.web.forms import EmptyForm

bp = Blueprint("kb", __name__, url_prefix="/kb")
SEARCH_LIMIT = 20


class ArticleForm(FlaskForm):
    question = StringField("Question (title)", validators=[
        DataRequired("Write the question customers ask."),
        Length(max=articles.MAX_QUESTION)])
    answer = TextAreaField("Answer", validators=[
        DataRequired("Write the answer the AI sends.")])
    topic = StringField("Topic", validators=[Optional(), Length(max=articles.MAX_TOPIC)])
    tags = StringField("Tags", validators=[Optional()])
    phrasings = TextAreaField("Other ways customers ask this", validators=[Optional()])


@bp.get("/")
def index():
    query = (request.args.get("q") or "").strip()
    topic = (request.args.get("topic") or "").strip() or None
    matches = search(query, SEARCH_LIMIT) if query else []
    rows = [] if query else articles.listing(topic)
    return render_template("kb_list.html", query=query, topic=topic, matches=matches,
                           rows=rows, total=articles.count(),
                           open_suggestions=suggestions.count_open(),
                           threshold=settings.get("handoff_confidence_threshold"))


@bp.route("/new", methods=["GET", "POST"])
def new():
    require_admin()
    form = ArticleForm()
    if form.validate_on_submit() and _apply(form, None):
        flash("Article created.", "success")
        return redirect(url_for("kb.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("kb_form.html", form=form, article=None), status


@bp.route("/<int:article_id>", methods=["GET", "POST"])
def edit(article_id: int):
    article = _article_or_404(article_id)
    form = ArticleForm(obj=article)
    if request.method == "POST":
        require_admin()
        if form.validate_on_submit() and _apply(form, article):
            flash("Article saved.", "success")
            return redirect(url_for("kb.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("kb_form.html", form=form, article=article,
                           delete_form=EmptyForm()), status


@bp.post("/<int:article_id>/delete")
def delete(article_id: int):
    require_admin()
    article = _article_or_404(article_id)
    question = article.question
    articles.remove(article)
    flash(f"Deleted “{question}”.", "info")
    return redirect(url_for("kb.index"))


def _article_or_404(article_id: int) -> Article:
    article = articles.get(article_id)
    if article is None:
        abort(404, f"no knowledge-base article with id {article_id}")
    return article


def _apply(form: ArticleForm, article: Article | None) -> bool:
    """Store the form; False (with the error shown on the form) when it cannot be stored."""
    fields = (form.question.data, form.answer.data, form.topic.data, form.tags.data,
              form.phrasings.data)
    try:
        articles.save(article, *fields)
    except articles.ArticleError as exc:
        target = getattr(form, exc.field)
        target.errors = [*target.errors, str(exc)]
        return False
    return True
