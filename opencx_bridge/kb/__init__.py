"""The knowledge base: articles, their search, their import, and the embedded responder.

- models.py    the Article table
- text.py      pure tokenising/stemming shared by everything below
- scoring.py   pure BM25 and the confidence calibration
- search.py    search(query) over the database (FTS5 on SQLite, pure-Python BM25 elsewhere)
- articles.py  create/update/delete, the one place that writes articles
- importer.py  CSV and Markdown import, re-import in place
- responder.py KnowledgeBaseResponder, the default AI
"""

# The core models end by importing kb.models (so the metadata knows Article), and kb.models
# imports utcnow from them: load the core module first, whichever side is imported first.
from .. import models as _core_models  # noqa: E402,F401
