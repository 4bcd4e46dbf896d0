"""``validate --emit-batches`` shows exactly what ``upload`` sends: the same batches, byte for
byte, in the same order — also when phones repeat (rows wait for the next batch) and the file is
read in more than one chunk."""

from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli.main import cli
from tests.conftest import phone
from tests.load.conftest import Uploader, write_csv

CONFIG = """\
version: 1
columns:
  phone: phone
  payload:
    name: name
dedupe:
  key: none
input:
  chunk_size: 100
upload:
  batch_size: 7
"""


def test_emitted_bodies_are_the_bodies_upload_sends(uploader: Uploader, tmp_path: Path) -> None:
    # 9 phones over 250 rows, every name different: a batch of 7 skips the repeats, and the
    # chunks of 100 rows end in the middle of batches.
    csv = write_csv(tmp_path / "in.csv", [(phone(i * 4 % 9), f"N{i}") for i in range(250)])
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["validate", "--config", str(config), str(csv), "--emit-batches", str(tmp_path / "b")]
    )
    assert result.exit_code == 0, result.output
    emitted = [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((tmp_path / "b").iterdir())
    ]

    uploader.sections = {"dedupe": {"key": "none"}}
    uploader.input = {"chunk_size": 100}
    summary = uploader.run(csv, batch_size=7)
    assert summary.exit_code == 0, summary.lines()
    sent = [entry["bodySha256"] for entry in uploader.add_phones_log()]
    assert len(emitted) > 250 // 7  # repeats waited: some batches are short
    assert sent == emitted
