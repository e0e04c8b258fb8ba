"""Shared set-up for the benchmarks: a Freshchat stand-in and a real `flask serve` process.

    with Bench() as bench:                 # temp instance, stand-in, bridge connected + KB
        bench.bridge.url, bench.webhook_path, bench.standin
        body, signature = bench.signed(bench.customer_message(cid, "hello"))

Everything listens on 127.0.0.1 and is removed again on exit. Only the standard library and
what the project already depends on are used. Not part of the test suite.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from opencx_bridge.freshchat.signature import sign
from opencx_bridge.standin import Standin
from opencx_bridge.standin.seed import AI_EMAIL, seed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # one bridge-process helper for tests and benchmarks
from bridge_process import BridgeProcess, free_port  # noqa: E402

BENCH = ROOT / "bench"
FAQ_CSV = ROOT / "tests" / "fixtures" / "kb" / "faq.csv"
DOMAIN = "acme.freshchat.com"


# -- numbers --------------------------------------------------------------------------------

def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies given in seconds, returned in milliseconds."""
    return {
        "n": len(seconds),
        "p50": percentile(seconds, 50) * 1000,
        "p95": percentile(seconds, 95) * 1000,
        "p99": percentile(seconds, 99) * 1000,
        "max": (max(seconds) * 1000) if seconds else math.nan,
    }


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def cpu_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs busy over `seconds` (this process sleeps meanwhile); nan if unknown."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError):
        return math.nan
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def machine() -> str:
    """Where the figures come from, and whether something else was using the CPU."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    busy = cpu_busy()
    line = (f"{os.cpu_count()} CPU(s), {cpu}, Python {platform.python_version()}, "
            f"{datetime.now(UTC):%Y-%m-%d}; CPU busy before the start: {busy:.0%}")
    if busy > 0.10:
        line += "\nwarning: something else is using the CPU; the figures will be lower"
    return line


# -- processes ------------------------------------------------------------------------------

def proc_status_kib(pid: int, field: str) -> int | None:
    """A "VmHWM"/"VmRSS"-style field of /proc/<pid>/status, in KiB (None if unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class BenchBridge(BridgeProcess):
    """The tests' bridge process (tests/bridge_process.py) with what the benchmarks read off
    it: a separate worker process, its backlog, its memory, the errors it logged."""

    def __init__(self, folder: Path, standin: Standin, **env: str):
        database = folder / "bridge.sqlite3"  # the benchmarks measure the embedded default
        super().__init__(folder, standin, f"sqlite:///{database}",
                         **{"OPENCX_SECRET_KEY": "bench-secret",
                            "OPENCX_FRESHCHAT_RATE_WINDOW_SECONDS": "60", **env})
        self.database = database
        self.worker_process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def start_worker(self) -> None:
        """`flask worker` in a process of its own on the same database (for a `serve`
        started with OPENCX_WORKER=0); stopped with the bridge."""
        self.worker_process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.worker_process is not None:
            self.worker_process.terminate()
            try:
                self.worker_process.wait(15)
            except subprocess.TimeoutExpired:
                self.worker_process.kill()
                self.worker_process.wait()
            self.worker_process = None
        super().stop()

    def errors_logged(self) -> int:
        """Lines at ERROR or above (tracebacks included) in the bridge's log."""
        text = self.log_text()
        return text.count(" ERROR ") + text.count(" CRITICAL ")

    def backlog(self) -> tuple[int, int]:
        """(events pending, outbox rows pending or sending)."""
        row = self.query(
            "SELECT (SELECT count(*) FROM event WHERE status = 'pending'),"
            " (SELECT count(*) FROM outbox_item WHERE status IN ('pending', 'sending'))")
        return row[0][0], row[0][1]

    def catch_up(self, timeout: float, outbox: bool = True) -> tuple[int, int]:
        """Wait (at most `timeout` s) for the worker to catch up; return what is left."""
        deadline = time.monotonic() + timeout
        while True:
            events, items = self.backlog()
            if events == 0 and (items == 0 or not outbox):
                return events, items
            if time.monotonic() >= deadline:
                return events, items
            time.sleep(0.2)

    def peak_rss_mib(self) -> float:
        kib = proc_status_kib(self.pid, "VmHWM")
        return kib / 1024 if kib is not None else math.nan

    def rss_mib(self) -> float:
        kib = proc_status_kib(self.pid, "VmRSS")
        return kib / 1024 if kib is not None else math.nan


class HelloWorld:
    """bench/hello.py in a process of its own: a bare Flask app under the same waitress."""

    def __init__(self, threads: int):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "hello.py"), "--port", str(self.port),
             "--threads", str(threads)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("the hello-world server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# -- the whole set-up -----------------------------------------------------------------------

class Bench:
    """Temp folder + stand-in + bridge process, connected, knowledge base imported."""

    def __init__(self, *, rate_limit_per_minute: int = 100_000,
                 handoff_confidence_threshold: float | None = None, threads: int = 8,
                 standin: Standin | None = None, start: bool = True, **env: str):
        self.rate_limit = rate_limit_per_minute
        self.threshold = handoff_confidence_threshold
        self.threads = threads
        self.standin = standin or Standin()
        self.start_bridge = start
        self.env = env
        self.folder = Path(tempfile.mkdtemp(prefix="opencx-bench-"))
        self.bridge: BenchBridge | None = None  # made once the stand-in listens
        self.webhook_url = ""
        self.webhook_path = ""

    def __enter__(self) -> Bench:
        try:
            self._set_up()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _set_up(self) -> None:
        st = self.standin
        seed(st)
        st.start()
        self.bridge = BenchBridge(self.folder, st, **self.env)
        key_file = self.folder / "freshchat_public_key.txt"
        key_file.write_text(st.public_key_text)
        out = self.bridge.cli("freshchat", "connect", "--domain", DOMAIN, "--token", st.token,
                              "--agent-email", AI_EMAIL, "--auto-handle-all",
                              "--public-key-file", str(key_file)).stdout
        self.webhook_url = out.split("webhook URL: ")[1].split()[0]
        self.webhook_path = "/" + self.webhook_url.split("/", 3)[3]
        st.webhook_url = self.webhook_url
        self.bridge.cli("kb", "import", str(FAQ_CSV))
        self.bridge.cli("settings", "set", "freshchat_rate_limit_per_minute",
                        str(self.rate_limit))
        if self.threshold is not None:
            self.bridge.cli("settings", "set", "handoff_confidence_threshold",
                            str(self.threshold))
        if self.start_bridge:
            self.bridge.start(self.threads, timeout=60)

    def __exit__(self, *exc_info: object) -> None:
        self.standin.stop_echo_worker()  # no echo webhooks to a bridge that is going away
        if self.bridge is not None:
            self.bridge.stop()
        self.standin.stop()
        if os.environ.get("BENCH_KEEP"):
            print(f"(kept {self.folder})")
        else:
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- Freshchat side ---------------------------------------------------------------------

    def new_conversation(self, number: int = 0) -> str:
        st = self.standin
        user = st.add_user(email=f"customer{number}@example.test", first_name="Casey",
                           last_name=f"Customer{number}")
        return st.add_conversation(user["id"])["conversation_id"]

    def customer_message(self, cid: str, text: str) -> dict[str, Any]:
        """A message_create webhook payload (a new message id each call), not yet sent."""
        st = self.standin
        user_id = st.conversation(cid)["users"][0]["id"]
        message = st.add_message(cid, actor_type="user", actor_id=user_id, text=text)
        return st.message_event(message)

    def signed(self, payload: dict[str, Any]) -> tuple[bytes, str]:
        """The body exactly as Freshchat sends it and its X-Freshchat-Signature."""
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return raw, sign(raw, self.standin.private_key)


# -- the load generator, in its own process -------------------------------------------------

def write_requests(path: Path, requests_: Iterable[tuple[bytes, str]]) -> int:
    """Pre-signed webhooks for loadgen.py, one JSON line each; returns how many."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for raw, signature in requests_:
            out.write(json.dumps({"body": raw.decode("utf-8"), "signature": signature}) + "\n")
            count += 1
    return count


def run_load(port: int, path: str, *, threads: int, count: int, seconds: float,
             requests_file: Path | None = None, rate: float = 0.0,
             expect: str = "") -> dict[str, Any]:
    """Run bench/loadgen.py in a separate process and return its JSON report."""
    process = start_load(port, path, threads=threads, count=count, seconds=seconds,
                         requests_file=requests_file, rate=rate, expect=expect)
    return finish_load(process, timeout=seconds + 120)


def start_load(port: int, path: str, *, threads: int, count: int, seconds: float,
               requests_file: Path | None = None, rate: float = 0.0,
               expect: str = "") -> subprocess.Popen:
    """The same as run_load() but in the background; read with finish_load()."""
    command = [sys.executable, str(BENCH / "loadgen.py"), "--port", str(port), "--path", path,
               "--threads", str(threads), "--count", str(count), "--seconds", str(seconds),
               "--rate", str(rate), "--expect", expect]
    if requests_file is not None:
        command += ["--requests-file", str(requests_file)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_load(process: subprocess.Popen, timeout: float) -> dict[str, Any]:
    out, err = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"loadgen failed:\n{out}{err}")
    return json.loads(out)
