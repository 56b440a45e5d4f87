"""AWS wire-protocol pieces shared by the emulator (verifier side) and the Python test client.

Written from the AWS documentation (SigV4, vnd.amazon.eventstream), Python 3 standard library
only. Independent of brock's C code on purpose: a bug in the C signer or decoder must not be
mirrored here.
"""

import binascii
import datetime
import hashlib
import hmac
import struct
import urllib.parse
import zlib

ALGO = "AWS4-HMAC-SHA256"
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


# ---------------------------------------------------------------------------- SigV4

def uri_encode(s, keep_slash=False):
    """RFC 3986 encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - _ . ~ becomes %XX."""
    if isinstance(s, str):
        s = s.encode("utf-8")
    out = []
    for b in s:
        if b in UNRESERVED or (keep_slash and b == 0x2F):
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def normalize_path(path):
    """RFC 3986 remove_dot_segments plus collapsing of repeated slashes (SigV4 'normalize')."""
    if not path.startswith("/"):
        path = "/" + path
    trailing = path.endswith("/") or path.endswith("/.") or path.endswith("/..")
    out = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    res = "/" + "/".join(out)
    if trailing and res != "/":
        res += "/"
    return res


def canonical_uri(raw_path, double_encode=True, normalize=True):
    """raw_path is the path exactly as it is on the wire (already percent-encoded once).

    Non-S3 services encode it once more: '%3A' becomes '%253A'."""
    p = normalize_path(raw_path) if normalize else (raw_path or "/")
    if double_encode:
        return uri_encode(p, keep_slash=True)
    return p


def split_query(raw_query):
    """Raw query -> list of (key, value) decoded strings (percent-decoding only, '+' stays '+')."""
    pairs = []
    if not raw_query:
        return pairs
    for part in raw_query.split("&"):
        if part == "":
            continue
        k, _, v = part.partition("=")
        pairs.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    return pairs


def canonical_query(raw_query):
    enc = [(uri_encode(k), uri_encode(v)) for k, v in split_query(raw_query)]
    enc.sort()
    return "&".join("%s=%s" % kv for kv in enc)


def trim_value(v):
    return " ".join(v.strip().split())


def canonical_headers(headers, signed):
    """headers: list of (name, value) as received (a name may repeat); signed: lower-case names.

    Returns the canonical header block, or None when a signed header is absent."""
    lines = []
    for name in signed:
        vals = [trim_value(v) for n, v in headers if n.lower() == name]
        if not vals:
            return None
        lines.append("%s:%s\n" % (name, ",".join(vals)))
    return "".join(lines)


def canonical_request(method, raw_path, raw_query, headers, signed, payload_hash,
                      double_encode=True, normalize=True):
    ch = canonical_headers(headers, signed)
    if ch is None:
        return None
    return "\n".join([method, canonical_uri(raw_path, double_encode, normalize),
                      canonical_query(raw_query), ch, ";".join(signed), payload_hash])


def sha256_hex(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def signing_key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def string_to_sign(amz_date, scope, creq):
    return "\n".join([ALGO, amz_date, scope, sha256_hex(creq)])


def signature(secret, amz_date, region, service, creq):
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    sts = string_to_sign(amz_date, scope, creq)
    return hmac.new(signing_key(secret, amz_date[:8], region, service), sts.encode(),
                    hashlib.sha256).hexdigest()


def amz_date(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def parse_amz_date(s):
    try:
        d = datetime.datetime.strptime(s, "%Y%m%dT%H%M%SZ")
    except (TypeError, ValueError):
        return None
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def parse_authorization(value):
    """'AWS4-HMAC-SHA256 Credential=AK/d/r/s/aws4_request, SignedHeaders=a;b, Signature=hex'
    -> dict(akid, date, region, service, signed(list), signature), or None when malformed."""
    if not value or not value.startswith(ALGO + " "):
        return None
    fields = {}
    for item in value[len(ALGO) + 1:].split(","):
        k, sep, v = item.strip().partition("=")
        if not sep:
            return None
        fields[k] = v
    try:
        cred = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        sig = fields["Signature"]
    except KeyError:
        return None
    if len(cred) != 5 or cred[4] != "aws4_request" or not sig or not all(signed):
        return None
    return {"akid": cred[0], "date": cred[1], "region": cred[2], "service": cred[3],
            "signed": signed, "signature": sig}


def sign_request(method, url_path, raw_query, headers, body, akid, secret, region, service,
                 session_token=None, now=None, sign_content_sha=False):
    """Test-client signer. url_path must already be percent-encoded as it will go on the wire.

    headers: dict (modified copy returned) — must contain 'host'. Returns the new header dict."""
    import time as _time
    h = {k.lower(): v for k, v in headers.items()}
    t = amz_date(_time.time() if now is None else now)
    h["x-amz-date"] = t
    if session_token:
        h["x-amz-security-token"] = session_token
    payload_hash = sha256_hex(body or b"")
    if sign_content_sha:
        h["x-amz-content-sha256"] = payload_hash
    signed = sorted(h)
    creq = canonical_request(method, url_path, raw_query, list(h.items()), signed, payload_hash)
    sig = signature(secret, t, region, service, creq)
    h["authorization"] = "%s Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s" % (
        ALGO, akid, t[:8], region, service, ";".join(signed), sig)
    return h


# ---------------------------------------------------------------------------- Bedrock API keys

API_KEY_PREFIX = "bedrock-api-key-"
API_KEY_HOST = "bedrock.amazonaws.com"


def parse_bedrock_api_key(key):
    """A short-term Bedrock API key ("bedrock-api-key-" + base64 of a presigned URL without
    "https://", "&Version=1" appended) -> dict(params (decoded), raw_query (without Version),
    akid, date, region, service, expires, signed_at), or None when it is not one."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    try:
        url = binascii.a2b_base64(key[len(API_KEY_PREFIX):].encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    head = API_KEY_HOST + "/?"
    if not url.startswith(head) or not url.endswith("&Version=1"):
        return None
    raw_query = url[len(head):-len("&Version=1")]
    pairs = split_query(raw_query)
    params = dict(pairs)
    if len(params) != len(pairs):
        return None
    need = ("Action", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
            "X-Amz-SignedHeaders", "X-Amz-Signature")
    if any(k not in params for k in need) or params["Action"] != "CallWithBearerToken":
        return None
    cred = params["X-Amz-Credential"].split("/")
    t = parse_amz_date(params["X-Amz-Date"])
    if len(cred) != 5 or cred[4] != "aws4_request" or t is None or not params["X-Amz-Expires"].isdigit():
        return None
    return {"params": params, "raw_query": raw_query, "akid": cred[0], "date": cred[1],
            "region": cred[2], "service": cred[3], "expires": int(params["X-Amz-Expires"]),
            "signed_at": t}


def bedrock_api_key_signature(parsed, secret):
    """The signature AWS computes for a parsed key: the presigned POST / with host signed."""
    q = "&".join(p for p in parsed["raw_query"].split("&") if not p.startswith("X-Amz-Signature="))
    signed = parsed["params"]["X-Amz-SignedHeaders"].split(";")
    creq = canonical_request("POST", "/", q, [("host", API_KEY_HOST)], signed, sha256_hex(b""))
    if creq is None:
        return None
    return signature(secret, parsed["params"]["X-Amz-Date"], parsed["region"], parsed["service"], creq)


# ---------------------------------------------------------------------------- event stream

HT_TRUE, HT_FALSE, HT_BYTE, HT_INT16, HT_INT32, HT_INT64, HT_BYTES, HT_STRING, HT_TIMESTAMP, HT_UUID = range(10)


class EventStreamError(Exception):
    pass


def crc32(data, start=0):
    return zlib.crc32(data, start) & 0xFFFFFFFF


def encode_header(name, htype, value):
    n = name.encode("utf-8")
    out = struct.pack(">B", len(n)) + n + struct.pack(">B", htype)
    if htype in (HT_TRUE, HT_FALSE):
        return out
    if htype == HT_BYTE:
        return out + struct.pack(">b", value)
    if htype == HT_INT16:
        return out + struct.pack(">h", value)
    if htype == HT_INT32:
        return out + struct.pack(">i", value)
    if htype in (HT_INT64, HT_TIMESTAMP):
        return out + struct.pack(">q", value)
    if htype == HT_UUID:
        if len(value) != 16:
            raise ValueError("uuid header needs 16 bytes")
        return out + value
    if isinstance(value, str):
        value = value.encode("utf-8")
    return out + struct.pack(">H", len(value)) + value


def encode_message(headers, payload):
    """headers: list of (name, type, value) or (name, str) for strings; payload bytes."""
    hb = b"".join(encode_header(*h) if len(h) == 3 else encode_header(h[0], HT_STRING, h[1])
                  for h in headers)
    total = 12 + len(hb) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hb))
    prelude += struct.pack(">I", crc32(prelude))
    body = prelude + hb + payload
    return body + struct.pack(">I", crc32(body))


def decode_headers(hb):
    out = []
    i = 0
    while i < len(hb):
        nl = hb[i]
        i += 1
        if nl == 0 or i + nl + 1 > len(hb):
            raise EventStreamError("bad header name")
        name = hb[i:i + nl].decode("utf-8")
        i += nl
        t = hb[i]
        i += 1
        fixed = {HT_BYTE: (">b", 1), HT_INT16: (">h", 2), HT_INT32: (">i", 4),
                 HT_INT64: (">q", 8), HT_TIMESTAMP: (">q", 8)}
        if t in (HT_TRUE, HT_FALSE):
            v = t == HT_TRUE
        elif t in fixed:
            fmt, n = fixed[t]
            if i + n > len(hb):
                raise EventStreamError("short header value")
            v = struct.unpack(fmt, hb[i:i + n])[0]
            i += n
        elif t == HT_UUID:
            if i + 16 > len(hb):
                raise EventStreamError("short uuid")
            v = bytes(hb[i:i + 16])
            i += 16
        elif t in (HT_BYTES, HT_STRING):
            if i + 2 > len(hb):
                raise EventStreamError("short header length")
            n = struct.unpack(">H", hb[i:i + 2])[0]
            i += 2
            if i + n > len(hb):
                raise EventStreamError("short header value")
            v = bytes(hb[i:i + n])
            if t == HT_STRING:
                v = v.decode("utf-8")
            i += n
        else:
            raise EventStreamError("bad header type %d" % t)
        out.append((name, t, v))
    return out


class Decoder:
    """Incremental decoder: feed() bytes in any split, get complete messages back."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        msgs = []
        while len(self.buf) >= 12:
            total, hlen, pcrc = struct.unpack(">III", self.buf[:12])
            if crc32(bytes(self.buf[:8])) != pcrc:
                raise EventStreamError("Prelude checksum mismatch")
            if total < 16 or total > 24 * 1024 * 1024 or hlen > total - 16:
                raise EventStreamError("bad lengths")
            if len(self.buf) < total:
                break
            msg = bytes(self.buf[:total])
            del self.buf[:total]
            if crc32(msg[:-4]) != struct.unpack(">I", msg[-4:])[0]:
                raise EventStreamError("Message checksum mismatch")
            headers = decode_headers(msg[12:12 + hlen])
            msgs.append({"headers": {n: v for n, _, v in headers}, "header_list": headers,
                         "payload": msg[12 + hlen:-4]})
        return msgs

    def pending(self):
        return len(self.buf)


def crc_hex(data):
    return "%08x" % (binascii.crc32(data) & 0xFFFFFFFF)
