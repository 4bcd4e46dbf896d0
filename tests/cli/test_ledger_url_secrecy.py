"""A ledger URL's password never reaches a message: bad URLs, unknown drivers, refused servers.

Each case runs the CLI as an operator would (``ledger runs --ledger URL``) and checks the one
thing that matters: the error says what is wrong, names the URL with ``***`` for the
password, and the password itself is nowhere in the output. Nothing listens on 127.0.0.1:1.
"""

from __future__ import annotations

import secrets

import pytest
from click.testing import CliRunner, Result

from pipeline.cli.main import cli
from pipeline.errors import LedgerError
from pipeline.ledger.store.engine import _scrub, describe_url, open_engine


def _password() -> str:
    return "Pw-" + secrets.token_hex(8)


def _runs(url: str) -> Result:
    return CliRunner().invoke(cli, ["ledger", "runs", "--ledger", url])


def _assert_refused_without(
    password: str, result: Result, *expected: str, exit_code: int = 1
) -> None:
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # no traceback
    assert password not in result.output
    assert password[3:] not in result.output  # not even the random part
    for text in expected:
        assert text in result.output, result.output


def test_an_unparseable_url_is_shown_with_the_credentials_masked() -> None:
    password = _password()
    result = _runs(f"not a url app:{password}@db.example")
    _assert_refused_without(password, result, "not a valid SQLAlchemy URL", "***@db.example")


def test_a_bad_port_is_an_error_message_not_a_crash() -> None:
    password = _password()
    result = _runs(f"postgresql+psycopg://app:{password}@127.0.0.1:notaport/ledger")
    _assert_refused_without(
        password, result, "not a valid SQLAlchemy URL", "postgresql+psycopg://***@127.0.0.1"
    )


def test_an_unknown_driver_is_an_error_message_not_a_crash() -> None:
    password = _password()
    result = _runs(f"postgresql+nodriver://app:{password}@127.0.0.1:1/ledger")
    _assert_refused_without(password, result, "cannot use the ledger URL", "app:***@127.0.0.1:1")


def test_a_refused_connection_names_the_url_without_its_password() -> None:
    password = _password()
    result = _runs(f"postgresql+psycopg://app:{password}@127.0.0.1:1/ledger")
    _assert_refused_without(
        password,
        result,
        "cannot open the ledger at postgresql+psycopg://app:***@127.0.0.1:1/",
        exit_code=3,  # a server that cannot be reached now: run again later
    )


def test_an_unescaped_at_sign_in_the_password_hides_all_of_it() -> None:
    # SQLAlchemy reads "app:Pw@rest@127.0.0.1" as password "Pw" and host "rest@127.0.0.1":
    # rendering that URL "with the password hidden" would still show the rest of it. (An
    # unknown driver fails before any host name would be looked up.)
    tail = secrets.token_hex(8)
    result = _runs(f"postgresql+nodriver://app:Pw@{tail}@127.0.0.1:1/ledger")
    assert result.exit_code == 1, result.output
    assert tail not in result.output
    assert "postgresql+nodriver://***@127.0.0.1:1/ledger" in result.output


def test_a_driver_quoting_the_misread_host_gets_it_masked() -> None:
    tail = secrets.token_hex(8)
    url = f"postgresql+psycopg://app:Pw@{tail}@127.0.0.1/ledger"
    message = f"failed to resolve host '{tail}@127.0.0.1': Name or service not known"
    assert tail not in _scrub(message, url)
    assert "127.0.0.1" in _scrub(message, url)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://app:secret-pw@db/ledger", "postgresql+psycopg://app:***@db/ledger"),
        ("postgresql://app:p%40ssword@db/l", "postgresql://app:***@db/l"),
        ("postgresql://app:p@ssword@db/l", "postgresql://***@db/l"),
        ("postgresql://app:password@db:x/l", "postgresql://***@db:x/l"),
        ("app:password@db", "***@db"),
        ("sqlite:///ledger.sqlite3", "sqlite:///ledger.sqlite3"),
        (
            "postgresql+psycopg://postgres@127.0.0.1/test",
            "postgresql+psycopg://postgres@127.0.0.1/test",
        ),
    ],
)
def test_describe_url(url: str, shown: str) -> None:
    assert describe_url(url) == shown


def test_library_errors_carry_no_password_either() -> None:
    password = _password()
    for url in (
        f"postgresql+psycopg://app:{password}@127.0.0.1:1/ledger",
        f"postgresql+psycopg://app:{password}@127.0.0.1:port/ledger",
        f"mysql+nodriver://app:{password}@127.0.0.1/ledger",
    ):
        with pytest.raises(LedgerError) as info:
            open_engine(url)
        assert password not in str(info.value)
