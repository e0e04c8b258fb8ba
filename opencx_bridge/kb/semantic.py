"""Matching by meaning: when `embeddings_model` is set (with `openai_base_url`), each article
gets, besides its word score, the best cosine between the question's embedding and its
phrasings' embeddings; ranking.rank takes the higher of the two. Phrasing embeddings are
kept in the database (by model and text, so an edited phrasing is embedded again) and in
memory. Any failure returns None: the search then matches by words alone, and the state row
tells diagnostics why (a change of state is written, not every question).

Not measured on a real embeddings model here (none is reachable from this machine): run
`kb eval` with it on before trusting the threshold.

Must be called inside an app context.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete, select

from opencx_bridge.ai.embeddings import EmbeddingsClient, EmbeddingsError
from opencx_bridge.extensions import db
from opencx_bridge.kb import ranking
from opencx_bridge.store import settings
from opencx_bridge.store.models import EmbeddingsState, PhrasingEmbedding, utcnow
from opencx_bridge.store.secrets_box import SecretUnreadable

QUESTION_TIMEOUT = 5.0  # seconds a customer's answer may wait for the question's embedding
REFRESH_OK = timedelta(minutes=10)  # how often a success is written while all is well
_vectors: dict[tuple[str, str, str], object] = {}  # (database, model, text hash) -> unit vector
_last_state: dict[str, object] = {}  # what this process last wrote


def configured() -> tuple[str, str, str | None] | None:
    """(base URL, model, API key) when matching by meaning is on, else None."""
    model = (settings.get("embeddings_model") or "").strip()
    base_url = (settings.get("openai_base_url") or "").strip()
    if not (model and base_url):
        return None
    return base_url, model, settings.get("openai_api_key") or None


def article_scores(index: ranking.Index | None, question: str):
    """Per article of `index`, the best cosine of `question` with its phrasings (a numpy
    array), or None when off or failing."""
    if index is None or not question.strip():
        return None
    try:
        config = configured()
    except SecretUnreadable:
        _record(None, "the saved openai_api_key cannot be decrypted (SECRET_KEY changed?): "
                      "enter it again in AI settings")
        return None
    if config is None:
        return None
    base_url, model, api_key = config
    try:
        client = EmbeddingsClient(base_url, model, api_key, timeout=QUESTION_TIMEOUT)
        phrasings = _phrasing_matrix(client, index.phrasings)
        asked = _unit(client.embed([question[:ranking.MAX_QUESTION_CHARS]])[0])
    except (EmbeddingsError, ValueError) as exc:
        _record(model, str(exc))
        return None
    if phrasings.shape[1] != asked.shape[0]:
        _record(model, "the question's embedding is not as long as the articles' (the "
                       "model changed on the server?)")
        return None
    _record(model, None)
    import numpy as np

    best = np.zeros(index.size)
    np.maximum.at(best, index.owners, np.clip(phrasings @ asked, 0.0, 1.0))
    return best


def _phrasing_matrix(client: EmbeddingsClient, phrasings: tuple[str, ...]):
    import numpy as np

    where = db.engine.url.render_as_string(hide_password=True)
    hashes = [hashlib.sha256(text.encode()).hexdigest() for text in phrasings]
    missing = [h for h in dict.fromkeys(hashes) if (where, client.model, h) not in _vectors]
    if missing:
        stored = db.session.execute(select(PhrasingEmbedding.text_hash, PhrasingEmbedding.vector)
                                    .where(PhrasingEmbedding.model == client.model,
                                           PhrasingEmbedding.text_hash.in_(missing)))
        for text_hash, blob in stored:
            _vectors[(where, client.model, text_hash)] = np.frombuffer(blob, dtype="<f4")
        todo = {h: t for h, t in zip(hashes, phrasings, strict=True)
                if (where, client.model, h) not in _vectors}
        if todo:
            fresh = client.embed(list(todo.values()))
            vectors = dict(zip(todo, (_unit(v) for v in fresh), strict=True))
            _store(client.model, vectors, set(hashes))
            _vectors.update({(where, client.model, h): v for h, v in vectors.items()})
    return np.vstack([_vectors[(where, client.model, h)] for h in hashes])


def _store(model: str, vectors: dict, in_use: set[str]) -> None:
    """New embeddings in, the ones no phrasing uses any more out: on a connection of its
    own, so the caller's transaction (the worker's step) is not committed with it."""
    with db.engine.begin() as connection:
        connection.execute(delete(PhrasingEmbedding).where(
            PhrasingEmbedding.model == model, PhrasingEmbedding.text_hash.not_in(in_use)))
        for text_hash, vector in vectors.items():
            connection.execute(delete(PhrasingEmbedding).where(
                PhrasingEmbedding.model == model, PhrasingEmbedding.text_hash == text_hash))
            connection.execute(PhrasingEmbedding.__table__.insert().values(
                model=model, text_hash=text_hash, vector=vector.astype("<f4").tobytes(),
                created_at=utcnow()))


def _record(model: str | None, error: str | None) -> None:
    """Write how the server answered when that changed (or a success every REFRESH_OK)."""
    now = utcnow()
    unchanged = _last_state.get("model") == model and _last_state.get("error") == error
    if unchanged and (error or now - _last_state.get("at", now) < REFRESH_OK):
        return
    values = ({"last_error": error, "last_error_at": now} if error else {"last_ok_at": now})
    with db.engine.begin() as connection:
        table = EmbeddingsState.__table__
        found = connection.execute(select(table.c.id).where(table.c.id == 1)).first()
        if found is None:
            connection.execute(table.insert().values(id=1, model=model, **values))
        else:
            connection.execute(table.update().where(table.c.id == 1)
                               .values(model=model, **values))
    _last_state.update(model=model, error=error, at=now)


def state() -> EmbeddingsState | None:
    return db.session.get(EmbeddingsState, 1)


def _unit(vector):
    import numpy as np

    array = np.asarray(vector, dtype="<f4")
    length = float(np.linalg.norm(array))
    return array / length if length > 0 else array
