"""`flask kb import|list|search|eval`: fill the knowledge base, see what the AI would pick,
and test it on a file of questions."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from opencx_bridge.engine import responders
from opencx_bridge.kb import articles, evaluation, importer
from opencx_bridge.kb.responder import KnowledgeBaseResponder
from opencx_bridge.kb.search import search as search_kb
from opencx_bridge.store import settings


@click.group("kb")
def kb() -> None:
    """The knowledge base the embedded AI answers from."""


@kb.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def import_(path: Path) -> None:
    """Import a CSV (question,answer[,topic][,tags][,phrasings]) or Markdown file, or a folder
    of them.

    Importing again updates the same articles in place. Rows with the same answer become one
    article asked in several ways; `phrasings` holds more ways, separated by |.
    """
    report = importer.import_path(path)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(f"{report.files} file(s): {report.created} created, {report.updated} updated, "
               f"{report.unchanged} unchanged, {len(report.errors)} error(s).")
    if report.merged:
        click.echo(f"{report.merged} article(s) imported before from rows that are now "
                   "phrasings of another article were removed.")
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
        threshold = settings.get("handoff_confidence_threshold")
        verdict = ("the AI answers" if answer.confidence >= threshold
                   else "the AI hands off")
        click.echo(f"responder: article {matches[0].article_id}, confidence "
                   f"{answer.confidence:.2f}, topic {answer.topic or '-'} ({verdict}: "
                   f"threshold {threshold:.2f})")


@kb.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, writable=True,
                                                     path_type=Path),
              help="Write one object per question to this file (a JSON array).")
@click.option("--threshold", type=click.FloatRange(0, 1),
              help="The confidence to judge at [default: the handoff_confidence_threshold "
                   "setting].")
@with_appcontext
def eval_(file: Path, json_out: Path | None, threshold: float | None) -> None:
    """Test the configured AI on FILE, a CSV of question,expected (the exact answer text of
    the article that should answer, or empty when it should hand off): a line per
    threshold, and the figures at the threshold used last."""
    try:
        cases, skipped = evaluation.read_cases(file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not UTF-8 text: save it as UTF-8 CSV") from None
    except evaluation.EvalFileError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    for reason in skipped:
        click.echo(f"skipped {reason}", err=True)
    if threshold is None:
        threshold = settings.get("handoff_confidence_threshold")
    responder = responders.build()
    results = evaluation.run(cases, lambda question: responder.respond(question, []))
    failed = evaluation.failures(results)
    if failed:
        click.echo(f"warning: {failed}", err=True)
    for step in sorted({*evaluation.STEPS, threshold}):
        click.echo(evaluation.step_line(evaluation.figures(results, step), step == threshold))
    if json_out is not None:
        rows = [result.as_json(threshold) for result in results]
        try:
            json_out.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n",
                                encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {json_out}: {exc.strerror}") from None
    click.echo(evaluation.summary_line(evaluation.figures(results, threshold)))
