"""brock serve: per-key policy (SPEC 7.4) against the emulator.

Model globs (403 before any upstream call), rpm / tpm / maxConcurrent (429 with Retry-After), a budget
(429 insufficient_quota) that survives a restart through the ledger, SIGKILLs while the ledger is
being appended leaving only whole records, fallbacks on a throttled model, model aliases, the per-key
metrics and a SIGHUP reload that keeps the counters of the keys that stay."""

import json
import os
import random
import signal
import socket
import threading
import time
import zlib

from test_serve import MODEL, REF, metric, serve, user

NOVA = "us.amazon.nova-pro-v1:0"
NOVA_REF = "amazon-bedrock/" + NOVA


def keys_config(h, keys, extra=""):
    """A config with serve.keys (a list of dicts) and anything else (JSON5 text)."""
    for k in keys:
        if "key" in k:
            h.secret(k["key"])
    h.brock_config('{serve: {keys: %s%s}, models: {providers: {"amazon-bedrock": {models: ['
                   '{id: "%s", cost: {input: 100, output: 1000}}]}}}}' % (json.dumps(keys), extra, MODEL))


def start(h, **env):
    e = {"BROCK_STATE_DIR": h.path("state")}
    e.update(env)
    return serve(h, env=e)


def err_of(data):
    return json.loads(data)["error"]


def ledger_lines(h, torn_ok=False):
    """The ledger's records; every line must be a whole, checksummed record or a comment. A
    SIGKILL may cut the last append short (a write that spans pages stops at a page when the
    process dies): with torn_ok, a last line without its newline is left out."""
    path = os.path.join(h.path("state"), "ledger")
    with open(path, "rb") as f:
        text = f.read().decode()
    recs = []
    if torn_ok and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    assert text == "" or text.endswith("\n"), repr(text[-80:])
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        assert len(f) == 9, line
        assert "%08x" % zlib.crc32("\t".join(f[:8]).encode()) == f[8], line
        recs.append({"day": f[0], "key": f[1], "requests": int(f[2]), "in": int(f[3]),
                     "out": int(f[4]), "nanos": int(f[7])})
    return recs


def wait_for(pred, what, timeout=10):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


# ---------------------------------------------------------------------------

def test_serve_policy_model_globs(h):
    a, plain = "sk-glob-aaaa", h.secret("sk-glob-plain")
    keys_config(h, [{"name": "team-a", "key": a, "models": ["us.anthropic.*", "amazon-bedrock/amazon.titan*"]}],
                ', apiKeys: ["%s"]' % plain)
    s = start(h)
    assert s.nkeys == 2, s.stderr()
    st, hdrs, data = s.chat({"model": NOVA_REF, "messages": [{"role": "user", "content": "hi"}]}, key=a)
    assert st == 403, data
    e = err_of(data)
    assert e["type"] == "permission_error" and e["code"] == "model_not_allowed" and e["param"] == "model", e
    assert "team-a" in e["message"] and NOVA in e["message"], e
    assert "retry-after" not in hdrs, hdrs
    assert h.emu.log("runtime") == [], "a refused model went upstream"
    st, _, data = s.chat(user("hi"), key=a)  # the bare-id glob
    assert st == 200, data
    st, _, data = s.chat({"model": "amazon.titan-text-express-v1", "messages": [{"role": "user", "content": "x"}]},
                         key=a)  # the amazon-bedrock/ glob matches the bare id's ref
    assert st == 200, data
    st, _, data = s.chat({"model": NOVA_REF, "messages": [{"role": "user", "content": "hi"}]}, key=plain)
    assert st == 200, data  # a plain key has no policy
    m = s.metrics(key=a)
    assert metric(m, 'brock_key_refused_total{key="team-a",reason="model"}') == 1, m


def test_serve_policy_rpm(h):
    a, b = "sk-rpm-aaaa", "sk-rpm-bbbb"
    keys_config(h, [{"name": "a", "key": a, "rpm": 2}, {"name": "b", "key": b}])
    s = start(h)
    for _ in range(2):
        st, _, data = s.chat(user("hi"), key=a)
        assert st == 200, data
    st, hdrs, data = s.chat(user("hi"), key=a)
    assert st == 429, data
    e = err_of(data)
    assert e["code"] == "rate_limit_exceeded" and e["type"] == "requests", e
    assert 1 <= int(hdrs["retry-after"]) <= 60, hdrs
    assert len(h.emu.log("runtime")) == 2
    st, _, data = s.chat(user("hi"), key=b)  # another key has its own counters
    assert st == 200, data
    # over its limit a key is refused from the headers: no 100 Continue, the body never read
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
                 b"Expect: 100-continue\r\nContent-Length: 1000000\r\nAuthorization: Bearer " + a.encode() +
                 b"\r\n\r\n")
    got = sock.recv(4096)
    sock.close()
    assert got.startswith(b"HTTP/1.1 429 "), got
    assert b"100 Continue" not in got and b"Retry-After: " in got, got
    m = s.metrics(key=b)
    assert metric(m, 'brock_key_refused_total{key="a",reason="rpm"}') == 2, m


def test_serve_policy_tpm(h):
    a = "sk-tpm-aaaa"
    keys_config(h, [{"name": "a", "key": a, "tpm": 100}])
    h.emu.config(usage={"inputTokens": 30, "outputTokens": 20})
    s = start(h)
    for _ in range(2):  # 50, then 100 tokens in the window: both admitted under the limit
        st, _, data = s.chat(user("hi"), key=a)
        assert st == 200, data
    st, hdrs, data = s.chat(user("hi"), key=a)
    assert st == 429, data
    e = err_of(data)
    assert e["code"] == "rate_limit_exceeded" and e["type"] == "tokens", e
    assert 1 <= int(hdrs["retry-after"]) <= 60, hdrs
    # a streamed answer is counted too, and one admitted under the limit runs to its end
    h.brock_config("{}")
    b = "sk-tpm-bbbb"
    keys_config(h, [{"name": "b", "key": b, "tpm": 10}])
    s2 = start(h, BROCK_STATE_DIR=h.path("state2"))
    h.emu.config(reply_chunks=["a"] * 20, usage={"inputTokens": 500, "outputTokens": 500})
    body = user("long")
    body["stream"] = True
    st, _, data = s2.chat(body, key=b)
    assert st == 200 and data.decode().endswith("data: [DONE]\n\n"), data
    st, hdrs, data = s2.chat(body, key=b)
    assert st == 429 and err_of(data)["type"] == "tokens", data


def test_serve_policy_max_concurrent(h):
    a = "sk-conc-aaaa"
    keys_config(h, [{"name": "a", "key": a, "maxConcurrent": 1}])
    h.emu.config(reply_chunks=["x", "y", "z", "w"], event_delay=0.4)
    s = start(h)
    body = user("slow")
    body["stream"] = True
    out = {}

    def first():
        out["r"] = s.chat(body, key=a)

    t = threading.Thread(target=first)
    t.start()
    wait_for(lambda: len(h.emu.log("runtime")) >= 1, "the first call upstream")
    st, hdrs, data = s.chat(user("second"), key=a)
    assert st == 429, data
    assert err_of(data)["code"] == "rate_limit_exceeded" and hdrs["retry-after"] == "1", (hdrs, data)
    t.join(30)
    assert out["r"][0] == 200, out
    h.emu.config(event_delay=0)
    st, _, data = s.chat(user("third"), key=a)  # the slot was given back
    assert st == 200, data
    assert len(h.emu.log("runtime")) == 2


def test_serve_policy_budget_survives_restart(h):
    a = "sk-budget-aaaa"
    # 100 input tokens at $100 / 1M = $0.01 per request: the day's budget is spent after 2
    keys_config(h, [{"name": "team", "key": a, "budget": {"usd": 0.02, "period": "day"}}])
    h.emu.config(usage={"inputTokens": 100, "outputTokens": 0})
    s = start(h)
    for _ in range(2):
        st, _, data = s.chat(user("hi"), key=a)
        assert st == 200, data
    st, hdrs, data = s.chat(user("hi"), key=a)
    assert st == 429, data
    e = err_of(data)
    assert e["type"] == "insufficient_quota" and e["code"] == "insufficient_quota", e
    left = 86400 - int(time.time()) % 86400
    assert abs(int(hdrs["retry-after"]) - left) <= 5, (hdrs, left)
    m = s.metrics(key=a)
    assert abs(metric(m, 'brock_key_spend_period_usd{key="team",period="day"}') - 0.02) < 1e-9, m
    assert metric(m, 'brock_key_refused_total{key="team",reason="budget"}') == 1, m
    os.kill(s.p.pid, signal.SIGTERM)
    s.p.wait(10)
    recs = ledger_lines(h)
    assert sum(r["requests"] for r in recs if r["key"] == "team") == 2, recs
    assert sum(r["nanos"] for r in recs) == 20000000, recs
    assert recs[0]["day"] == time.strftime("%Y-%m-%d", time.gmtime()), recs
    s = start(h)  # the ledger carries the spend over
    st, hdrs, data = s.chat(user("hi"), key=a)
    assert st == 429 and err_of(data)["code"] == "insufficient_quota", data
    assert len(h.emu.log("runtime")) == 2
    # a month budget counts the same ledger
    keys_config(h, [{"name": "team", "key": a, "budget": {"usd": 0.03}}])
    os.kill(s.p.pid, signal.SIGHUP)
    wait_for(lambda: "config reloaded" in s.stderr(), "the reload")
    st, _, data = s.chat(user("hi"), key=a)
    assert st == 200, data
    st, hdrs, data = s.chat(user("hi"), key=a)
    assert st == 429 and err_of(data)["code"] == "insufficient_quota", data
    assert int(hdrs["retry-after"]) >= left - 5, hdrs


def test_serve_policy_ledger_survives_sigkill(h):
    a = "sk-kill-aaaa"
    keys_config(h, [{"name": "k", "key": a}])
    h.emu.config(usage={"inputTokens": 10, "outputTokens": 1})
    rnd = random.Random(7)
    ok = 0
    for i in range(20):
        s = start(h)
        # only a torn last append may be skipped, never a record in the middle
        err = s.stderr()
        assert "skipped" not in err or "skipped 1 line that is not a ledger record (first: line" in err \
            and "incomplete last line" in err, err
        stop = threading.Event()
        done = []

        def load():
            while not stop.is_set():
                try:
                    st, _, _ = s.chat(user("n"), key=a)
                    if st == 200:
                        done.append(1)
                except OSError:
                    return
        threads = [threading.Thread(target=load) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.3 + rnd.random() * 1.2)
        os.kill(s.p.pid, signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(10)
        s.p.wait(10)
        ok += len(done)
        recs = ledger_lines(h, torn_ok=True)  # whole records, each with its checksum
        assert sum(r["requests"] for r in recs) <= ok, (recs, ok)
    # a clean stop writes everything
    s = start(h)
    before = sum(r["requests"] for r in ledger_lines(h))
    for _ in range(3):
        assert s.chat(user("n"), key=a)[0] == 200
    os.kill(s.p.pid, signal.SIGTERM)
    s.p.wait(10)
    assert "skipped" not in s.stderr(), s.stderr()
    assert sum(r["requests"] for r in ledger_lines(h)) == before + 3
    # a torn or foreign line is skipped with a warning, never a crash
    with open(os.path.join(h.path("state"), "ledger"), "a") as f:
        f.write("not a record\n2026-12-05\tk\t1\t1")
    s = start(h)
    assert "skipped 2 lines" in s.stderr(), s.stderr()
    assert s.chat(user("n"), key=a)[0] == 200


def test_serve_policy_fallbacks(h):
    a = "sk-fb-aaaa"
    keys_config(h, [{"name": "team", "key": a}],
                ', fallbacks: {"%s": ["amazon-bedrock/no.such-model", "%s"]}' % (REF, NOVA_REF))
    h.emu.config(failures=[{"route": "runtime", "count": -1, "model": MODEL, "status": 429},
                           {"route": "runtime", "count": -1, "model": "no.such-model", "status": 503}])
    s = start(h)
    st, _, data = s.chat(user("hi"), key=a)
    assert st == 200, data
    assert json.loads(data)["model"] == NOVA_REF, data
    assert [e["model_id"] for e in h.emu.log("runtime")] == [MODEL, "no.such-model", NOVA]
    body = user("stream")
    body["stream"] = True
    st, _, data = s.chat(body, key=a)
    assert st == 200, data
    chunks = [json.loads(l[6:]) for l in data.decode().split("\n\n") if l.startswith("data: {")]
    assert chunks and all(c["model"] == NOVA_REF for c in chunks), chunks
    m = s.metrics(key=a)
    assert metric(m, 'brock_fallbacks_total{key="team",model="%s"}' % MODEL) == 2, m
    assert metric(m, 'brock_fallbacks_total{key="team",model="no.such-model"}') == 2, m
    assert metric(m, 'brock_key_requests_total{key="team",model="%s",code="200"}' % NOVA) == 2, m
    # a client error is not worth another model; nor a model without fallbacks
    h.emu.config(failures=[{"route": "runtime", "count": -1, "model": MODEL, "status": 400}])
    n = len(h.emu.log("runtime"))
    st, _, data = s.chat(user("hi"), key=a)
    assert st == 400, data
    assert len(h.emu.log("runtime")) == n + 1
    h.emu.config(failures=[{"route": "runtime", "count": -1, "model": NOVA, "status": 429}])
    st, hdrs, data = s.chat({"model": NOVA_REF, "messages": [{"role": "user", "content": "x"}]}, key=a)
    assert st == 429 and "retry-after" in hdrs, data


def test_serve_policy_aliases(h):
    a = "sk-alias-aaaa"
    keys_config(h, [{"name": "team", "key": a, "models": ["*anthropic*"]}],
                ', modelAliases: {"gpt-4o": "%s", "cheap": "%s", "openai/gpt-4o-mini": "%s"}' % (REF, NOVA_REF, MODEL))
    s = start(h)
    st, _, data = s.chat({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, key=a)
    assert st == 200, data
    assert json.loads(data)["model"] == "gpt-4o", data  # the name the client sent
    assert h.emu.log("runtime")[-1]["model_id"] == MODEL
    st, _, data = s.chat({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}, key=a)
    assert st == 200, data  # an alias wins over "another provider's ref"
    assert h.emu.log("runtime")[-1]["model_id"] == MODEL
    st, _, data = s.chat({"model": "cheap", "messages": [{"role": "user", "content": "hi"}]}, key=a)
    assert st == 403 and NOVA in err_of(data)["message"], data  # the target is what the globs see
    st, _, data = s.chat({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, key=a)
    assert st == 404, data


def test_serve_policy_metrics_per_key(h):
    a, b = "sk-met-aaaa", "sk-met-bbbb"
    keys_config(h, [{"name": "team-a", "key": a}, {"name": "team-b", "key": b, "budget": {"usd": 5}}])
    h.emu.config(reply_chunks=["x", "y"], usage={"inputTokens": 1000, "outputTokens": 100,
                                                 "cacheReadInputTokens": 7, "cacheWriteInputTokens": 3})
    s = start(h)
    body = user("hi")
    body["stream"] = True
    for _ in range(2):
        assert s.chat(body, key=a)[0] == 200
    assert s.chat(user("hi"), key=b)[0] == 200
    m = s.metrics(key=b)
    lab = 'key="team-a",model="%s"' % MODEL
    assert metric(m, 'brock_key_requests_total{%s,code="200"}' % lab) == 2, m
    assert metric(m, 'brock_key_tokens_total{%s,type="input"}' % lab) == 2000, m
    assert metric(m, 'brock_key_tokens_total{%s,type="output"}' % lab) == 200, m
    assert metric(m, 'brock_key_tokens_total{%s,type="cache_read"}' % lab) == 14, m
    assert metric(m, 'brock_key_tokens_total{%s,type="cache_write"}' % lab) == 6, m
    # 1000 x $100/1M + 100 x $1000/1M = $0.2 per answer
    assert abs(metric(m, 'brock_key_spend_usd_total{%s}' % lab) - 0.4) < 1e-9, m
    assert metric(m, 'brock_key_time_to_first_token_seconds_count{%s}' % lab) == 2, m
    assert metric(m, 'brock_key_requests_total{key="team-b",model="%s",code="200"}' % MODEL) == 1, m
    assert metric(m, 'brock_key_budget_usd{key="team-b",period="month"}') == 5, m
    assert metric(m, 'brock_key_inflight{key="team-a"}') == 0, m
    # every family is written in one piece, after its HELP and TYPE
    seen, last = set(), None
    for line in m.splitlines():
        if line.startswith("#"):
            continue
        fam = line.split("{")[0].split(" ")[0]
        for suf in ("_bucket", "_sum", "_count"):
            if fam.endswith(suf) and "seconds" in fam:
                fam = fam[: -len(suf)]
        if fam != last:
            assert fam not in seen, "family %s split: %s" % (fam, m)
            seen.add(fam)
            last = fam
    log = [l for l in s.stderr().splitlines() if l.startswith("{")]
    assert not log or all("sk-met" not in l for l in log)


def test_serve_policy_sighup_keeps_counters(h):
    a, b = "sk-hup-aaaa", "sk-hup-bbbb"
    keys_config(h, [{"name": "a", "key": a, "rpm": 1}])
    s = start(h)
    assert s.chat(user("hi"), key=a)[0] == 200
    assert s.chat(user("hi"), key=a)[0] == 429
    # the same name, a new key and another name: a's window stays
    c = "sk-hup-cccc"
    keys_config(h, [{"name": "a", "key": c, "rpm": 1}, {"name": "b", "key": b, "rpm": 1}])
    os.kill(s.p.pid, signal.SIGHUP)
    wait_for(lambda: "config reloaded (2 API keys)" in s.stderr(), "the reload")
    st, _, data = s.chat(user("hi"), key=a)
    assert st == 401, data  # the old key is gone
    st, _, data = s.chat(user("hi"), key=c)
    assert st == 429, data  # the name's counters were kept
    assert s.chat(user("hi"), key=b)[0] == 200
    # a keySha256 entry
    import hashlib
    d = "sk-hup-dddd"
    h.secret(d)
    keys_config(h, [{"name": "d", "keySha256": hashlib.sha256(d.encode()).hexdigest().upper()}])
    os.kill(s.p.pid, signal.SIGHUP)
    wait_for(lambda: "config reloaded (1 API key)" in s.stderr(), "the second reload")
    assert s.chat(user("hi"), key=d)[0] == 200
    assert s.chat(user("hi"), key=b)[0] == 401
    # a bad policy keeps the running one
    h.brock_config('{serve: {keys: [{name: "x y", key: "k"}]}}')
    os.kill(s.p.pid, signal.SIGHUP)
    wait_for(lambda: "reload failed" in s.stderr(), "the failed reload")
    assert "serve.keys[0].name" in s.stderr(), s.stderr()
    assert s.chat(user("hi"), key=d)[0] == 200
