"""`flask serve` (waitress: dashboard + webhooks, and the worker in a process of its own)
and `flask worker` (the worker alone)."""

from __future__ import annotations

import os
import signal
import threading

import click
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext

from opencx_bridge.worker import process
from opencx_bridge.worker import runner as worker_module

SHUTDOWN_SECONDS = 5.0  # in-flight calls get this long; rows still open are checked on start
WORKER_NICENESS = 10  # the worker process yields the CPU to webhooks and pages


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Request threads.")
@with_appcontext
def serve(host: str, port: int, threads: int) -> None:
    """Run the bridge (dashboard, webhook receiver and worker) under waitress."""
    from waitress import serve as waitress_serve

    app = current_app._get_current_object()
    running = None
    if app.config["WORKER"]:
        script = click.get_current_context().find_object(ScriptInfo)
        command = process.worker_command(script.app_import_path if script else None)
        running = worker_module.supervise(app, process.Supervisor(command).start())
    where = f"process {running.pid}" if running else "off: run `flask worker` separately"
    click.echo(f"opencx-bridge listening on http://{host}:{port} (worker {where})")
    signal.signal(signal.SIGTERM, _interrupt)  # waitress stops cleanly on KeyboardInterrupt
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="opencx-bridge",
                       **connection_limits(app.config))
    finally:
        if running:
            running.stop(timeout=SHUTDOWN_SECONDS)
            click.echo("worker stopped")


def connection_limits(config) -> dict:
    """How many connections waitress keeps open and how long a silent client may hold one:
    a hundred idle half-open connections (waitress's own limit) starved /healthz."""
    timeout = int(config["CLIENT_TIMEOUT_SECONDS"])
    return {"connection_limit": int(config["MAX_CONNECTIONS"]), "channel_timeout": timeout,
            "cleanup_interval": max(1, min(30, timeout // 2))}


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


@click.command("worker")
@click.option("--parent-pipe", is_flag=True, hidden=True,
              help="Started by `flask serve`: woken through stdin, stopped when it closes.")
@with_appcontext
def worker(parent_pipe: bool) -> None:
    """Run only the worker (events and delivery), for a separate process."""
    app = current_app._get_current_object()
    if parent_pipe:
        os.nice(WORKER_NICENESS)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops serve, which closes the pipe
    running = worker_module.start(app)
    stop = threading.Event()
    for sig in (signal.SIGTERM,) if parent_pipe else (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if parent_pipe:
        process.follow_parent(running.wake, stop.set)
    click.echo(f"worker running with {running.thread_count} thread(s); Ctrl+C to stop")
    stop.wait()
    running.stop(timeout=SHUTDOWN_SECONDS)
    click.echo("worker stopped")
