"""Run-summary webhook: a real HTTP server on 127.0.0.1 receives what ``upload`` POSTs.

Every case goes through the CLI as a user runs it; a webhook that answers 500 or does not
listen only adds a warning, the run's exit code stays what the run decided.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipeline.cli.main import cli
from pipeline.config import NotifyConfig
from pipeline.emulator import Emulator
from pipeline.reports.notify import post_summary
from tests.conftest import phone, random_token
from tests.load.conftest import write_csv


class Hook:
    """A tiny webhook receiver: records each POST body, answers with ``status``."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.headers.append(dict(self.headers))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-path"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    made = Hook()
    yield made
    made.close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on (bound, then closed again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def upload(
    tmp_path: Path,
    emulator: Emulator,
    token: str,
    url: str,
    *,
    rows: int = 6,
    data: Path | None = None,
) -> Result:
    config = tmp_path / "c.yaml"
    config.write_text(
        f"ledger: {{url: 'sqlite:///{tmp_path / 'l.sqlite3'}'}}\n"
        "columns: {phone: phone, payload: {name: name}}\n"
        "notify: {webhook_url: '${HOOK_URL}', timeout_s: 5}\n",
        encoding="utf-8",
    )
    if data is None:
        data = write_csv(tmp_path / "export.csv", [(phone(i), f"Anna {i}") for i in range(rows)])
    env = {"JAICP_TOKEN": token, "JAICP_BASE_URL": emulator.base_url, "HOOK_URL": url}
    return CliRunner().invoke(cli, ["upload", "--config", str(config), str(data)], env=env)


def test_a_finished_run_posts_its_summary(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, hook: Hook
) -> None:
    got = upload(tmp_path, emulator, campaign["token"], hook.url)
    assert got.exit_code == 0, got.output
    assert len(hook.bodies) == 1
    body = hook.bodies[0]
    assert body["event"] == "upload.finished"
    assert body["exit_code"] == 0 and body["error_class"] is None
    assert body["run_id"] >= 1
    assert body["counts"] == {
        "read": 6,
        "sent": 6,
        "sent_now": 6,
        "sent_before": 0,
        "rejected": 0,
        "duplicate": 0,
        "pending": 0,
        "pending_campaign": 0,
    }
    assert body["batches_confirmed"] == 1 and body["retries"] == 0
    assert (
        body["text"]
        == f"run {body['run_id']}: rows read 6 = sent 6 + rejected 0 + duplicate 0 + pending 0"
    )
    assert body["duration_s"] >= 0
    assert hook.headers[0]["Content-Type"].startswith("application/json")
    raw = json.dumps(body)
    assert campaign["token"] not in raw and campaign["token"].rsplit(".", 1)[-1] not in raw
    assert not any(phone(i)[1:] in raw for i in range(6))


def test_a_failed_run_posts_its_exit_code_and_error_class(
    emulator: Emulator, tmp_path: Path, hook: Hook
) -> None:
    wrong = random_token()
    got = upload(tmp_path, emulator, wrong, hook.url)
    assert got.exit_code == 4, got.output
    (body,) = hook.bodies
    assert body["exit_code"] == 4 and body["error_class"] == "InvalidTokenError"
    assert body["counts"]["pending"] == 6
    assert wrong not in json.dumps(body)


def test_a_run_stopped_before_its_summary_still_notifies(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, hook: Hook
) -> None:
    got = upload(tmp_path, emulator, campaign["token"], hook.url, data=tmp_path / "none.csv")
    assert got.exit_code == 6, got.output
    (body,) = hook.bodies
    assert body == {"event": "upload.finished", "exit_code": 6, "error_class": "InputFileError"}


def test_a_webhook_answering_500_is_a_warning_only(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, hook: Hook
) -> None:
    hook.status = 500
    got = upload(tmp_path, emulator, campaign["token"], hook.url)
    assert got.exit_code == 0, got.output
    assert len(hook.bodies) == 1
    assert "WARNING" in got.stderr and "answered HTTP 500" in got.stderr
    assert "secret-path" not in got.stderr  # only scheme and host of the hook are logged


def test_a_webhook_not_listening_is_a_warning_only(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    got = upload(tmp_path, emulator, campaign["token"], closed_port_url())
    assert got.exit_code == 0, got.output
    assert "WARNING" in got.stderr and "not reached" in got.stderr
    assert "complete (exit 0)" in got.stdout


def test_no_webhook_configured_posts_nothing() -> None:
    assert post_summary(NotifyConfig(), {"exit_code": 0}) is False


def test_a_token_shaped_value_is_never_posted(hook: Hook) -> None:
    cfg = NotifyConfig(webhook_url=hook.url)
    assert post_summary(cfg, {"note": random_token()}) is False
    assert hook.bodies == []
    assert post_summary(cfg, {"exit_code": 0}) is True
    assert hook.bodies == [{"exit_code": 0}]


def test_a_rerun_posts_what_it_sent_now_and_what_earlier_runs_had_sent(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, hook: Hook
) -> None:
    """The split the terminal summary shows ("sent 3 now + 3 before") is in the body too."""
    config = tmp_path / "c.yaml"
    config.write_text(
        f"ledger: {{url: 'sqlite:///{tmp_path / 'l.sqlite3'}'}}\n"
        "columns: {phone: phone, payload: {name: name}}\n"
        "upload: {batch_size: 3, max_attempts_per_request: 1}\n"
        "notify: {webhook_url: '${HOOK_URL}', timeout_s: 5}\n",
        encoding="utf-8",
    )
    data = write_csv(tmp_path / "export.csv", [(phone(i), f"Anna {i}") for i in range(6)])
    env = {"JAICP_TOKEN": campaign["token"], "JAICP_BASE_URL": emulator.base_url}
    env["HOOK_URL"] = hook.url
    # The first batch fails once before the server commits it: the first run leaves it
    # pending (one attempt per run), the second sends it.
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones", "times": 1}])
    args = ["upload", "--config", str(config), str(data)]
    first = CliRunner().invoke(cli, args, env=env)
    assert first.exit_code == 3, first.output
    again = CliRunner().invoke(cli, args, env=env)
    assert again.exit_code == 0, again.output
    assert "sent 3 now + 3 before" in again.stdout
    body = hook.bodies[-1]
    assert body["counts"]["sent"] == 6
    assert (body["counts"]["sent_now"], body["counts"]["sent_before"]) == (3, 3)
    assert "sent 3 now + 3 before" in body["text"]
    assert hook.bodies[0]["counts"]["sent_now"] == 3 and hook.bodies[0]["counts"]["pending"] == 3
