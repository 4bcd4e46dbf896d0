"""Exports as the CRMs write them, made by real writers, for the ``init`` tests.

Each builder returns the file and what a correct draft maps (phone headers in order, payload
field → (header, type), policy field → header) and how many of its rows are good.
"""

from __future__ import annotations

import datetime as dt
import gzip
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import phone
from tests.extract.helpers import write_xlsx
from tests.extract.writers import write_ods, write_xls

ROWS = 30


def ru(n: int) -> str:
    """The n-th Russian mobile as people type it: 8 (916) 000-00-01."""
    digits = phone(n)
    return f"8 ({digits[1:4]}) {digits[4:7]}-{digits[7:9]}-{digits[9:]}"


@dataclass
class Export:
    path: Path
    phones: list[str]
    payload: dict[str, tuple[str, str]]
    policy: dict[str, str] = field(default_factory=dict)
    good: int = ROWS
    unmapped: list[str] = field(default_factory=list)


def _csv(path: Path, rows: list[list[str]], *, delimiter: str, encoding: str) -> Path:
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def amocrm_csv(tmp_path: Path) -> Export:
    """amoCRM deals export: cp1251, ';', two phone columns (some rows only have the second,
    some cells hold two numbers joined by ', '), budget, created date-time, a zone column."""
    header = [
        "ID",
        "Название сделки",
        "Бюджет",
        "Основной контакт",
        "Мобильный телефон",
        "Рабочий телефон",
        "Email",
        "Дата создания",
        "Часовой пояс",
    ]
    rows = [header]
    for i in range(ROWS):
        mobile = "" if i % 5 == 0 else ru(i)
        if i % 7 == 3:
            mobile = f"{ru(i)}, {ru(1000 + i)}"
        work = ru(500 + i) if i % 5 == 0 else ""
        rows.append(
            [
                str(10_000 + i),
                f"Сделка {i}",
                str(15_000 + i),
                f"Иванов Иван {i}",
                mobile,
                work,
                f"client{i}@example.ru",
                f"{(i % 28) + 1:02d}.11.2026 10:{i % 60:02d}",
                "МСК+4" if i % 2 else "+03:00",  # noqa: RUF001
            ]
        )
    return Export(
        _csv(tmp_path / "amocrm_deals.csv", rows, delimiter=";", encoding="cp1251"),
        ["Мобильный телефон", "Рабочий телефон"],
        {
            "crm_id": ("ID", "string"),
            "deal": ("Название сделки", "string"),
            "amount": ("Бюджет", "decimal"),
            "name": ("Основной контакт", "string"),
            "date": ("Дата создания", "datetime"),
        },
        {"gmtZone": "Часовой пояс"},
        unmapped=["Email"],
    )


def bitrix24_xlsx(tmp_path: Path) -> Export:
    """Bitrix24 contacts export saved as XLSX: numeric phone cells, amounts as numbers, dates
    as date cells, first and last name apart."""
    rows: list[list[Any]] = [
        ["ID", "Имя", "Фамилия", "Телефон", "Рабочий телефон", "Сумма долга", "Дата платежа",
         "Ответственный", "Комментарий"]
    ]  # fmt: skip
    for i in range(ROWS):
        rows.append(
            [
                i + 1,
                f"Анна{i}",
                f"Петрова{i}",
                int(phone(i)),
                None,
                1000 + i + 0.5,
                dt.datetime(2026, 12, (i % 28) + 1),
                "Менеджер Сидоров",
                "перезвонить" if i % 3 else None,
            ]
        )
    return Export(
        write_xlsx(tmp_path, "bitrix24_contacts.xlsx", {"Контакты": rows}),
        ["Телефон", "Рабочий телефон"],
        {
            "crm_id": ("ID", "string"),
            "first_name": ("Имя", "string"),
            "last_name": ("Фамилия", "string"),
            "amount": ("Сумма долга", "decimal"),
            "due_date": ("Дата платежа", "date"),
            "owner": ("Ответственный", "string"),
        },
        unmapped=["Комментарий"],
    )


def onec_xls(tmp_path: Path) -> Export:
    """A 1C report saved as .xls: a title line and a blank row above the header, the
    counterparty's name, a debt, a due date."""
    rows: list[list[Any]] = [
        ["Задолженность покупателей на 01.12.2026", None, None, None],
        [None, None, None, None],
        ["Контрагент", "Контактный телефон", "Сумма задолженности", "Срок оплаты"],
    ]
    for i in range(ROWS):
        rows.append([f'ООО "Ромашка {i}"', ru(i), 2500 + i, dt.date(2026, 12, (i % 28) + 1)])  # noqa: RUF001
    return Export(
        write_xls(tmp_path / "1c_report.xls", {"TDSheet": rows}),
        ["Контактный телефон"],
        {
            "name": ("Контрагент", "string"),
            "amount": ("Сумма задолженности", "decimal"),
            "due_date": ("Срок оплаты", "date"),
        },
    )


def us(n: int) -> str:
    return f"(212) 736-{5000 + n:04d}"


def hubspot_csv(tmp_path: Path) -> Export:
    """HubSpot contacts export: UTF-8, ',', US numbers without a country code."""
    rows = [["Record ID", "First Name", "Last Name", "Phone Number", "Mobile Phone Number",
             "Email", "Create Date", "Lifecycle Stage"]]  # fmt: skip
    for i in range(ROWS):
        rows.append(
            [
                str(900 + i),
                f"John{i}",
                f"Smith{i}",
                us(i),
                us(100 + i) if i % 2 else "",
                f"john{i}@example.com",
                f"2026-11-{(i % 28) + 1:02d} 09:30",
                "lead",
            ]
        )
    return Export(
        _csv(tmp_path / "hubspot-contacts.csv", rows, delimiter=",", encoding="utf-8"),
        ["Mobile Phone Number", "Phone Number"],
        {
            "crm_id": ("Record ID", "string"),
            "first_name": ("First Name", "string"),
            "last_name": ("Last Name", "string"),
            "date": ("Create Date", "datetime"),
            "stage": ("Lifecycle Stage", "string"),
        },
        unmapped=["Email"],
    )


def salesforce_csv(tmp_path: Path) -> Export:
    """A Salesforce report export: UTF-8 with BOM, ',', numbers with +1, slash dates (read
    two ways: they stay text), an amount with a dot."""
    rows = [["Account Name", "Full Name", "Phone", "Mobile", "Amount", "Close Date",
             "Time Zone"]]  # fmt: skip
    for i in range(ROWS):
        rows.append(
            [
                f"Acme {i}",
                f"Jane Doe {i}",
                f"+1 {us(i)}",
                "",
                f"{1200 + i}.50",
                f"12/{(i % 28) + 1}/2026",
                "America/New_York",
            ]
        )
    return Export(
        _csv(tmp_path / "salesforce_report.csv", rows, delimiter=",", encoding="utf-8-sig"),
        ["Phone", "Mobile"],  # Mobile is empty in every row: kept, but tried last
        {
            "company": ("Account Name", "string"),
            "name": ("Full Name", "string"),
            "amount": ("Amount", "decimal"),
            "due_date": ("Close Date", "string"),
        },
        {"gmtZone": "Time Zone"},
    )


def plain_rows() -> list[list[str]]:
    """A plain Russian sheet: ФИО, Телефон, Сумма."""
    return [["ФИО", "Телефон", "Сумма"]] + [
        [f"Клиент {i}", ru(i), f"{100 + i},25"] for i in range(ROWS)
    ]


def packed(tmp_path: Path, how: str) -> Path:
    """The plain sheet as another kind of file: utf-16 (Excel's Unicode text), gzip, zip,
    ods, cp1251 with tabs."""
    rows = plain_rows()
    if how == "utf-16":
        return _csv(tmp_path / "plain.txt", rows, delimiter="\t", encoding="utf-16")
    if how == "cp1251-tab":
        return _csv(tmp_path / "plain.tsv", rows, delimiter="\t", encoding="cp1251")
    if how == "pipe":
        return _csv(tmp_path / "plain.csv", rows, delimiter="|", encoding="utf-8")
    if how == "ods":
        return write_ods(tmp_path / "plain.ods", {"Лист1": rows})  # noqa: RUF001
    plain = _csv(tmp_path / "plain.csv", rows, delimiter=";", encoding="utf-8")
    if how == "gzip":
        target = tmp_path / "plain.csv.gz"
        target.write_bytes(gzip.compress(plain.read_bytes()))
        return target
    target = tmp_path / "plain.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(plain, "export.csv")
    return target
