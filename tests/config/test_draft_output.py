"""The text ``init`` writes: every key of configs/example.yaml with its defaults, a comment
on each mapped column saying why, the unmapped columns listed, the token only as a reference
to the environment, and nothing of the export's personal data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import pipeline
from pipeline.config import Config, load_config
from pipeline.front.draft.column_choice import choose_columns
from pipeline.front.draft.draft_yaml import render_config
from pipeline.records import SourceInfo
from tests.config import exports
from tests.config.exports import ru

ROOT = Path(__file__).resolve().parents[2]


def _keys(data: Any, prefix: str = "") -> set[str]:
    if not isinstance(data, dict):
        return set()
    out = set()
    for key, value in data.items():
        out.add(prefix + str(key))
        if key not in ("columns", "payload", "policy") or prefix == "":
            out |= _keys(value, f"{prefix}{key}.")
    return out


def test_the_draft_has_every_key_of_the_example_and_its_defaults(tmp_path: Path) -> None:
    export = exports.amocrm_csv(tmp_path)
    draft = pipeline.init_config(export.path, tmp_path / "c.yaml")
    example = yaml.safe_load((ROOT / "configs/example.yaml").read_text(encoding="utf-8"))
    drafted = yaml.safe_load(draft.text)
    assert _keys(drafted) == _keys(example)
    # Everything but the file-specific sections is the example's (= the loader's) default.
    ours = load_config(tmp_path / "c.yaml", environ={})
    theirs = load_config(ROOT / "configs/example.yaml", environ={})
    specific = {"columns", "phone", "ledger"}
    assert ours.model_dump(exclude=specific) == theirs.model_dump(exclude=specific)
    assert ours.ledger.url == f"sqlite:///{tmp_path / 'ledger.sqlite3'}"  # next to the file


def test_each_mapped_column_says_why_and_the_rest_are_listed(tmp_path: Path) -> None:
    export = exports.amocrm_csv(tmp_path)
    text = pipeline.init_config(export.path, tmp_path / "c.yaml").text
    lines = text.splitlines()
    mobile = next(line for line in lines if line.strip().startswith('- "Мобильный телефон"'))
    assert "# amoCRM/Bitrix24; 25 of 25 sample values are callable phone numbers" in mobile
    budget = next(line for line in lines if line.strip().startswith("amount:"))
    assert budget.endswith("# amoCRM amount header; all 30 sample values are decimal")
    zone = next(line for line in lines if line.strip().startswith('gmtZone: "Часовой'))
    assert "all 30 sample values are valid gmtZone values" in zone
    listed = lines.index("  # Not mapped (add one under payload: to send it to the bot):")
    assert (
        lines[listed + 1]
        == '  #   "Email": an e-mail address: not needed for a call (text with digits)'
    )
    assert "multiple: first" in text and "several numbers in one cell in the samples" in text


def test_the_token_is_a_reference_and_no_cell_value_is_copied(tmp_path: Path) -> None:
    export = exports.amocrm_csv(tmp_path)
    text = pipeline.init_config(export.path, tmp_path / "c.yaml").text
    assert "JAICP_TOKEN" in text and "token:" not in text.lower().replace("# ", "")
    raw = export.path.read_bytes().decode("cp1251")
    cells = {c for line in raw.splitlines()[1:] for c in line.split(";") if c}
    personal = [c for c in cells if "@" in c or "Иванов" in c or "(916)" in c]
    assert len(personal) > 60
    for cell in personal:
        assert cell not in text, cell  # phones, names, e-mails stay in the export
    assert not any(ru(i)[2:] in text for i in range(30))


def test_odd_header_names_stay_one_value(tmp_path: Path) -> None:
    header = ['Телефон: основной # "моб"', "Сумма ${DEBT}", "Имя\nклиента"]  # noqa: RUF001
    rows = [[ru(i), "1", "x"] for i in range(3)]
    mapping = choose_columns(header, rows)
    info = SourceInfo(path="x.csv", format="csv", header=tuple(header), encoding="utf-8",
                      delimiter=";")  # fmt: skip
    text = render_config(mapping, info, export_name="x.csv")
    (tmp_path / "c.yaml").write_text(text, encoding="utf-8")
    cfg: Config = load_config(tmp_path / "c.yaml", environ={})
    assert cfg.columns.phone == ['Телефон: основной # "моб"']
    assert (
        "${" in dict(mapping.unmapped)["Сумма ${DEBT}"]
        or "rename" in dict(mapping.unmapped)["Сумма ${DEBT}"]
    )
    assert '"Имя\\nклиента"' in text  # one line in the file, the header's own text when read  # noqa: RUF001
