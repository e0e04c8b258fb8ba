"""Diagnostics: each check is a pure rule from gathered facts to a Check (ok, warn or fail).

diagnostics.py reads the facts (the database, and Freshchat's last answer);
the rules here only decide, so each one is tested with a hand-made Facts.
`flask freshchat doctor` and the Diagnostics page show the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from opencx_bridge.freshchat.account import agent_display_name

OK, WARN, FAIL = "ok", "warn", "fail"
WEBHOOK_SILENCE = timedelta(hours=24)
STALE_FAIL_WITHIN = timedelta(hours=1)
STALE_WARN_WITHIN = timedelta(days=7)
BACKLOG_AGE = timedelta(minutes=5)
BACKLOG_WAIT = timedelta(minutes=1)  # an event older than this: customers are waiting
RATE_SPAN = timedelta(minutes=5)  # the current rate is measured over this
RECENT = timedelta(hours=24)

SETTINGS_PAGE = "the bridge's Freshchat settings (/settings/freshchat)"
TEST_AND_SAVE = f"run Test & Save in {SETTINGS_PAGE} or with `flask freshchat connect`"
WEBHOOKS_IN_FRESHCHAT = "in Freshchat, Admin Settings → Integrations & APIs → Webhooks"
WEBHOOK_FIX = (f"{WEBHOOKS_IN_FRESHCHAT}: paste the webhook URL shown in {SETTINGS_PAGE} "
               "and tick Message Created")
DEFAULT_AGENT_FIX = ("Admin Settings → Team in Freshchat: restore or reactivate the agent; or "
                     f"change the default agent email in {SETTINGS_PAGE} and run Test & Save")
NOT_CONNECTED = "not checked: not connected to Freshchat"
NOT_ASKED = ("not checked yet: the worker asks Freshchat every few minutes (if nothing shows, "
             "check that it runs: GET /healthz)")
ASK_NOW = "wait a few minutes, or run `flask --app app freshchat doctor` to ask at once"


@dataclass(frozen=True)
class Check:
    id: str
    status: str  # ok | warn | fail
    message: str
    fix: str = ""


@dataclass(frozen=True)
class AgentLookup:
    """GET /v2/agents/{id} for the default agent: the agent, or why there is none."""

    agent: dict | None = None
    missing: bool = False  # 404: no such agent any more
    error: str | None = None  # could not ask (token, network, ...)


@dataclass(frozen=True)
class Facts:
    now: datetime
    connected: bool = False
    connect_error: str | None = None  # Test & Save just now; None = passed (or not run)
    agent_lookup: AgentLookup | None = None  # None: Freshchat was not asked
    agent_id: str | None = None
    agent_email: str | None = None
    agent_name: str | None = None
    integration_status: str = "disconnected"
    unauthorized_since_save: int = 0
    saved_at: datetime | None = None
    last_webhook_at: datetime | None = None
    sessions_total: int = 0
    sessions_open: int = 0
    resolution_event_seen: bool = False
    revoked_hits: int = 0
    revoked_last_hit_at: datetime | None = None
    refused_recent: int = 0  # webhooks refused in the last 24 h
    refused_last_at: datetime | None = None
    refused_last_status: int | None = None
    refused_last_reason: str | None = None
    assigned_only: bool = False
    skipped_recent: int = 0  # chats, last 24 h
    skipped_total: int = 0
    outbox_depth: int = 0
    oldest_pending_at: datetime | None = None
    outbox_failed: int = 0
    failed_events: int = 0
    stranded: int = 0
    stranded_after_minutes: float = 10.0
    rate_limited_last_hour: int = 0
    rate_limit_per_minute: int = 60
    asked_at: datetime | None = None  # Freshchat's answers are from then; None: just now
    events_waiting: int = 0
    conversations_waiting: int = 0
    oldest_event_at: datetime | None = None
    events_done_recently: int = 0  # in the last RATE_SPAN
    embeddings_model: str = ""
    embeddings_base_url: bool = False  # openai_base_url is set
    embeddings_ok_at: datetime | None = None  # of that model
    embeddings_error: str | None = None
    embeddings_error_at: datetime | None = None


def ago(now: datetime, then: datetime) -> str:
    """`40 s ago`, `12 min ago`, `5 h ago`, `3 d ago`."""
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") + "Z" if moment else "never"


def asked(f: Facts) -> str:
    return "now" if f.asked_at is None else f"when asked {ago(f.now, f.asked_at)}"


def credentials(f: Facts) -> Check:
    if not f.connected:
        return Check("credentials", FAIL, "not connected: run Test & Save", TEST_AND_SAVE)
    if f.agent_lookup is None:
        return Check("credentials", WARN, NOT_ASKED, ASK_NOW)
    if f.connect_error:
        return Check("credentials", FAIL, f"Test & Save fails {asked(f)}: {f.connect_error}",
                     f"correct what the message names, then {TEST_AND_SAVE}")
    return Check("credentials", OK, f"Test & Save passes {asked(f)}: Freshchat accepts the "
                                    f"token and the agent {f.agent_email} (nothing was saved)")


def default_agent(f: Facts) -> Check:
    lookup = f.agent_lookup
    if not f.connected:
        return Check("default_agent", WARN, NOT_CONNECTED, TEST_AND_SAVE)
    if lookup is None:
        return Check("default_agent", WARN, NOT_ASKED, ASK_NOW)
    who = f"the default agent {f.agent_email} (id {f.agent_id})"
    agent = lookup.agent or {}
    gone = ("no longer exists in Freshchat" if lookup.missing
            else "was deleted in Freshchat" if agent.get("is_deleted")
            else "is deactivated in Freshchat" if agent.get("is_deactivated") else None)
    if gone:
        return Check("default_agent", FAIL, f"{who} {gone}: handoff notes would go missing",
                     DEFAULT_AGENT_FIX)
    if lookup.error:
        return Check("default_agent", WARN, f"could not read {who}: {lookup.error}",
                     "see the credentials and token checks")
    live_email = str(agent.get("email") or "")
    if live_email and live_email.casefold() != (f.agent_email or "").casefold():
        return Check("default_agent", WARN,
                     f"{who} now has the email {live_email}; the next Test & Save looks for "
                     f"{f.agent_email}", f"change the default agent email to {live_email} and "
                                         f"run Test & Save in {SETTINGS_PAGE}")
    return Check("default_agent", OK, f"{f.agent_email} is an active Freshchat agent")


def agent_name(f: Facts) -> Check:
    lookup = f.agent_lookup
    if not f.connected:
        return Check("agent_name", WARN, NOT_CONNECTED, TEST_AND_SAVE)
    if lookup is None:
        return Check("agent_name", WARN, NOT_ASKED, ASK_NOW)
    if lookup.agent is None:
        return Check("agent_name", WARN, f"replies go out as {f.agent_name}, but the agent "
                                         "could not be read from Freshchat",
                     "see the default_agent check")
    live = agent_display_name(lookup.agent)
    if live != f.agent_name:
        return Check("agent_name", WARN,
                     f"replies go out as {live}; saved as {f.agent_name}: the name changed in "
                     "Freshchat since the last save",
                     f"run Test & Save in {SETTINGS_PAGE} to store the new name, or rename the "
                     "agent back in Freshchat (Admin Settings → Team)")
    return Check("agent_name", OK, f"replies go out as {live}, unchanged since the last save")


def webhook_traffic(f: Facts) -> Check:
    if not f.connected:
        return Check("webhook_traffic", WARN,
                     "not connected: Freshchat has no webhook URL to post to",
                     f"{TEST_AND_SAVE}; then, {WEBHOOK_FIX}")
    if f.last_webhook_at is None:
        return Check("webhook_traffic", WARN, "no webhook has arrived yet", WEBHOOK_FIX)
    last = ago(f.now, f.last_webhook_at)
    if f.now - f.last_webhook_at > WEBHOOK_SILENCE and f.sessions_open:
        return Check("webhook_traffic", WARN,
                     f"no webhook for {last.removesuffix(' ago')} while {f.sessions_open} "
                     "session(s) are open", WEBHOOK_FIX)
    return Check("webhook_traffic", OK, f"last webhook {last}")


def resolution_events(f: Facts) -> Check:
    if not f.sessions_total:
        return Check("resolution_events", OK, "no sessions yet")
    if not f.resolution_event_seen:
        return Check("resolution_events", WARN,
                     f"{f.sessions_total} session(s), but no Conversation Resolved or Closed "
                     "event has ever arrived: chats resolved in Freshchat stay open here",
                     f"{WEBHOOKS_IN_FRESHCHAT}: tick Conversation Resolved (and Conversation "
                     "Closed where your account lists it)")
    return Check("resolution_events", OK, "resolution events arrive")


def stale_webhook_url(f: Facts) -> Check:
    if not f.revoked_hits:
        return Check("stale_webhook_url", OK, "nothing was posted to a revoked webhook URL")
    last = f.revoked_last_hit_at
    message = (f"Freshchat posted {f.revoked_hits} time(s) to a revoked webhook URL, last "
               f"{ago(f.now, last) if last else 'at an unknown time'}")
    fix = f"{WEBHOOKS_IN_FRESHCHAT}: paste the current webhook URL shown in {SETTINGS_PAGE}"
    if last is not None and f.now - last <= STALE_FAIL_WITHIN:
        return Check("stale_webhook_url", FAIL, message, fix)
    if last is None or f.now - last <= STALE_WARN_WITHIN:
        return Check("stale_webhook_url", WARN, message, fix)
    return Check("stale_webhook_url", OK, f"{message} (none in the last 7 days)")


REFUSED_FIXES = {
    401: (f"the signature does not verify with the saved public key: copy the key again from "
          f"{WEBHOOKS_IN_FRESHCHAT} into {SETTINGS_PAGE} and run Test & Save"),
    413: "raise OPENCX_MAX_WEBHOOK_BYTES (the bridge's environment) and restart it",
}
REFUSED_BODY_FIX = ("Freshchat will retry these, and they will be refused again: if the "
                    "reason names a Freshchat field, send the support bundle "
                    "(/diagnostics) with your report")


def refused_webhooks(f: Facts) -> Check:
    if not f.refused_recent or f.refused_last_at is None:
        return Check("refused_webhooks", OK, "no webhook was refused in the last 24 hours")
    message = (f"{f.refused_recent} webhook(s) refused in the last 24 hours, the last "
               f"{ago(f.now, f.refused_last_at)} with {f.refused_last_status}: "
               f"{f.refused_last_reason}")
    fix = REFUSED_FIXES.get(f.refused_last_status or 0, REFUSED_BODY_FIX)
    accepted_since = f.last_webhook_at is not None and f.last_webhook_at > f.refused_last_at
    if f.refused_last_status == 401 and not accepted_since:  # every webhook may be refused
        return Check("refused_webhooks", FAIL, message, fix)
    return Check("refused_webhooks", WARN, message, fix)


def routing(f: Facts) -> Check:
    if not f.assigned_only:
        return Check("routing", OK, "auto handle all incoming chats: the AI claims unassigned "
                                    "chats and leaves chats assigned to others")
    agent = f.agent_name or f.agent_email or "the AI agent"
    message = (f"assigned-only: {f.skipped_recent} chat(s) skipped in the last 24 h "
               f"({f.skipped_total} in all) because they were not assigned to {agent}")
    if f.skipped_recent:
        return Check("routing", WARN, message,
                     f"assign those chats to {agent} in Freshchat (an assignment rule can), or "
                     f"switch to Auto handle all incoming chats in {SETTINGS_PAGE}")
    return Check("routing", OK, message)


def token(f: Facts) -> Check:
    if not f.connected:
        return Check("token", WARN, "not checked: no token saved", TEST_AND_SAVE)
    rejected = f.integration_status == "token_rejected" or f.unauthorized_since_save > 0
    if rejected:
        paused = "; delivery is paused" if f.integration_status == "token_rejected" else ""
        return Check("token", FAIL,
                     f"Freshchat rejected {f.unauthorized_since_save} call(s) with 401 since "
                     f"the last save ({when(f.saved_at)}){paused}",
                     "generate a new token in Freshchat (Admin Settings → Integrations & APIs), "
                     f"then {TEST_AND_SAVE} with it; delivery resumes then")
    return Check("token", OK, f"no call rejected with 401 since the last save "
                              f"({when(f.saved_at)})")


def delivery_backlog(f: Facts) -> Check:
    parts = [f"{f.outbox_depth} call(s) waiting"]
    slow = f.oldest_pending_at is not None and f.now - f.oldest_pending_at > BACKLOG_AGE
    if f.oldest_pending_at is not None:
        parts.append(f"oldest queued {ago(f.now, f.oldest_pending_at)}")
    parts.append(f"{f.rate_limited_last_hour} × 429 in the last hour "
                 f"(plan limit {f.rate_limit_per_minute}/min)")
    if f.outbox_failed:
        parts.append(f"{f.outbox_failed} failed (see `flask outbox list --status failed`)")
    fixes = []
    if slow:
        fixes.append("calls are waiting: check the token and credentials checks, "
                     "`flask outbox list`, and that the worker runs (GET /healthz)")
    if f.rate_limited_last_hour:
        fixes.append("Freshchat is rate-limiting: set freshchat_rate_limit_per_minute to your "
                     "plan's limit (`flask settings set freshchat_rate_limit_per_minute N`)")
    status = WARN if fixes else OK
    return Check("delivery_backlog", status, ", ".join(parts), "; ".join(fixes))


def failed_events(f: Facts) -> Check:
    if not f.failed_events:
        return Check("failed_events", OK, "every stored event was processed")
    return Check("failed_events", FAIL,
                 f"{f.failed_events} event(s) could not be processed; their conversations "
                 "were handed to your team with a private note",
                 "see the bridge log for the cause and fix it, then "
                 "`flask --app app events retry --all-failed`")


def stranded(f: Facts) -> Check:
    if not f.stranded_after_minutes:
        return Check("stranded", OK, "not watched (stranded_after_minutes is 0)")
    wait = f"{f.stranded_after_minutes:g} min"
    if not f.stranded:
        return Check("stranded", OK, f"no customer has waited longer than {wait} unanswered")
    return Check("stranded", WARN,
                 f"{f.stranded} customer(s) waiting longer than {wait} with nobody answering",
                 "open the inbox's Stranded tab: answer them in Freshchat, or give the "
                 "conversation back to the AI (Return to AI)")


def processing_backlog(f: Facts) -> Check:
    """Events stored but not processed yet: how many, how old, and when they clear."""
    if not f.events_waiting:
        return Check("processing_backlog", OK, "no event is waiting to be processed")
    per_minute = f.events_done_recently / (RATE_SPAN.total_seconds() / 60)
    parts = [f"{f.events_waiting} event(s) of {f.conversations_waiting} conversation(s) "
             "waiting to be processed"]
    if f.oldest_event_at is not None:
        parts.append(f"oldest received {ago(f.now, f.oldest_event_at)}")
    if per_minute > 0:
        parts.append(f"about {clears_in(f.events_waiting / per_minute * 60)} to clear at the "
                     f"current rate ({per_minute:.1f} per minute)")
    else:
        parts.append(f"none processed in the last {RATE_SPAN.seconds // 60} minutes")
    old = f.oldest_event_at is not None and f.now - f.oldest_event_at > BACKLOG_WAIT
    if not old:
        return Check("processing_backlog", OK, ", ".join(parts))
    fix = ("customers are waiting for the AI: the plan's rate limit paces it "
           f"(freshchat_rate_limit_per_minute = {f.rate_limit_per_minute}); if that is lower "
           "than your Freshchat plan allows, raise it; if nothing is processed at all, check "
           "that the worker runs (GET /healthz) and the token check above")
    return Check("processing_backlog", WARN, ", ".join(parts), fix)


def embeddings(f: Facts) -> Check:
    """Matching by meaning (kb/semantic.py): off, misconfigured, failing (then by words)."""
    model = f.embeddings_model
    if not model:
        return Check("embeddings", OK, "matching by meaning is off (embeddings_model is empty): "
                                       "the knowledge base matches by words")
    if not f.embeddings_base_url:
        return Check("embeddings", WARN, f"embeddings_model is {model!r} but openai_base_url is "
                     "empty: the knowledge base matches by words only",
                     "set openai_base_url in AI settings to the server that has the model")
    failing = f.embeddings_error_at is not None and (
        f.embeddings_ok_at is None or f.embeddings_error_at > f.embeddings_ok_at)
    if failing:
        return Check("embeddings", WARN,
                     f"the embeddings server failed {ago(f.now, f.embeddings_error_at)}: "
                     f"{f.embeddings_error}; the knowledge base matches by words until it "
                     "answers again",
                     f"check that openai_base_url serves POST /embeddings and has the model "
                     f"{model!r} (Ollama: `ollama pull {model}`); the bridge asks again "
                     "within 2 minutes")
    if f.embeddings_ok_at is None:
        return Check("embeddings", OK, f"matching by meaning with {model!r}: not asked yet (it "
                                       "is, with the next question)")
    return Check("embeddings", OK, f"matching by meaning with {model!r}; the server last "
                                   f"answered {ago(f.now, f.embeddings_ok_at)}")


def clears_in(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


RULES = (credentials, default_agent, agent_name, webhook_traffic, resolution_events,
         stale_webhook_url, refused_webhooks, routing, token, delivery_backlog,
         processing_backlog, failed_events, stranded, embeddings)


def run_checks(facts: Facts) -> list[Check]:
    return [rule(facts) for rule in RULES]


def failed(checks: list[Check]) -> bool:
    return any(check.status == FAIL for check in checks)
