"""``passport serve``: run the HTTP service with uvicorn."""

from __future__ import annotations

import signal
import socket
from types import FrameType
from typing import Annotated

import typer

from passport.cli.app import app, fail, friendly
from passport.cli.context import service_context


@app.command(epilog="Example: passport serve --host 0.0.0.0 --port 8000 --workers 2")
@friendly
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
) -> None:
    """Serve the API, the resolver and the public pages (settings from PASSPORT_* variables)."""
    with service_context():  # the settings, the database and its schema, checked before uvicorn starts
        pass
    _check_port(host, port)
    # uvicorn handles SIGTERM itself while it serves (stop accepting, finish in-flight requests), then raises the
    # signal again once it has shut down: with the default handler the process died of SIGTERM (status -15) after a
    # clean shutdown. This handler makes that re-raised signal (or one before uvicorn took over) a normal exit, 0.
    import uvicorn  # here, not at the top: the server stack is not needed by any other command

    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.run(
            "passport.web.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=30,  # SIGTERM: stop accepting, let in-flight requests finish
            log_level="info",
        )
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stopped(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
    raise SystemExit(0)


def _check_port(host: str, port: int) -> None:
    """One line instead of uvicorn's log when the address cannot be listened on (taken, not local, no rights)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}")
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
