"""soapgw.request_framing: when the bytes of a connection hold a whole request (then a thread
of ``soapgw serve`` gets it), and that anything unframeable is handed on at once."""
from __future__ import annotations

import pytest

from soapgw.request_framing import RequestBuffer

BODY = b"<s:Envelope>heartbeat</s:Envelope>"
HEAD = (b"POST /services/CentralSystemService HTTP/1.1\r\nHost: gw\r\n"
        b"Content-Type: application/soap+xml\r\n")


def fed_byte_by_byte(data: bytes) -> list[bool]:
    """``ready`` after each byte."""
    buffer = RequestBuffer(64 * 1024, 1024 * 1024)
    return [buffer.feed(data[i:i + 1]) for i in range(len(data))]


def test_a_request_with_a_length_is_ready_at_its_last_byte():
    request = HEAD + f"Content-Length: {len(BODY)}\r\n\r\n".encode() + BODY
    assert fed_byte_by_byte(request) == [False] * (len(request) - 1) + [True]


def test_a_chunked_request_is_ready_after_its_last_chunk_and_trailers():
    body = b"10;ext=1\r\n" + BODY[:16] + b"\r\n" + f"{len(BODY) - 16:x}\r\n".encode() \
        + BODY[16:] + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
    request = HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body
    assert fed_byte_by_byte(request) == [False] * (len(request) - 1) + [True]


def test_a_request_without_a_body_is_ready_with_its_head():
    request = b"GET /login HTTP/1.1\r\nHost: gw\r\n\r\n"
    buffer = RequestBuffer(1024, 1024, request)
    assert buffer.ready and buffer.head.path == "/login" and buffer.head.method == "GET"
    assert RequestBuffer(1024, 1024, b"GET http://gw:8080/services/X?wsdl HTTP/1.1\r\n\r\n"
                         ).head.path == "/services/X"


@pytest.mark.parametrize("framing", [
    b"Content-Length: abc\r\n", b"Content-Length: -5\r\n",
    b"Content-Length: 10\r\nContent-Length: 3\r\n", b"Transfer-Encoding: bogus\r\n",
    b"Transfer-Encoding: chunked\r\nContent-Length: 10\r\n", b"No colon here\r\n"])
def test_unframeable_heads_are_ready_at_once_for_the_parser_to_refuse(framing):
    assert RequestBuffer(1024, 1024, HEAD + framing + b"\r\n").ready


@pytest.mark.parametrize("body", [b"ZZ\r\n" + BODY, b"4\r\nabcdXX0\r\n\r\n"])
def test_broken_chunks_are_ready_as_soon_as_seen(body):
    assert RequestBuffer(1024, 1024, HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body).ready


def test_limits_hand_on_what_is_too_large_to_hold():
    assert not RequestBuffer(100, 1024, b"GET /" + b"a" * 90).ready
    assert RequestBuffer(100, 1024, b"GET /" + b"a" * 100).ready  # head past the limit
    big = HEAD + b"Content-Length: 5000\r\n\r\n"
    assert RequestBuffer(1024, 1024, big).ready  # a body past the limit is read by a thread


def test_an_answered_expect_continue_is_not_passed_on():
    request = HEAD + f"Expect: 100-continue\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
    buffer = RequestBuffer(1024, 1024, request)
    assert buffer.head.expects_continue and not buffer.ready
    buffer.feed(BODY)
    assert buffer.without_expect_continue() == (
        HEAD + f"Content-Length: {len(BODY)}\r\n\r\n".encode() + BODY)
