"""The knowledge base: articles, their search, their import, and the embedded responder.
(The Article table is in store/models.py, with every other table.)

- text.py      pure word splitting for small talk and import identities
- ranking.py   pure: TF-IDF over the articles' phrasings, and the fitted confidence
- search.py    search(query) over the database, with the index cached per database
- evaluation.py  `kb eval`: a CSV of questions and expected answers, scored per threshold
- suggestions.py handed-off questions paired with a human's reply, for an admin to add
- articles.py  create/update/delete, the one place that writes articles
- importer.py  CSV and Markdown import, re-import in place
- responder.py KnowledgeBaseResponder, the default AI
"""
