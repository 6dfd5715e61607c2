"""The test code's one protobuf wire codec: enough to read and write messages
by field number, without protoc or generated classes. The mock ConductorOne
(tests/c1mock) speaks the service messages with it, the end-to-end tests read
c1z blobs with it (tests/e2e/harness.py). The strict checker in
tests/e2e/test_reader_compat.py stays apart on purpose (see its header).

Decoding gives {field number: [values]}: ints for varint/fixed fields, bytes for
length-delimited ones; the caller knows which sub-messages to decode further.
Encoding takes (number, value) pairs; a value's Python type picks the wire type.
"""

import struct

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5


class DecodeError(ValueError):
    pass


def read_varint(buf, i):
    shift = value = 0
    while True:
        if i >= len(buf):
            raise DecodeError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise DecodeError("varint longer than 10 bytes")


def decode(buf):
    """One message into {number: [values]}; unknown fields are kept, never fatal."""
    out, i = {}, 0
    buf = bytes(buf)
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise DecodeError("field number 0")
        if wt == VARINT:
            v, i = read_varint(buf, i)
        elif wt == LEN:
            n, i = read_varint(buf, i)
            if i + n > len(buf):
                raise DecodeError("length-delimited field %d runs past the end" % num)
            v, i = buf[i:i + n], i + n
        elif wt == FIXED64:
            v, i = struct.unpack_from("<Q", buf, i)[0], i + 8
        elif wt == FIXED32:
            v, i = struct.unpack_from("<I", buf, i)[0], i + 4
        else:
            raise DecodeError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out


# ---- reading helpers over a decoded dict


def first(fields, num, default=None):
    v = fields.get(num)
    return v[0] if v else default


def string(fields, num):
    v = first(fields, num)
    return v.decode("utf-8") if v is not None else ""


def boolean(fields, num):
    return bool(first(fields, num, 0))


def sub(fields, num):
    """The sub-message at num decoded, or None when absent."""
    v = first(fields, num)
    return decode(v) if v is not None else None


def subs(fields, num):
    return [decode(v) for v in fields.get(num, [])]


def strings(fields, num):
    return [v.decode("utf-8") for v in fields.get(num, [])]


def packed_varints(fields, num):
    """A repeated enum/int, accepting packed and unpacked encodings."""
    out = []
    for v in fields.get(num, []):
        if isinstance(v, int):
            out.append(v)
            continue
        i = 0
        while i < len(v):
            n, i = read_varint(v, i)
            out.append(n)
    return out


def double(fields, num, default=None):
    """A double field (wire type fixed64, decoded as an int) as a float."""
    v = first(fields, num)
    return struct.unpack("<d", struct.pack("<Q", v))[0] if v is not None else default


def to_signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


# ---- encoding


def varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, value):
    """One field. bool/int → varint; float → double; str/bytes → length-delimited; a list of
    pairs → an embedded message (always written, even when empty)."""
    if isinstance(value, bool) or isinstance(value, int):
        return varint(num << 3 | VARINT) + varint(int(value))
    if isinstance(value, float):
        return varint(num << 3 | FIXED64) + struct.pack("<d", value)
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif isinstance(value, list):
        value = encode(value)
    return varint(num << 3 | LEN) + varint(len(value)) + bytes(value)


def packed(num, values):
    body = b"".join(varint(v) for v in values)
    return varint(num << 3 | LEN) + varint(len(body)) + body


def encode(pairs):
    """Concatenate (number, value) pairs; None values and proto3 defaults
    (0, False, "", b"") are left out, sub-messages (lists) never are."""
    out = bytearray()
    for num, value in pairs:
        if value is None or (not isinstance(value, list) and value in (0, False, "", b"")):
            continue
        out += field(num, value)
    return bytes(out)
