"""`flask --app app sandbox` as a new user runs it: the real command in its own process, the
customer chat and agent view driven over HTTP the way their pages drive them."""

from __future__ import annotations

import csv
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from bridge_process import ROOT, free_port

from opencx_bridge.freshchat import account
from opencx_bridge.sandbox import SANDBOX_DOMAIN, People, conversation_row, messages_view, names_of
from opencx_bridge.sandbox import setup as sandbox_setup
from opencx_bridge.standin.seed import AI_EMAIL
from opencx_bridge.store import integration

JSON = {"Accept": "application/json"}
SAMPLE = {row["question"]: row["answer"] for row in csv.DictReader(
    sandbox_setup.SAMPLE_FAQ.read_text(encoding="utf-8").splitlines())}


class Sandbox:
    """The command running in a subprocess, and a browser-like HTTP session for its pages."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port, self.standin_port = free_port(), free_port()
        self.bridge = f"http://127.0.0.1:{self.port}"
        self.pages = f"http://127.0.0.1:{self.standin_port}"
        self.database = folder / "instance" / "opencx_bridge.sqlite3"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCX_")}
        env.update(OPENCX_INSTANCE_PATH=str(folder / "instance"), OPENCX_LOG_LEVEL="WARNING",
                   OPENCX_FRESHCHAT_RATE_WINDOW_SECONDS="1")  # pacing as in the e2e tests
        self.log_path = folder / "sandbox.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "sandbox", "--port", str(self.port),
             "--standin-port", str(self.standin_port)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.http = requests.Session()

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if (self.http.get(self.bridge + "/healthz", timeout=1).ok
                        and self.http.get(self.pages + "/chat", timeout=1).ok):
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError("the sandbox did not start:\n" + self.log())

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    # -- the customer chat page -------------------------------------------------------

    def start_chat(self, text: str) -> str:
        response = self.http.post(self.pages + "/chat", allow_redirects=False,
                                  data={"name": "Casey Customer", "email": "casey@example.com",
                                        "text": text})
        assert response.status_code == 303, response.text
        return re.fullmatch(r"/chat/([0-9a-f-]+)", response.headers["Location"]).group(1)

    def say(self, cid: str, text: str) -> None:
        response = self.http.post(f"{self.pages}/chat/{cid}/messages", data={"text": text},
                                  headers=JSON)
        assert response.status_code == 200, response.text

    def customer_view(self, cid: str) -> dict:
        return self.http.get(f"{self.pages}/chat/{cid}/messages", headers=JSON).json()

    # -- the agent view ---------------------------------------------------------------

    def agent_view(self, cid: str) -> dict:
        return self.http.get(f"{self.pages}/agent/{cid}/messages", headers=JSON).json()

    def act(self, cid: str, action: str, **form: str) -> requests.Response:
        return self.http.post(f"{self.pages}/agent/{cid}/{action}", data=form,
                              allow_redirects=False)

    # -- waiting ----------------------------------------------------------------------

    def ai_messages(self, cid: str, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.customer_view(cid)["messages"] if m["role"] == "ai"]
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no AI answer #{count} in {cid}:\n{self.customer_view(cid)}"
                             f"\n{self.log()}")

    def settled(self, cid: str, timeout: float = 10.0) -> None:
        """The bridge has processed every event of the conversation and sent its calls."""
        deadline, quiet = time.monotonic() + timeout, 0
        while time.monotonic() < deadline and quiet < 3:
            with sqlite3.connect(self.database, timeout=10) as db:
                busy = db.execute(
                    "SELECT (SELECT count(*) FROM event WHERE conversation_id = ?"
                    "        AND status = 'pending') + (SELECT count(*) FROM outbox_item"
                    "        WHERE conversation_id = ? AND status IN ('pending', 'sending'))",
                    (cid, cid)).fetchone()[0]
            db.close()
            quiet = 0 if busy else quiet + 1
            time.sleep(0.15)
        assert quiet >= 3, f"the bridge is still busy with {cid}\n{self.log()}"

    def session_status(self, cid: str) -> str:
        with sqlite3.connect(self.database, timeout=10) as db:
            row = db.execute("SELECT status FROM session WHERE conversation_id = ?",
                             (cid,)).fetchone()
        db.close()
        return row[0]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = Sandbox(tmp_path_factory.mktemp("sandbox"))
    try:
        running.wait_until_up()
        yield running
    finally:
        running.stop()


def test_the_command_prints_where_to_go(sandbox):
    out = sandbox.log()
    assert f"dashboard      {sandbox.bridge}/" in out
    assert f"customer chat  {sandbox.pages}/chat" in out
    assert f"agent view     {sandbox.pages}/agent" in out
    assert "imported 5 sample articles" in out


def test_the_ai_answers_the_shipping_question_from_the_sample_faq(sandbox):
    cid = sandbox.start_chat("How long does shipping take?")
    page = sandbox.http.get(f"{sandbox.pages}/chat/{cid}")
    assert page.status_code == 200 and "How long does shipping take?" in page.text
    answer = sandbox.ai_messages(cid, 1)[0]
    assert answer["author"] == "Aiden Bot"
    assert answer["text"] == SAMPLE["How long does shipping take?"]
    row = sandbox.agent_view(cid)["conversation"]
    assert (row["status"], row["assignee"]) == ("assigned", "Aiden Bot")  # the AI claimed it


def test_asking_for_a_human_hands_off_with_a_private_note(sandbox):
    cid = sandbox.start_chat("How long does shipping take?")
    sandbox.ai_messages(cid, 1)
    sandbox.say(cid, "I want to talk to a human")
    handoff = sandbox.ai_messages(cid, 2)[1]
    assert "team" in handoff["text"]
    sandbox.settled(cid)
    agent = sandbox.agent_view(cid)
    notes = [m for m in agent["messages"] if m["private"]]
    assert len(notes) == 1 and notes[0]["role"] == "ai"
    assert "the customer asked for a human" in notes[0]["text"]
    assert f"{sandbox.bridge}/sessions/" in notes[0]["text"]  # the dashboard link works
    assert not any(m["private"] for m in sandbox.customer_view(cid)["messages"])
    assert (agent["conversation"]["status"], agent["conversation"]["assignee"]) == (
        "new", "unassigned")
    assert sandbox.session_status(cid) == "handed_off"


def test_a_rep_who_writes_takes_over_and_the_ai_stays_quiet(sandbox):
    cid = sandbox.start_chat("How do I reset my password?")
    sandbox.ai_messages(cid, 1)
    assert sandbox.act(cid, "reply", text="Hi, Rita here. Let me check.").status_code == 303
    sandbox.settled(cid)
    sandbox.say(cid, "How long does shipping take?")
    sandbox.settled(cid)
    messages = sandbox.customer_view(cid)["messages"]
    assert [m["role"] for m in messages] == ["customer", "ai", "rep", "customer"]
    assert messages[2]["author"] == "Rita Rep"


def test_the_agent_view_assigns_resolves_and_reopens(sandbox):
    cid = sandbox.start_chat("When are you open?")
    sandbox.ai_messages(cid, 1)
    sandbox.act(cid, "assign", to="rep")
    assert sandbox.agent_view(cid)["conversation"]["assignee"] == "Rita Rep"
    assert sandbox.act(cid, "resolve").status_code == 303
    sandbox.settled(cid)
    assert sandbox.session_status(cid) == "resolved"
    again = sandbox.http.post(f"{sandbox.pages}/agent/{cid}/resolve", headers=JSON)
    assert again.status_code == 400 and "already resolved" in again.json()["error"]
    sandbox.act(cid, "reopen")
    assert sandbox.customer_view(cid)["status"] == "reopened"
    listed = sandbox.http.get(sandbox.pages + "/agent/conversations", headers=JSON).json()
    assert listed["conversations"][0]["id"] == cid  # newest first


def test_the_pages_have_no_inline_scripts_and_refuse_foreign_posts(sandbox):
    for path in ("/", "/chat", "/agent"):
        response = sandbox.http.get(sandbox.pages + path)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert re.findall(r"<script(?![^>]*\bsrc=)", response.text) == []
        assert "in memory" in response.text
    assert sandbox.http.get(sandbox.pages + "/sandbox-static/sandbox.js").ok
    foreign = sandbox.http.post(sandbox.pages + "/chat", data={"text": "hi"},
                                headers={"Origin": "http://evil.test"})
    assert foreign.status_code == 403
    assert sandbox.http.get(sandbox.pages + "/chat/unknown").status_code == 404
    assert sandbox.http.get(sandbox.pages + "/v2/agents").status_code == 401  # the API still


# -- refusing to replace a real connection (in-process) ------------------------------------


def _connect_real(app, standin) -> None:
    request = account.ConnectRequest("acme.freshchat.com", standin.token, AI_EMAIL, True, None)
    verified = account.test_connection(request, api_base=standin.base_url)
    with app.app_context():
        integration.save_connection(verified, who="test")


def test_the_sandbox_refuses_to_replace_a_real_freshchat_connection(app, runner, standin):
    _connect_real(app, standin)
    result = runner.invoke(args=["sandbox", "--port", str(free_port()),
                                 "--standin-port", str(free_port())])
    assert result.exit_code == 1
    assert "connected to Freshchat at acme.freshchat.com" in result.output
    assert "--force" in result.output and "OPENCX_INSTANCE_PATH" in result.output
    with app.app_context():
        assert integration.get().domain == "acme.freshchat.com"  # nothing changed


def test_force_or_an_earlier_sandbox_connection_lets_it_start(app, standin):
    with app.app_context():
        assert sandbox_setup.check_connection(force=False) is None  # nothing connected
    _connect_real(app, standin)
    with app.app_context():
        with pytest.raises(sandbox_setup.SandboxRefused):
            sandbox_setup.check_connection(force=False)
        assert sandbox_setup.check_connection(force=True) == "acme.freshchat.com"
        integration.get().domain = SANDBOX_DOMAIN
        assert sandbox_setup.check_connection(force=False) is None


# -- the pure parts ---------------------------------------------------------------------------


def _message(actor_type, actor_id, text, kind="normal"):
    return {"id": text, "actor_type": actor_type, "actor_id": actor_id, "message_type": kind,
            "message_parts": [{"text": {"content": text}}],
            "created_time": "2026-01-02T10:11:12.000Z"}


def test_messages_view_hides_private_notes_from_the_customer():
    people = People(admin_id="a", ai_id="ai", rep_id="r")
    names = names_of([{"id": "ai", "first_name": "Aiden", "last_name": "Bot"},
                      {"id": "r", "first_name": "Rita", "last_name": "Rep"},
                      {"id": "u", "first_name": "Casey"}, None])
    messages = [_message("user", "u", "hi"), _message("agent", "ai", "hello"),
                _message("agent", "ai", "note", "private"), _message("agent", "r", "Rita here"),
                _message("system", "s", "joined")]
    customer = messages_view(messages, people, names, for_agent=False)
    assert [(m["role"], m["author"]) for m in customer] == [
        ("customer", "Casey"), ("ai", "Aiden Bot"), ("rep", "Rita Rep"), ("system", "Freshchat")]
    agent = messages_view(messages, people, names, for_agent=True)
    assert [m["private"] for m in agent] == [False, False, True, False, False]
    assert agent[0]["time"] == "10:11"
    row = conversation_row({"conversation_id": "c", "status": "assigned",
                            "assigned_agent_id": "r"}, None, names, messages[2])
    assert (row["assignee"], row["customer"], row["private_last"]) == ("Rita Rep", "Customer",
                                                                       True)
