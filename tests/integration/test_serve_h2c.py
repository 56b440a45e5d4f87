"""brock serve over cleartext HTTP/2 with prior knowledge (SPEC 7.3): a connection that opens with
the client preface is served as HTTP/2 by the same routes.

The client is Python's h2 library (Debian python3-h2, not the standard library: the tests skip
without it); a few tests write raw frames to see the server's GOAWAY codes, and one runs Node's
built-in http2 client."""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import harness
from test_serve import REF, metric, serve, sse_events, user

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.settings
except ImportError:  # a Python of its own (pyenv) next to Debian's packages
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import h2.config
        import h2.connection
        import h2.events
        import h2.settings
    except ImportError:
        h2 = None

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def need_h2():
    if h2 is None:
        raise harness.Skip("python3-h2 is not installed")


class H2:
    """One HTTP/2 connection driven by h2's state machine; streams collected in self.st."""

    def __init__(self, port, settings=None):
        need_h2()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.c = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.c.initiate_connection()
        if settings:
            self.c.update_settings(settings)
        self.flush()
        self.st = {}
        self.no_ack = set()
        self.pings = 0
        self.remote_settings = None

    def flush(self):
        d = self.c.data_to_send()
        if d:
            self.sock.sendall(d)

    def request(self, method, path, headers=(), body=None, key=None, end=True):
        sid = self.c.get_next_available_stream_id()
        hd = [(":method", method), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path)]
        hd += list(headers)
        if key:
            hd.append(("authorization", "Bearer " + key))
        self.st[sid] = {"status": None, "headers": {}, "data": b"", "ended": False, "reset": None}
        self.c.send_headers(sid, hd, end_stream=body is None and end)
        self.flush()
        if body is not None:
            self.send_body(sid, body)
        return sid

    def send_body(self, sid, body):
        off = 0
        while off < len(body):
            n = min(self.c.local_flow_control_window(sid), self.c.max_outbound_frame_size, len(body) - off)
            if n <= 0:
                self.pump()  # waits for the server's WINDOW_UPDATE
                continue
            self.c.send_data(sid, body[off:off + n])
            off += n
            self.flush()
        self.c.end_stream(sid)
        self.flush()

    def pump(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the server closed the connection")
        for ev in self.c.receive_data(data):
            self.on(ev)
        self.flush()

    def on(self, ev):
        s = self.st.get(getattr(ev, "stream_id", None))
        if isinstance(ev, h2.events.ResponseReceived):
            s["headers"] = dict(ev.headers)
            s["status"] = int(s["headers"][":status"])
        elif isinstance(ev, h2.events.DataReceived):
            s["data"] += ev.data
            if ev.stream_id not in self.no_ack:
                self.c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            s["ended"] = True
        elif isinstance(ev, h2.events.StreamReset):
            s["reset"] = ev.error_code
        elif isinstance(ev, h2.events.PingAckReceived):
            self.pings += 1
        elif isinstance(ev, h2.events.RemoteSettingsChanged):
            self.remote_settings = {k: v.new_value for k, v in ev.changed_settings.items()}

    def wait(self, sid):
        s = self.st[sid]
        while not s["ended"] and s["reset"] is None:
            self.pump()
        return s

    def get(self, path, **kw):
        return self.wait(self.request("GET", path, **kw))

    def close(self):
        self.sock.close()


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def read_frames(sock, until, timeout=10):
    """Raw frames (type, flags, stream, payload) until until(frames) or EOF."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while not until(out):
        try:
            d = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not d:
            break
        buf += d
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            out.append((buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7fffffff, buf[9:9 + n]))
            buf = buf[9 + n:]
    return out


def goaway_of(frames):
    for t, _, _, p in frames:
        if t == 7:
            return int.from_bytes(p[:4], "big"), int.from_bytes(p[4:8], "big")
    return None


def chat_body(text, stream=True):
    b = user(text)
    b["stream"] = stream
    return json.dumps(b).encode()


JSON = [("content-type", "application/json")]

# ---------------------------------------------------------------------------


def test_h2c_healthz_models_ping(h):
    s = serve(h)
    c = H2(s.port)
    r = c.get("/healthz")
    assert r["status"] == 200 and json.loads(r["data"]) == {"status": "ok"}, r
    assert r["headers"]["content-type"] == "application/json", r
    assert "connection" not in r["headers"], r  # no connection-specific fields in HTTP/2
    r = c.get("/v1/models")
    assert r["status"] == 200, r
    ids = [m["id"] for m in json.loads(r["data"])["data"]]
    assert REF in ids, ids
    assert int(r["headers"]["content-length"]) == len(r["data"]), r["headers"]
    assert c.remote_settings.get(h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS) == 100, c.remote_settings
    c.c.ping(b"12345678")
    c.flush()
    while c.pings == 0:
        c.pump()
    r = c.get("/no/such/route")
    assert r["status"] == 404 and json.loads(r["data"])["error"]["code"] == "not_found", r
    c.close()
    # HTTP/1.1 on the same listener as before
    st, _, data = s.request("GET", "/healthz")
    assert st == 200, data
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/models",code="200"} 1' in m, m


def test_h2c_chat_stream_and_non_stream(h):
    pieces = ["Hel", "lo ", "h2 ", "world"]
    h.emu.config(reply_chunks=pieces, usage={"inputTokens": 5, "outputTokens": 4})
    s = serve(h)
    c = H2(s.port)
    r = c.wait(c.request("POST", "/v1/chat/completions", JSON, chat_body("hi")))
    assert r["status"] == 200, r
    assert r["headers"]["content-type"] == "text/event-stream", r["headers"]
    assert "transfer-encoding" not in r["headers"], r["headers"]
    ev = sse_events(r["data"])
    assert ev[-1] == "[DONE]", ev
    text = "".join(x["choices"][0]["delta"].get("content") or "" for x in ev[:-1] if x["choices"])
    assert text == "".join(pieces), text
    h.emu.config(reply_chunks=None, reply_text="plain answer")
    r = c.wait(c.request("POST", "/v1/chat/completions", JSON, chat_body("again", stream=False)))
    assert r["status"] == 200, r
    assert json.loads(r["data"])["choices"][0]["message"]["content"] == "plain answer", r
    c.close()
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/chat/completions",code="200"} 2' in m, m
    assert metric(m, "brock_active_streams") == 0, m


def test_h2c_concurrent_streams_one_connection(h):
    h.emu.config(reply_chunks=["a", "b", "c", "d"], event_delay=0.1)
    s = serve(h)
    c = H2(s.port)
    sids = [c.request("POST", "/v1/chat/completions", JSON, chat_body("n%d" % i)) for i in range(8)]
    sids.append(c.request("GET", "/healthz"))
    for sid in sids:
        c.wait(sid)
    for sid in sids[:-1]:
        r = c.st[sid]
        assert r["status"] == 200 and r["ended"], r
        ev = sse_events(r["data"])
        assert ev[-1] == "[DONE]", ev
        text = "".join(x["choices"][0]["delta"].get("content") or "" for x in ev[:-1] if x["choices"])
        assert text == "abcd", (sid, text)
    assert c.st[sids[-1]]["status"] == 200
    c.close()
    assert len([e for e in h.emu.log("runtime") if e["route"] == "converse-stream"]) == 8
    assert "Sanitizer" not in s.stderr(), s.stderr()[-3000:]  # the sanitizer builds


def test_h2c_body_larger_than_window(h):
    h.emu.config(reply_text="got it")
    s = serve(h)
    c = H2(s.port)
    big = "x" * 300000  # well past the 65,535-byte initial stream window
    body = json.dumps(user(big)).encode()
    r = c.wait(c.request("POST", "/v1/chat/completions", JSON + [("content-length", str(len(body)))], body))
    assert r["status"] == 200, r
    assert json.loads(r["data"])["choices"][0]["message"]["content"] == "got it", r
    e = h.emu.log("runtime")[-1]
    assert json.loads(e["body"])["messages"][0]["content"][0]["text"] == big
    c.close()


def test_h2c_body_too_large_413(h):
    s = serve(h)
    c = H2(s.port)
    # declared too large: refused at once, the body never read
    sid = c.request("POST", "/v1/chat/completions", JSON + [("content-length", str(8 * 2**20 + 1))], end=False)
    r = c.wait(sid)
    assert r["status"] == 413 and json.loads(r["data"])["error"]["type"] == "invalid_request_error", r
    # no content-length: refused once the DATA passes max_body
    sid = c.request("POST", "/v1/chat/completions", JSON, end=False)
    chunk, sent = b"x" * 16384, 0
    while c.st[sid]["status"] is None and c.st[sid]["reset"] is None and sent <= 8 * 2**20 + 16384:
        n = min(c.c.local_flow_control_window(sid), c.c.max_outbound_frame_size, len(chunk))
        if n <= 0:
            c.pump()
            continue
        c.c.send_data(sid, chunk[:n])
        sent += n
        c.flush()
    r = c.wait(sid)
    assert r["status"] == 413, (sent, r)
    assert c.get("/healthz")["status"] == 200  # the connection goes on
    c.close()
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/chat/completions",code="413"} 2' in m, m


def test_h2c_client_reset_mid_stream(h):
    h.emu.config(reply_chunks=["x%d " % i for i in range(20)], event_delay=0.1)
    s = serve(h)
    c = H2(s.port)
    sid = c.request("POST", "/v1/chat/completions", JSON, chat_body("x"))
    while not c.st[sid]["data"]:
        c.pump()
    c.c.reset_stream(sid, 8)  # CANCEL
    c.flush()
    time.sleep(0.8)
    h.emu.config(reply_chunks=None, reply_text="still here", event_delay=0)
    r = c.wait(c.request("POST", "/v1/chat/completions", JSON, chat_body("next", stream=False)))
    assert r["status"] == 200 and json.loads(r["data"])["choices"][0]["message"]["content"] == "still here", r
    c.close()
    e = [x for x in h.emu.log("runtime") if x["route"] == "converse-stream"][0]
    assert e.get("events_sent", 0) < 20, e
    m = s.metrics()
    assert metric(m, "brock_client_disconnects_total") == 1, m
    assert metric(m, "brock_active_streams") == 0, m
    assert "Sanitizer" not in s.stderr(), s.stderr()[-3000:]  # the sanitizer builds


def test_h2c_slow_stream_does_not_block_another(h):
    h.emu.config(reply_chunks=["chunk %03d of a long answer " % i for i in range(60)])
    s = serve(h)
    need_h2()
    c = H2(s.port, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1024})
    a = c.request("POST", "/v1/chat/completions", JSON, chat_body("slow"))
    c.no_ack.add(a)  # stream a never gives its window back
    b = c.request("POST", "/v1/chat/completions", JSON, chat_body("fast"))
    rb = c.wait(b)
    assert rb["status"] == 200 and sse_events(rb["data"])[-1] == "[DONE]", rb
    ra = c.st[a]
    while not ra["data"]:  # a's first chunk may come after b's last (a socket timeout fails it)
        c.pump()
    assert not ra["ended"] and 0 < len(ra["data"]) <= 1024, (len(ra["data"]), ra["ended"])
    c.no_ack.discard(a)  # now read it all
    c.c.acknowledge_received_data(len(ra["data"]), a)
    c.flush()
    ra = c.wait(a)
    assert ra["ended"] and sse_events(ra["data"])[-1] == "[DONE]", ra
    c.close()
    assert "Sanitizer" not in s.stderr(), s.stderr()[-3000:]  # the sanitizer builds


def test_h2c_api_key_refusal(h):
    key = h.secret("sk-brock-h2-key-000123")
    s = serve(h, env={"BROCK_API_KEYS": key})
    c = H2(s.port)
    r = c.get("/v1/models")
    assert r["status"] == 401 and json.loads(r["data"])["error"]["code"] == "invalid_api_key", r
    assert r["headers"]["www-authenticate"] == "Bearer", r["headers"]
    # refused with its body unread: the answer, then the stream reset (NO_ERROR)
    sid = c.request("POST", "/v1/chat/completions", JSON + [("authorization", "Bearer wrong")],
                    chat_body("x"))
    r = c.wait(sid)
    assert r["status"] == 401, r
    r = c.get("/v1/models", key=key)
    assert r["status"] == 200, r
    r = c.wait(c.request("POST", "/v1/chat/completions", [("content-type", "text/plain")], b"{}", key=key))
    assert r["status"] == 415, r
    c.close()
    assert not [e for e in h.emu.log("runtime")]


def test_h2c_protocol_errors_goaway(h):
    s = serve(h)
    settings = frame(4, 0, 0)
    cases = [
        (b"", frame(6, 0, 0, b"12345678"), 1),                                # first frame not SETTINGS
        (settings, frame(1, 5, 2, b"\x82\x86\x84"), 1),                        # even stream id
        (settings, frame(0, 0, 0, b"x"), 1),                                   # DATA on stream 0
        (settings, frame(0, 1, 99, b"x"), 1),                                  # DATA on an idle stream
        (settings, frame(6, 0, 0, b"1234567890"), 6),                          # PING of 10 bytes
        (settings, frame(0, 0, 1, b"x" * 20000), 6),                           # over MAX_FRAME_SIZE
        (settings, frame(1, 5, 1, b"\xff\xff\xff\xff\xff\xff"), 9),            # HPACK garbage
        (settings, frame(8, 0, 0, struct.pack(">I", 0x7fffffff)), 3),         # window overflow
        (settings, frame(4, 0, 0, struct.pack(">HI", 4, 0x80000000)), 3),     # INITIAL_WINDOW_SIZE
    ]
    for first, bad, code in cases:
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        sock.sendall(PREFACE + first + bad)
        fr = read_frames(sock, lambda f: goaway_of(f) is not None)
        sock.close()
        assert fr and fr[0][0] == 4, fr  # our SETTINGS first
        assert goaway_of(fr) is not None and goaway_of(fr)[1] == code, (bad[:12], fr)
    # a preface that is not HTTP/2's after its first bytes is an HTTP/1.1 request (505)
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
    got = sock.recv(4096)
    sock.close()
    assert got.startswith(b"HTTP/1.1 4") or got.startswith(b"HTTP/1.1 505"), got
    # a malformed request (an uppercase field name) resets that stream only
    need_h2()
    import hpack
    enc = hpack.Encoder()
    get = [(":method", "GET"), (":scheme", "http"), (":path", "/healthz")]
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(PREFACE + settings + frame(1, 5, 1, enc.encode(get + [("X-Upper", "1")])) +
                 frame(1, 5, 3, enc.encode(get)))
    fr = read_frames(sock, lambda f: any(t == 0 and st == 3 and fl & 1 for t, fl, st, _ in f))
    sock.close()
    assert (3, 0, 1, struct.pack(">I", 1)) in fr, fr
    assert goaway_of(fr) is None, fr
    assert s.p.poll() is None, s.stderr()


def test_h2c_split_preface_and_reset_idle(h):
    s = serve(h)
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    for i in range(0, len(PREFACE), 5):  # the preface in pieces
        sock.sendall(PREFACE[i:i + 5])
        time.sleep(0.05)
    sock.sendall(frame(4, 0, 0) + frame(3, 0, 7, struct.pack(">I", 8)))  # RST_STREAM on an idle stream
    fr = read_frames(sock, lambda f: goaway_of(f) is not None)
    sock.close()
    assert goaway_of(fr) == (0, 1), fr


def test_h2c_sigterm_drain_goaway(h):
    h.emu.config(reply_chunks=["a", "b", "c", "d", "e"], event_delay=0.3)
    s = serve(h)
    need_h2()
    c = H2(s.port)
    sid = c.request("POST", "/v1/chat/completions", JSON, chat_body("drain"))
    while not c.st[sid]["data"]:
        c.pump()
    os.kill(s.p.pid, signal.SIGTERM)
    # raw frames from here: GOAWAY(last = our stream, NO_ERROR), then the rest of the stream
    fr = read_frames(c.sock, lambda f: any(t == 0 and fl & 1 and st == sid for t, fl, st, _ in f), timeout=20)
    assert goaway_of(fr) == (sid, 0), fr
    data = c.st[sid]["data"] + b"".join(p for t, _, st, p in fr if t == 0 and st == sid)
    ev = sse_events(data)
    assert ev[-1] == "[DONE]", ev
    text = "".join(x["choices"][0]["delta"].get("content") or "" for x in ev[:-1] if x["choices"])
    assert text == "abcde", text
    c.close()
    assert s.p.wait(10) == 0, s.stderr()


NODE = r"""
const http2 = require('http2');
const c = http2.connect(process.argv[1]);
c.on('error', (e) => { console.error(e.message); process.exit(2); });
const r = c.request({':path': '/v1/models'});
let status = 0, body = '';
r.on('response', (h) => { status = h[':status']; });
r.setEncoding('utf8');
r.on('data', (d) => { body += d; });
r.on('end', () => { console.log(JSON.stringify({status, n: JSON.parse(body).data.length})); c.close(); });
"""


def test_h2c_node_http2_client(h):
    node = subprocess.run(["sh", "-c", "command -v node"], capture_output=True, text=True).stdout.strip()
    if not node:
        raise harness.Skip("node is not installed")
    s = serve(h)
    r = subprocess.run([node, "-e", NODE, "http://127.0.0.1:%d" % s.port], capture_output=True, text=True,
                       timeout=30, env={"PATH": os.environ.get("PATH", "")})
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == 200 and out["n"] > 10, out


def test_h2c_trusted_proxy_forwarded_for(h):
    h.brock_config('{serve: {trustedProxies: ["127.0.0.1"], log: "json"}}')
    s = serve(h)
    c = H2(s.port)
    for client in ("10.1.1.1", "10.2.2.2"):  # two clients multiplexed by one balancer connection
        assert c.get("/healthz", headers=[("x-forwarded-for", "203.0.113.9, " + client)])["status"] == 200
    c.close()
    for _ in range(100):
        lines = [json.loads(x) for x in s.stderr().splitlines() if x.startswith("{")]
        if len(lines) >= 2:
            break
        time.sleep(0.05)
    assert sorted(x["client"] for x in lines) == ["10.1.1.1", "10.2.2.2"], lines


def test_h2c_streams_and_resets_across_connections(h):
    """Three connections, 20 streams each, every other one reset after its first bytes: the
    others complete, the server stays up and counts nothing left open (run it under the TSan
    build too)."""
    h.emu.config(reply_chunks=["p%d " % i for i in range(10)], event_delay=0.05)
    s = serve(h)
    errors = []

    def one(k):
        try:
            c = H2(s.port)
            sids = [c.request("POST", "/v1/chat/completions", JSON, chat_body("c%d s%d" % (k, i)))
                    for i in range(20)]
            cut = set(sids[::2])
            while True:
                for sid in list(cut):
                    if c.st[sid]["data"]:
                        c.c.reset_stream(sid, 8)
                        c.flush()
                        cut.discard(sid)
                left = [sid for sid in sids if sid not in sids[::2] and not c.st[sid]["ended"]]
                if not left and not cut:
                    break
                c.pump()
            for sid in sids[1::2]:
                assert sse_events(c.st[sid]["data"])[-1] == "[DONE]", c.st[sid]
            c.close()
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))

    ts = [threading.Thread(target=one, args=(k,)) for k in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors
    for _ in range(100):
        m = s.metrics()
        if metric(m, "brock_active_streams") == 0:
            break
        time.sleep(0.1)
    assert metric(m, "brock_active_streams") == 0, m
    assert s.p.poll() is None, s.stderr()
    assert "Sanitizer" not in s.stderr(), s.stderr()[-3000:]


def test_h2c_passthrough_bad_crc_resets_the_stream(h):
    """The AWS SDK's path: a pass-through event stream over HTTP/2 whose third frame fails its CRC
    ends in RST_STREAM after the two good frames, never in END_STREAM."""
    from test_serve_pt import CONVERSE, ENC, frames
    h.emu.config(reply_chunks=["one", "two", "three"], corrupt_message_crc_at=2)
    s = serve(h)
    c = H2(s.port)
    r = c.wait(c.request("POST", "/model/%s/converse-stream" % ENC, JSON, json.dumps(CONVERSE).encode()))
    assert r["status"] == 200, r
    assert r["reset"] is not None and not r["ended"], r
    msgs = frames(r["data"])
    assert [m["headers"][":event-type"] for m in msgs] == ["messageStart", "contentBlockDelta"], msgs
    # the connection stays usable for other streams
    assert c.get("/healthz")["status"] == 200
    c.close()


def test_h2c_reset_flood_unread_goaway_calm(h):
    """A client that provokes stream errors (malformed requests, each answered by RST_STREAM) while
    reading nothing: past 1 MiB of unread output the server ends the connection with GOAWAY
    ENHANCE_YOUR_CALM (11) instead of queueing resets without bound (review fix in 0ff4bbd)."""
    s = serve(h)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # little room on our side
    sock.connect(("127.0.0.1", s.port))
    # GET / with an uppercase field name "X": malformed, a stream error (RST_STREAM 1)
    bad = b"\x82\x86\x84\x00\x01X\x01a"
    per = 4096
    sock.sendall(PREFACE + frame(4, 0, 0))
    sock.settimeout(3)
    sid, sent = 1, 0
    try:
        # up to 12 MB of requests (768k resets, 10 MB of answers): far past 1 MiB plus what the
        # kernel buffers; a server that stops reading ends this loop with a timeout or a reset
        while sent < 12 << 20:
            chunk = b"".join(frame(1, 5, sid + 2 * i, bad) for i in range(per))
            sid += 2 * per
            sock.sendall(chunk)
            sent += len(chunk)
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    fr_goaway = None
    resets = 0
    sock.settimeout(10)
    buf = b""
    while fr_goaway is None:
        try:
            d = sock.recv(1 << 20)
        except (socket.timeout, ConnectionResetError):
            break
        if not d:
            break
        buf += d
        off = 0
        while len(buf) - off >= 9:
            n = int.from_bytes(buf[off:off + 3], "big")
            if len(buf) - off < 9 + n:
                break
            t, p = buf[off + 3], buf[off + 9:off + 9 + n]
            if t == 3:
                resets += 1
            elif t == 7:
                fr_goaway = int.from_bytes(p[4:8], "big")
            off += 9 + n
        buf = buf[off:]
    sock.close()
    assert resets > 0, "no RST_STREAM for a malformed request"
    assert fr_goaway == 11, (fr_goaway, resets, sent)
    assert s.p.poll() is None, s.stderr()
    # the server still serves others
    st, _, _ = s.request("GET", "/healthz")
    assert st == 200


def test_h2c_idle_counts_from_the_last_stream(h):
    """The idle timeout (60 s without streams) counts from the last stream, not the last byte: a
    client that only sends PINGs after its last request still gets GOAWAY NO_ERROR, instead of
    holding the connection (and its slot) for ever (review fix in 0ff4bbd). Slow: about a minute."""
    s = serve(h)
    need_h2()
    c = H2(s.port)
    assert c.get("/healthz")["status"] == 200
    c.sock.settimeout(2)
    goaway, pings = None, 0
    t_end = time.monotonic() + 150  # far past the 60 s; a server that counts PINGs never ends it
    while goaway is None and time.monotonic() < t_end:
        c.c.ping(struct.pack(">Q", pings))
        pings += 1
        c.flush()
        try:
            data = c.sock.recv(65536)
        except socket.timeout:
            continue
        if not data:
            break
        for ev in c.c.receive_data(data):
            if isinstance(ev, h2.events.ConnectionTerminated):
                goaway = ev.error_code
        c.flush()
        time.sleep(1.5)
    c.close()
    assert goaway == 0, (goaway, pings)
    assert s.p.poll() is None, s.stderr()
