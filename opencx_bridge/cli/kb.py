"""`flask kb import|list|search`: fill the knowledge base and see what the AI would pick."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from opencx_bridge.kb import articles, importer
from opencx_bridge.kb.responder import KnowledgeBaseResponder
from opencx_bridge.kb.search import search as search_kb


@click.group("kb")
def kb() -> None:
    """The knowledge base the embedded AI answers from."""


@kb.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def import_(path: Path) -> None:
    """Import a CSV (question,answer[,topic][,tags]) or Markdown file, or a folder of them.

    Importing again updates the same articles in place.
    """
    report = importer.import_path(path)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(f"{report.files} file(s): {report.created} created, {report.updated} updated, "
               f"{report.unchanged} unchanged, {len(report.errors)} error(s).")
    if report.imported == 0:
        why = "fix the errors above and retry" if report.errors else f"no articles in {path}"
        raise click.ClickException(f"nothing was imported: {why}.")


@kb.command("list")
@click.option("--topic", help="Only the articles of this topic.")
@with_appcontext
def list_(topic: str | None) -> None:
    """Every article: id, topic, question."""
    rows = articles.listing(topic)
    if not rows:
        click.echo("The knowledge base is empty: add articles with `kb import PATH` "
                   "or in the dashboard.")
        return
    for row in rows:
        click.echo(f"{row.id:>5}  {(row.topic or '-'):<16}  {row.question}")


@kb.command("search")
@click.argument("text")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50))
@with_appcontext
def search(text: str, limit: int) -> None:
    """The best articles for TEXT, with their scores, and what the AI would answer."""
    matches = search_kb(text, limit)
    if matches:
        click.echo(f"{'id':>5}  {'score':>8}  {'conf':>5}  {'topic':<16}  question")
    for match in matches:
        click.echo(f"{match.article_id:>5}  {match.score:>8.3f}  {match.confidence:>5.2f}  "
                   f"{(match.topic or '-'):<16}  {match.question}")
    answer = KnowledgeBaseResponder().respond(text, [])
    if answer.topic == "smalltalk":
        click.echo(f"responder: small talk, confidence {answer.confidence:.2f}: {answer.text}")
    elif not matches:
        click.echo("responder: no matching article, confidence 0.00 (the AI hands off)")
    else:
        click.echo(f"responder: article {matches[0].article_id}, confidence "
                   f"{answer.confidence:.2f}, topic {answer.topic or '-'}")
