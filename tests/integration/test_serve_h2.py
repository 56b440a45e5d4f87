"""brock serve with an HTTP/2 upstream (SPEC 7.5): the emulator's h2 front (tests/emulator/h2front.py,
python3-h2) offers ALPN h2 and http/1.1 and counts connections, streams and resets; its plain https
port offers no ALPN (the gateway falls back to HTTP/1.1)."""

import json
import os
import selectors
import socket
import sys
import time

import test_serve_anth
import test_serve_policy
import test_serve_policy_routes
import test_serve_pt
from test_serve import serve, sse_events, user, metric


def h2(h, **kw):
    if not h.emu.info.get("https_h2"):
        h.skip("no python3-h2: the emulator has no h2 front")
    return h.emu._control("POST", "/_emu/h2", kw)


def h2_serve(h, env=None, **kw):
    h2(h, reset=True)
    e = {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": h.emu.info["https_h2"]}
    e.update(env or {})
    return serve(h, env=e, **kw)


def stream_body(text="hi"):
    b = user(text)
    b["stream"] = True
    return b


def wait_for(fn, want, tries=100):
    got = None
    for _ in range(tries):
        got = fn()
        if got == want:
            return got
        time.sleep(0.05)
    return got


def test_serve_h2_upstream_chosen(h):
    h.emu.config(reply_chunks=["Hel", "lo"])
    s = h2_serve(h)
    cc = s.conn()  # one client connection: one loop, so one upstream connection
    st, hd, data = s.chat(user("hi"), conn=cc)
    assert st == 200, data
    assert json.loads(data)["choices"][0]["message"]["content"] == "Hello"
    st, hd, data = s.chat(stream_body(), conn=cc)
    cc.close()
    assert st == 200 and hd["content-type"].startswith("text/event-stream"), data
    ev = sse_events(data)
    assert ev[-1] == "[DONE]", ev
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in ev[:-1]
                   if e["choices"]) == "Hello"
    c = h2(h)
    assert c["conns"] == 1 and c["h1_conns"] == 0 and c["streams"] == 2, c
    # the requests reached the emulator signed (the front forwards them)
    log = h.emu.log("runtime")
    assert [e["auth"]["verdict"] for e in log] == ["ok", "ok"], log
    assert metric(s.metrics(), "brock_open_streams") == 0


def test_serve_h2_fallback_when_h2_refused(h):
    """The plain https port offers no ALPN: HTTP/1.1 on a helper thread, same answers."""
    h.emu.config(reply_chunks=["ok"])
    h2(h, reset=True)
    s = serve(h)  # the default endpoint: e.https
    for body in (user("hi"), stream_body()):
        st, _, data = s.chat(body)
        assert st == 200, data
    assert b"[DONE]" in data
    c = h2(h)
    assert c["streams"] == 0, c


def _open_streams(port, n, body, path="/v1/chat/completions"):
    data = json.dumps(body).encode()
    req = (b"POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
           b"Connection: close\r\nContent-Length: %d\r\n\r\n" % (path.encode(), len(data)) + data)
    socks = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port), timeout=30)
        c.sendall(req)
        socks.append(c)
    return socks


def _read_all(socks, deadline_s=120):
    sel = selectors.DefaultSelector()
    got = {}
    for c in socks:
        c.setblocking(False)
        got[c] = b""
        sel.register(c, selectors.EVENT_READ)
    open_n = len(socks)
    deadline = time.monotonic() + deadline_s
    while open_n and time.monotonic() < deadline:
        for key, _ in sel.select(1):
            c = key.fileobj
            try:
                piece = c.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                piece = b""
            if piece:
                got[c] += piece
                continue
            sel.unregister(c)
            c.close()
            open_n -= 1
    for k in list(sel.get_map().values()):
        k.fileobj.close()
    return list(got.values())


def _concurrent(h, n, most_conns):
    h.emu.config(reply_chunks=["x", "y", "z"], event_delay=0.2)
    h.brock_config('{serve: {maxConnectionsPerIp: %d}}' % (n + 100))
    s = h2_serve(h)
    got = _read_all(_open_streams(s.port, n, stream_body()))
    done = sum(1 for v in got if v.startswith(b"HTTP/1.1 200 ") and b"data: [DONE]" in v)
    assert done == n, (done, [v[:300] for v in got if b"[DONE]" not in v][:3])
    c = h2(h)
    assert c["streams"] == n and 1 <= c["conns"] <= most_conns and c["h1_conns"] == 0, c
    assert c["max_open_streams"] > 1, c  # they did run side by side
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/chat/completions",code="200"} %d' % n in m, m
    assert metric(m, "brock_open_streams") == 0, m


def test_serve_h2_200_streams_share_few_connections(h):
    # one h2c per loop (one loop per core), 100 streams per connection (the front's limit)
    _concurrent(h, 200, 8)


def test_serve_h2_thousand_streams(h):
    """The bounded 1,000-stream run over HTTP/2 upstream."""
    _concurrent(h, 1000, 24)


def test_serve_h2_client_leaving_resets_upstream(h):
    h.emu.config(reply_chunks=["tick "] * 200, event_delay=0.05)
    s = h2_serve(h)
    c = _open_streams(s.port, 1, stream_body())[0]
    first = c.recv(4096)
    assert first.startswith(b"HTTP/1.1 200 "), first
    c.close()
    got = wait_for(lambda: h2(h)["resets"], 1)
    assert got == 1, h2(h)
    assert wait_for(lambda: metric(s.metrics(), "brock_open_streams"), 0) == 0


def test_serve_h2_goaway_moves_new_streams(h):
    h.emu.config(reply_chunks=["a", "b", "c"], event_delay=0.05)
    s = h2_serve(h)
    h2(h, goaway=1)
    cc = s.conn()  # one client connection: one loop
    st, _, data = s.chat(stream_body(), conn=cc)  # in flight at the GOAWAY: finishes
    assert st == 200 and b"[DONE]" in data, data
    st, _, data = s.chat(stream_body(), conn=cc)  # on a new connection
    assert st == 200 and b"[DONE]" in data, data
    cc.close()
    c = h2(h)
    assert c["streams"] == 2 and c["conns"] == 2, c


def test_serve_h2_slow_client_stalls_only_its_stream(h):
    """A client that reads nothing holds its own upstream stream (no window granted); another
    stream finishes meanwhile (on the same upstream connection when both clients landed on the
    same event loop; test_h2c checks that case directly); the slow one completes once it reads."""
    big = "z" * 1000
    h.emu.config(reply_chunks=[big] * 3000, event_delay=0)
    s = h2_serve(h)
    slow = _open_streams(s.port, 1, stream_body())[0]
    time.sleep(0.5)  # the slow stream fills its window and the client's socket
    h.emu.config(reply_chunks=["quick"], event_delay=0)
    st, _, data = s.chat(stream_body())
    assert st == 200 and b"quick" in data and b"[DONE]" in data, data
    got = _read_all([slow])[0]
    assert got.startswith(b"HTTP/1.1 200 ") and b"data: [DONE]" in got, (len(got), got[-200:], s.stderr()[-2000:])
    assert got.count(big.encode()) == 3000
    c = h2(h)
    # each event loop has its own upstream connections: the two clients may be on two loops
    assert 1 <= c["conns"] <= (os.cpu_count() or 1) and c["streams"] == 2, c


# ---------------------------------------------------------------------------
# The other routes on the loop: each test of their own suite again, with the runtime endpoint at
# the h2 front. The front counts HTTP/1.1 connections: none means no call took the blocking path.

def _over_h2(h, fn, mods=None, h1=0):
    """fn(h) with every serve() of mods (default: fn's own module) at the h2 front; h1: calls
    that still take the blocking path (/v1/messages/count_tokens)."""
    h2(h, reset=True)
    mods = mods or [sys.modules[fn.__module__]]
    origs = [m.serve for m in mods]

    def wrap(orig):
        def on_h2(hh, args=(), env=None):
            e = {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": h.emu.info["https_h2"]}
            e.update(env or {})
            return orig(hh, args, e)
        return on_h2

    for m, o in zip(mods, origs):
        m.serve = wrap(o)
    try:
        fn(h)
    finally:
        for m, o in zip(mods, origs):
            m.serve = o
    c = h2(h)
    assert c["h1_conns"] <= h1 and c["streams"] > 0, c


def test_serve_h2_pt_converse_and_invoke(h):
    _over_h2(h, test_serve_pt.test_pt_converse_and_invoke)


def test_serve_h2_pt_streams_relayed(h):
    _over_h2(h, test_serve_pt.test_pt_streams_relayed_frame_by_frame)


def test_serve_h2_pt_bad_crc(h):
    _over_h2(h, test_serve_pt.test_pt_bad_crc_closes_the_connection)


def test_serve_h2_pt_credentials_and_key(h):
    _over_h2(h, test_serve_pt.test_pt_client_credentials_dropped_key_checked)


def test_serve_h2_pt_content_types(h):
    _over_h2(h, test_serve_pt.test_pt_content_types_and_routes)


def test_serve_h2_pt_errors_relayed(h):
    _over_h2(h, test_serve_pt.test_pt_upstream_errors_relayed)


def test_serve_h2_pt_policy(h):
    _over_h2(h, test_serve_policy_routes.test_serve_policy_passthrough, [test_serve_policy])


def test_serve_h2_pt_retry_then_answer(h):
    """A throttled attempt is retried on a loop timer; the second one answers."""
    h.emu.config(fail_next=1, fail_route="runtime", fail_status=429, fail_message="Rate exceeded",
                 reply_chunks=["ok"])
    s = h2_serve(h, env={"AWS_MAX_ATTEMPTS": "2"})
    st, hdrs, data = test_serve_pt.post(s, "converse-stream", test_serve_pt.CONVERSE)
    assert st == 200 and hdrs["content-type"] == "application/vnd.amazon.eventstream", data
    assert test_serve_pt.frames(data)[-1]["headers"][":event-type"] == "metadata"
    c = h2(h)
    assert c["streams"] == 2 and c["h1_conns"] == 0, c


def test_serve_h2_pt_client_leaving_resets_upstream(h):
    h.emu.config(reply_chunks=["tick "] * 200, event_delay=0.05)
    s = h2_serve(h)
    c = _open_streams(s.port, 1, test_serve_pt.CONVERSE,
                      "/model/%s/converse-stream" % test_serve_pt.ENC)[0]
    first = c.recv(4096)
    assert first.startswith(b"HTTP/1.1 200 "), first
    c.close()
    assert wait_for(lambda: h2(h)["resets"], 1) == 1, h2(h)
    assert wait_for(lambda: metric(s.metrics(), "brock_open_streams"), 0) == 0


def test_serve_h2_pt_streams_share_few_connections(h):
    n = 200
    h.emu.config(reply_chunks=["x", "y", "z"], event_delay=0.2)
    h.brock_config('{serve: {maxConnectionsPerIp: %d}}' % (n + 100))
    s = h2_serve(h)
    got = _read_all(_open_streams(s.port, n, test_serve_pt.CONVERSE,
                                  "/model/%s/converse-stream" % test_serve_pt.ENC))
    done = sum(1 for v in got if v.startswith(b"HTTP/1.1 200 ") and v.endswith(b"\r\n0\r\n\r\n"))
    assert done == n, (done, [v[:300] for v in got][:3])
    c = h2(h)
    assert c["streams"] == n and 1 <= c["conns"] <= 8 and c["h1_conns"] == 0, c
    assert c["max_open_streams"] > 1, c
    m = s.metrics()
    assert 'brock_requests_total{route="/model/{id}/converse-stream",code="200"} %d' % n in m, m
    assert metric(m, "brock_open_streams") == 0, m


# /v1/messages: Claude through InvokeModel(WithResponseStream), the others through Converse(Stream)

def test_serve_h2_anth_claude_non_stream(h):
    _over_h2(h, test_serve_anth.test_anth_claude_non_stream)


def test_serve_h2_anth_claude_stream_thinking_tools_cache(h):
    _over_h2(h, test_serve_anth.test_anth_claude_stream_thinking_tools_cache)


def test_serve_h2_anth_betas_filtered(h):
    _over_h2(h, test_serve_anth.test_anth_betas_filtered)


def test_serve_h2_anth_non_claude_stream_and_non_stream(h):
    _over_h2(h, test_serve_anth.test_anth_non_claude_stream_and_non_stream)


def test_serve_h2_anth_non_claude_tool_use_stream(h):
    _over_h2(h, test_serve_anth.test_anth_non_claude_tool_use_stream)


def test_serve_h2_anth_errors_400_404(h):
    _over_h2(h, test_serve_anth.test_anth_errors_400_404)


def test_serve_h2_anth_upstream_429_before_and_after_the_head(h):
    _over_h2(h, test_serve_anth.test_anth_upstream_429_before_and_after_the_head)


def test_serve_h2_anth_converse_mid_stream_exception(h):
    _over_h2(h, test_serve_anth.test_anth_converse_mid_stream_exception)


def test_serve_h2_anth_keys_x_api_key_and_bearer(h):
    _over_h2(h, test_serve_anth.test_anth_keys_x_api_key_and_bearer)


def test_serve_h2_anth_ping_while_upstream_is_silent(h):
    _over_h2(h, test_serve_anth.test_anth_ping_while_upstream_is_silent)


def test_serve_h2_anth_betas_from_config(h):
    _over_h2(h, test_serve_anth.test_anth_betas_from_config)


def test_serve_h2_messages_policy_globs_rpm(h):
    _over_h2(h, test_serve_policy_routes.test_serve_policy_messages_globs_rpm, [test_serve_policy], h1=1)


def test_serve_h2_messages_policy_charged_budget(h):
    _over_h2(h, test_serve_policy_routes.test_serve_policy_messages_charged_budget, [test_serve_policy])


def test_serve_h2_messages_anthropic_name_hands_off(h):
    """An Anthropic model name needs the catalog (discovery may call out): the blocking path, over
    HTTP/1.1 to the front, the first time; a Bedrock id, and then the same name, stay on the loop."""
    s = h2_serve(h)
    st, _, data = test_serve_anth.messages(s, test_serve_anth.body(model="claude-sonnet-4-5"))
    assert st == 200, data
    c = h2(h)
    assert c["h1_conns"] >= 1 and c["streams"] == 0, c
    st, _, data = test_serve_anth.messages(s, test_serve_anth.body(stream=True))
    assert st == 200 and test_serve_anth.text_of(test_serve_anth.sse(data)), data
    assert h2(h)["streams"] == 1
    # the name is known now: the loop calls the id the catalog gave
    st, _, data = test_serve_anth.messages(s, test_serve_anth.body(model="claude-sonnet-4-5", stream=True))
    assert st == 200 and test_serve_anth.text_of(test_serve_anth.sse(data)), data
    c = h2(h)
    assert c["streams"] == 2 and c["h1_conns"] == 1, c
    ids = [e["model_id"] for e in h.emu.log() if e["route"] in ("invoke", "invoke-with-response-stream")]
    assert ids == [test_serve_anth.CLAUDE] * 3, ids


def _messages_raw(n, port, model):
    b = test_serve_anth.body(model=model, stream=True)
    data = json.dumps(b).encode()
    req = (b"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
           b"anthropic-version: 2023-06-01\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
           % len(data) + data)
    socks = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port), timeout=30)
        c.sendall(req)
        socks.append(c)
    return socks


def test_serve_h2_messages_client_leaving_resets_upstream(h):
    h.emu.config(reply_chunks=["tick "] * 200, event_delay=0.05)
    s = h2_serve(h)
    for model in (test_serve_anth.CLAUDE, test_serve_anth.NOVA):
        before = h2(h)["resets"]
        c = _messages_raw(1, s.port, model)[0]
        first = c.recv(4096)
        assert first.startswith(b"HTTP/1.1 200 "), first
        c.close()
        assert wait_for(lambda: h2(h)["resets"], before + 1) == before + 1, (model, h2(h))
        assert wait_for(lambda: metric(s.metrics(), "brock_open_streams"), 0) == 0


def test_serve_h2_messages_streams_share_few_connections(h):
    n = 200
    h.emu.config(reply_chunks=["x", "y", "z"], event_delay=0.2)
    h.brock_config('{serve: {maxConnectionsPerIp: %d}}' % (n + 100))
    s = h2_serve(h)
    got = _read_all(_messages_raw(n // 2, s.port, test_serve_anth.CLAUDE) +
                    _messages_raw(n // 2, s.port, test_serve_anth.NOVA))
    done = sum(1 for v in got if v.startswith(b"HTTP/1.1 200 ") and b"event: message_stop" in v)
    assert done == n, (done, [v[:300] for v in got if b"message_stop" not in v][:3])
    c = h2(h)
    assert c["streams"] == n and 1 <= c["conns"] <= 8 and c["h1_conns"] == 0, c
    assert c["max_open_streams"] > 1, c
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/messages",code="200"} %d' % n in m, m
    assert metric(m, "brock_open_streams") == 0, m
