"""brock serve: the OpenAI-compatible gateway against the emulator (SPEC 7).

Each test starts `brock serve --listen 127.0.0.1:0` with h.spawn, reads the port from the start
line on stderr, and talks to it with http.client."""

import http.client
import json
import os
import re
import signal
import socket
import threading
import time

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
REF = "amazon-bedrock/" + MODEL
START_RE = re.compile(r"serving OpenAI-compatible API on http://(\S+):(\d+) \((\d+) API keys?\)")


class Serve:
    def __init__(self, h, p):
        self.h, self.p = h, p
        self.host, self.port, self.nkeys = None, None, None

    def wait_ready(self, timeout=10):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            with open(self.p.err_path, "rb") as f:
                err = f.read().decode("utf-8", "replace")
            m = START_RE.search(err)
            if m:
                self.host, self.port, self.nkeys = m.group(1), int(m.group(2)), int(m.group(3))
                return self
            if self.p.poll() is not None:
                raise AssertionError("brock serve exited %s: %s" % (self.p.returncode, err))
            time.sleep(0.02)
        raise AssertionError("brock serve did not start: %s" % err)

    def stderr(self):
        with open(self.p.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None, key=None):
        c = conn or self.conn()
        hdrs = dict(headers or {})
        if key:
            hdrs["Authorization"] = "Bearer " + key
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def chat(self, body, key=None, conn=None):
        return self.request("POST", "/v1/chat/completions", body, key=key, conn=conn)

    def metrics(self, key=None):
        st, _, data = self.request("GET", "/metrics", key=key)
        assert st == 200, data
        return data.decode()


def serve(h, args=(), env=None):
    e = {"AWS_MAX_ATTEMPTS": "1"}
    e.update(env or {})
    p = h.spawn(["serve", "--listen", "127.0.0.1:0"] + list(args), env=e)
    return Serve(h, p).wait_ready()


def sse_events(data):
    """The data: payloads of an SSE body, in order ('[DONE]' kept as a string)."""
    out = []
    text = data.decode("utf-8")
    assert text.endswith("\n\n"), text[-200:]
    for block in text.split("\n\n"):
        if not block:
            continue
        assert block.startswith("data: "), block
        payload = block[6:]
        out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def user(text):
    return {"model": REF, "messages": [{"role": "user", "content": text}]}


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


# ---------------------------------------------------------------------------

def test_serve_healthz_and_start_line(h):
    s = serve(h)
    assert s.host == "127.0.0.1" and s.port > 0 and s.nkeys == 0, s.stderr()
    st, hdrs, data = s.request("GET", "/healthz")
    assert st == 200 and json.loads(data) == {"status": "ok"}, data
    assert hdrs["content-type"] == "application/json", hdrs


def test_serve_quiet_has_no_start_line(h):
    p = h.spawn(["-q", "serve", "--listen", "127.0.0.1:0"])
    time.sleep(0.5)
    assert p.poll() is None
    with open(p.err_path) as f:
        assert f.read() == ""


def test_serve_models_list_shape(h):
    s = serve(h)
    st, hdrs, data = s.request("GET", "/v1/models")
    assert st == 200, data
    doc = json.loads(data)
    assert doc["object"] == "list" and len(doc["data"]) > 10, doc
    for m in doc["data"]:
        assert set(m) == {"id", "object", "created", "owned_by"}, m
        assert m["id"].startswith("amazon-bedrock/") and m["object"] == "model" and m["created"] == 0, m
        assert m["owned_by"], m
    ids = [m["id"] for m in doc["data"]]
    assert REF in ids, ids
    # the same list as `brock models list --plain`
    r = h.brock(["models", "list", "--plain"])
    assert r.rc == 0, r
    assert ids == r.stdout.split(), (ids, r.stdout)
    owners = {m["id"]: m["owned_by"] for m in doc["data"]}
    assert owners[REF] == "anthropic", owners[REF]
    # one model, by ref (percent-encoded slash too)
    st, _, data = s.request("GET", "/v1/models/" + REF)
    assert st == 200 and json.loads(data)["id"] == REF, data
    st, _, data = s.request("GET", "/v1/models/amazon-bedrock%2F" + MODEL)
    assert st == 200 and json.loads(data)["id"] == REF, data
    st, _, data = s.request("GET", "/v1/models/amazon-bedrock/no.such-model")
    assert st == 404 and json.loads(data)["error"]["code"] == "model_not_found", data


def test_serve_chat_non_stream(h):
    h.emu.config(reply_text="Hello from the emulator!", usage={"inputTokens": 11, "outputTokens": 7})
    s = serve(h)
    st, hdrs, data = s.chat(user("hi"))
    assert st == 200, data
    assert hdrs["content-type"].startswith("application/json"), hdrs
    doc = json.loads(data)
    assert doc["object"] == "chat.completion", doc
    assert doc["id"].startswith("chatcmpl-") and doc["model"] == REF, doc
    ch = doc["choices"][0]
    assert ch["message"]["role"] == "assistant" and ch["message"]["content"] == "Hello from the emulator!", doc
    assert ch["finish_reason"] == "stop", doc
    assert doc["usage"]["prompt_tokens"] == 11 and doc["usage"]["completion_tokens"] == 7, doc
    e = h.emu.log("runtime")[-1]
    assert e["route"] == "converse" and e["model_id"] == MODEL, e
    assert json.loads(e["body"])["messages"] == [{"role": "user", "content": [{"text": "hi"}]}], e
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/chat/completions",code="200"} 1' in m, m
    assert metric(m, 'brock_tokens_total{type="input"}') == 11, m
    assert metric(m, 'brock_tokens_total{type="output"}') == 7, m
    assert metric(m, "brock_upstream_latency_seconds_count") == 1, m


def test_serve_chat_stream(h):
    pieces = ["Hel", "lo ", "wor", "ld \U0001F600"]
    h.emu.config(reply_chunks=pieces, usage={"inputTokens": 5, "outputTokens": 4})
    s = serve(h)
    body = user("stream please")
    body.update(stream=True, stream_options={"include_usage": True})
    st, hdrs, data = s.chat(body)
    assert st == 200, data
    assert hdrs["content-type"] == "text/event-stream", hdrs
    assert hdrs["cache-control"] == "no-cache", hdrs
    assert hdrs["transfer-encoding"] == "chunked", hdrs
    ev = sse_events(data)
    assert ev[-1] == "[DONE]", ev
    chunks = ev[:-1]
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and ids.pop().startswith("chatcmpl-"), chunks
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == REF for c in chunks), chunks
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant", chunks[0]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "".join(pieces), text
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0].get("finish_reason")]
    assert finish == ["stop"], chunks
    usage = [c for c in chunks if not c["choices"]]
    assert len(usage) == 1 and usage[0]["usage"]["prompt_tokens"] == 5, chunks
    assert usage[0]["usage"]["completion_tokens"] == 4, usage
    assert h.emu.log("runtime")[-1]["route"] == "converse-stream"
    # without include_usage: no usage chunk
    body = user("again")
    body["stream"] = True
    st, _, data = s.chat(body)
    assert st == 200
    assert all(c == "[DONE]" or c["choices"] for c in sse_events(data)), data


def test_serve_stream_events_arrive_unbuffered(h):
    """With a delay between upstream events, chunks reach the client one by one."""
    h.emu.config(reply_chunks=["a", "b", "c"], event_delay=0.3)
    s = serve(h)
    body = user("slow")
    body["stream"] = True
    data = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(data) + data)
    t0 = time.monotonic()
    got, stamps = b"", []
    while not got.endswith(b"0\r\n\r\n"):
        piece = sock.recv(65536)
        assert piece, got
        got += piece
        stamps.append((time.monotonic() - t0, got.count(b"data: ")))
    sock.close()
    # the role chunk came well before the end; events kept arriving over time
    # (the status line and headers may come in a read of their own)
    first = next(t for t, n in stamps if n >= 1)
    assert first < 1.0, stamps
    assert stamps[-1][0] > 0.6, stamps
    assert len(stamps) >= 3, stamps
    assert b"data: [DONE]" in got


def test_serve_tool_calls_dense_indexes(h):
    h.emu.config(reply_text="Let me check.", tool_use=[
        {"toolUseId": "tu_1", "name": "get_weather", "input": {"city": "Paris"}, "chunks": 3},
        {"toolUseId": "tu_2", "name": "get_time", "input": {"tz": "CET"}, "chunks": 2}])
    s = serve(h)
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
             {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]
    body = user("weather?")
    body.update(stream=True, tools=tools)
    st, _, data = s.chat(body)
    assert st == 200, data
    chunks = [c for c in sse_events(data) if c != "[DONE]"]
    calls = {}
    for c in chunks:
        for tc in (c["choices"][0]["delta"].get("tool_calls") or []) if c["choices"] else []:
            d = calls.setdefault(tc["index"], {"id": None, "name": None, "args": ""})
            if tc.get("id"):
                d["id"] = tc["id"]
            fn = tc.get("function") or {}
            if fn.get("name"):
                d["name"] = fn["name"]
            d["args"] += fn.get("arguments") or ""
    assert sorted(calls) == [0, 1], calls
    assert calls[0]["id"] == "tu_1" and calls[0]["name"] == "get_weather", calls
    assert json.loads(calls[0]["args"]) == {"city": "Paris"}, calls
    assert calls[1]["id"] == "tu_2" and json.loads(calls[1]["args"]) == {"tz": "CET"}, calls
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0].get("finish_reason")]
    assert finish == ["tool_calls"], chunks
    req = json.loads(h.emu.log("runtime")[-1]["body"])
    assert [t["toolSpec"]["name"] for t in req["toolConfig"]["tools"]] == ["get_weather", "get_time"], req
    # non-stream: the same calls in the message
    body["stream"] = False
    st, _, data = s.chat(body)
    assert st == 200, data
    msg = json.loads(data)["choices"][0]["message"]
    assert [t["function"]["name"] for t in msg["tool_calls"]] == ["get_weather", "get_time"], msg
    assert json.loads(msg["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}, msg


def test_serve_mid_stream_exception_is_error_event(h):
    h.emu.config(reply_chunks=["one ", "two ", "three"], exception_after=3,
                 exception_type="modelStreamErrorException", exception_message="the model broke")
    s = serve(h)
    body = user("x")
    body["stream"] = True
    st, _, data = s.chat(body)
    assert st == 200, data
    ev = sse_events(data)
    assert ev[-1] == "[DONE]", ev
    errs = [e for e in ev[:-1] if "error" in e]
    assert len(errs) == 1 and "the model broke" in errs[0]["error"]["message"], ev
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in ev[:-1] if "choices" in c and c["choices"])
    assert text.startswith("one "), text
    m = s.metrics()
    assert metric(m, "brock_errors_total") >= 1, m


def test_serve_upstream_429_is_429(h):
    h.emu.config(fail_next=5, fail_route="runtime", fail_status=429, fail_message="Rate exceeded")
    s = serve(h)
    for stream in (False, True):
        body = user("x")
        body["stream"] = stream
        st, hdrs, data = s.chat(body)
        assert st == 429, (stream, data)
        err = json.loads(data)["error"]
        assert "Rate exceeded" in err["message"] and err["type"], err
        assert hdrs["content-type"].startswith("application/json"), hdrs
    # AWS_MAX_ATTEMPTS=1: one upstream attempt each
    assert len(h.emu.log("runtime")) == 2
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/chat/completions",code="429"} 2' in m, m


def test_serve_bad_requests_are_400(h):
    s = serve(h)
    st, _, data = s.request("POST", "/v1/chat/completions", b"{not json", {"Content-Type": "application/json"})
    assert st == 400 and json.loads(data)["error"]["type"] == "invalid_request_error", data
    st, _, data = s.chat({"model": REF})
    assert st == 400, data
    assert not h.emu.log("runtime")


def test_serve_api_keys(h):
    key1, key2 = h.secret("sk-brock-test-key-0001"), h.secret("sk-brock-env-key-0002")
    h.brock_config('{serve: {apiKeys: ["%s"]}}' % key1)
    s = serve(h, env={"BROCK_API_KEYS": " %s , " % key2})
    assert s.nkeys == 2, s.stderr()
    for key in (None, "wrong", key1 + "x", key1[:-1]):
        st, hdrs, data = s.request("GET", "/v1/models", key=key)
        assert st == 401, (key, data)
        assert json.loads(data)["error"]["code"] == "invalid_api_key", data
        st, _, data = s.chat(user("x"), key=key)
        assert st == 401, data
    st, _, data = s.request("GET", "/v1/models", headers={"Authorization": "Basic " + key1})
    assert st == 401, data
    for key in (key1, key2):
        st, _, data = s.chat(user("hi"), key=key)
        assert st == 200, data
    st, _, data = s.request("GET", "/v1/models", headers={"Authorization": "bearer  " + key2})
    assert st == 200, data
    # /healthz stays open for load balancers; /metrics needs a key
    assert s.request("GET", "/healthz")[0] == 200
    assert s.request("GET", "/metrics")[0] == 401
    assert "brock_requests_total" in s.metrics(key=key1)
    assert len(h.emu.log("runtime")) == 2  # refused requests never reach Bedrock


def test_serve_refuses_public_listen_without_keys(h):
    for addr in ("0.0.0.0:0", "[::]:0"):
        r = h.brock(["serve", "--listen", addr], timeout=10)
        assert r.rc == 2, r
        assert "without API keys" in r.stderr, r
    # with a key it would listen: not tested (it must not open a public port here)
    r = h.brock(["serve", "--listen", "nonsense"], timeout=10)
    assert r.rc == 2, r
    r = h.brock(["serve", "--bogus"], timeout=10)
    assert r.rc == 2, r


def test_serve_config_listen(h):
    h.brock_config('{serve: {listen: "127.0.0.1:0"}}')
    p = h.spawn(["serve"])
    s = Serve(h, p).wait_ready()
    assert s.request("GET", "/healthz")[0] == 200


def test_serve_ipv6_loopback(h):
    try:
        sock = socket.socket(socket.AF_INET6)
        sock.bind(("::1", 0))
        sock.close()
    except OSError:
        h.skip("no IPv6 loopback")
    p = h.spawn(["serve", "--listen", "[::1]:0"])
    s = Serve(h, p).wait_ready()
    assert s.host == "[::1]", s.stderr()
    c = http.client.HTTPConnection("::1", s.port, timeout=10)
    c.request("GET", "/healthz")
    assert c.getresponse().status == 200
    c.close()


def test_serve_body_too_large_404_405(h):
    s = serve(h)
    big = b"x" * (8 * 1024 * 1024 + 1)
    c = s.conn()
    try:
        c.request("POST", "/v1/chat/completions", body=big, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        st, data = r.status, r.read()
    except (BrokenPipeError, ConnectionResetError):
        h.skip("connection reset before the 413 could be read")
    assert st == 413, data
    assert json.loads(data)["error"]["type"] == "invalid_request_error", data
    c.close()
    st, _, data = s.request("GET", "/v1/nope")
    assert st == 404 and json.loads(data)["error"]["message"], data
    st, hdrs, data = s.request("GET", "/v1/chat/completions")
    assert st == 405 and "POST" in hdrs["allow"], (st, hdrs, data)
    st, _, data = s.request("POST", "/v1/models", b"{}")
    assert st == 405, data
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/chat/completions",code="413"} 1' in m, m
    assert 'brock_requests_total{route="other",code="404"} 1' in m, m


def test_serve_keep_alive(h):
    h.emu.config(reply_text="ok")
    s = serve(h)
    c = s.conn()
    for i in range(5):
        st, hdrs, data = s.chat(user("n%d" % i), conn=c)
        assert st == 200, data
        assert hdrs.get("connection") == "keep-alive", hdrs
    st, _, _ = s.request("GET", "/healthz", conn=c)
    assert st == 200
    c.close()
    m = s.metrics()
    assert metric(m, "brock_connections_total") == 2, m  # this one and the metrics request


def _stream_text(s, i, results):
    try:
        body = user("client %d" % i)
        body["stream"] = True
        st, _, data = s.chat(body)
        ev = sse_events(data)
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in ev[:-1] if c["choices"])
        results[i] = (st, text, ev[-1])
    except Exception as ex:  # noqa: BLE001
        results[i] = ("exception", repr(ex), None)


def test_serve_ten_concurrent_streams(h):
    h.emu.config(deltas=8, event_delay=0.05)
    s = serve(h)
    results = {}
    threads = [threading.Thread(target=_stream_text, args=(s, i, results)) for i in range(10)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    mid = s.metrics()
    for t in threads:
        t.join(60)
    for i in range(10):
        assert results[i] == (200, "You said: client %d" % i, "[DONE]"), results[i]
    assert 1 <= metric(mid, "brock_active_streams") <= 10, mid
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/chat/completions",code="200"} 10' in m, m
    assert metric(m, "brock_active_streams") == 0, m
    assert metric(m, "brock_upstream_latency_seconds_count") == 10, m


def test_serve_sigterm_drains_stream(h):
    h.emu.config(reply_chunks=["a", "b", "c", "d", "e"], event_delay=0.3)
    s = serve(h)
    results = {}
    t = threading.Thread(target=_stream_text, args=(s, 0, results))
    t.start()
    time.sleep(0.5)
    os.kill(s.p.pid, signal.SIGTERM)
    time.sleep(0.3)
    # every new request, /healthz too, is a 503 with Connection: close (a load
    # balancer sees the drain)
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    assert r.status == 503 and r.getheader("Connection") == "close", (r.status, r.getheaders())
    r.read()
    conn.close()
    t.join(30)
    assert results[0] == (200, "abcde", "[DONE]"), results
    assert s.p.wait(10) == 0, s.stderr()


def test_serve_client_disconnect_mid_stream(h):
    h.emu.config(reply_chunks=["x%d " % i for i in range(20)], event_delay=0.1)
    s = serve(h)
    body = user("x")
    body["stream"] = True
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    data = json.dumps(body).encode()
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(data) + data)
    got = sock.recv(4096)
    assert got.startswith(b"HTTP/1.1 200"), got
    sock.close()
    time.sleep(0.8)
    assert s.p.poll() is None, s.stderr()
    h.emu.config(reply_chunks=None, reply_text="still here", event_delay=0)
    st, _, data = s.chat(user("next"))
    assert st == 200 and json.loads(data)["choices"][0]["message"]["content"] == "still here", data
    # the upstream call was abandoned early, not read to the end
    e = [x for x in h.emu.log("runtime") if x["route"] == "converse-stream"][0]
    assert e.get("events_sent", 0) < 20, e
    m = s.metrics()
    assert metric(m, "brock_client_disconnects_total") == 1, m
    assert metric(m, "brock_active_streams") == 0, m


def test_serve_no_secrets_in_output(h):
    """-v logs requests; never the key, the Authorization header or AWS secrets."""
    key = h.secret("sk-verbose-key-000042")
    s = serve(h, args=[], env={"BROCK_API_KEYS": key})
    p2 = h.spawn(["-v", "serve", "--listen", "127.0.0.1:0"], env={"BROCK_API_KEYS": key, "AWS_MAX_ATTEMPTS": "1"})
    s2 = Serve(h, p2).wait_ready()
    for srv in (s, s2):
        assert srv.chat(user("hi"), key=key)[0] == 200
        assert srv.chat(user("hi"), key="bad-" + key)[0] == 401
    err = s2.stderr()
    assert "/v1/chat/completions -> 200" in err, err
    assert key not in err and h.emu.secret not in err, err
