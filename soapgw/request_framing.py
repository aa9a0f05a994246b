"""Whether the bytes received on a connection hold a whole HTTP/1.x request yet: what lets
``soapgw serve`` read requests in its event loop and give a thread only complete ones (a
client sending one byte a second then costs a socket, not a thread). Framing is only looked
at, never judged: anything odd (a bad length, an unknown coding, a head or body past the
limits) is "ready" at once, and gunicorn's parser refuses it as it always did."""
from __future__ import annotations

from dataclasses import dataclass

HEAD_END = b"\r\n\r\n"


@dataclass
class Head:
    method: str
    path: str
    end: int  # offset of the body
    length: int | None  # Content-Length; None: chunked
    expects_continue: bool


class RequestBuffer:
    """The bytes of one request as they come; ``ready`` once it is whole (or unframeable)."""

    def __init__(self, head_limit: int, body_limit: int, data: bytes = b""):
        self.head_limit, self.body_limit = head_limit, body_limit
        self.data = bytearray(data)
        self.head: Head | None = None
        self.ready = False
        self._scan_from = 0  # where the head search or the chunk walk goes on
        self._check()

    def feed(self, data: bytes) -> bool:
        self.data += data
        self._check()
        return self.ready

    def _check(self) -> None:
        if self.ready:
            return
        if self.head is None:
            end = self.data.find(HEAD_END, max(0, self._scan_from - 3))
            if end < 0:
                self._scan_from = len(self.data)
                self.ready = len(self.data) > self.head_limit
                return
            self.head = parse_head(bytes(self.data[:end]), end + len(HEAD_END))
            if self.head is None:
                self.ready = True
                return
            self._scan_from = self.head.end
        head = self.head
        if head.length is not None:
            self.ready = (head.length > self.body_limit
                          or len(self.data) - head.end >= head.length)
        else:
            self.ready = self._walk_chunks()

    def _walk_chunks(self) -> bool:
        """Chunks are stepped over as they arrive; True at the end of the trailers, or at
        anything that is not chunked framing (the parser refuses it)."""
        data, at = self.data, self._scan_from
        while True:
            if at - self.head.end > self.body_limit:
                return True
            line_end = data.find(b"\r\n", at)
            if line_end < 0:
                return len(data) - at > 1024
            size_text = bytes(data[at:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                return True
            if size < 0:
                return True
            if size == 0:  # the last chunk, then trailers up to an empty line
                trailers = data.find(b"\r\n", line_end + 2)
                while trailers >= 0 and trailers != line_end + 2:
                    line_end = trailers
                    trailers = data.find(b"\r\n", line_end + 2)
                self._scan_from = at
                return trailers >= 0
            chunk_end = line_end + 2 + size
            if len(data) < chunk_end + 2:
                self._scan_from = at
                return False
            if data[chunk_end:chunk_end + 2] != b"\r\n":
                return True
            at = chunk_end + 2

    def without_expect_continue(self) -> bytes:
        """The bytes, less an ``Expect: 100-continue`` already answered from the event loop
        (gunicorn would send its own "100 Continue" once more)."""
        if self.head is None or not self.head.expects_continue:
            return bytes(self.data)
        lines = bytes(self.data[:self.head.end]).split(b"\r\n")
        kept = [line for line in lines if not _is_expect_continue(line)]
        return b"\r\n".join(kept) + bytes(self.data[self.head.end:])


def _is_expect_continue(line: bytes) -> bool:
    name, _, value = line.partition(b":")
    return name.strip().lower() == b"expect" and value.strip().lower() == b"100-continue"


def parse_head(head: bytes, end: int) -> Head | None:
    """The request line and framing headers; None when they are not plain (left to the
    parser to refuse or to frame)."""
    lines = head.decode("latin-1").split("\r\n")
    while lines and not lines[0]:  # empty lines before a request are tolerated
        lines.pop(0)
    parts = lines[0].split(" ") if lines else []
    if len(parts) != 3:
        return None
    lengths, codings, expects = [], [], False
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            return None
        name, value = name.strip().lower(), value.strip()
        if name == "content-length":
            lengths.append(value)
        elif name == "transfer-encoding":
            codings.append(value.lower())
        elif name == "expect":
            expects = value.lower() == "100-continue"
    if codings:
        if codings != ["chunked"] or lengths:
            return None
        length = None
    elif not lengths:
        length = 0
    elif len(lengths) == 1 and lengths[0].isdigit():
        length = int(lengths[0])
    else:
        return None
    target = parts[1].split("?", 1)[0]
    if "://" in target:  # absolute form (through a proxy): its path
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    return Head(parts[0], target, end, length, expects and length != 0)
