"""Which API addresses the config accepts: plain http:// only to this machine (loopback).

The campaign token is part of every request's URL; over plain http:// it crosses the network
unencrypted, readable by anyone on the path. Loopback traffic (the emulator, a local TLS
terminator) never leaves the host, so it stays allowed; anything else needs https:// or an
explicit ``api.allow_insecure_http: true``.

Usage::

    insecure_http("http://10.0.0.5", allowed=False)     # "api.base_url http://... is plain ..."
    insecure_http("http://127.0.0.1:8080", allowed=False)   # None: loopback
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from pipeline.errors import ConfigError

_LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name other than localhost: it may resolve anywhere
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def insecure_http(url: str, *, allowed: bool, where: str = "api.base_url") -> str | None:
    """Why ``url`` may not be used (plain http:// to a host that is not this machine), or
    None. Loopback (127.0.0.0/8, ::1, localhost) is fine: the traffic never leaves the host."""
    split = urlsplit(url)
    if split.scheme.lower() != "http" or allowed:
        return None
    host = split.hostname or ""
    if _is_loopback(host):
        return None
    return (
        f"{where} {url} is plain http:// to {host}, which is not this machine: the campaign "
        f"token (part of every request's URL) would cross the network unencrypted. Use "
        f"https://, or set api.allow_insecure_http: true if the network is trusted (a test "
        f"server inside a private network)."
    )


def checked_override(url: str, name: str, *, allowed: bool) -> str:
    """``url`` from the environment variable ``name``, checked as ``api.base_url`` is."""
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(
            f"{name}={url!r} is not an http(s) URL such as https://app.jaicp.com; fix or unset it."
        )
    problem = insecure_http(url, allowed=allowed, where=name)
    if problem:
        raise ConfigError(problem)
    return url.rstrip("/")
