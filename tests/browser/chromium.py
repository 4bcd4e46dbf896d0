"""Headless Chromium for the page tests: found or failed (in CI) or skipped (locally), run
with a private profile and every request sent to a recording proxy that answers none.

Usage::

    binary = chromium_or_skip()
    with RecordingProxy() as proxy:
        dom = run_chromium(binary, page, proxy, tmp_path, "--dump-dom")
    assert proxy.page_requests() == []

Debian's ``chromium`` package (``.ci/run`` installs it). As root it needs ``--no-sandbox``.
The proxy is the network's only door: nothing leaves the machine, and every URL the browser
asked for is recorded. Chromium asks a few of its own services (component updates, sign-in)
whatever the page holds; :data:`BROWSER_OWN` names them so that what remains is the page's.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path
from types import TracebackType

import pytest

# Hosts Chromium itself calls on start-up in headless mode even with background networking
# off (seen with Debian's chromium 156): never a page's own fetch.
BROWSER_OWN = frozenset(
    {"update.googleapis.com", "accounts.google.com", "clients2.google.com", "clients1.google.com"}
)
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--no-first-run",
    "--hide-scrollbars",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-breakpad",
    "--no-pings",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
    "--proxy-bypass-list=<-loopback>",  # loopback through the proxy too
)


def chromium_or_skip() -> str:
    """The browser's path. Missing: a failure where CI demands it (JAICP_REQUIRE_POSTGRES=1,
    the suite's strict mode), a skip on a developer's machine."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("JAICP_REQUIRE_POSTGRES") == "1":
        pytest.fail(
            "chromium is required in CI (JAICP_REQUIRE_POSTGRES=1): apt-get install chromium"
        )
    pytest.skip("chromium is not installed (apt-get install chromium)")


class _Recorder(http.server.BaseHTTPRequestHandler):
    def _refuse(self) -> None:
        server = self.server
        assert isinstance(server, _ProxyServer)
        with server.lock:
            server.seen.append((self.command, self.path))
        self.send_error(502, "no network in tests")

    do_GET = do_POST = do_HEAD = do_CONNECT = do_PUT = do_OPTIONS = _refuse  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        return


class _ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1 (port 0) that records every request and answers 502."""

    def __init__(self) -> None:
        self.server = _ProxyServer()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> RecordingProxy:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def page_requests(self) -> list[str]:
        """What was asked for, Chromium's own service calls left out."""
        with self.server.lock:
            seen = list(self.server.seen)
        return [path for _, path in seen if _host(path) not in BROWSER_OWN]


def _host(target: str) -> str:
    """The host of a proxy request target: ``host:443`` (CONNECT) or ``http://host/path``."""
    rest = target.split("://", 1)[-1]
    return rest.split("/", 1)[0].rsplit(":", 1)[0].lower()


def run_chromium(binary: str, page: Path, proxy: RecordingProxy, tmp_path: Path, *args: str) -> str:
    """Run the browser on ``page`` with ``args`` (``--dump-dom``, ``--screenshot=…``); stdout."""
    profile = tmp_path / "chromium-profile"  # private: no state shared with other runs
    done = subprocess.run(
        [
            binary,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--proxy-server={proxy.url}",
            *args,
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,  # a bound, not a speed assertion: a loaded machine takes seconds
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
