"""gRPC over HTTP/2 as the service-mode document (section 2) describes it:
length-prefixed message framing, status codes, grpc-message escaping."""

import struct

OK, CANCELED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND = 0, 1, 2, 3, 4, 5
PERMISSION_DENIED, FAILED_PRECONDITION, UNIMPLEMENTED, INTERNAL = 7, 9, 12, 13
UNAVAILABLE, DATA_LOSS, UNAUTHENTICATED = 14, 15, 16

CODE_NAMES = {
    "OK": OK, "CANCELED": CANCELED, "UNKNOWN": UNKNOWN, "INVALID_ARGUMENT": INVALID_ARGUMENT,
    "DEADLINE_EXCEEDED": DEADLINE_EXCEEDED, "NOT_FOUND": NOT_FOUND,
    "PERMISSION_DENIED": PERMISSION_DENIED, "FAILED_PRECONDITION": FAILED_PRECONDITION,
    "UNIMPLEMENTED": UNIMPLEMENTED, "INTERNAL": INTERNAL, "UNAVAILABLE": UNAVAILABLE,
    "DATA_LOSS": DATA_LOSS, "UNAUTHENTICATED": UNAUTHENTICATED,
}

# The largest message the mock accepts: the proto caps an upload chunk at 1 MiB,
# and a frame carries a little protobuf overhead around it.
MAX_MESSAGE = (1 << 20) + 1024


def code_of(value):
    """A status given as a number or a name ("UNAVAILABLE") → its number."""
    if isinstance(value, int):
        return value
    return CODE_NAMES[str(value).upper()]


def frame(message, compressed=False):
    return struct.pack(">BI", 1 if compressed else 0, len(message)) + message


class FrameError(ValueError):
    pass


class Deframer:
    """Reassembles messages from DATA chunks split anywhere."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        """Add bytes; return the list of complete messages now available."""
        self.buf += data
        out = []
        while len(self.buf) >= 5:
            flag, n = struct.unpack_from(">BI", self.buf, 0)
            if flag != 0:
                raise FrameError("compressed flag %d set" % flag)
            if n > MAX_MESSAGE:
                raise FrameError("message of %d bytes" % n)
            if len(self.buf) < 5 + n:
                break
            out.append(bytes(self.buf[5:5 + n]))
            del self.buf[:5 + n]
        return out

    def leftover(self):
        return len(self.buf)


def escape_message(text):
    """grpc-message: percent-encode bytes outside 0x20-0x7E and '%'."""
    out = []
    for b in text.encode("utf-8"):
        out.append(chr(b) if 0x20 <= b <= 0x7E and b != 0x25 else "%%%02X" % b)
    return "".join(out)
