"""Tests of the emulator itself (routing, SigV4 verification, event-stream framing, every knob),
talking to it directly with Python's http.client and the test client signer in awsproto.
These do not run brock."""

import base64
import datetime
import email.utils
import json
import os
import socket
import ssl
import time
import urllib.parse
import xml.etree.ElementTree as ET

import harness

ap = harness.awsproto
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VECTORS = os.path.join(ROOT, "tests", "vectors")
MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


# ------------------------------------------------------------------------------------ helpers

def model_path(model=MODEL, op="converse-stream"):
    return "/model/%s/%s" % (ap.uri_encode(model), op)


def chat_body(text="hello there", **extra):
    b = {"messages": [{"role": "user", "content": [{"text": text}]}]}
    b.update(extra)
    return json.dumps(b).encode()


def raw_exchange(h, method, path, body=b"", sign=True, creds=None, tls=True, timeout=15, now=None):
    """Send one request on a raw socket (Connection: close); read until EOF. Returns a dict with
    status, headers (lower-case), chunks (list of bytes), complete (terminal chunk seen), body."""
    port = h.emu.https_port if tls else h.emu.http_port
    hdrs = {"host": "127.0.0.1:%d" % port, "content-type": "application/json", "connection": "close"}
    if sign:
        akid, secret, token = creds or (h.emu.akid, h.emu.secret, None)
        p, _, q = path.partition("?")
        hdrs = ap.sign_request(method, p, q, hdrs, body, akid, secret, "us-east-1", "bedrock",
                               session_token=token, now=now)
    req = "%s %s HTTP/1.1\r\n" % (method, path)
    req += "".join("%s: %s\r\n" % kv for kv in hdrs.items())
    req += "content-length: %d\r\n\r\n" % len(body)
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls:
        s = h.emu.ssl_ctx.wrap_socket(s, server_hostname="127.0.0.1")
    reads = []
    try:
        s.sendall(req.encode() + body)
        while True:
            try:
                d = s.recv(65536)
            except (ssl.SSLError, ConnectionResetError):
                break
            if not d:
                break
            reads.append(d)
    finally:
        s.close()
    raw = b"".join(reads)
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    chunks, complete = [], False
    if "chunked" in headers.get("transfer-encoding", ""):
        i = 0
        while True:
            j = rest.find(b"\r\n", i)
            if j < 0:
                break
            size = int(rest[i:j], 16)
            if size == 0:
                complete = rest[j:j + 4] == b"\r\n\r\n"
                break
            data = rest[j + 2:j + 2 + size]
            if len(data) < size or rest[j + 2 + size:j + 4 + size] != b"\r\n":
                chunks.append(data)
                break
            chunks.append(data)
            i = j + 4 + size
        body_out = b"".join(chunks)
    else:
        body_out = rest
        complete = True
    return {"status": status, "headers": headers, "chunks": chunks, "complete": complete, "body": body_out,
            "reads": len(reads)}


def decode_all(data):
    """-> (messages, error string or None, leftover byte count)."""
    d = ap.Decoder()
    msgs = []
    try:
        for i in range(0, len(data), 7):  # odd-sized pieces: exercise the incremental decoder
            msgs += d.feed(data[i:i + 7])
    except ap.EventStreamError as e:
        return msgs, str(e), d.pending()
    return msgs, None, d.pending()


def events(msgs):
    out = []
    for m in msgs:
        hd = m["headers"]
        if hd.get(":message-type") == "event":
            out.append((hd[":event-type"], json.loads(m["payload"])))
        elif hd.get(":message-type") == "exception":
            out.append(("!" + hd[":exception-type"], json.loads(m["payload"])))
        else:
            out.append(("!error", {"code": hd.get(":error-code"), "message": hd.get(":error-message")}))
    return out


def stream(h, text="hello there", model=MODEL, **kw):
    r = raw_exchange(h, "POST", model_path(model), chat_body(text), **kw)
    msgs, err, left = decode_all(r["body"])
    r["msgs"], r["err"], r["left"], r["events"] = msgs, err, left, events(msgs)
    r["text"] = "".join(p["delta"].get("text", "") for t, p in r["events"] if t == "contentBlockDelta")
    return r


def signed(h, method, path, body=b"", **kw):
    return h.emu.request(method, path, body, {"content-type": "application/json"}, sign=True, **kw)


def aws_error(r):
    return r.headers.get("x-amzn-errortype", "").split(":")[0]


# ------------------------------------------------------------------------------------ protocol pieces

def _parse_vector_request(raw):
    head, _, body = raw.partition(b"\n\n")
    lines = head.decode("utf-8").split("\n")
    first = lines[0]
    method = first.split(" ", 1)[0]
    target = first[len(method) + 1:first.rindex(" HTTP/")]
    hdrs = []
    for ln in lines[1:]:
        if not ln:
            continue
        if ln[:1] in (" ", "\t") and hdrs:
            hdrs[-1] = (hdrs[-1][0], hdrs[-1][1] + " " + ln.strip())
            continue
        n, _, v = ln.partition(":")
        hdrs.append((n, v))
    path, _, q = target.partition("?")
    return method, path, q, hdrs, body


def test_sigv4_signer_matches_conformance_vectors(h):
    root = os.path.join(VECTORS, "sigv4", "v4")
    cases = sorted(os.listdir(root))
    assert len(cases) >= 38, "expected the 38 aws-c-auth v4 cases, found %d" % len(cases)
    for c in cases:
        with open(os.path.join(root, c, "context.json")) as f:
            ctx = json.load(f)
        with open(os.path.join(root, c, "request.txt"), "rb") as f:
            m, p, q, hdrs, body = _parse_vector_request(f.read())
        t = ctx["timestamp"].replace("-", "").replace(":", "")
        hdrs = hdrs + [("X-Amz-Date", t)]
        cr = ctx["credentials"]
        if cr.get("token") and not ctx.get("omit_session_token"):
            hdrs.append(("X-Amz-Security-Token", cr["token"]))
        ph = ap.sha256_hex(body)
        if ctx["sign_body"]:
            hdrs.append(("X-Amz-Content-Sha256", ph))
        signed_names = sorted({n.lower() for n, _ in hdrs})
        creq = ap.canonical_request(m, p, q, hdrs, signed_names, ph, True, ctx["normalize"])
        with open(os.path.join(root, c, "header-canonical-request.txt")) as f:
            assert creq == f.read(), "%s: canonical request differs:\n%s" % (c, creq)
        sig = ap.signature(cr["secret_access_key"], t, ctx["region"], ctx["service"], creq)
        with open(os.path.join(root, c, "header-signature.txt")) as f:
            assert sig == f.read().strip(), "%s: signature differs" % c


def test_eventstream_codec_matches_vectors(h):
    root = os.path.join(VECTORS, "eventstream")
    pos = sorted(os.listdir(os.path.join(root, "encoded", "positive")))
    assert len(pos) == 5, pos
    for name in pos:
        with open(os.path.join(root, "encoded", "positive", name), "rb") as f:
            raw = f.read()
        with open(os.path.join(root, "decoded", "positive", name)) as f:
            want = json.load(f)
        for split in range(1, len(raw) + 1):  # every split point
            d = ap.Decoder()
            msgs = d.feed(raw[:split]) + d.feed(raw[split:])
            assert len(msgs) == 1 and d.pending() == 0, (name, split)
        m = msgs[0]
        assert base64.b64encode(m["payload"]).decode() == want["payload"], name
        got = []
        for (n, t, v) in m["header_list"]:
            if t in (ap.HT_BYTES, ap.HT_UUID):
                v = base64.b64encode(v).decode()
            elif t == ap.HT_STRING:
                v = base64.b64encode(v.encode()).decode()
            got.append({"name": n, "type": t, "value": v})
        assert got == want["headers"], (name, got)
        again = ap.encode_message(m["header_list"], m["payload"])
        assert again == raw, "%s: re-encoding differs" % name
    for name in sorted(os.listdir(os.path.join(root, "encoded", "negative"))):
        with open(os.path.join(root, "encoded", "negative", name), "rb") as f:
            raw = f.read()
        with open(os.path.join(root, "decoded", "negative", name)) as f:
            want = f.read().strip()
        try:
            ap.Decoder().feed(raw)
            raise AssertionError("%s decoded without error" % name)
        except ap.EventStreamError as e:
            assert str(e) == want, (name, str(e), want)


# ------------------------------------------------------------------------------------ runtime

def test_stream_echo_and_framing(h):
    r = stream(h, "hello there")
    assert r["status"] == 200, r
    assert r["headers"]["content-type"] == "application/vnd.amazon.eventstream"
    assert r["headers"].get("x-amzn-requestid")
    assert r["complete"] and r["err"] is None and r["left"] == 0, r
    types = [t for t, _ in r["events"]]
    assert types[0] == "messageStart" and types[-2:] == ["messageStop", "metadata"], types
    assert types.count("contentBlockDelta") == 4, types
    assert r["text"] == "You said: hello there", r["text"]
    for m in r["msgs"]:
        assert m["headers"][":content-type"] == "application/json"
        assert "p" in json.loads(m["payload"]), "every event carries padding"
    meta = r["events"][-1][1]
    assert meta["usage"]["inputTokens"] > 0 and meta["usage"]["outputTokens"] > 0, meta


def test_stream_over_plain_http_and_ipv6(h):
    r = stream(h, "plain", tls=False)
    assert r["status"] == 200 and r["text"] == "You said: plain", r
    if not h.emu.https6:
        h.skip("no ::1 on this machine")
    port = int(h.emu.https6.rsplit(":", 1)[1])
    ctx = ssl.create_default_context(cafile=h.ca)
    r = h.emu.request("GET", "/_emu/health", tls=True, host="::1", port=port, ctx=ctx)
    assert r.status == 200, r


def test_converse_json(h):
    h.emu.config(reply_text="Plain answer", reasoning={"text": "think", "signature": "c2ln"},
                 tool_use=[{"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}])
    r = signed(h, "POST", model_path(op="converse"), chat_body())
    assert r.status == 200, r
    j = r.json()
    c = j["output"]["message"]["content"]
    assert c[0] == {"reasoningContent": {"reasoningText": {"text": "think", "signature": "c2ln"}}}, c
    assert c[1] == {"text": "Plain answer"}, c
    assert c[2]["toolUse"] == {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}, c
    assert j["stopReason"] == "tool_use" and j["usage"]["totalTokens"] > 0, j


def test_model_id_is_one_decoded_segment(h):
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    r = stream(h, "x", model=arn)
    assert r["status"] == 200, r
    e = h.emu.log(route="converse-stream")[-1]
    assert e["model_id"] == arn, e["model_id"]
    assert "%3A" in e["path"] and "%2F" in e["path"], e["path"]
    assert "%253A" in e["auth"]["canonical_request"], "canonical path must be double-encoded"
    # an unencoded '/' splits the segment: not a route
    r = signed(h, "POST", "/model/a/b/converse-stream", chat_body())
    assert r.status == 404 and aws_error(r) == "UnknownOperationException", r


def test_profile_only_model_rejected_on_demand(h):
    r = signed(h, "POST", model_path("anthropic.claude-opus-4-6-v1:0"), chat_body())
    assert r.status == 400 and aws_error(r) == "ValidationException", r
    assert "on-demand throughput isn't supported" in r.json()["message"], r
    assert stream(h, model="us.anthropic.claude-opus-4-6-v1:0")["status"] == 200


def test_validation_of_request_body(h):
    r = signed(h, "POST", model_path(), b"{not json")
    assert r.status == 400 and aws_error(r) == "ValidationException", r
    r = signed(h, "POST", model_path(), b'{"messages": []}')
    assert r.status == 400 and "messages" in r.json()["message"], r


# ------------------------------------------------------------------------------------ SigV4 verification

def test_unsigned_and_unknown_key_rejected(h):
    r = h.emu.request("POST", model_path(), chat_body(), {"content-type": "application/json"})
    assert r.status == 403 and aws_error(r) == "MissingAuthenticationTokenException", r
    assert r.headers.get("x-amzn-requestid"), r.headers
    r = h.emu.request("POST", model_path(), chat_body(), {"content-type": "application/json"},
                      sign=("AKIANOTKNOWN00000000", "x" * 40))
    assert r.status == 403 and aws_error(r) == "UnrecognizedClientException", r
    assert r.json()["message"] == "The security token included in the request is invalid.", r
    r = h.emu.request("POST", model_path(), chat_body(), {"authorization": "AWS4-HMAC-SHA256 garbage"})
    assert r.status == 400 and aws_error(r) == "IncompleteSignatureException", r


def test_bad_signature_rejected(h):
    r = h.emu.request("POST", model_path(), chat_body(), {"content-type": "application/json"},
                      sign=(h.emu.akid, h.emu.secret + "x"))
    assert r.status == 403 and aws_error(r) == "InvalidSignatureException", r
    assert r.json()["message"].startswith("The request signature we calculated does not match"), r
    # a signed header changed after signing
    hdrs = ap.sign_request("POST", model_path(), "", {"host": "127.0.0.1:%d" % h.emu.https_port,
                           "content-type": "application/json"}, chat_body(), h.emu.akid, h.emu.secret,
                           "us-east-1", "bedrock")
    hdrs["content-type"] = "text/plain"
    r = h.emu.request("POST", model_path(), chat_body(), hdrs)
    assert r.status == 403 and aws_error(r) == "InvalidSignatureException", r
    # body changed after signing
    hdrs["content-type"] = "application/json"
    r = h.emu.request("POST", model_path(), chat_body("tampered"), hdrs)
    assert r.status == 403 and aws_error(r) == "InvalidSignatureException", r
    # signed for the wrong service
    r = h.emu.request("POST", model_path(), chat_body(), {"content-type": "application/json"},
                      sign=True, service="sts")
    assert r.status == 403 and aws_error(r) == "InvalidSignatureException", r
    verdicts = [e["auth"]["verdict"] for e in h.emu.log(route="converse-stream")]
    assert verdicts == ["bad-signature", "bad-signature", "bad-signature", "wrong-service"], verdicts


def test_clock_skew_rejected_with_date_header(h):
    h.emu.config(clock_skew=3600)
    r = signed(h, "POST", model_path(), chat_body())
    assert r.status == 403 and aws_error(r) == "InvalidSignatureException", r
    msg = r.json()["message"]
    assert msg.startswith("Signature expired: ") and "is now earlier than" in msg, msg
    server = email.utils.parsedate_to_datetime(r.headers["date"]).timestamp()
    assert abs(server - (time.time() + 3600)) < 30, "Date must carry the emulator's skewed clock"
    # re-signing with the offset taken from Date is accepted (what brock must do)
    r = signed(h, "POST", model_path(), chat_body(), now=server)
    assert r.status == 200, r
    h.emu.config(clock_skew=-3600)
    r = signed(h, "POST", model_path(), chat_body())
    assert r.status == 403 and "Signature not yet current" in r.json()["message"], r
    h.emu.config(clock_skew=200)  # inside the 5-minute window
    assert signed(h, "POST", model_path(), chat_body()).status == 200


def test_session_credentials_and_expiry(h):
    c = h.emu.credentials(ttl=2)
    creds = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert stream(h, creds=creds)["status"] == 200
    r = h.emu.request("POST", model_path(), chat_body(), {"content-type": "application/json"},
                      sign=creds[:2])
    assert r.status == 403 and aws_error(r) == "UnrecognizedClientException", "token missing: %r" % r
    time.sleep(2.2)
    r = h.emu.request("POST", model_path(), chat_body(), {"content-type": "application/json"}, sign=creds)
    assert r.status == 403 and aws_error(r) == "ExpiredTokenException", r
    assert c["SecretAccessKey"] in h.emu.secrets()


def test_bearer_token(h):
    r = h.emu.request("POST", model_path(), chat_body(), {"authorization": "Bearer " + h.emu.bearer_token,
                                                          "content-type": "application/json"})
    assert r.status == 200, r
    assert h.emu.log(route="converse-stream")[-1]["auth"]["verdict"] == "bearer"
    r = h.emu.request("POST", model_path(), chat_body(), {"authorization": "Bearer wrong-key"})
    assert r.status == 403 and aws_error(r) == "UnrecognizedClientException", r
    r = h.emu.request("GET", "/foundation-models", headers={"authorization": "Bearer " + h.emu.bearer_token})
    assert r.status == 200, r


def test_expected_region(h):
    h.emu.config(expected_region="eu-west-1")
    r = signed(h, "POST", model_path(), chat_body())
    assert r.status == 403 and "valid region" in r.json()["message"], r
    assert signed(h, "POST", model_path(), chat_body(), region="eu-west-1").status == 200


# ------------------------------------------------------------------------------------ stream knobs

def test_deltas_and_delta_size(h):
    h.emu.config(deltas=500, delta_size=7, reply_text="abc")
    r = stream(h)
    d = [p["delta"]["text"] for t, p in r["events"] if t == "contentBlockDelta"]
    assert len(d) == 500 and all(len(x) == 7 for x in d), len(d)
    assert r["text"] == ("abc" * 2000)[:3500]
    h.emu.config(delta_size=None, deltas=3, reply_text="hello world")
    d = [p["delta"]["text"] for t, p in stream(h)["events"] if t == "contentBlockDelta"]
    assert len(d) == 3 and "".join(d) == "hello world", d
    h.emu.config(reply_chunks=["h\u00e9", "\u4e16", "\U0001F600"])
    assert stream(h)["text"] == "h\u00e9\u4e16\U0001F600"


def test_tiny_writes(h):
    h.emu.config(tiny_writes=True)
    r = stream(h)
    assert r["complete"] and r["text"] == "You said: hello there", r
    sizes = {len(c) for c in r["chunks"]}
    assert sizes <= {1, 2, 3}, sizes
    assert len(r["chunks"]) > 100


def test_corrupt_crcs(h):
    h.emu.config(corrupt_prelude_crc_at=2)
    r = stream(h)
    assert r["err"] == "Prelude checksum mismatch" and len(r["msgs"]) == 2, (r["err"], len(r["msgs"]))
    h.emu.config(corrupt_prelude_crc_at=None, corrupt_message_crc_at=3)
    r = stream(h)
    assert r["err"] == "Message checksum mismatch" and len(r["msgs"]) == 3, (r["err"], len(r["msgs"]))
    assert r["complete"], "the HTTP framing stays intact"


def test_truncation(h):
    h.emu.config(truncate_after=3)
    r = stream(h)
    assert not r["complete"] and len(r["msgs"]) == 3 and r["left"] == 0, r
    h.emu.config(truncate_mid_frame=True)
    r = stream(h)
    assert not r["complete"] and len(r["msgs"]) == 3 and r["left"] > 0, (len(r["msgs"]), r["left"])
    assert h.emu.log(route="converse-stream")[-1]["truncated"]


def test_stall(h):
    h.emu.config(stall_after=2, stall_seconds=1.5)
    t0 = time.monotonic()
    r = stream(h)
    dt = time.monotonic() - t0
    assert r["complete"] and r["text"] == "You said: hello there"
    assert 1.4 < dt < 10, dt
    # a client with a shorter read timeout gives up
    h.emu.config(stall_seconds=3)
    try:
        raw_exchange(h, "POST", model_path(), chat_body(), timeout=1)
        raise AssertionError("expected a client timeout")
    except socket.timeout:
        pass


def test_exception_and_error_frames(h):
    h.emu.config(exception_after=3, exception_type="throttlingException", exception_message="slow down")
    r = stream(h)
    assert r["complete"] and r["err"] is None
    assert r["events"][-1] == ("!throttlingException", {"message": "slow down"}), r["events"][-1]
    assert len(r["events"]) == 4
    exc = r["msgs"][-1]["headers"]
    assert exc[":message-type"] == "exception" and exc[":exception-type"] == "throttlingException"
    h.emu.config(exception_after=None, error_after=1, error_code="InternalFailure", error_message="boom")
    r = stream(h)
    assert r["events"][-1] == ("!error", {"code": "InternalFailure", "message": "boom"}), r["events"]


def test_tool_use_reasoning_stop_reason_usage(h):
    h.emu.config(reasoning={"text": "Let me think.", "signature": "sig=="},
                 tool_use=[{"toolUseId": "tooluse_1", "name": "lookup", "input": {"q": "x" * 40}, "chunks": 4}],
                 stop_reason="tool_use", usage={"inputTokens": 11, "outputTokens": 22,
                                                "cacheReadInputTokens": 3, "cacheWriteInputTokens": 4})
    r = stream(h)
    ev = r["events"]
    rs = [p["delta"]["reasoningContent"] for t, p in ev if t == "contentBlockDelta" and
          "reasoningContent" in p["delta"]]
    assert "".join(x.get("text", "") for x in rs) == "Let me think." and rs[-1] == {"signature": "sig=="}, rs
    starts = [p for t, p in ev if t == "contentBlockStart"]
    assert starts == [{"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "lookup"}},
                       "p": starts[0]["p"]}], starts
    frag = "".join(p["delta"]["toolUse"]["input"] for t, p in ev
                   if t == "contentBlockDelta" and "toolUse" in p["delta"])
    assert json.loads(frag) == {"q": "x" * 40}
    assert len([1 for t, p in ev if t == "contentBlockDelta" and "toolUse" in p["delta"]]) == 4
    stop = [p for t, p in ev if t == "messageStop"][0]
    assert stop["stopReason"] == "tool_use"
    u = ev[-1][1]["usage"]
    assert u["inputTokens"] == 11 and u["outputTokens"] == 22 and u["totalTokens"] == 33, u
    assert u["cacheReadInputTokens"] == 3 and u["cacheWriteInputTokens"] == 4, u


def test_injected_unknown_events(h):
    h.emu.config(inject_events=[{"after": 1, "event_type": "futureEvent", "payload": {"x": 1}}])
    r = stream(h)
    assert r["events"][1][0] == "futureEvent" and r["text"] == "You said: hello there", r["events"][:3]


# ------------------------------------------------------------------------------------ request failures

def test_fail_next_then_recover(h):
    h.emu.config(fail_next=2, fail_status=429)
    for _ in range(2):
        r = signed(h, "POST", model_path(), chat_body())
        assert r.status == 429 and aws_error(r) == "ThrottlingException", r
        assert r.headers["x-amzn-errortype"].startswith("ThrottlingException:http://internal.amazon.com/coral/")
        assert r.json() == {"message": "Too many requests, please wait before trying again."}, r
    assert stream(h)["status"] == 200
    attempts = [e["attempt"] for e in h.emu.log(route="converse-stream")]
    assert attempts == [1, 2, 3], attempts


def test_failure_kinds(h):
    cases = [({"fail_status": 500}, 500, "InternalServerException"),
             ({"fail_status": 503}, 503, "ServiceUnavailableException"),
             ({"fail_type": "ModelNotReadyException"}, 429, "ModelNotReadyException"),
             ({"fail_status": 400, "fail_type": "ValidationException"}, 400, "ValidationException")]
    for knobs, status, etype in cases:
        h.emu.config(fail_next=1, **knobs)
        r = signed(h, "POST", model_path(), chat_body())
        assert r.status == status and aws_error(r) == etype, (knobs, r)
        assert r.json()["message"], r
    h.emu.config(fail_next=1, fail_status=400, fail_type="ValidationException", fail_body="empty")
    r = signed(h, "POST", model_path(), chat_body())
    assert r.status == 400 and r.body == b"" and aws_error(r) == "ValidationException", r
    h.emu.config(fail_next=1, fail_status=400, fail_type="ValidationException", fail_header=False,
                 fail_body="typed")
    r = signed(h, "POST", model_path(), chat_body())
    assert "x-amzn-errortype" not in r.headers and r.json()["__type"] == "ValidationException", r
    h.emu.config(fail_next=1, fail_status=200, fail_header=False,
                 fail_body={"__type": "UnknownOperationException"})
    r = signed(h, "POST", model_path(), chat_body())
    assert r.status == 200 and r.json() == {"__type": "UnknownOperationException"}, r
    h.emu.config(fail_next=1, fail_status=503, fail_body="empty", fail_error_message_header=True)
    r = signed(h, "POST", model_path(), chat_body())
    assert r.headers.get("x-amzn-errormessage") and r.body == b"", r
    h.emu.config(fail_next=1, fail_status="close")
    try:
        signed(h, "POST", model_path(), chat_body())
        raise AssertionError("expected the connection to be closed")
    except (ConnectionError, OSError, harness.http.client.HTTPException):
        pass
    assert stream(h)["status"] == 200


def test_per_route_failures(h):
    h.emu.config(failures=[{"route": "foundation-models", "status": 500, "count": -1}])
    for _ in range(3):
        assert signed(h, "GET", "/foundation-models").status == 500
    assert signed(h, "GET", "/inference-profiles").status == 200
    assert stream(h)["status"] == 200
    h.emu.config(failures=[{"route": "control", "status": 503, "count": 1}])
    assert signed(h, "GET", "/inference-profiles").status == 503
    assert signed(h, "GET", "/foundation-models").status == 200
    h.emu.reset()
    assert signed(h, "GET", "/foundation-models").status == 200


def test_unknown_knob_rejected(h):
    try:
        h.emu.config(no_such_knob=1)
        raise AssertionError("unknown knob accepted")
    except AssertionError as e:
        assert "unknown knob" in str(e), e


# ------------------------------------------------------------------------------------ control plane

def test_foundation_models_fixture(h):
    r = signed(h, "GET", "/foundation-models")
    assert r.status == 200, r
    ms = r.json()["modelSummaries"]
    assert len(ms) >= 40, len(ms)
    keys = {"modelArn", "modelId", "modelName", "providerName", "inputModalities", "outputModalities",
            "responseStreamingSupported", "customizationsSupported", "inferenceTypesSupported", "modelLifecycle"}
    assert all(keys <= set(m) for m in ms)
    provs = {m["modelId"].split(".")[0] for m in ms}
    assert {"anthropic", "amazon", "meta", "mistral", "cohere", "ai21", "deepseek"} <= provs, provs
    assert any(m["outputModalities"] == ["EMBEDDING"] and m["inputModalities"] == ["TEXT"] for m in ms)
    assert any(m["outputModalities"] == ["IMAGE"] for m in ms)
    assert any(m["modelLifecycle"]["status"] == "LEGACY" for m in ms)
    assert any(not m["responseStreamingSupported"] and "TEXT" in m["outputModalities"] for m in ms)
    assert any(m["inferenceTypesSupported"] == ["INFERENCE_PROFILE"] and m["modelId"].startswith("anthropic.")
               for m in ms)
    assert all(m["modelArn"] == "arn:aws:bedrock:us-east-1::foundation-model/" + m["modelId"] for m in ms)
    r = signed(h, "GET", "/foundation-models?byProvider=meta")
    assert {m["providerName"] for m in r.json()["modelSummaries"]} == {"Meta"}, r


def test_inference_profiles_pagination(h):
    seen, token, pages = [], None, 0
    while True:
        q = "maxResults=1000" + ("&nextToken=" + urllib.parse.quote(token, safe="") if token else "")
        r = signed(h, "GET", "/inference-profiles?" + q)
        assert r.status == 200, r
        j = r.json()
        seen += j["inferenceProfileSummaries"]
        pages += 1
        token = j.get("nextToken")
        if not token:
            break
        assert any(ch in token for ch in "+/="), "tokens need percent-encoding: %r" % token
    assert pages == 3, pages
    ids = [p["inferenceProfileId"] for p in seen]
    assert len(ids) == len(set(ids)) >= 25, ids
    assert any(i.startswith("us.") for i in ids) and any(i.startswith("eu.") for i in ids)
    assert any(i.startswith("global.") for i in ids)
    p = seen[0]
    assert set(p) >= {"inferenceProfileId", "inferenceProfileArn", "inferenceProfileName", "status", "type",
                      "models"} and p["models"][0]["modelArn"].startswith("arn:aws:bedrock:")
    r = signed(h, "GET", "/inference-profiles?type=APPLICATION")
    assert {p["type"] for p in r.json()["inferenceProfileSummaries"]} == {"APPLICATION"}
    r = signed(h, "GET", "/inference-profiles?maxResults=5")
    assert len(r.json()["inferenceProfileSummaries"]) == 5
    # a token sent without percent-encoding ('+' and '/' raw) does not survive signing/decoding
    tok = json.loads(signed(h, "GET", "/inference-profiles").body)["nextToken"]
    r = signed(h, "GET", "/inference-profiles?nextToken=" + urllib.parse.quote(tok[:-3], safe=""))
    assert r.status == 400 and aws_error(r) == "ValidationException", r
    r = signed(h, "GET", "/inference-profiles?type=BOGUS")
    assert r.status == 400, r


# ------------------------------------------------------------------------------------ credential services

def _sts(h, params, sign=True, creds=None):
    body = urllib.parse.urlencode(params).encode()
    return h.emu.request("POST", "/", body, {"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
                         sign=(creds or True) if sign else None, service="sts")


def _xml_creds(body):
    ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
    root = ET.fromstring(body)
    c = root.find(".//s:Credentials", ns)
    return {k: c.find("s:" + k, ns).text for k in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")}


def test_sts_assume_role(h):
    r = _sts(h, {"Action": "AssumeRole", "Version": "2011-06-15",
                 "RoleArn": "arn:aws:iam::123456789012:role/demo", "RoleSessionName": "brock-test"})
    assert r.status == 200, r
    assert ET.fromstring(r.body).tag == "{https://sts.amazonaws.com/doc/2011-06-15/}AssumeRoleResponse"
    c = _xml_creds(r.body)
    assert c["AccessKeyId"].startswith("ASIA") and c["Expiration"].endswith("Z"), c
    assert stream(h, creds=(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))["status"] == 200
    assert h.emu.log(route="converse-stream")[-1]["auth"]["source"] == "sts"
    # unsigned AssumeRole: XML error
    r = _sts(h, {"Action": "AssumeRole", "RoleArn": "arn:aws:iam::123456789012:role/demo",
                 "RoleSessionName": "x"}, sign=False)
    assert r.status == 403 and r.headers["content-type"] == "text/xml", r
    err = ET.fromstring(r.body).find("{https://sts.amazonaws.com/doc/2011-06-15/}Error")
    assert err.find("{https://sts.amazonaws.com/doc/2011-06-15/}Code").text == "MissingAuthenticationToken"
    assert err.find("{https://sts.amazonaws.com/doc/2011-06-15/}Type").text == "Sender"
    h.emu.config(sts_deny_roles=["arn:aws:iam::123456789012:role/denied"])
    r = _sts(h, {"Action": "AssumeRole", "RoleArn": "arn:aws:iam::123456789012:role/denied",
                 "RoleSessionName": "x"})
    assert r.status == 403 and b"<Code>AccessDenied</Code>" in r.body, r
    r = _sts(h, {"Action": "AssumeRole", "RoleArn": "arn:aws:iam::123456789012:role/demo",
                 "RoleSessionName": "x"}, creds=(h.emu.akid, "wrong-secret"))
    assert r.status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in r.body, r


def test_sts_web_identity_and_short_ttl(h):
    h.emu.config(sts_cred_ttl=1)
    params = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
              "RoleArn": "arn:aws:iam::123456789012:role/web", "RoleSessionName": "s",
              "WebIdentityToken": h.emu.defaults["web_identity_token"]}
    r = _sts(h, params, sign=False)
    assert r.status == 200 and b"AssumeRoleWithWebIdentityResult" in r.body, r
    c = _xml_creds(r.body)
    time.sleep(1.2)
    r2 = stream(h, creds=(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))
    assert r2["status"] == 403 and "ExpiredTokenException" in r2["headers"]["x-amzn-errortype"], r2["headers"]
    params["WebIdentityToken"] = "not-the-token"
    r = _sts(h, params, sign=False)
    assert r.status == 400 and b"<Code>InvalidIdentityToken</Code>" in r.body, r
    assert "<redacted>" in json.dumps(h.emu.log(route="sts")[-1]["form"])


def test_sso_and_oidc(h):
    d = h.emu.defaults
    q = "/federation/credentials?account_id=123456789012&role_name=Dev"
    r = h.emu.request("GET", q, headers={"x-amz-sso_bearer_token": d["sso_access_token"]})
    assert r.status == 200, r
    rc = r.json()["roleCredentials"]
    assert rc["expiration"] > time.time() * 1000 and rc["accessKeyId"].startswith("ASIA"), rc
    assert stream(h, creds=(rc["accessKeyId"], rc["secretAccessKey"], rc["sessionToken"]))["status"] == 200
    r = h.emu.request("GET", q, headers={"x-amz-sso_bearer_token": "expired"})
    assert r.status == 401 and aws_error(r) == "UnauthorizedException", r
    body = json.dumps({"clientId": "cid", "clientSecret": "csec", "grantType": "refresh_token",
                       "refreshToken": d["sso_refresh_token"]})
    r = h.emu.request("POST", "/token", body, {"content-type": "application/json"})
    assert r.status == 200, r
    t = r.json()
    assert t["tokenType"] == "Bearer" and t["expiresIn"] > 0 and t["refreshToken"], t
    r = h.emu.request("GET", q, headers={"x-amz-sso_bearer_token": t["accessToken"]})
    assert r.status == 200, "refreshed token works: %r" % r
    r = h.emu.request("POST", "/token", body.replace(d["sso_refresh_token"], "bogus"))
    assert r.status == 400 and r.json()["error"] == "invalid_grant", r


def test_imds_token_flow(h):
    r = h.emu.request("GET", "/latest/meta-data/iam/security-credentials/", tls=False)
    assert r.status == 401, "IMDSv2 requires a token"
    r = h.emu.request("PUT", "/latest/api/token", tls=False)
    assert r.status == 400, "the TTL header is required"
    r = h.emu.request("PUT", "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"},
                      tls=False)
    assert r.status == 200 and r.headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600", r
    tok = {"X-aws-ec2-metadata-token": r.text}
    r = h.emu.request("GET", "/latest/meta-data/iam/security-credentials/", headers=tok, tls=False)
    assert r.status == 200 and r.text == "brock-imds-role", r
    r = h.emu.request("GET", "/latest/meta-data/iam/security-credentials/brock-imds-role", headers=tok, tls=False)
    c = r.json()
    assert c["Code"] == "Success" and c["Type"] == "AWS-HMAC" and c["LastUpdated"], c
    assert stream(h, creds=(c["AccessKeyId"], c["SecretAccessKey"], c["Token"]))["status"] == 200
    r = h.emu.request("GET", "/latest/meta-data/iam/security-credentials/", headers={
        "X-aws-ec2-metadata-token": "forged"}, tls=False)
    assert r.status == 401


def test_imds_knobs(h):
    h.emu.config(imds_token_ttl_max=1)
    r = h.emu.request("PUT", "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"},
                      tls=False)
    tok = {"X-aws-ec2-metadata-token": r.text}
    assert h.emu.request("GET", "/latest/meta-data/iam/security-credentials/", headers=tok, tls=False).status == 200
    time.sleep(1.1)
    assert h.emu.request("GET", "/latest/meta-data/iam/security-credentials/", headers=tok, tls=False).status == 401
    assert h.emu.log(route="imds")[-1]["auth"]["verdict"] == "imds-token-expired"
    h.emu.config(imds_token_status=403, imds_v1=True)
    r = h.emu.request("PUT", "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"},
                      tls=False)
    assert r.status == 403
    r = h.emu.request("GET", "/latest/meta-data/iam/security-credentials/", tls=False)
    assert r.status == 200 and h.emu.log(route="imds")[-1]["auth"]["verdict"] == "imds-v1"
    h.emu.config(imds_down="close")
    try:
        h.emu.request("GET", "/latest/meta-data/iam/security-credentials/", tls=False, timeout=3)
        raise AssertionError("expected a dropped connection")
    except (ConnectionError, OSError, harness.http.client.HTTPException):
        pass
    h.emu.config(imds_down=None, imds_cred_ttl=1, imds_token_status=None)
    r = h.emu.request("GET", "/latest/meta-data/iam/security-credentials/brock-imds-role", tls=False)
    c = r.json()
    exp = datetime.datetime.strptime(c["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert exp - time.time() < 3, c["Expiration"]


def test_container_credentials(h):
    tok = h.emu.defaults["container_token"]
    r = h.emu.request("GET", "/creds/task", headers={"Authorization": tok}, tls=False)
    assert r.status == 200, r
    c = r.json()
    assert set(c) >= {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}, c
    assert stream(h, creds=(c["AccessKeyId"], c["SecretAccessKey"], c["Token"]))["status"] == 200
    assert h.emu.request("GET", "/creds/task", headers={"Authorization": "nope"}, tls=False).status == 401
    h.emu.config(container_path="/v2/credentials/")
    assert h.emu.request("GET", "/v2/credentials/abc", headers={"Authorization": tok}, tls=False).status == 200


# ------------------------------------------------------------------------------------ transport

def test_tls_certificates(h):
    ctx = ssl.create_default_context(cafile=h.ca)
    for host in ("localhost", "127.0.0.1"):
        with socket.create_connection(("127.0.0.1", h.emu.https_port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname=host):
                pass
    for url, why in ((h.emu.https_expired, "expired"), (h.emu.https_wronghost, "Hostname mismatch")):
        port = int(url.rsplit(":", 1)[1])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                with ctx.wrap_socket(s, server_hostname="localhost"):
                    pass
            raise AssertionError("%s certificate accepted" % why)
        except ssl.SSLCertVerificationError as e:
            assert why in str(e), e
    # the default system trust store must not trust the test CA
    try:
        with socket.create_connection(("127.0.0.1", h.emu.https_port), timeout=5) as s:
            with ssl.create_default_context().wrap_socket(s, server_hostname="localhost"):
                pass
        raise AssertionError("test CA trusted by the system store")
    except ssl.SSLCertVerificationError:
        pass


def test_keep_alive(h):
    conn = harness.http.client.HTTPSConnection("127.0.0.1", h.emu.https_port, context=h.emu.ssl_ctx, timeout=10)
    try:
        for i in range(3):
            body = chat_body("msg %d" % i)
            hdrs = ap.sign_request("POST", model_path(), "", {"host": "127.0.0.1:%d" % h.emu.https_port,
                                   "content-type": "application/json"}, body, h.emu.akid, h.emu.secret,
                                   "us-east-1", "bedrock")
            conn.request("POST", model_path(), body, hdrs)
            r = conn.getresponse()
            msgs, err, _ = decode_all(r.read())
            assert r.status == 200 and err is None and msgs, (r.status, err)
        conn.request("GET", "/_emu/health")
        assert conn.getresponse().status == 200
    finally:
        conn.close()
    ports = {e["headers"].get("host") for e in h.emu.log()}
    assert len(ports) == 1


def test_log_records_requests(h):
    stream(h, "logged text")
    e = h.emu.log()[-1]
    assert e["method"] == "POST" and e["route"] == "converse-stream" and e["status"] == 200, e
    assert json.loads(e["body"])["messages"][0]["content"][0]["text"] == "logged text"
    assert e["auth"]["verdict"] == "ok", e["auth"]
    assert e["auth"]["signed_headers"] == ["connection", "content-type", "host", "x-amz-date"], e["auth"]
    assert e["headers"]["content-type"] == "application/json" and e["attempt"] == 1
    assert e["events_sent"] == 8, e["events_sent"]
    h.emu.request("POST", "/_emu/config", b"{}", tls=False)  # control calls are not logged
    assert len(h.emu.log()) == 1
    h.emu.reset()
    assert h.emu.log() == []


def test_benchmark_stream_20000_deltas(h):
    h.emu.config(deltas=20000, delta_size=16, reply_text="0123456789abcdef", frames_per_chunk=64)
    t0 = time.monotonic()
    r = stream(h)
    dt = time.monotonic() - t0
    assert r["complete"] and r["err"] is None, r["err"]
    assert len(r["text"]) == 320000, len(r["text"])
    assert dt < 60, dt


def _proxy_connect(h, target, auth=None):
    s = socket.create_connection(("127.0.0.1", h.emu.proxy_port), timeout=10)
    req = "CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (target, target)
    if auth:
        req += "Proxy-Authorization: Basic %s\r\n" % base64.b64encode(auth.encode()).decode()
    s.sendall((req + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(1)
        if not d:
            break
        head += d
    return s, int(head.split()[1])


def test_connect_proxy(h):
    target = "127.0.0.1:%d" % h.emu.https_port
    s, status = _proxy_connect(h, target)
    assert status == 200, status
    with h.emu.ssl_ctx.wrap_socket(s, server_hostname="localhost") as t:
        t.sendall(b"GET /_emu/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = t.recv(4096)
            if not d:
                break
            data += d
    assert data.startswith(b"HTTP/1.1 200"), data[:100]
    h.emu.config(proxy_auth="user:p@ss")
    s, status = _proxy_connect(h, target)
    s.close()
    assert status == 407, status
    s, status = _proxy_connect(h, target, auth="user:p@ss")
    s.close()
    assert status == 200, status
    s, status = _proxy_connect(h, "example.com:443", auth="user:p@ss")
    s.close()
    assert status == 403, "the proxy must only tunnel to loopback"
    verdicts = [(e["status"], e["auth"]["verdict"]) for e in h.emu.log(route="proxy")]
    assert verdicts == [(200, "none"), (407, "missing-proxy-auth"), (200, "ok"), (403, "ok")], verdicts


def test_harness_helpers(h):
    p = h.sso_token_cache("my-sso", expires_in=-60)
    assert p.endswith("/.aws/sso/cache/" + __import__("hashlib").sha1(b"my-sso").hexdigest() + ".json"), p
    doc = json.loads(h.read(p))
    assert doc["accessToken"] == h.emu.defaults["sso_access_token"] and doc["refreshToken"], doc
    assert oct(os.stat(p).st_mode & 0o777) == "0o600"
    env = h.env(AWS_REGION=None, AWS_PROFILE="x")
    assert "AWS_REGION" not in env and env["AWS_PROFILE"] == "x" and env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert env["HOME"] == h.home and env["AWS_CA_BUNDLE"] == h.ca and env["BROCK_CACHE_DIR"].startswith(h.tmp)
    for k in ("BEDROCK_RUNTIME", "BEDROCK", "STS", "SSO", "SSO_OIDC"):
        assert env["AWS_ENDPOINT_URL_" + k] == h.emu.https
    assert set(env) <= {"PATH", "HOME", "AWS_EC2_METADATA_DISABLED", "AWS_CA_BUNDLE", "AWS_ACCESS_KEY_ID",
                        "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "BROCK_CACHE_DIR"} | {
        "AWS_ENDPOINT_URL_" + k for k in ("BEDROCK_RUNTIME", "BEDROCK", "STS", "SSO", "SSO_OIDC")}, sorted(env)
