"""The private copy an upload reads: hashed while copied, refused when the file changes."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.errors import ExitCode, InputFileError
from pipeline.extract.snapshot import Snapshots, copy_file

BLOCK = 1 << 20


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    # Three blocks and a bit: a change can land between blocks.
    line = b"79161234567;\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\xd0\xbe\xd0\xb2;1500.00\n"
    path.write_bytes(b"phone;name;sum\n" + line * ((3 * BLOCK) // len(line) + 10))
    return path


def test_the_copy_is_the_file_its_digest_and_private(export: Path, tmp_path: Path) -> None:
    with Snapshots(tmp_path / "tmp") as snapshots:
        snap = snapshots.take(export)
        data = export.read_bytes()
        assert snap.path.read_bytes() == data and snap.path != export
        assert snap.path.name == export.name  # the suffix still says CSV
        assert snap.info.sha256 == hashlib.sha256(data).hexdigest()
        assert (snap.info.name, snap.info.size) == (export.name, len(data))
        assert stat.S_IMODE(snap.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(snapshots.folder.stat().st_mode) == 0o700
        snapshots.release(snap)
        assert not snap.path.exists()
        other = snapshots.take(export)
    assert not other.path.exists() and not snapshots.folder.exists()


def _changes(export: Path) -> dict[str, Callable[[], None]]:
    def truncate() -> None:
        with export.open("r+b") as fh:
            fh.truncate(0)

    def append() -> None:
        with export.open("ab") as fh:
            fh.write(b"79160000000;late;1\n")

    def rewrite_same_size() -> None:
        data = export.read_bytes()
        with export.open("r+b") as fh:
            fh.write(data.replace(b"1500.00", b"9999.99"))
        st = export.stat()
        os.utime(export, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))

    def replace() -> None:
        new = export.with_name("new.csv")
        new.write_bytes(export.read_bytes())
        new.replace(export)

    def delete() -> None:
        export.unlink()

    return {
        "truncated": truncate,
        "appended": append,
        "rewritten": rewrite_same_size,
        "replaced": replace,
        "deleted": delete,
    }


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ("truncated", "its size changed"),
        ("appended", "its size changed"),
        ("rewritten", "it was modified"),
        ("replaced", "replaced by another file"),
        ("deleted", "it was deleted"),
    ],
)
def test_a_file_that_changes_while_it_is_copied_is_refused(
    export: Path, tmp_path: Path, change: str, why: str
) -> None:
    act = _changes(export)[change]
    done: list[int] = []

    def after_block(copied: int) -> None:
        if not done:
            done.append(copied)
            act()

    with Snapshots(tmp_path / "tmp") as snapshots:
        with pytest.raises(InputFileError) as err:
            snapshots.take(export, after_block=after_block)
        assert not any(snapshots.folder.iterdir())  # the partial copy is gone
    assert err.value.exit_code == ExitCode.INPUT
    message = str(err.value)
    assert "changed while it was being read" in message and why in message
    assert "nothing of it was planned or sent" in message


def test_a_pipe_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR)  # so that opening it for reading does not block
    try:
        with pytest.raises(InputFileError, match="not a regular file"):
            copy_file(fifo, tmp_path / "copy.csv")
    finally:
        os.close(writer)


def test_missing_and_directory_inputs_are_input_errors(tmp_path: Path) -> None:
    with Snapshots(tmp_path / "tmp") as snapshots:
        with pytest.raises(InputFileError, match="file not found"):
            snapshots.take(tmp_path / "none.csv")
        with pytest.raises(InputFileError, match="is a directory"):
            snapshots.take(tmp_path)


def test_copies_left_by_a_killed_run_are_removed(tmp_path: Path) -> None:
    base = tmp_path / "tmp"
    base.mkdir()
    dead = base / "jaicp-inputs-999999999-abc"  # no such process
    (dead / "1").mkdir(parents=True)
    (dead / "1" / "export.csv").write_bytes(b"phone\n79160000000\n")
    alive = base / f"jaicp-inputs-{os.getppid()}-abc"  # a live process's copies stay
    alive.mkdir()
    with Snapshots(base):
        assert not dead.exists() and alive.exists()
