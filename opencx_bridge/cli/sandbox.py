"""`flask sandbox`: the bridge connected to a local Freshchat stand-in, to try it in a browser.

Starts the stand-in (with its customer chat and agent view) on its own port, connects the
bridge to it as Test & Save does, imports a sample FAQ into an empty knowledge base, then
serves the bridge (dashboard, webhooks, worker) under waitress like `serve`.
"""

from __future__ import annotations

import signal
import socket

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from opencx_bridge.cli.server import SHUTDOWN_SECONDS, _interrupt
from opencx_bridge.sandbox import AI, REP, SANDBOX_DOMAIN, pages, setup
from opencx_bridge.standin import Standin
from opencx_bridge.store import integration
from opencx_bridge.worker import runner as worker_module


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="The bridge's port (dashboard and webhooks).")
@click.option("--standin-port", default=5001, show_default=True, type=click.IntRange(1, 65535),
              help="The Freshchat stand-in's port (customer chat and agent view).")
@click.option("--force", is_flag=True,
              help="Replace a connection to a real Freshchat (connect it again afterwards).")
@with_appcontext
def sandbox(host: str, port: int, standin_port: int, force: bool) -> None:
    """Try the bridge without Freshchat: a local stand-in with a customer chat and agent view."""
    app = current_app._get_current_object()
    try:
        replaced = setup.check_connection(force)
    except setup.SandboxRefused as exc:
        raise click.ClickException(str(exc)) from None
    if port == standin_port:
        raise click.UsageError("--port and --standin-port must differ")
    for number, option in ((port, "--port"), (standin_port, "--standin-port")):
        if not _port_free(host, number):
            raise click.ClickException(f"port {number} on {host} is in use: choose another "
                                       f"with {option}")
    bridge_url, standin_url = _url(host, port), _url(host, standin_port)
    st, people = setup.new_standin()
    pages.install(st, people, bridge_url)
    try:
        st.start(port=standin_port, host=host)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {standin_url}: {exc.strerror}") from None
    try:
        _prepare(st, bridge_url, replaced)
        _welcome(bridge_url, standin_url)
        _serve(app, host, port)
    finally:
        st.stop()
        _forget_standin()


def _prepare(st: Standin, bridge_url: str, replaced: str | None) -> None:
    if replaced:
        click.echo(f"--force: replacing the connection to {replaced}; connect it again after "
                   "the sandbox (settings page or `flask --app app freshchat connect`).")
    try:
        setup.connect(st, bridge_url)
    except setup.SandboxRefused as exc:
        raise click.ClickException(str(exc)) from None
    imported = setup.import_sample_faq()
    if imported:
        click.echo(f"knowledge base: imported {imported} sample articles "
                   f"({setup.SAMPLE_FAQ.name}: shipping, returns, password, opening hours, "
                   "orders)")
    else:
        click.echo("knowledge base: kept your articles (the sample FAQ goes only into an "
                   "empty one)")


def _welcome(bridge_url: str, standin_url: str) -> None:
    click.echo(
        "\nopencx-bridge sandbox: the bridge is connected to a local Freshchat stand-in whose\n"
        "data lives in memory only (gone when you stop this command).\n\n"
        f"  dashboard      {bridge_url}/  (first visit: create the first admin)\n"
        f"  customer chat  {standin_url}/chat  (you are the customer)\n"
        f"  agent view     {standin_url}/agent  (you are {REP.name}, a human rep)\n\n"
        'Open the customer chat and ask "How long does shipping take?": '
        f"{AI.name} answers.\n"
        'Then write "I want to talk to a human" and watch the handoff in the agent view.\n'
        "Ctrl+C stops the sandbox.\n"
    )


def _serve(app: Flask, host: str, port: int) -> None:
    """The bridge under waitress with its worker, as `serve` runs it."""
    from waitress import serve as waitress_serve

    if not app.config["WORKER"]:
        click.echo("note: the sandbox runs its own worker (OPENCX_WORKER=0 does not apply); "
                   "stop any separate `flask worker` on this instance meanwhile")
    running = worker_module.start(app)
    signal.signal(signal.SIGTERM, _interrupt)  # waitress stops cleanly on KeyboardInterrupt
    try:
        waitress_serve(app, host=host, port=port, threads=8, ident="opencx-bridge")
    finally:
        running.stop(timeout=SHUTDOWN_SECONDS)
        click.echo("sandbox stopped")


def _forget_standin() -> None:
    """Disconnect from the stand-in (gone now) unless a real Freshchat was connected meanwhile."""
    if integration.get().domain == SANDBOX_DOMAIN:
        integration.disconnect(who=setup.WHO)


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _url(host: str, port: int) -> str:
    """The address to open: a wildcard listen address is reached on the loopback."""
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
