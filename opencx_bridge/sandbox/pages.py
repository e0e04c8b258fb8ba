"""The sandbox's two pages on the stand-in: a customer chat and an agent view.

They act the way people act in Freshchat: the customer writes (`customer_says`, which sends
the signed message_create webhook to the bridge), Rita the rep writes, assigns, resolves and
reopens (`agent_says`, `assign`, `resolve`, `reopen`). Pages poll small JSON endpoints once a
second (static/sandbox.js); there are no inline scripts, so a strict CSP applies.

Every POST answers JSON when the client asks for it (`Accept: application/json`), else it
redirects back to the page (a plain form post works without JavaScript).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from opencx_bridge.sandbox import AI, REP, People, conversation_row, messages_view, names_of
from opencx_bridge.standin import Standin

bp = Blueprint("sandbox", __name__, template_folder="templates", static_folder="static",
               static_url_path="/sandbox-static")

EXTENSION = "opencx_sandbox"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
MAX_TEXT = 4000


def install(st: Standin, people: People, bridge_url: str) -> None:
    """Add the pages to the stand-in's app (before it starts); they need no API token."""
    st.app.extensions[EXTENSION] = {"standin": st, "people": people, "bridge_url": bridge_url}
    st.open_blueprints.add(bp.name)
    st.app.register_blueprint(bp)


def _standin() -> Standin:
    return current_app.extensions[EXTENSION]["standin"]


def _people() -> People:
    return current_app.extensions[EXTENSION]["people"]


@bp.before_request
def _same_origin_posts() -> None:
    """Refuse posts another web site makes this browser send (only this origin may post)."""
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin and origin != request.host_url.rstrip("/"):
        abort(403)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.context_processor
def _page_context() -> dict[str, Any]:
    return {"bridge_url": current_app.extensions[EXTENSION]["bridge_url"], "ai": AI, "rep": REP}


def _conversation(cid: str) -> dict[str, Any]:
    """The conversation, or 404 (the stand-in's JSON error body) for scripts and posts."""
    found = _standin().conversation(cid)
    if found is None:
        abort(404)
    return found


def _gone() -> tuple[str, int]:
    """A page for an address whose conversation is not (or no longer) in memory."""
    return render_template("sandbox_gone.html"), 404


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json")


def _done(endpoint: str, cid: str, result: dict[str, Any], error: str | None = None) -> Any:
    """JSON for scripts, else back to the page (with the error in the address)."""
    if _wants_json():
        return (jsonify({"error": error}), 400) if error else jsonify(result)
    return redirect(url_for(endpoint, cid=cid, error=error), 303)


def _text() -> tuple[str, str | None]:
    text = (request.form.get("text") or "").strip()
    if not text:
        return text, "Type a message first."
    if len(text) > MAX_TEXT:
        return text, f"Messages are limited to {MAX_TEXT} characters."
    return text, None


def _names(conversation: dict[str, Any]) -> dict[str, str]:
    st = _standin()
    customers = [st.user(u["id"]) for u in conversation.get("users") or []]
    return names_of([*st.agents(), *customers])


def _messages(conversation: dict[str, Any], for_agent: bool) -> list[dict[str, Any]]:
    messages = _standin().messages(conversation["conversation_id"])
    return messages_view(messages, _people(), _names(conversation), for_agent)


def _row(conversation: dict[str, Any]) -> dict[str, Any]:
    st = _standin()
    users = conversation.get("users") or []
    customer = st.user(users[0]["id"]) if users else None
    messages = st.messages(conversation["conversation_id"])
    return conversation_row(conversation, customer, _names(conversation),
                            messages[-1] if messages else None)


@bp.get("/")
def index() -> str:
    return render_template("sandbox_index.html")


# -- customer chat ---------------------------------------------------------------------------


@bp.get("/chat")
def chat_start() -> str:
    return render_template("sandbox_chat_start.html", error=request.args.get("error"))


@bp.post("/chat")
def chat_create() -> Any:
    """A new customer opens a conversation, optionally with a first message."""
    name = " ".join((request.form.get("name") or "").split())[:80] or "Casey Customer"
    first, _, last = name.partition(" ")
    email = (request.form.get("email") or "").strip()[:120] or None
    text = (request.form.get("text") or "").strip()[:MAX_TEXT]
    st = _standin()
    user = st.add_user(email=email, first_name=first, last_name=last)
    cid = st.add_conversation(user["id"])["conversation_id"]
    if text:
        st.customer_says(cid, text)
    if _wants_json():
        return jsonify({"conversation_id": cid, "url": url_for(".chat", cid=cid)}), 201
    return redirect(url_for(".chat", cid=cid), 303)


@bp.get("/chat/<cid>")
def chat(cid: str) -> Any:
    conversation = _standin().conversation(cid)
    if conversation is None:
        return _gone()
    return render_template("sandbox_chat.html", conversation=conversation,
                           messages=_messages(conversation, for_agent=False),
                           customer=_row(conversation)["customer"],
                           error=request.args.get("error"))


@bp.get("/chat/<cid>/messages")
def chat_messages(cid: str) -> Any:
    """What the customer sees: every message but private notes."""
    conversation = _conversation(cid)
    return jsonify({"status": conversation["status"],
                    "messages": _messages(conversation, for_agent=False)})


@bp.post("/chat/<cid>/messages")
def chat_send(cid: str) -> Any:
    _conversation(cid)
    text, error = _text()
    if error:
        return _done(".chat", cid, {}, error)
    message = _standin().customer_says(cid, text)
    return _done(".chat", cid, {"id": message["id"]})


# -- agent view ------------------------------------------------------------------------------


@bp.get("/agent")
def agent_list() -> str:
    return render_template("sandbox_agent_list.html", rows=_rows())


def _rows() -> list[dict[str, Any]]:
    conversations = _standin().conversations()
    return [_row(c) for c in reversed(conversations)]  # newest first


@bp.get("/agent/conversations")
def agent_conversations() -> Any:
    return jsonify({"conversations": _rows()})


@bp.get("/agent/<cid>")
def agent_conversation(cid: str) -> Any:
    conversation = _standin().conversation(cid)
    if conversation is None:
        return _gone()
    return render_template("sandbox_agent.html", row=_row(conversation),
                           messages=_messages(conversation, for_agent=True),
                           error=request.args.get("error"))


@bp.get("/agent/<cid>/messages")
def agent_messages(cid: str) -> Any:
    """What an agent sees: the conversation and every message, private notes marked."""
    conversation = _conversation(cid)
    return jsonify({"conversation": _row(conversation),
                    "messages": _messages(conversation, for_agent=True)})


@bp.post("/agent/<cid>/reply")
def agent_reply(cid: str) -> Any:
    """Rita writes to the customer, or a private note when "private" is ticked."""
    _conversation(cid)
    text, error = _text()
    if error:
        return _done(".agent_conversation", cid, {}, error)
    private = request.form.get("private") in ("1", "on", "true")
    message = _standin().agent_says(cid, _people().rep_id, text, private=private)
    return _done(".agent_conversation", cid, {"id": message["id"]})


@bp.post("/agent/<cid>/assign")
def agent_assign(cid: str) -> Any:
    """to=rep (Rita), ai (the AI agent) or none (back to the queue)."""
    _conversation(cid)
    people = _people()
    targets = {"rep": people.rep_id, "ai": people.ai_id, "none": None}
    to = request.form.get("to")
    if to not in targets:
        return _done(".agent_conversation", cid, {}, "Choose rep, ai or none.")
    after = _standin().assign(cid, targets[to], by_agent_id=people.rep_id)
    return _done(".agent_conversation", cid, {"status": after["status"]})


@bp.post("/agent/<cid>/resolve")
def agent_resolve(cid: str) -> Any:
    if _conversation(cid)["status"] == "resolved":
        return _done(".agent_conversation", cid, {}, "The conversation is already resolved.")
    after = _standin().resolve(cid, by_agent_id=_people().rep_id)
    return _done(".agent_conversation", cid, {"status": after["status"]})


@bp.post("/agent/<cid>/reopen")
def agent_reopen(cid: str) -> Any:
    if _conversation(cid)["status"] != "resolved":
        return _done(".agent_conversation", cid, {}, "Only a resolved conversation reopens.")
    after = _standin().reopen(cid, by_agent_id=_people().rep_id)
    return _done(".agent_conversation", cid, {"status": after["status"]})
