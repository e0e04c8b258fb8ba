"""The knowledge base: articles, their search, their import, and the embedded responder.
(The Article table is in store/models.py, with every other table.)

- text.py      pure tokenising/stemming shared by everything below
- scoring.py   pure BM25 and the confidence calibration
- search.py    search(query) over the database (FTS5 on SQLite, pure-Python BM25 elsewhere)
- articles.py  create/update/delete, the one place that writes articles
- importer.py  CSV and Markdown import, re-import in place
- responder.py KnowledgeBaseResponder, the default AI
"""
