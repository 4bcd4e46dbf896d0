"""The headers CRM and accounting exports use for what a call campaign needs.

One :class:`Role` per thing a config maps (the phone, a payload field, a per-row policy
field), with the header names known to mean it and where they come from. Names are matched
as the readers match them (:func:`pipeline.records.header_key`: case, spaces and a BOM
ignored). A header that is not listed but *contains* one of a role's ``words`` is a weaker
guess of that role (``"Телефон контрагента"``, ``"Phone (Mobile)"``).

Sources: amoCRM's contact/deal export, Bitrix24's CRM export, 1C reports ("Контрагенты",
"Задолженность покупателей"), HubSpot's contact/deal export, Salesforce report exports, and
the plain English/Russian names people type into their own sheets.

Usage::

    role, known = recognise("Мобильный телефон")   # (PHONE, True): a listed name
    role, known = recognise("Телефон директора")   # (PHONE, False): a word of the role
    recognise("Комментарий")                       # None
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.records import header_key


@dataclass(frozen=True, slots=True)
class Role:
    """What a column can be: ``target`` is ``"phone"``, ``"payload"`` or ``"policy"``;
    ``field`` the payload field or API policy field it feeds; ``kind`` how sample values
    confirm it (``phone``, ``name``, ``amount``, ``date``, ``text``, or a policy field)."""

    target: str
    field: str
    kind: str
    names: tuple[tuple[str, str], ...]  # (header, where it comes from), best first
    words: tuple[str, ...] = ()

    def source(self, header: str) -> str | None:
        """Where a listed ``header`` comes from (None: not listed)."""
        key = header_key(header)
        return next((src for name, src in self.names if header_key(name) == key), None)

    def rank(self, header: str) -> int:
        """Position of ``header`` among the listed names (unlisted: after all of them)."""
        key = header_key(header)
        keys = [header_key(name) for name, _ in self.names]
        return keys.index(key) if key in keys else len(keys)


AMO, B24, C1 = "amoCRM", "Bitrix24", "1C"
HS, SF, RU, EN = "HubSpot", "Salesforce", "Russian export", "English export"

# Mobile numbers first: the per-cell fallback tries the columns in this order, and a call
# reaches a mobile more often than a desk.
PHONE = Role(
    "phone",
    "phone",
    "phone",
    (
        ("Мобильный телефон", f"{AMO}/{B24}"),
        ("Мобильный", RU),
        ("Сотовый телефон", RU),
        ("Сотовый", RU),
        ("Mobile Phone Number", HS),
        ("Mobile Phone", SF),
        ("Mobile", SF),
        ("Mobile number", EN),
        ("Cell phone", EN),
        ("Cell", EN),
        ("Телефон", f"{B24}/{C1}"),
        ("Телефоны", C1),
        ("Контактный телефон", C1),
        ("Номер телефона", RU),
        ("Телефон контакта", AMO),
        ("Телефон клиента", RU),
        ("Тел.", RU),
        ("Тел", RU),
        ("Phone Number", HS),
        ("Phone", f"{SF}/{EN}"),
        ("Telephone", EN),
        ("Tel", EN),
        ("MSISDN", EN),
        ("Рабочий телефон", f"{AMO}/{B24}"),
        ("Рабочий прямой телефон", AMO),
        ("Business Phone", SF),
        ("Work phone", EN),
        ("Домашний телефон", f"{AMO}/{B24}"),
        ("Home Phone", SF),
        ("Другой телефон", f"{AMO}/{B24}"),
        ("Other Phone", SF),
    ),
    ("телефон", "phone", "mobile", "мобильн", "сотов"),
)

PAYLOAD: tuple[Role, ...] = (
    Role(
        "payload",
        "name",
        "name",
        (
            ("ФИО", RU),
            ("Полное имя", B24),
            ("Основной контакт", AMO),
            ("Контакт", f"{AMO}/{B24}"),
            ("Контрагент", C1),
            ("Клиент", RU),
            ("Покупатель", C1),
            ("Должник", RU),
            ("Заемщик", RU),
            ("Full Name", SF),
            ("Name", EN),
            ("Contact Name", f"{HS}/{SF}"),
            ("Customer", EN),
            ("Client", EN),
        ),
        ("фио", "full name"),
    ),
    Role(
        "payload",
        "first_name",
        "name",
        (("Имя", f"{B24}/{AMO}"), ("First Name", f"{HS}/{SF}"), ("Given name", EN)),
    ),
    Role("payload", "middle_name", "name", (("Отчество", B24), ("Middle Name", SF))),
    Role(
        "payload",
        "last_name",
        "name",
        (("Фамилия", B24), ("Last Name", f"{HS}/{SF}"), ("Surname", EN), ("Family name", EN)),
    ),
    Role(
        "payload",
        "company",
        "text",
        (
            ("Компания", f"{AMO}/{B24}"),
            ("Название компании", B24),
            ("Организация", C1),
            ("Наименование", C1),
            ("Company", EN),
            ("Company Name", HS),
            ("Account Name", SF),
            ("Associated Company", HS),
        ),
    ),
    Role(
        "payload",
        "amount",
        "amount",
        (
            ("Сумма долга", RU),
            ("Сумма задолженности", C1),
            ("Задолженность", C1),
            ("Долг", RU),
            ("Сумма к оплате", RU),
            ("Остаток долга", RU),
            ("Сумма", f"{B24}/{C1}"),
            ("Бюджет", AMO),
            ("Сумма сделки", B24),
            ("Сальдо", C1),
            ("Баланс", RU),
            ("Amount due", EN),
            ("Balance due", EN),
            ("Outstanding", EN),
            ("Debt", EN),
            ("Amount", f"{HS}/{SF}"),
            ("Deal amount", HS),
            ("Balance", EN),
            ("Total", EN),
        ),
        ("сумма", "долг", "amount"),
    ),
    Role(
        "payload",
        "due_date",
        "date",
        (
            ("Дата платежа", RU),
            ("Срок оплаты", C1),
            ("Дата оплаты", RU),
            ("Крайний срок", B24),
            ("Due date", EN),
            ("Payment date", EN),
            ("Close Date", f"{HS}/{SF}"),
            ("Дата закрытия", f"{AMO}/{B24}"),
            ("Предполагаемая дата закрытия", B24),
        ),
        ("срок", "due"),
    ),
    Role(
        "payload",
        "date",
        "date",
        (
            ("Дата", f"{C1}/{RU}"),
            ("Дата документа", C1),
            ("Дата договора", C1),
            ("Дата создания", f"{AMO}/{B24}"),
            ("Create Date", HS),
            ("Created Date", SF),
            ("Created", EN),
            ("Date", EN),
        ),
    ),
    Role(
        "payload",
        "contract",
        "text",
        (
            ("Номер договора", C1),
            ("Договор", C1),
            ("№ договора", C1),
            ("Contract", EN),
            ("Contract number", EN),
            ("Invoice", EN),
            ("Invoice number", EN),
            ("Номер счета", C1),
        ),
    ),
    Role(
        "payload",
        "deal",
        "text",
        (
            ("Название сделки", f"{AMO}/{B24}"),
            ("Сделка", f"{AMO}/{B24}"),
            ("Deal Name", HS),
            ("Opportunity Name", SF),
        ),
    ),
    Role(
        "payload",
        "crm_id",
        "text",
        (
            ("ID", f"{AMO}/{B24}"),
            ("Record ID", HS),
            ("Contact ID", SF),
            ("Account ID", SF),
            ("Код", C1),
            ("Id", EN),
        ),
    ),
    Role("payload", "city", "text", (("Город", f"{B24}/{RU}"), ("City", f"{HS}/{SF}"))),
    Role(
        "payload",
        "owner",
        "text",
        (
            ("Ответственный", f"{AMO}/{B24}"),
            ("Менеджер", RU),
            ("Contact owner", HS),
            ("Owner", SF),
            ("Account Owner", SF),
        ),
    ),
    Role(
        "payload",
        "stage",
        "text",
        (
            ("Этап сделки", f"{AMO}/{B24}"),
            ("Этап", f"{AMO}/{B24}"),
            ("Статус", RU),
            ("Deal Stage", HS),
            ("Lifecycle Stage", HS),
            ("Stage", SF),
            ("Status", EN),
        ),
    ),
)

POLICY: tuple[Role, ...] = (
    Role(
        "policy",
        "gmtZone",
        "gmtZone",
        (
            ("Часовой пояс", f"{AMO}/{B24}"),
            ("Временная зона", RU),
            ("Таймзона", RU),
            ("Time Zone", f"{HS}/{SF}"),
            ("Timezone", EN),
            ("TZ", EN),
            ("GMT", EN),
            ("UTC offset", EN),
        ),
        ("часовой пояс", "time zone", "timezone"),
    ),
    Role(
        "policy",
        "allowedTime",
        "allowedTime",
        (("Окно звонка", RU), ("Время звонка", RU), ("Call window", EN), ("Call time", EN)),
    ),
    Role("policy", "allowedDays", "allowedDays", (("Дни звонков", RU), ("Call days", EN))),
    Role(
        "policy",
        "dialerPriority",
        "dialerPriority",
        (("Приоритет", RU), ("Priority", EN), ("Dialer priority", EN)),
    ),
    Role("policy", "maxAttempts", "maxAttempts", (("Попыток", RU), ("Max attempts", EN))),
)

# Columns known and deliberately left out of the payload: the bot does not need them and
# they are personal data that would travel to the campaign for nothing.
LEFT_OUT: dict[str, str] = {
    header_key(name): why
    for names, why in (
        (
            ("Email", "E-mail", "Эл. почта", "Электронная почта", "Рабочий e-mail", "Почта"),
            "an e-mail address: not needed for a call",
        ),
        (("Дата рождения", "Birthdate", "Date of birth"), "a birth date: personal data"),
        (("Адрес", "Address", "Street", "Юридический адрес"), "an address: personal data"),
        (("ИНН", "КПП", "ОГРН", "Паспорт", "СНИЛС"), "an identity/tax number: personal data"),
        (
            ("Комментарий", "Примечание", "Comment", "Notes", "Description", "Описание"),
            "free text: may hold anything",
        ),
        (
            ("Дата изменения", "Last Modified Date", "Last Activity Date", "Изменено"),
            "changes every export: identical rows would no longer be duplicates",
        ),
    )
    for name in names
}

ROLES: tuple[Role, ...] = (PHONE, *PAYLOAD, *POLICY)


def recognise(header: str) -> tuple[Role, bool] | None:
    """The role ``header`` names: ``(role, True)`` when it is a listed name, ``(role,
    False)`` when it only contains one of the role's words, None when neither."""
    for role in ROLES:
        if role.source(header) is not None:
            return role, True
    key = header_key(header)
    if key in LEFT_OUT:
        return None
    for role in ROLES:
        if any(word in key for word in role.words):
            return role, False
    return None
