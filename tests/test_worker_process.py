"""The worker in a process of its own: woken through a pipe, restarted when it dies, gone
with its parent however the parent ends."""

from __future__ import annotations

import os
import re
import sys
import textwrap
import time
from pathlib import Path

from bridge_process import replies, start_bridge
from waiting import wait_until

from opencx_bridge.cli import server
from opencx_bridge.worker import process

# A child that counts its wake-ups into a file and exits when its stdin ends.
COUNTING_CHILD = textwrap.dedent("""
    import os, sys
    seen = 0
    while True:
        data = os.read(0, 4096)
        if not data:
            break
        seen += len(data)
        open(sys.argv[1], "w").write(str(seen))
""")


def read_int(path) -> int:
    try:
        return int(path.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) counts as gone
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.split(")", 1)[1].split()[0] != "Z"


def test_wake_ups_reach_the_child_and_closing_the_pipe_stops_it(tmp_path):
    seen = tmp_path / "seen"
    supervisor = process.Supervisor([sys.executable, "-c", COUNTING_CHILD, str(seen)])
    supervisor.start()
    for _ in range(3):
        supervisor.wake()
    wait_until(lambda: read_int(seen) == 3)
    pid = supervisor.pid
    supervisor.stop(timeout=5)
    assert not supervisor.alive and not alive(pid)
    assert supervisor.restarts == 0


def test_a_child_that_dies_is_started_again(tmp_path):
    starts = tmp_path / "starts"
    child = f"open({str(starts)!r}, 'a').write('x')"  # exits at once: a crash
    supervisor = process.Supervisor([sys.executable, "-c", child])
    supervisor.start()
    try:
        wait_until(lambda: starts.exists() and len(starts.read_text()) >= 2)
        assert supervisor.restarts >= 1
    finally:
        supervisor.stop(timeout=1)


def test_waking_a_gone_child_is_harmless(tmp_path):
    supervisor = process.Supervisor([sys.executable, "-c", "pass"])
    supervisor.start()
    try:
        wait_until(lambda: not supervisor.alive)
        supervisor.wake()  # broken pipe: ignored, the supervisor restarts the child
        wait_until(lambda: supervisor.restarts >= 1)
    finally:
        supervisor.stop(timeout=1)


def test_the_child_side_wakes_for_data_and_stops_at_the_end_of_the_pipe():
    read_end, write_end = os.pipe()
    wakes, stopped = [], []
    thread = process.follow_parent(lambda: wakes.append(1), lambda: stopped.append(1),
                                          fd=read_end)
    os.write(write_end, b"\n")
    wait_until(lambda: wakes)
    os.close(write_end)
    thread.join(5)
    os.close(read_end)
    assert stopped == [1]


def test_the_command_runs_the_same_app():
    assert process.worker_command("app")[-4:] == ["--app", "app", "worker",
                                                         "--parent-pipe"]
    assert "--app" not in process.worker_command(None)


def test_serve_answers_through_its_worker_process_which_dies_with_it(tmp_path, standin):
    bridge = start_bridge(tmp_path, standin).start()
    try:
        found = re.search(r"worker process (\d+)", bridge.log_text())
        assert found, bridge.log_text()
        child = int(found.group(1))
        def niceness() -> int:
            return int(Path(f"/proc/{child}/stat").read_text().split(")", 1)[1].split()[16])

        wait_until(lambda: niceness() == server.WORKER_NICENESS)  # webhooks get the CPU first
        user = standin.add_user(email=None)
        cid = standin.add_conversation(user["id"])["conversation_id"]
        standin.customer_says(cid, "hello, anyone?")
        standin.wait_for(lambda: replies(standin, cid), timeout=20)
        started = time.monotonic()
        bridge.process.kill()  # SIGKILL to `serve` alone: the pipe ends with it
        bridge.process.wait(10)
        wait_until(lambda: not alive(child))
        assert time.monotonic() - started < 20
    finally:
        if bridge.process is not None and bridge.process.poll() is None:
            bridge.stop()
        bridge.process = None
        bridge.stop()


def test_no_child_is_started_once_stop_has_begun(tmp_path):
    supervisor = worker_process_for(tmp_path)
    supervisor.stop(timeout=1)
    supervisor._spawn()  # what the watcher would do if the child exited just now
    assert not supervisor.alive


def worker_process_for(tmp_path):
    seen = tmp_path / "seen"
    return process.Supervisor([sys.executable, "-c", COUNTING_CHILD, str(seen)]).start()
