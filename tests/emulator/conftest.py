"""Helpers of the emulator tests: plain ``requests`` calls, never :mod:`pipeline.api`.

``api`` wraps a session bound to the shared ``campaign``::

    reply = api.post("addPhones", [{"phone": "79990000001"}], key="k1")
    assert reply.status_code == 200
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pipeline.emulator import Emulator


class Api:
    """Requests against one campaign's Calls API paths (and the admin API)."""

    def __init__(self, emulator: Emulator, token: str) -> None:
        self.emulator = emulator
        self.token = token
        self.session = requests.Session()

    def url(self, endpoint: str, token: str | None = None, family: str = "calls") -> str:
        base = f"{self.emulator.base_url}/api/{family}/campaign/{token or self.token}"
        return f"{base}/{endpoint}" if endpoint else base

    def post(
        self, endpoint: str, body: Any = None, key: str | None = None, token: str | None = None
    ) -> requests.Response:
        headers = {} if key is None else {"Idempotence-Key": key}
        return self.session.post(self.url(endpoint, token), json=body, headers=headers, timeout=10)

    def get(self, endpoint: str, token: str | None = None) -> requests.Response:
        return self.session.get(self.url(endpoint, token), timeout=10)

    def crm(
        self,
        params: dict[str, str],
        key: str | None = None,
        endpoint: str = "addPhone",
        token: str | None = None,
    ) -> requests.Response:
        query = dict(params) if key is None else {**params, "Idempotence-Key": key}
        return self.session.get(
            self.url(endpoint, token, family="crmCalls"), params=query, timeout=10
        )

    def admin(self, method: str, path: str, body: Any = None) -> requests.Response:
        url = f"{self.emulator.base_url}/__emulator__/{path}"
        return self.session.request(method, url, json=body, timeout=10)


@pytest.fixture
def api(emulator: Emulator, campaign: dict[str, Any]) -> Iterator[Api]:
    helper = Api(emulator, campaign["token"])
    yield helper
    helper.session.close()


def phones(count: int, start: int = 79990000000) -> list[dict[str, Any]]:
    """``count`` addPhones elements with distinct valid phones."""
    return [{"phone": str(start + index)} for index in range(count)]
