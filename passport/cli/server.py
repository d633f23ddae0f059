"""``passport serve``: run the HTTP service with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from passport.cli.app import app, friendly


@app.command(epilog="Example: passport serve --host 0.0.0.0 --port 8000 --workers 2")
@friendly
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
) -> None:
    """Serve the API, the resolver and the public pages (settings from PASSPORT_* variables)."""
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
