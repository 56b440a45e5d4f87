"""brock serve: the Bedrock-native pass-through (SPEC 7.3) against the emulator, with http.client
and a raw socket for cut streams."""

import base64
import json
import socket

import harness
from test_serve import serve

ap = harness.awsproto
CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
ENC = ap.uri_encode(CLAUDE)
CONVERSE = {"messages": [{"role": "user", "content": [{"text": "hi there"}]}]}
INVOKE = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50,
          "messages": [{"role": "user", "content": "hi there"}]}


def post(s, action, body, headers=None, model=ENC, key=None):
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    if key:
        hdrs["Authorization"] = "Bearer " + key
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return s.request("POST", "/model/%s/%s" % (model, action), data, hdrs)


def frames(data):
    d = ap.Decoder()
    msgs = d.feed(data)
    assert d.pending() == 0, d.pending()
    return msgs


def raw_post(s, path, body, timeout=20):
    """One keep-alive POST on a raw socket, read until the server closes. -> (head, chunks, complete)."""
    sk = socket.create_connection(("127.0.0.1", s.port), timeout=timeout)
    req = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "Connection: keep-alive\r\nContent-Length: %d\r\n\r\n" % (path, len(body))).encode() + body
    sk.sendall(req)
    reads = []
    try:
        while True:
            d = sk.recv(65536)  # a timeout here means the connection was kept open: a failure
            if not d:
                break
            reads.append(d)
    finally:
        sk.close()
    raw = b"".join(reads)
    head, _, rest = raw.partition(b"\r\n\r\n")
    chunks, complete, i = [], False, 0
    while True:
        j = rest.find(b"\r\n", i)
        if j < 0:
            break
        size = int(rest[i:j], 16)
        if size == 0:
            complete = True
            break
        chunks.append(rest[j + 2:j + 2 + size])
        i = j + 4 + size
    return head.decode("latin-1"), b"".join(chunks), complete


# ---------------------------------------------------------------------------

def test_pt_converse_and_invoke(h):
    h.emu.config(reply_text="Passed through", usage={"inputTokens": 8, "outputTokens": 2})
    s = serve(h)
    st, hdrs, data = post(s, "converse", CONVERSE, {"X-Amzn-Bedrock-Trace": "ENABLED"})
    assert st == 200 and hdrs["content-type"] == "application/json", data
    j = json.loads(data)
    assert j["output"]["message"]["content"] == [{"text": "Passed through"}] and j["usage"]["inputTokens"] == 8, j
    assert hdrs.get("x-amzn-requestid"), hdrs
    e = h.emu.log("converse")[-1]
    assert e["model_id"] == CLAUDE and e["auth"]["verdict"] == "ok", e
    assert e["headers"].get("x-amzn-bedrock-trace") == "ENABLED", e["headers"]
    # the longest Bedrock header name (40 bytes) is forwarded too, on every path
    st, hdrs, data = post(s, "invoke", INVOKE, {"X-Amzn-Bedrock-PerformanceConfig-Latency": "standard"})
    assert st == 200, data
    j = json.loads(data)
    assert j["type"] == "message" and j["content"][0]["text"] == "Passed through", j
    e = h.emu.log()[-1]
    assert e["headers"].get("x-amzn-bedrock-performanceconfig-latency") == "standard", e["headers"]
    st, _, data = post(s, "count-tokens", {"input": {"converse": CONVERSE}})
    assert st == 200 and json.loads(data)["inputTokens"] > 0, data
    m = s.metrics()
    for r in ("converse", "invoke", "count-tokens"):
        assert 'brock_requests_total{route="/model/{id}/%s",code="200"} 1' % r in m, m


def test_pt_streams_relayed_frame_by_frame(h):
    h.emu.config(reply_chunks=["a", "b", "c"], reasoning={"text": "hm", "signature": "c2ln"},
                 usage={"inputTokens": 21, "outputTokens": 4})
    s = serve(h)
    st, hdrs, data = post(s, "converse-stream", CONVERSE)
    assert st == 200 and hdrs["content-type"] == "application/vnd.amazon.eventstream", (st, hdrs)
    msgs = frames(data)
    types = [m["headers"][":event-type"] for m in msgs]
    assert types[0] == "messageStart" and types[-2:] == ["messageStop", "metadata"], types
    st, hdrs, data = post(s, "invoke-with-response-stream",
                          dict(INVOKE, thinking={"type": "enabled", "budget_tokens": 1024}))
    assert st == 200, data
    evs = [json.loads(base64.b64decode(json.loads(m["payload"])["bytes"])) for m in frames(data)]
    assert evs[0]["type"] == "message_start" and evs[-1]["type"] == "message_stop", evs
    assert {"type": "signature_delta", "signature": "c2ln"} in [e.get("delta") for e in evs], evs
    # both streams metered (read again after they were relayed)
    m = s.metrics()
    assert 'brock_model_tokens_total{model="%s",type="input"} 42' % CLAUDE in m, m
    assert 'brock_model_tokens_total{model="%s",type="output"} 8' % CLAUDE in m, m


def test_pt_bad_crc_closes_the_connection(h):
    h.emu.config(reply_chunks=["one", "two", "three"], corrupt_message_crc_at=2)
    s = serve(h)
    head, data, complete = raw_post(s, "/model/%s/converse-stream" % ENC, json.dumps(CONVERSE).encode())
    assert head.startswith("HTTP/1.1 200"), head
    assert not complete, "a cut stream must not end with the last chunk"
    msgs = frames(data)
    assert len(msgs) == 2, msgs  # the two frames before the bad one, nothing after
    assert [m["headers"][":event-type"] for m in msgs] == ["messageStart", "contentBlockDelta"], msgs
    h.emu.config(corrupt_message_crc_at=None, corrupt_prelude_crc_at=3)
    head, data, complete = raw_post(s, "/model/%s/invoke-with-response-stream" % ENC, json.dumps(INVOKE).encode())
    assert head.startswith("HTTP/1.1 200") and not complete, head
    assert len(frames(data)) == 3


def test_pt_client_credentials_dropped_key_checked(h):
    key = h.secret("sk-pt-test-key-0001")
    s = serve(h, env={"BROCK_API_KEYS": key})
    st, hdrs, data = post(s, "converse", CONVERSE)
    assert st == 401 and hdrs.get("x-amzn-errortype"), (st, hdrs, data)
    assert "message" in json.loads(data), data
    client_sig = {"X-Amz-Security-Token": "client-token-xyz", "X-Amz-Date": "20200101T000000Z"}
    st, _, data = post(s, "converse", CONVERSE, client_sig, key=key)
    assert st == 200, data
    st, _, data = post(s, "converse", CONVERSE, {"x-api-key": key})
    assert st == 200, data
    for e in h.emu.log("converse"):
        assert e["auth"]["verdict"] == "ok", e["auth"]
        assert e["headers"].get("x-amz-security-token") != "client-token-xyz", e["headers"]
        assert key not in json.dumps(e["headers"]), e["headers"]


def test_pt_content_types_and_routes(h):
    s = serve(h)
    st, _, data = post(s, "invoke", json.dumps(INVOKE).encode(), {"Content-Type": "application/octet-stream"})
    assert st == 200, data
    st, hdrs, data = post(s, "converse", CONVERSE, {"Content-Type": "text/plain"})
    assert st == 415 and hdrs.get("x-amzn-errortype"), data
    st, hdrs, data = post(s, "converse", CONVERSE, model="openai%2Fgpt-4o")
    assert st == 404 and hdrs["x-amzn-errortype"] == "ResourceNotFoundException", data
    st, _, data = post(s, "converse-sideways", CONVERSE)
    assert st == 404, data
    st, hdrs, data = s.request("GET", "/model/%s/converse" % ENC)
    assert st == 405 and hdrs["allow"] == "POST" and hdrs["x-amzn-errortype"], (hdrs, data)
    assert len(h.emu.log("invoke")) == 1 and not h.emu.log("converse")


def test_pt_upstream_errors_relayed(h):
    h.emu.config(fail_next=2, fail_route="runtime", fail_status=429, fail_message="Rate exceeded")
    s = serve(h)
    for action in ("converse", "converse-stream"):
        st, hdrs, data = post(s, action, CONVERSE)
        assert st == 429, (action, data)
        assert hdrs["x-amzn-errortype"].split(":")[0] == "ThrottlingException", hdrs
        assert json.loads(data)["message"] == "Rate exceeded", data
    st, hdrs, data = post(s, "invoke", {"anthropic_version": "bedrock-2023-05-31", "messages": []})
    assert st == 400 and hdrs["x-amzn-errortype"].startswith("ValidationException"), data
