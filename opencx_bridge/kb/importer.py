"""Import articles from CSV and Markdown files; a re-import updates in place.

CSV: a header naming `question` and `answer`, optionally `topic`, `tags` and `phrasings`
(other ways customers ask, separated by `|`; other columns are ignored; `;` works as the
separator when the header has no comma). One article per answer: a later row of the same
file with the same answer adds its question (and phrasings) to the first row's article. The
identity of an article is its first question's words ("csv:how long does shipping take"),
so fixing an answer and importing again updates that article, while rewording that
question makes a new one.

Markdown: optional front matter between `---` lines with `title:`, `topic:`, `tags:` and
`questions:` (other ways customers ask, as `- ` lines below it or `|`-separated on its
line; for a file of one article, the `##`-sectioned kind has no place for them). A file
without `##` headings is one article titled by its front-matter title, else its `# `
heading, else its file name; a file with `##` headings gives one article per section (text
before the first `##` is ignored). Identity: "md:<path>" or "md:<path>#<section slug>",
the path relative to the imported folder (or the file's name when a file is imported).

Topic: the row's `topic` column or the front matter's `topic:`, else the name of the folder
holding the file when that folder is inside the imported one.

Parsing (read_path and the parse_* functions) touches no database; store() writes through
articles.py and leaves the commit to the caller.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from opencx_bridge.kb import articles, text
from opencx_bridge.store.writes import commits

SUFFIXES = {".csv": "csv", ".md": "md", ".markdown": "md"}
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Draft:
    question: str
    answer: str
    topic: str | None
    tags: str
    phrasings: str  # one per line
    source_key: str
    origin: str  # "file:line", for messages
    merged_keys: tuple[str, ...] = ()  # rows that became phrasings of this one


@dataclass
class Report:
    files: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # articles of rows that are now phrasings of another, removed
    errors: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


class _Collector:
    """Drafts and errors of one file; validation goes through articles.cleaned."""

    def __init__(self, name: str) -> None:
        self.name, self.drafts, self.errors = name, [], []

    def add(self, line: int, key: str, question: str, answer: str, topic: str | None,
            tags: str | None, phrasings: list[str] | None = None) -> None:
        origin = f"{self.name}:{line}"
        try:
            fields = articles.cleaned(question, answer, topic, tags, phrasings)
        except articles.ArticleError as exc:
            self.errors.append(f"{origin}: {exc}")
            return
        self.drafts.append(Draft(**fields, source_key=key[:512], origin=origin))

    def merged_by_answer(self) -> list[Draft]:
        """Drafts with the same answer as an earlier one become its phrasings."""
        first: dict[str, int] = {}
        kept: list[Draft] = []
        for draft in self.drafts:
            at = first.get(draft.answer)
            if at is None:
                first[draft.answer] = len(kept)
                kept.append(draft)
                continue
            into = kept[at]
            lines = [*into.phrasings.split("\n"), draft.question, *draft.phrasings.split("\n")]
            try:
                phrasings = articles.normalise_phrasings(lines, into.question)
            except articles.ArticleError as exc:
                self.errors.append(f"{draft.origin}: {exc}; not added to {into.origin}")
                continue
            for name in ("topic", "tags"):
                if getattr(draft, name) and getattr(draft, name) != getattr(into, name):
                    self.errors.append(
                        f"{draft.origin}: same answer as {into.origin}, so its question is a "
                        f"phrasing there; its {name} {getattr(draft, name)!r} was not used "
                        f"(the article has {getattr(into, name) or 'none'!r})")
            kept[at] = replace(into, phrasings=phrasings,
                               merged_keys=(*into.merged_keys, draft.source_key))
        return kept


def parse_csv(content: str, name: str, default_topic: str | None = None):
    """(drafts, errors) of a CSV file's text."""
    first = content.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(content), delimiter=delimiter)
    out = _Collector(name)
    try:
        columns = [cell.strip().lower() for cell in next(reader, [])]
        if "question" not in columns or "answer" not in columns:
            found = delimiter.join(columns) or "nothing"
            out.errors.append(f"{name}:1: the header must name the columns "
                              f"question,answer[,topic][,tags] (found: {found})")
            return out.drafts, out.errors
        line = reader.line_num + 1
        for row in reader:
            start, line = line, reader.line_num + 1
            if any(cell.strip() for cell in row):
                cells = dict(zip(columns, row, strict=False))
                question = cells.get("question", "")
                out.add(start, "csv:" + text.normalise_question(question), question,
                        cells.get("answer", ""), cells.get("topic") or default_topic,
                        cells.get("tags"), (cells.get("phrasings") or "").split("|"))
    except csv.Error as exc:
        out.errors.append(f"{name}:{reader.line_num}: unreadable CSV ({exc})")
    return out.merged_by_answer(), out.errors


def parse_markdown(content: str, name: str, default_topic: str | None = None):
    """(drafts, errors) of a Markdown file's text."""
    out = _Collector(name)
    lines = content.splitlines()
    meta, listed, start = _front_matter(lines)
    if start < 0:
        return [], [f"{name}:1: front matter opened with --- but never closed"]
    topic, tags = meta.get("topic") or default_topic, meta.get("tags", "").strip("[]")
    questions = [*meta.get("questions", "").split("|"), *listed]
    sections = _sections(lines, start)
    if not sections:
        title, title_line = _title(lines, start)
        title = meta.get("title") or title or _humanise(Path(name).stem)
        body = [ln for i, ln in enumerate(lines[start:], start) if i != title_line]
        out.add(start + 1, f"md:{name}", title, "\n".join(body), topic, tags, questions)
        return out.drafts, out.errors
    if any(q.strip() for q in questions):
        out.errors.append(f"{name}:1: questions: in the front matter belong to a file of one "
                          f"article, and this one has {len(sections)} ## sections; those "
                          "questions were not imported (give each article its own file)")
    used: dict[str, int] = {}
    for heading, line, body in sections:
        slug = text.slug(heading)
        used[slug] = used.get(slug, 0) + 1
        suffix = f"-{used[slug]}" if used[slug] > 1 else ""
        out.add(line, f"md:{name}#{slug}{suffix}", heading, "\n".join(body), topic, tags)
    return out.drafts, out.errors


def _front_matter(lines: list[str]) -> tuple[dict[str, str], list[str], int]:
    """(keys, the `- ` items listed under `questions:`, index of the first body line);
    index -1 when the block is not closed."""
    if not lines or lines[0].strip() != "---":
        return {}, [], 0
    meta: dict[str, str] = {}
    listed: list[str] = []
    key = ""
    for index, line in enumerate(lines[1:], 1):
        if line.strip() in ("---", "..."):
            return meta, listed, index + 1
        if line.strip().startswith("- ") and key == "questions":
            listed.append(line.strip()[2:].strip().strip("\"'"))
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip():
            key = name.strip().lower()
            meta[key] = value.strip().strip("\"'")
    return meta, listed, -1


def _sections(lines: list[str], start: int) -> list[tuple[str, int, list[str]]]:
    """(heading, 1-based line, body lines) per `## ` heading outside code fences."""
    sections: list[tuple[str, int, list[str]]] = []
    fenced = False
    for index, line in enumerate(lines[start:], start):
        if _FENCE.match(line):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            sections.append((line[3:].strip().rstrip("#").strip(), index + 1, []))
        elif sections:
            sections[-1][2].append(line)
    return sections


def _title(lines: list[str], start: int) -> tuple[str | None, int]:
    for index, line in enumerate(lines[start:], start):
        if line.startswith("# "):
            return line[2:].strip().rstrip("#").strip(), index
    return None, -1


def _humanise(stem: str) -> str:
    words = " ".join(re.split(r"[-_\s]+", stem)).strip()
    return words[:1].upper() + words[1:]


def files_under(path: Path) -> list[Path]:
    """The importable files: `path` itself, or every *.csv/*.md below it (hidden ones skipped)."""
    if path.is_file():
        return [path]
    found = (p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    return sorted(p for p in found
                  if not any(part.startswith(".") for part in p.relative_to(path).parts))


def read_path(path: Path) -> tuple[list[Draft], list[str], int]:
    """Parse every file under `path`: (drafts, errors, files read). No database access."""
    root = path if path.is_dir() else path.parent
    drafts: list[Draft] = []
    errors: list[str] = []
    files = files_under(path)
    for file in files:
        name = file.relative_to(root).as_posix()
        kind = SUFFIXES.get(file.suffix.lower())
        if kind is None:
            errors.append(f"{name}: not a .csv or .md file")
            continue
        try:
            content = file.read_text(encoding="utf-8-sig")
        except (UnicodeDecodeError, OSError) as exc:
            errors.append(f"{name}: cannot read as UTF-8 text ({exc.__class__.__name__})")
            continue
        folder = file.parent.relative_to(root)
        default_topic = folder.name if path.is_dir() and folder.parts else None
        parse = parse_csv if kind == "csv" else parse_markdown
        found, problems = parse(content, name, default_topic)
        drafts += found
        errors += problems
    if not files:
        errors.append(f"{path}: no .csv or .md files found")
    return _without_duplicates(drafts, errors), errors, len(files)


def _without_duplicates(drafts: Iterable[Draft], errors: list[str]) -> list[Draft]:
    first: dict[str, Draft] = {}
    for draft in drafts:
        if draft.source_key in first:
            errors.append(f"{draft.origin}: duplicate of {first[draft.source_key].origin} "
                          "(same question or section); skipped")
        else:
            first[draft.source_key] = draft
    return list(first.values())


def store(drafts: Iterable[Draft], report: Report) -> Report:
    """Create or update each draft's article, counting what happened."""
    for draft in drafts:
        for key in set(draft.merged_keys) - {draft.source_key}:  # imported on their own before
            earlier = articles.by_source_key(key)
            if earlier is not None:
                articles.delete(earlier)
                report.merged += 1
        existing = articles.by_source_key(draft.source_key)
        if existing is None:
            articles.create(draft.question, draft.answer, draft.topic, draft.tags,
                            source_key=draft.source_key, phrasings=draft.phrasings)
            report.created += 1
        elif articles.update(existing, draft.question, draft.answer, draft.topic, draft.tags,
                             draft.phrasings):
            report.updated += 1
        else:
            report.unchanged += 1
    return report


@commits
def import_path(path: Path | str) -> Report:
    """Parse and store everything under `path`, in one transaction."""
    drafts, errors, files = read_path(Path(path))
    return store(drafts, Report(files=files, errors=errors))
