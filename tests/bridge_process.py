"""A real bridge process (`flask --app app serve`) for end-to-end tests over real HTTP (and,
through bench/common.py, for the benchmarks)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import databases
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from opencx_bridge.config import sqlalchemy_url
from opencx_bridge.standin.seed import AI_EMAIL

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BridgeProcess:
    def __init__(self, folder: Path, standin, database_url: str | None = None, **env):
        self.folder = folder
        self.standin = standin
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url or databases.empty(folder)
        self.env = {
            **os.environ,
            "OPENCX_INSTANCE_PATH": str(folder / "instance"),
            "OPENCX_DATABASE_URL": self.database_url,
            "OPENCX_SECRET_KEY": "e2e-secret",
            "OPENCX_FRESHCHAT_API_BASE": standin.base_url,
            "OPENCX_PUBLIC_URL": self.url,
            "OPENCX_LOG_LEVEL": "WARNING",
            "OPENCX_FRESHCHAT_RATE_WINDOW_SECONDS": "1",
            **env,
        }
        self.process: subprocess.Popen | None = None
        self._engine = None

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def start(self, threads: int | None = None, timeout: float = 30) -> BridgeProcess:
        self._close_log()
        log = open(self.folder / "bridge.log", "ab")  # noqa: SIM115 - closed in stop()
        self._log = log
        extra = ["--threads", str(threads)] if threads else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(self.port),
             *extra],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # kill() takes its worker process along, as a service stop
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("bridge did not start:\n" + self.log_text())

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None
        self._close_log()

    def kill(self) -> None:
        """SIGKILL to `serve` and its worker process: the bridge dies mid-work, as in a
        crash or `systemctl kill -s KILL`."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def _close_log(self) -> None:
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        path = self.folder / "bridge.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def query(self, sql: str, **params):
        """Read the bridge's database directly, as an admin with a SQL shell would."""
        if self._engine is None:
            self._engine = create_engine(sqlalchemy_url(self.database_url), poolclass=NullPool)
        with self._engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]

    def busy(self) -> bool:
        pending = self.query(  # with the profiles read when the budget has room
            "SELECT (SELECT count(*) FROM event WHERE status = 'pending')"
            " + (SELECT count(*) FROM outbox_item WHERE status IN ('pending', 'sending'))"
            " + (SELECT count(*) FROM session WHERE contact_id IS NULL"
            " AND freshchat_user_id IS NOT NULL)")
        return pending[0][0] > 0

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until the bridge and the stand-in's echo webhooks have nothing left to do."""
        deadline = time.monotonic() + timeout
        quiet_rounds, seen = 0, -1
        while time.monotonic() < deadline:
            sent = len(self.standin.webhooks_sent)
            idle = not self.busy() and self.standin._echo_queue.empty() and sent == seen
            quiet_rounds = quiet_rounds + 1 if idle else 0
            if quiet_rounds >= 3:
                return
            seen = sent
            time.sleep(0.1)
        raise AssertionError(f"bridge still busy after {timeout:.0f} s\n{self.log_text()}")


def start_bridge(folder: Path, st, database_url: str | None = None, **env) -> BridgeProcess:
    """A bridge connected to the stand-in that answers every question (threshold 0)."""
    bridge = BridgeProcess(folder, st, database_url, **env)
    output = bridge.cli("freshchat", "connect", "--domain", "acme.freshchat.com", "--token",
                        st.token, "--agent-email", AI_EMAIL, "--auto-handle-all").stdout
    st.webhook_url = output.split("webhook URL: ")[1].split()[0]
    bridge.cli("settings", "set", "handoff_confidence_threshold", "0")  # answer, never hand off
    return bridge


def chats(st, count: int) -> list[str]:
    """New conversations, each with a customer of its own."""
    conversations = []
    for _ in range(count):
        user = st.add_user(email=None)
        conversations.append(st.add_conversation(user["id"])["conversation_id"])
    return conversations


def replies(st, cid) -> list[dict]:
    """The AI agent's customer-visible messages in a conversation."""
    ai = st.ai_agent["id"]
    return [m for m in st.messages(cid) if m["actor_type"] == "agent" and m["actor_id"] == ai
            and m["message_type"] == "normal"]
