"""``init``: a config drafted from an export maps what a person would map, and its file
loads through the normal config loader and validates the export at once.

The exports are made by real writers (cp1251 CSV, openpyxl XLSX, xlwt XLS, odfpy ODS, gzip,
zip) in the shapes amoCRM, Bitrix24, 1C, HubSpot and Salesforce give them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import pipeline
from pipeline.config import PayloadField, load_config
from pipeline.errors import InputFileError, OutputFileError
from pipeline.front.draft import default_output
from pipeline.front.draft.column_choice import choose_columns
from tests.config import exports
from tests.config.exports import ROWS, Export, ru
from tests.extract.helpers import write_xlsx

STYLES: dict[str, Callable[[Path], Export]] = {
    "amocrm-cp1251-csv": exports.amocrm_csv,
    "bitrix24-xlsx": exports.bitrix24_xlsx,
    "1c-xls-title-line": exports.onec_xls,
    "hubspot-csv": exports.hubspot_csv,
    "salesforce-csv": exports.salesforce_csv,
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_each_export_style_is_mapped_and_validates_at_once(tmp_path: Path, style: str) -> None:
    export = STYLES[style](tmp_path)
    draft = pipeline.init_config(export.path, tmp_path / "draft.yaml")
    # the file on disk is what the normal loader reads (pydantic), equal to what init returned
    cfg = load_config(tmp_path / "draft.yaml")
    assert cfg == draft.config
    phone = cfg.columns.phone
    assert (phone if isinstance(phone, list) else [phone]) == export.phones
    fields = cfg.columns.payload_fields()
    assert {name: (f.column, f.type) for name, f in fields.items()} == export.payload
    assert dict(cfg.columns.policy) == export.policy
    for header in export.unmapped:
        assert header in [h for h, _ in draft.mapping.unmapped]
    report = pipeline.validate(cfg, export.path)
    assert (report.rows_read, report.accepted) == (ROWS, export.good), report


def test_amocrm_numbers_joined_in_one_cell_call_the_first(tmp_path: Path) -> None:
    export = exports.amocrm_csv(tmp_path)
    cfg = pipeline.init_config(export.path, tmp_path / "c.yaml").config
    assert cfg.phone.multiple == "first" and cfg.phone.default_region == "RU"
    assert cfg.phone.extensions == "reject"  # no extension in the samples: the safe default


def test_english_exports_without_country_code_get_their_region(tmp_path: Path) -> None:
    export = exports.hubspot_csv(tmp_path)
    cfg = pipeline.init_config(export.path, tmp_path / "c.yaml").config
    assert cfg.phone.default_region == "US" and cfg.phone.multiple == "reject"


def test_the_1c_title_line_is_skipped_by_the_header_search(tmp_path: Path) -> None:
    export = exports.onec_xls(tmp_path)
    draft = pipeline.init_config(export.path, tmp_path / "c.yaml")
    assert draft.info.header_row == 3 and draft.info.format == "xls"
    assert draft.config.input.header_row is None  # the loader finds it the same way
    assert "sheet row 3 in this file, below title lines" in draft.text


@pytest.mark.parametrize("how", ["utf-16", "cp1251-tab", "pipe", "ods", "gzip", "zip"])
def test_every_kind_of_file_the_readers_take(tmp_path: Path, how: str) -> None:
    path = exports.packed(tmp_path, how)
    draft = pipeline.init_config(path, tmp_path / "c.yaml")
    cfg = load_config(tmp_path / "c.yaml")
    assert cfg.columns.phone == ["Телефон"]
    assert cfg.columns.payload_fields()["amount"] == PayloadField(column="Сумма", type="decimal")
    assert pipeline.validate(cfg, path).accepted == ROWS, draft.text


def test_phone_values_beat_a_misleading_header() -> None:
    header = ["Телефон", "Контакт", "Сумма"]
    rows = [["нет", ru(i), "10"] for i in range(10)]
    mapping = choose_columns(header, rows)
    assert [c.header for c in mapping.phones] == ["Контакт"]
    assert "header does not say phone" in mapping.phones[0].why
    assert "10 of 10 sample values are callable" in mapping.phones[0].why
    why = dict(mapping.unmapped)["Телефон"]
    assert (
        why
        == "named like a phone column, but only 0 of 10 sample values are callable phone numbers"
    )


def test_an_amount_column_of_text_stays_text_and_says_why() -> None:
    rows = [[ru(i), f"{i},50 руб." if i % 2 else "12,00"] for i in range(10)]  # noqa: RUF001
    mapping = choose_columns(["Телефон", "Сумма долга"], rows)
    (amount,) = mapping.payload
    assert (amount.field, amount.type) == ("amount", "string")
    assert "only 5 of 10 sample values are decimal" in amount.why


def test_dates_are_not_taken_for_phone_numbers() -> None:
    # "01.12.2026" is a valid German landline: a date column must pick neither a phone
    # column nor the region.
    rows = [[ru(i), f"{(i % 28) + 1:02d}.12.2026"] for i in range(10)]
    mapping = choose_columns(["Телефон", "Дата"], rows)
    assert [c.header for c in mapping.phones] == ["Телефон"]
    assert mapping.phone_rules.default_region == "RU"
    assert [(c.field, c.type) for c in mapping.payload] == [("date", "date")]


def test_a_zone_column_of_other_things_is_not_policy() -> None:
    rows = [[ru(i), "утро"] for i in range(5)]
    mapping = choose_columns(["Телефон", "Часовой пояс"], rows)
    assert mapping.policy == []
    assert (
        "only 0 of 5 sample values are valid gmtZone values"
        in dict(mapping.unmapped)["Часовой пояс"]
    )


def test_an_export_without_phones_is_exit_6_naming_its_headers(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("Сделка;Сумма;Email\nA;10;a@b.c\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        pipeline.init_config(path, tmp_path / "c.yaml")
    assert caught.value.exit_code == 6
    assert "no column holds phone numbers" in str(caught.value)
    assert "'Сделка', 'Сумма', 'Email'" in str(caught.value)
    assert not (tmp_path / "c.yaml").exists()


def test_an_unknown_phone_header_below_a_title_line_is_found_by_its_values(
    tmp_path: Path,
) -> None:
    path = tmp_path / "report.csv"
    lines = ["Отчёт по клиентам", "", "Клиент;Контакт для связи;Долг"]
    lines += [f"Клиент {i};{ru(i)};{i}" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    draft = pipeline.init_config(path, tmp_path / "c.yaml")
    assert draft.info.header_row == 3
    assert draft.config.columns.phone == ["Контакт для связи"]
    assert pipeline.validate(draft.config, path).accepted == ROWS


def test_an_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    export = exports.amocrm_csv(tmp_path)
    target = tmp_path / "c.yaml"
    target.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(OutputFileError, match="exists; pass --force"):
        pipeline.init_config(export.path, target)
    assert target.read_text(encoding="utf-8") == "# mine\n"
    pipeline.init_config(export.path, target, force=True)
    assert load_config(target).columns.phone == export.phones
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".init-")] == []


def test_the_export_itself_is_never_overwritten(tmp_path: Path) -> None:
    export = exports.amocrm_csv(tmp_path)
    before = export.path.read_bytes()
    with pytest.raises(OutputFileError, match="the export itself"):
        pipeline.init_config(export.path, export.path, force=True)
    assert export.path.read_bytes() == before


def test_the_default_output_is_named_after_the_export() -> None:
    assert default_output("in/export.csv.gz") == Path("export.yaml")
    assert default_output("Контакты 2026.xlsx") == Path("Контакты 2026.yaml")


def test_dates_are_not_taken_for_phone_numbers_under_an_unknown_header() -> None:
    # No phone header: the columns of many digits are tried, dates not among them (else
    # the fuller date column would make DE the region and itself the phone column).
    rows = [[ru(i) if i % 2 else "", f"{(i % 28) + 1:02d}.12.2026"] for i in range(10)]
    mapping = choose_columns(["Контакт", "Дата"], rows)
    assert [c.header for c in mapping.phones] == ["Контакт"]
    assert mapping.phone_rules.default_region == "RU"


def test_a_cover_sheet_without_phones_leads_to_the_sheet_with_them(tmp_path: Path) -> None:
    cover = [["Выгрузка из CRM: данные на листе «Клиенты»"]]
    data = [["ФИО", "Телефон"]] + [[f"Клиент {i}", ru(i)] for i in range(ROWS)]
    path = write_xlsx(tmp_path, "book.xlsx", {"Обложка": cover, "Клиенты": data})
    draft = pipeline.init_config(path, tmp_path / "c.yaml")
    assert draft.config.input.sheet == "Клиенты"
    assert draft.config.columns.phone == ["Телефон"]
    assert pipeline.validate(draft.config, path).accepted == ROWS
