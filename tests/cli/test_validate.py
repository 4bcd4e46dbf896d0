"""``jaicp-pipeline validate`` on the sample files: counts, outputs, batches, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.api import encode_add_phones
from pipeline.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"
EXPECTED = SAMPLES / "expected"
PLAIN = Path(__file__).with_name("validate_samples.yaml")
DEBT = Path(__file__).with_name("validate_debt.yaml")
XLSX = Path(__file__).with_name("validate_xlsx.yaml")

# (sample, config, the accounting line validate prints)
CASES = [
    (
        "bitrix24_export.csv",
        ROOT / "configs" / "bitrix24.yaml",
        "rows read 29 = accepted 23 + rejected 5 + duplicate 1",
    ),
    ("bad_phones.csv", PLAIN, "rows read 6 = accepted 1 + rejected 5 + duplicate 0"),
    ("duplicates.csv", DEBT, "rows read 5 = accepted 3 + rejected 0 + duplicate 2"),
    ("blank_rows.csv", PLAIN, None),
    ("xlsx_numeric_phones.xlsx", XLSX, None),
]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(("sample", "config", "line"), CASES)
def test_outputs_match_the_expected_files(
    sample: str, config: Path, line: str | None, tmp_path: Path
) -> None:
    suffix = Path(sample).suffix
    accepted, rejects = tmp_path / "accepted.csv", tmp_path / f"rejects{suffix}"
    code, out = _run(
        "--config", str(config), str(SAMPLES / sample),
        "--accepted", str(accepted), "--rejects", str(rejects),
    )  # fmt: skip
    assert code == 0, out
    if line is not None:
        assert line in out
    expected_accepted = EXPECTED / f"{sample}.accepted.csv"
    assert accepted.read_bytes() == expected_accepted.read_bytes()
    if suffix == ".csv":
        assert rejects.read_bytes() == (EXPECTED / f"{sample}.rejects.csv").read_bytes()


def test_reasons_and_accounting_are_printed() -> None:
    code, out = _run("--config", str(PLAIN), str(SAMPLES / "bad_phones.csv"))
    assert code == 0
    for reason in ("phone_too_short", "phone_invalid", "phone_lossy", "phone_multiple",
                   "phone_extension"):  # fmt: skip
        assert f"  {reason}" in out


def test_lossy_phone_is_rejected_and_never_in_a_batch(tmp_path: Path) -> None:
    code, out = _run(
        "--config", str(PLAIN), str(SAMPLES / "bad_phones.csv"),
        "--emit-batches", str(tmp_path / "b"),
    )  # fmt: skip
    assert code == 0, out
    bodies = [json.loads(p.read_bytes()) for p in sorted((tmp_path / "b").iterdir())]
    phones = [item["phone"] for body in bodies for item in body]
    assert phones == ["79160000305"]
    assert not any(p.startswith("791612") for p in phones)


def test_batches_are_exact_bodies_with_no_phone_twice(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(DEBT.read_text(encoding="utf-8") + "upload:\n  batch_size: 2\n",
                      encoding="utf-8")  # fmt: skip
    code, out = _run("--config", str(config), str(SAMPLES / "duplicates.csv"),
                     "--emit-batches", str(tmp_path / "b"))  # fmt: skip
    assert code == 0, out
    files = sorted((tmp_path / "b").iterdir())
    bodies = [json.loads(p.read_bytes()) for p in files]
    # rows 1, 2, 4 are accepted; row 4 repeats row 1's phone so it waits for the next batch
    assert [[i["phone"] for i in body] for body in bodies] == [
        ["79160000401", "79160000402"],
        ["79160000401"],
    ]
    for path, body in zip(files, bodies, strict=True):
        assert path.read_bytes() == encode_add_phones(body)  # byte-exact canonical encoding
        assert path.stat().st_mode & 0o777 == 0o600
    assert "2 addPhones bodies" in out


def test_missing_columns_exit_6_listing_headers(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("version: 1\ncolumns:\n  phone: mobile\n", encoding="utf-8")
    code, out = _run("--config", str(config), str(SAMPLES / "duplicates.csv"))
    assert code == 6
    assert "columns.phone ('mobile')" in out and "'phone', 'name', 'debt'" in out
