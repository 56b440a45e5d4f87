"""brock serve under concurrent load (loopback only, bounded).

30 client threads x 20 requests each, mixing streamed and non-streamed chat, /v1/models, /metrics,
/healthz and bad requests (malformed JSON, missing fields, 404, 405, 401, 431, 413, garbage request
lines), plus clients that reset the connection in the middle of a stream. Every answer must have
the right OpenAI shape and carry the text of its own request (answers crossed between connections
would show), the server must stay up, its file descriptors must come back to the baseline (only
pooled upstream connections may remain) and /metrics must count exactly what was sent.

BROCK_STRESS_REPORT=path (in run.py's environment) writes the numbers (requests/s, RSS) as JSON.
Run it against the sanitizer builds too:
    python3 tests/integration/run.py --brock build/asan/brock -k stress
    python3 tests/integration/run.py --brock build/tsan/brock -k stress
"""

import http.client
import json
import os
import random
import re
import socket
import struct
import threading
import time

from test_serve import REF, metric, serve, sse_events

CLIENTS = int(os.environ.get("BROCK_STRESS_CLIENTS", "30"))  # more than 64: 503s (over the cap)
PER_CLIENT = int(os.environ.get("BROCK_STRESS_REQUESTS", "20"))
KEY = "sk-stress-key-0123456789"
POOL_MAX = 64  # CONN_POOL_MAX: idle upstream connections brock may keep
DEADLINE_S = 120  # whole-run bound (sanitizer builds are several times slower)


class Tally:
    def __init__(self):
        self.mu = threading.Lock()
        self.sent = 0          # HTTP requests completely sent (each one is counted once by brock)
        self.upstream = 0      # of those, chat requests that reach Bedrock
        self.chat200 = 0
        self.resets = 0        # streams abandoned with a reset
        self.busy = 0          # answered 503 (over the connection cap)
        self.lost = 0          # refused over the cap, the 503 lost (only with more clients than the cap)
        self.failures = []

    def add(self, **kw):
        with self.mu:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)

    def fail(self, what):
        with self.mu:
            if len(self.failures) < 20:
                self.failures.append(what)


class Busy(Exception):
    pass


class Lost(Exception):
    """Refused over the cap before the request was read: the 503 was lost in a reset."""


def _is_error(doc, status):
    assert isinstance(doc, dict) and set(doc) == {"error"}, (status, doc)
    err = doc["error"]
    assert set(err) >= {"message", "type", "param", "code"}, err
    assert isinstance(err["message"], str) and err["message"] and isinstance(err["type"], str), err


def _chat_body(prompt, stream, usage=False):
    b = {"model": REF, "messages": [{"role": "user", "content": prompt}]}
    if stream:
        b["stream"] = True
        if usage:
            b["stream_options"] = {"include_usage": True}
    return b


def _check_completion(data, prompt):
    doc = json.loads(data)
    assert doc["object"] == "chat.completion" and doc["id"].startswith("chatcmpl-"), doc
    assert doc["model"] == REF, doc
    msg = doc["choices"][0]["message"]
    assert msg["role"] == "assistant" and msg["content"] == "You said: " + prompt, (prompt, doc)
    assert doc["choices"][0]["finish_reason"] == "stop", doc
    assert doc["usage"]["completion_tokens"] > 0, doc


def _check_stream(data, prompt, usage):
    ev = sse_events(data)
    assert ev[-1] == "[DONE]", ev[-3:]
    chunks = ev[:-1]
    assert len({c["id"] for c in chunks}) == 1, chunks
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == REF for c in chunks), chunks
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "You said: " + prompt, (prompt, text)
    assert [c for c in chunks if c["choices"] and c["choices"][0].get("finish_reason")][-1][
        "choices"][0]["finish_reason"] == "stop", chunks
    assert len([c for c in chunks if not c["choices"]]) == (1 if usage else 0), chunks


def _raw(tally, port, data, timeout=60, rst_after_first=False):
    """Sends raw bytes; returns everything read until the server closes (or the first body bytes
    when rst_after_first: then the connection is reset, the way a killed client leaves)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    tally.add(sent=1)  # a connection brock accepted counts once, whatever becomes of it
    try:
        got = b""
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            # over the cap, brock reads what is there, answers 503 and closes: a bigger
            # request is reset (the answer may still be readable)
            try:
                got = s.recv(65536)
            except ConnectionResetError:
                pass
            if got.startswith(b"HTTP/1.1 503 "):
                raise Busy()
            raise Lost()
        while True:
            try:
                piece = s.recv(65536)
            except ConnectionResetError:
                break
            if not piece:
                break
            got += piece
            if rst_after_first and b"data: " in got:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                break
        return got
    finally:
        s.close()


def _raw_status(got):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", got)
    assert m, got[:200]
    head, _, body = got.partition(b"\r\n\r\n")
    if m.group(1) == b"503":
        _is_error(json.loads(body), 503)
        raise Busy()
    return int(m.group(1)), head, body


class Client:
    def __init__(self, s, n, tally, rnd):
        self.s, self.n, self.t, self.rnd = s, n, tally, rnd
        self.conn = None

    def http(self, method, path, body=None, key=KEY, headers=None):
        hdrs = dict(headers or {})
        if key:
            hdrs["Authorization"] = "Bearer " + key
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        for attempt in (0, 1):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if fresh:  # refused over the cap (counted by brock as a 503)
                    self.t.add(sent=1)
                    raise Lost()
                # a kept-alive connection the server closed in between: only before a byte of
                # the answer, and then the request was never read (so it is not counted)
                if attempt:
                    raise
                continue
            self.t.add(sent=1)
            if r.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            if r.status == 503:
                _is_error(json.loads(data), 503)
                raise Busy()
            return r.status, r, data

    def one(self, i):
        kind = self.rnd.choice(["stream", "stream", "stream_usage", "chat", "chat", "models", "metrics",
                                "healthz", "badjson", "nomodel", "404", "405", "401", "reset",
                                "reset", "431", "413", "garbage", "http10"])
        prompt = "client %d request %d %s" % (self.n, i, "x" * self.rnd.randint(0, 40))
        port = self.s.port
        if kind in ("reset", "431", "413", "garbage", "http10") and self.conn:
            self.conn.close()  # one connection per client at a time: 30 clients stay under the cap
            self.conn = None
        if kind in ("stream", "stream_usage"):
            usage = kind == "stream_usage"
            st, r, data = self.http("POST", "/v1/chat/completions", _chat_body(prompt, True, usage))
            self.t.add(upstream=1)
            assert st == 200 and r.getheader("Content-Type") == "text/event-stream", (st, data[:300])
            _check_stream(data, prompt, usage)
            self.t.add(chat200=1)
        elif kind == "chat":
            st, r, data = self.http("POST", "/v1/chat/completions", _chat_body(prompt, False))
            self.t.add(upstream=1)
            assert st == 200, (st, data[:300])
            _check_completion(data, prompt)
            self.t.add(chat200=1)
        elif kind == "models":
            st, _, data = self.http("GET", "/v1/models")
            doc = json.loads(data)
            assert st == 200 and doc["object"] == "list" and any(m["id"] == REF for m in doc["data"]), data[:300]
        elif kind == "metrics":
            st, r, data = self.http("GET", "/metrics")
            assert st == 200 and r.getheader("Content-Type").startswith("text/plain"), st
            assert "brock_requests_total{" in data.decode(), data[:300]
        elif kind == "healthz":
            st, _, data = self.http("GET", "/healthz", key=None)
            assert st == 200 and json.loads(data) == {"status": "ok"}, data
        elif kind == "badjson":
            st, _, data = self.http("POST", "/v1/chat/completions", b"{\"model\": \"x\", nope",
                                    headers={"Content-Type": "application/json"})
            assert st == 400, (st, data)
            _is_error(json.loads(data), st)
        elif kind == "nomodel":
            st, _, data = self.http("POST", "/v1/chat/completions", {"messages": []})
            assert st == 400, (st, data)
            _is_error(json.loads(data), st)
        elif kind == "404":
            st, _, data = self.http("GET", "/v1/nothing/%d" % i)
            assert st == 404, (st, data)
            _is_error(json.loads(data), st)
        elif kind == "405":
            st, r, data = self.http("DELETE", "/v1/chat/completions")
            assert st == 405 and "POST" in r.getheader("Allow"), (st, data)
            _is_error(json.loads(data), st)
        elif kind == "401":
            st, _, data = self.http("POST", "/v1/chat/completions", _chat_body(prompt, False),
                                    key="sk-wrong-%d" % i)
            assert st == 401, (st, data)
            _is_error(json.loads(data), st)
        elif kind == "reset":
            body = json.dumps(_chat_body(prompt, True)).encode()
            got = _raw(self.t, port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                       + KEY.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                       % len(body) + body, rst_after_first=True)
            if got.startswith(b"HTTP/1.1 503 "):
                raise Busy()
            self.t.add(upstream=1, resets=1)
            assert got.startswith(b"HTTP/1.1 200 "), got[:300]
        elif kind == "431":
            got = _raw(self.t, port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
            st, head, body = _raw_status(got)
            assert st == 431 and b"Connection: close" in head, got[:300]
            _is_error(json.loads(body), st)
        elif kind == "413":
            # with the key (without one it is a 401: the key is checked first)
            got = _raw(self.t, port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n"
                       b"Authorization: Bearer " + KEY.encode() +
                       b"\r\nContent-Type: application/json\r\n\r\n{\"model\":")
            st, _, body = _raw_status(got)
            assert st == 413, got[:300]
            _is_error(json.loads(body), st)
        elif kind == "garbage":
            got = _raw(self.t, port, b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n")
            st, _, body = _raw_status(got)
            assert st == 400, got[:300]
            _is_error(json.loads(body), st)
        elif kind == "http10":  # no chunked encoding: the raw stream, then the close
            body = json.dumps(_chat_body(prompt, True)).encode()
            got = _raw(self.t, port, b"POST /v1/chat/completions HTTP/1.0\r\nAuthorization: Bearer " + KEY.encode()
                       + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            st, head, data = _raw_status(got)
            self.t.add(upstream=1)
            assert st == 200 and b"Transfer-Encoding" not in head, got[:300]
            _check_stream(data, prompt, False)
            self.t.add(chat200=1)

    def run(self):
        for i in range(PER_CLIENT):
            try:
                self.one(i)
            except Busy:
                self.t.add(busy=1)
            except Lost:
                self.t.add(lost=1)
                if CLIENTS <= 50:
                    self.t.fail("client %d request %d: connection reset without an answer" % (self.n, i))
            except Exception as ex:  # noqa: BLE001
                self.t.fail("client %d request %d: %r" % (self.n, i, ex))
                if self.conn:
                    self.conn.close()
                    self.conn = None
        if self.conn:
            self.conn.close()


def _fds(pid, port):
    """(non-socket fds, server-side client sockets, other sockets) of pid."""
    inodes = {}
    for fn in ("/proc/%d/net/tcp" % pid, "/proc/%d/net/tcp6" % pid):
        try:
            with open(fn) as f:
                for line in f.readlines()[1:]:
                    p = line.split()
                    lport = int(p[1].rsplit(":", 1)[1], 16)
                    state = p[3]
                    inodes[p[9]] = (lport, state)
        except OSError:
            pass
    files, clients, other = [], [], []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", target)
        if not m:
            files.append(target)
        elif inodes.get(m.group(1), (0, ""))[0] == port and inodes[m.group(1)][1] != "0A":  # not LISTEN
            clients.append(target)
        else:
            other.append(target)
    return sorted(files), clients, other


def _rss_kib(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "Threads:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])
    return out


def test_serve_stress(h):
    # ad hoc variants (shared state under load): BROCK_STRESS_EMU='{"clock_skew": 900}',
    # BROCK_STRESS_SERVE_ENV='{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "{emu_http}/creds/", ...}',
    # BROCK_STRESS_CONFIG='{models: {bedrockDiscovery: {refreshInterval: 1}}}'
    h.emu.config(deltas=6, event_delay=0.01, **json.loads(os.environ.get("BROCK_STRESS_EMU", "{}")))
    senv = {"BROCK_API_KEYS": h.secret(KEY)}
    for k, v in json.loads(os.environ.get("BROCK_STRESS_SERVE_ENV", "{}")).items():
        senv[k] = None if v is None else v.replace("{emu_http}", h.emu.http).replace(
            "{container_token}", h.emu.defaults["container_token"])
    if os.environ.get("BROCK_STRESS_CONFIG"):
        h.brock_config(os.environ["BROCK_STRESS_CONFIG"])
    s = serve(h, env=senv)
    pid = s.p.pid
    # warm up (the upstream pool, the discovery cache), then the baseline
    c = Client(s, -1, Tally(), random.Random(0))
    assert c.http("POST", "/v1/chat/completions", _chat_body("warm", False))[0] == 200
    assert c.http("GET", "/v1/models")[0] == 200
    c.conn.close()
    time.sleep(0.3)
    base_files, base_clients, base_other = _fds(pid, s.port)
    assert base_clients == [], base_clients
    rss0 = _rss_kib(pid)
    m0 = s.metrics(key=KEY)
    n0 = sum(float(line.split()[-1]) for line in m0.splitlines() if line.startswith("brock_requests_total{"))

    tally = Tally()
    clients = [Client(s, i, tally, random.Random(1000 + i)) for i in range(CLIENTS)]
    threads = [threading.Thread(target=cl.run, daemon=True) for cl in clients]
    peak = dict(rss0)
    t0 = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        assert time.monotonic() - t0 < DEADLINE_S, "the stress did not finish in %d s" % DEADLINE_S
        try:
            r = _rss_kib(pid)
            peak = {k: max(peak.get(k, 0), v) for k, v in r.items()}
        except OSError:
            break
        time.sleep(0.1)
    elapsed = time.monotonic() - t0
    assert not tally.failures, "\n".join(tally.failures)
    assert s.p.poll() is None, s.stderr()[-3000:]

    # every connection thread gone; then the counters must add up exactly
    t1 = time.monotonic()
    polls = 0
    while True:
        files, cl, other = _fds(pid, s.port)
        m = s.metrics(key=KEY)
        polls += 1
        if not cl and metric(m, "brock_active_streams") == 0:
            break
        assert time.monotonic() - t1 < 15, (cl, m)
        time.sleep(0.2)
    files, cl, other = _fds(pid, s.port)
    assert files == base_files, (base_files, files)
    assert len(other) <= len(base_other) + POOL_MAX, (base_other, other)
    n1 = sum(float(line.split()[-1]) for line in m.splitlines() if line.startswith("brock_requests_total{"))
    # counted too: the request that read m0, and the polls above but the last one
    assert n1 - n0 == 1 + tally.sent + polls - 1, (n0, n1, tally.sent, polls)
    n_chat200 = metric(m, 'brock_requests_total{route="/v1/chat/completions",code="200"}')
    assert n_chat200 == 1 + tally.chat200 + tally.resets, (n_chat200, tally.chat200, tally.resets)
    assert metric(m, "brock_upstream_latency_seconds_count") == 1 + tally.upstream, m
    assert metric(m, "brock_client_disconnects_total") == tally.resets, (tally.resets, m)
    assert metric(m, "brock_connections_rejected_total") == tally.busy + tally.lost, (tally.busy, tally.lost, m)
    assert CLIENTS > 50 or tally.busy == 0, tally.busy
    assert s.request("GET", "/healthz")[0] == 200
    assert "ThreadSanitizer" not in s.stderr() and "AddressSanitizer" not in s.stderr(), s.stderr()[-3000:]

    report = os.environ.get("BROCK_STRESS_REPORT")
    if report:
        with open(report, "w") as f:
            json.dump({"brock": h.brock_path, "requests": tally.sent, "seconds": round(elapsed, 2),
                       "requests_per_s": round(tally.sent / elapsed, 1), "resets": tally.resets, "busy": tally.busy, "lost": tally.lost,
                       "rss_kib_before": rss0.get("VmRSS"), "rss_kib_peak": peak.get("VmRSS"),
                       "hwm_kib": _rss_kib(pid).get("VmHWM"), "threads_peak": peak.get("Threads"),
                       "fds_before": len(base_files) + len(base_other),
                       "fds_after": len(files) + len(other) + len(cl)}, f)


test_serve_stress.timeout = 240


def test_serve_idle_keepalive_yields_at_cap(h):
    """64 kept-alive connections sitting idle (an SDK's pool) fill the cap: a newcomer takes the
    slot of one of them instead of a 503."""
    s = serve(h)
    conns = []
    try:
        for i in range(64):
            c = s.conn(timeout=30)
            st, _, _ = s.request("GET", "/healthz", conn=c)
            assert st == 200, i
            conns.append(c)
        st, _, data = s.chat({"model": REF, "messages": [{"role": "user", "content": "room?"}]})
        assert st == 200 and json.loads(data)["choices"][0]["message"]["content"] == "You said: room?", data
        m = s.metrics()
        assert metric(m, "brock_connections_rejected_total") == 0, m
        # the others are still open and usable
        alive = 0
        for c in conns:
            try:
                alive += s.request("GET", "/healthz", conn=c)[0] == 200
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                c.close()
        assert alive >= 61, alive
    finally:
        for c in conns:
            c.close()


def test_serve_no_credentials_is_502(h):
    """The gateway's own AWS credentials fail: a 502 OpenAI error that says why, and the server
    keeps serving."""
    s = serve(h, env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
    for stream in (False, True):
        body = {"model": REF, "messages": [{"role": "user", "content": "x"}], "stream": stream}
        st, hdrs, data = s.chat(body)
        assert st == 502 and hdrs["content-type"].startswith("application/json"), (st, data)
        err = json.loads(data)["error"]
        assert err["code"] == "upstream_auth_error" and err["type"] == "server_error", err
        assert "no AWS credentials found" in err["message"], err
    st, _, data = s.request("GET", "/v1/models")  # not an empty 200 list
    err = json.loads(data)["error"]
    assert st == 502 and "no AWS credentials" in err["message"], data
    assert err["code"] == "upstream_auth_error", err
    assert not h.emu.log("runtime")
    assert s.request("GET", "/healthz")[0] == 200


def test_serve_discovery_failure_models_is_error(h):
    """ListFoundationModels fails (no cache yet): /v1/models is an OpenAI error naming the cause;
    chat does not need discovery and still works."""
    h.brock_config("{ models: { bedrockDiscovery: { refreshInterval: 0 } } }")
    h.emu.config(fail_next=1, fail_route="foundation-models", fail_status=403,
                 fail_type="AccessDeniedException", fail_message="not allowed to list models")
    s = serve(h)
    st, hdrs, data = s.request("GET", "/v1/models")
    err = json.loads(data)["error"]
    # the gateway's own identity lacks a permission: not the client's fault (502)
    assert st == 502 and "AccessDeniedException: not allowed to list models" in err["message"], (st, data)
    assert "discovery" in err["message"] and err["type"] == "server_error", err
    st, _, data = s.chat({"model": REF, "messages": [{"role": "user", "content": "still"}]})
    assert st == 200, data
    h.emu.config(fail_next=1, fail_route="foundation-models", fail_status=500,
                 fail_type="InternalServerException", fail_message="boom")
    st, _, data = s.request("GET", "/v1/models")
    assert st in (500, 502) and "boom" in json.loads(data)["error"]["message"], (st, data)
