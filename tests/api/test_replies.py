"""Reply bodies: the "string" endpoints take JSON strings or bare text; bad bodies are typed."""

from __future__ import annotations

import pytest

from pipeline.api.transport import Reply
from pipeline.api.wire_format import id_list, pagination, parse_reply, selector, text_value
from pipeline.errors import UnexpectedResponseError

URL = "http://h/api/calls/campaign/***/status"


def reply(content: bytes) -> Reply:
    return Reply(200, content, {}, URL)


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (b'"paused"', "paused"),
        (b"paused\n", "paused"),
        (b'"5665334669"', "5665334669"),
        (b"5665334669", "5665334669"),  # a bare number is valid JSON: read as the id
    ],
)
def test_string_replies(content: bytes, text: str) -> None:
    assert text_value(reply(content)) == text


def test_string_reply_that_is_an_object_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponseError, match="expected a string reply"):
        text_value(reply(b'{"status": "paused"}'))


@pytest.mark.parametrize("content", [b"<html>oops</html>", b'{"ids": []}', b"[1, null]"])
def test_malformed_id_lists_are_unexpected_responses(content: bytes) -> None:
    with pytest.raises(UnexpectedResponseError) as info:
        parse_reply(reply(content), "addPhones", id_list)
    assert info.value.url == URL and info.value.status == 200


def test_ids_normalised() -> None:
    assert parse_reply(reply(b'[1234, "6543"]'), "addPhones", id_list) == ["1234", "6543"]


def test_selector_sends_strings() -> None:
    assert selector([79001234567], None) == b'{"phones":["79001234567"]}'
    assert selector(None, [12345, "67890"]) == b'{"ids":["12345","67890"]}'


def test_pagination_bounds() -> None:
    assert pagination(199, 200) == {"page": 199, "pageSize": 200}
    with pytest.raises(ValueError, match="page_size"):
        pagination(0, 201)
