"""Matching by meaning: when `embeddings_model` is set (with `openai_base_url`), each article
gets, besides its word score, the best cosine between the question's embedding and its
phrasings' embeddings; ranking.rank takes the higher of the two. Phrasing embeddings are
kept in the database (by model and text, so an edited phrasing is embedded again) and in
memory, with the stacked matrix of the current index.

Any failure returns None and the search matches by words alone; after a failure this process
does not ask again for PAUSE_AFTER_FAILURE, so customers do not each wait for a server that
is down. The state row tells diagnostics what happened (written when it changes, and every
REFRESH while it stays the same).

Not measured on a real embeddings model here (none is reachable from this machine), and
the confidence was fitted on word scores: run `kb eval` with it on before trusting the
threshold.

Must be called inside an app context.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from opencx_bridge.ai.embeddings import EmbeddingsClient, EmbeddingsError
from opencx_bridge.extensions import db
from opencx_bridge.kb import ranking
from opencx_bridge.store import settings
from opencx_bridge.store.models import EmbeddingsState, PhrasingEmbedding, utcnow
from opencx_bridge.store.secrets_box import SecretUnreadable

log = logging.getLogger(__name__)
QUESTION_TIMEOUT = 5.0  # seconds a customer's answer may wait for the question's embedding
PAUSE_AFTER_FAILURE = timedelta(minutes=2)
REFRESH = timedelta(minutes=10)
_lock = threading.Lock()  # one thread embeds the missing phrasings; the others wait for it
_vectors: dict[tuple[str, str, str], object] = {}  # (database, model, text hash) -> unit vector
_matrix: dict[str, tuple] = {}  # database -> (index, model, stacked phrasing vectors)
_last: dict[str, dict] = {}  # database -> what this process last wrote, when it last failed


class _Failure(Exception):
    """Internal: why meaning cannot be used for this question."""


def configured() -> tuple[str, str, str | None] | None:
    """(base URL, model, API key) when matching by meaning is on, else None; SecretUnreadable
    when the saved key cannot be decrypted."""
    model = (settings.get("embeddings_model") or "").strip()
    base_url = (settings.get("openai_base_url") or "").strip()
    if not (model and base_url):
        return None
    return base_url, model, settings.get("openai_api_key") or None


def article_scores(index: ranking.Index | None, question: str):
    """Per article of `index`, the best cosine of `question` with its phrasings (a numpy
    array), or None when off, paused or failing."""
    if index is None or not question.strip():
        return None
    model = (settings.get("embeddings_model") or "").strip()
    failed_at = _mine().get("failed_at")
    if failed_at is not None and utcnow() - failed_at < PAUSE_AFTER_FAILURE:
        return None
    try:
        config = configured()
        if config is None:
            return None
        scores = _scores(index, question, *config)
    except SecretUnreadable:
        _record(model, "the saved openai_api_key cannot be decrypted (SECRET_KEY changed?): "
                       "enter it again in AI settings")
        return None
    except (EmbeddingsError, ValueError, _Failure) as exc:
        _record(model, str(exc))
        return None
    except SQLAlchemyError as exc:  # the vectors could not be kept: words alone this time
        log.warning("embeddings not stored: %s", type(exc).__name__)
        _mine()["failed_at"] = utcnow()
        return None
    _record(model, None)
    return scores


def _scores(index: ranking.Index, question: str, base_url: str, model: str,
            api_key: str | None):
    import numpy as np

    client = EmbeddingsClient(base_url, model, api_key, timeout=QUESTION_TIMEOUT)
    phrasings = _phrasing_matrix(client, index)
    asked = _unit(client.embed([question[:ranking.MAX_QUESTION_CHARS]])[0])
    if phrasings.shape[1] != asked.shape[0]:
        _forget(model)
        raise _Failure(f"the model's vectors changed length ({phrasings.shape[1]} → "
                       f"{asked.shape[0]}): the phrasings are embedded again next time")
    best = np.zeros(index.size)
    np.maximum.at(best, index.owners, np.clip(phrasings @ asked, 0.0, 1.0))
    return best


def _phrasing_matrix(client: EmbeddingsClient, index: ranking.Index):
    import numpy as np

    where = db.engine.url.render_as_string(hide_password=True)
    kept = _matrix.get(where)
    if kept is not None and kept[0] is index and kept[1] == client.model:
        return kept[2]
    with _lock:
        hashes = [hashlib.sha256(text.encode()).hexdigest() for text in index.phrasings]
        missing = [h for h in dict.fromkeys(hashes) if (where, client.model, h) not in _vectors]
        if missing:
            _load(where, client.model, missing)
        todo = {h: t for h, t in zip(hashes, index.phrasings, strict=True)
                if (where, client.model, h) not in _vectors}
        if todo:
            vectors = dict(zip(todo, (_unit(v) for v in client.embed(list(todo.values()))),
                               strict=True))
            _store(client.model, vectors, set(hashes))
            _vectors.update({(where, client.model, h): v for h, v in vectors.items()})
        try:
            matrix = np.vstack([_vectors[(where, client.model, h)] for h in hashes])
        except ValueError:
            _forget(client.model)
            raise _Failure("the stored vectors of this model differ in length (the model "
                           "changed on the server?): they are embedded again next time") from None
        _matrix[where] = (index, client.model, matrix)
        return matrix


def _load(where: str, model: str, hashes: list[str]) -> None:
    import numpy as np

    rows = db.session.execute(select(PhrasingEmbedding.text_hash, PhrasingEmbedding.vector)
                              .where(PhrasingEmbedding.model == model,
                                     PhrasingEmbedding.text_hash.in_(hashes)))
    for text_hash, blob in rows:
        _vectors[(where, model, text_hash)] = np.frombuffer(blob, dtype="<f4")


def _store(model: str, vectors: dict, in_use: set[str]) -> None:
    """New embeddings in, the ones no phrasing uses any more out: on a connection of its
    own, so the caller's transaction (the worker's step) is not committed with it. Another
    process storing the same vectors meanwhile is fine: theirs are kept."""
    table = PhrasingEmbedding.__table__
    with db.engine.begin() as connection:
        connection.execute(delete(PhrasingEmbedding).where(
            PhrasingEmbedding.model == model, PhrasingEmbedding.text_hash.not_in(in_use)))
    for text_hash, vector in vectors.items():
        try:
            with db.engine.begin() as connection:
                connection.execute(table.insert().values(
                    model=model, text_hash=text_hash, vector=vector.astype("<f4").tobytes(),
                    created_at=utcnow()))
        except IntegrityError:
            continue


def _forget(model: str) -> None:
    """Vectors of another length than the server's now: drop them everywhere."""
    for key in [k for k in _vectors if k[1] == model]:
        del _vectors[key]
    _matrix.clear()
    with db.engine.begin() as connection:
        connection.execute(delete(PhrasingEmbedding).where(PhrasingEmbedding.model == model))


def _record(model: str, error: str | None) -> None:
    """Write how the server answered when that changed, or every REFRESH."""
    now, last = utcnow(), _mine()
    last["failed_at"] = now if error else None
    same = last.get("model") == model and last.get("error") == error
    if same and now - last.get("at", now) < REFRESH:
        return
    values = {"last_error": error, "last_error_at": now} if error else {"last_ok_at": now}
    table = EmbeddingsState.__table__
    try:
        with db.engine.begin() as connection:
            updated = connection.execute(table.update().where(table.c.id == 1)
                                         .values(model=model, **values)).rowcount
            if not updated:
                connection.execute(table.insert().values(id=1, model=model, **values))
    except IntegrityError:  # another process made the row just now: theirs says the same
        pass
    except SQLAlchemyError as exc:
        log.warning("embeddings state not stored: %s", type(exc).__name__)
        return
    last.update(model=model, error=error, at=now)


def _mine() -> dict:
    return _last.setdefault(db.engine.url.render_as_string(hide_password=True), {})


def state() -> EmbeddingsState | None:
    return db.session.get(EmbeddingsState, 1)


def _unit(vector):
    import numpy as np

    array = np.asarray(vector, dtype="<f4")
    length = float(np.linalg.norm(array))
    return array / length if length > 0 else array
