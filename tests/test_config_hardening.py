"""Config and process hardening: YAML anchors and aliases are refused before anything expands
(a 342-byte config grew past 2.8 GB), and a process that reads the campaign token can leave
no core dump, nor can the workers it forks."""

from __future__ import annotations

import ast
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError
from tests.conftest import random_token

ROOT = Path(__file__).resolve().parent.parent
LAUGHS = "".join(
    f"{name}: &{name} [{','.join([f'*{prev}'] * 9) if prev else ','.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


def test_nested_aliases_are_refused_at_the_first_anchor(tmp_path: Path) -> None:
    # two levels of the billion laughs: harmless here, refused all the same
    path = tmp_path / "laughs.yaml"
    path.write_text("".join(LAUGHS.splitlines(keepends=True)[:2]), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert str(err.value).startswith(f"{path}: line 1: YAML anchors and aliases")
    assert err.value.exit_code == 4


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("api:\n  base_url: &u https://app.jaicp.com\n", 2),  # an anchor alone
        ("upload: {batch_size: 5}\nother: *u\n", 2),  # an alias without its anchor
        ("base: &b {batch_size: 5}\nupload:\n  <<: *b\n", 1),  # a merge key
    ],
)
def test_anchors_aliases_and_merges_are_refused(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"c\.yaml: line {line}: YAML anchors and aliases"):
        load_config(path, environ={})


def test_the_billion_laughs_config_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    # in a child: expanded, these 342 bytes grow past 2.8 GB (then, here, a MemoryError)
    config = tmp_path / "laughs.yaml"
    config.write_text(LAUGHS, encoding="utf-8")
    assert len(LAUGHS.encode()) < 342  # the size of the one reported
    data = tmp_path / "in.csv"
    data.write_text("phone\n79160000001\n", encoding="utf-8")

    def limit() -> None:  # if anything expanded, the child fails instead of the machine
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "validate", "--config", str(config), str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        preexec_fn=limit,
        timeout=120,
        check=False,
    )
    assert result.returncode == 4, result.stderr
    assert "laughs.yaml: line 1: YAML anchors and aliases" in result.stderr


# ---- core dumps ------------------------------------------------------------------------------

PROBE = """
import ctypes, os, resource
from pipeline.config import campaign_token
libc = ctypes.CDLL(None)
def state():
    soft = resource.getrlimit(resource.RLIMIT_CORE)[0]
    return f"core {soft} dumpable {libc.prctl(3, 0, 0, 0, 0)}"  # PR_GET_DUMPABLE
print("before", state(), flush=True)
assert campaign_token() == os.environ["JAICP_TOKEN"]
print("after", state(), flush=True)
pid = os.fork()
if pid == 0:
    print("fork", state(), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


def _allow_dumps() -> None:
    """In the child before it runs: core dumps allowed (up to the hard limit, which may be 0
    only where the machine forbids them outright)."""
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    size = 1 << 20 if hard == resource.RLIM_INFINITY else min(1 << 20, hard)
    resource.setrlimit(resource.RLIMIT_CORE, (size, hard))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux")
def test_reading_the_token_turns_core_dumps_off_for_the_process_and_its_forks() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "JAICP_TOKEN": random_token()},
        preexec_fn=_allow_dumps,
        check=True,
    )
    before, after, fork = result.stdout.splitlines()
    assert before == "before core 1048576 dumpable 1"  # the premise: dumps were allowed
    assert (after, fork) == ("after core 0 dumpable 0", "fork core 0 dumpable 0")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux")
def test_the_emulator_process_has_core_dumps_off() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "emulator", "--port", "0"],
        env={**os.environ, "JAICP_TOKEN": random_token()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=_allow_dumps,  # noqa: PLW1509 - setrlimit only, before exec
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("listening on")
        limits = Path(f"/proc/{process.pid}/limits").read_text()
        core = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
        assert core.split()[4] == "0", core  # the soft limit, the one the kernel applies
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_every_reader_of_the_token_goes_through_campaign_token() -> None:
    """No module but pipeline/config/loading.py looks JAICP_TOKEN up in the environment."""
    readers = []
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() == "pipeline/config/loading.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call | ast.Subscript) and _names_the_token(node):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not readers, f"read JAICP_TOKEN without campaign_token(): {readers}"


def _names_the_token(node: ast.Call | ast.Subscript) -> bool:
    """``environ.get(TOKEN)``, ``os.getenv(TOKEN)`` or ``environ[TOKEN]``, any spelling."""
    if isinstance(node, ast.Subscript):
        target, keys = node.value, [node.slice]
    elif isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "getenv", "pop"):
        target, keys = node.func.value, list(node.args[:1])
    else:
        return False
    source = ast.unparse(target)
    if not (source.endswith("environ") or source == "os" or source.endswith(".environ")):
        return False
    return any(ast.unparse(key) in ("TOKEN_ENV", "'JAICP_TOKEN'") for key in keys)
