"""Clean shutdown for every long-running command (docs/operations.md, "Stopping").

SIGTERM (what `docker stop` and systemd send) or SIGINT sets one stop event. Each service then
stops taking new work, finishes or abandons what is running, and exits with status 0 well inside
the 10 s that `docker stop` allows before SIGKILL:

- HTTP: uvicorn stops accepting, lets requests in flight finish for up to HTTP_GRACE_S;
- scheduler jobs: no new run starts; a running job gets JOB_GRACE_S, then the process leaves
  and the job's one transaction rolls back (deadlines are rows: the next run does the work);
- ingest: the subscriber writes what it holds to the store (or its spool) and acknowledges
  exactly that, then disconnects; the broker redelivers anything not acknowledged.

A second SIGTERM or SIGINT during the stop leaves at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
HTTP_GRACE_S = 3.0
JOB_GRACE_S = 3.0


def stop_on_signals() -> threading.Event:
    """An event the first SIGTERM or SIGINT sets; a second one ends the process at once."""
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        if stop.is_set():
            log.warning("second %s: leaving now", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(128 + signum)
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    for sig in STOP_SIGNALS:
        signal.signal(sig, handle)
    return stop


def leave_now(code: int = 0) -> None:
    """End the process without waiting for worker threads (their transactions roll back)."""
    logging.shutdown()
    os._exit(code)


class HttpServer:
    """uvicorn in a thread of its own, so that the process's stop event, not uvicorn, owns signals.

    (uvicorn run on the main thread installs its own handlers and, once stopped, re-raises the
    signal: the process dies by it before any clean-up of ours can run.)
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str,
        port: int,
        log_level: str = "info",
        trusted_proxies: str = "127.0.0.1",
    ) -> None:
        import uvicorn

        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level=log_level,
                timeout_graceful_shutdown=int(HTTP_GRACE_S),
                # X-Forwarded-For/-Proto only from the TLS proxy (HOMESAFE_TRUSTED_PROXIES): the
                # sign-in throttle counts the real client, HSTS and Secure cookies see https.
                proxy_headers=True,
                forwarded_allow_ips=trusted_proxies,
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)

    def serve_until(self, stop: threading.Event) -> bool:
        """Serve until stop is set (True) or the server dies, e.g. its port is taken (False)."""
        self._thread.start()
        while not stop.wait(0.2):
            if not self._thread.is_alive():
                return False
        self.stop()
        return True

    def stop(self) -> None:
        """Stop accepting; wait for requests in flight (at most HTTP_GRACE_S and a little)."""
        self._server.should_exit = True
        self._thread.join(HTTP_GRACE_S + 2.0)


def wait_until(predicate: Any, timeout_s: float) -> bool:
    """Poll predicate() until it is true (True) or timeout_s passes (False)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
