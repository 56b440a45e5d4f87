"""GET /status (the operator's page) and GET /status.json (SPEC 7.5).

The JSON's numbers are checked against the requests the test made; the page is loaded in a real
browser (Debian's chromium, headless) against a gateway with streams running, and the numbers it
rendered are checked against /status.json. The screenshot goes to the test's directory (its path
is printed) and, when BROCK_STATUS_SCREENSHOT names a file, is copied there too."""

import base64
import hashlib
import html.parser
import json
import math
import os
import re
import shutil
import subprocess
import time

from test_serve import MODEL, serve, user

COST = {"input": 3, "output": 15}  # USD per million tokens


def priced(h, extra=""):
    h.brock_config('{%s models: {providers: {"amazon-bedrock": {models: [{id: "%s", cost: {input: %d, output: %d}}]}}}}'
                   % (extra, MODEL, COST["input"], COST["output"]))


def status_json(s, key=None):
    st, hdrs, data = s.request("GET", "/status.json", key=key)
    assert st == 200, data
    assert hdrs["content-type"] == "application/json" and hdrs["cache-control"] == "no-store", hdrs
    return json.loads(data)


def wait_for(s, pred, what, timeout=15):
    t0 = time.monotonic()
    while True:
        d = status_json(s)
        if pred(d):
            return d
        assert time.monotonic() - t0 < timeout, "waited for %s: %s" % (what, json.dumps(d))
        time.sleep(0.05)


def usage_of(data, stream):
    if not stream:
        u = json.loads(data)["usage"]
        return u["prompt_tokens"], u["completion_tokens"]
    for block in data.decode().split("\n\n"):
        if block.startswith("data: {") and '"usage"' in block:
            u = json.loads(block[6:]).get("usage")
            if u:
                return u["prompt_tokens"], u["completion_tokens"]
    raise AssertionError("no usage chunk: %r" % data[-400:])


def traffic(h, s):
    """Two answers (one streamed), one upstream 429, one 404 without a call. Returns (in, out)."""
    tin = tout = 0
    for stream in (False, True):
        body = user("status %s" % stream)
        if stream:
            body.update(stream=True, stream_options={"include_usage": True})
        st, _, data = s.chat(body)
        assert st == 200, data
        i, o = usage_of(data, stream)
        tin, tout = tin + i, tout + o
    h.emu.config(fail_next=1, fail_route="runtime", fail_status=429)
    st, _, data = s.chat(user("throttled"))
    assert st == 429, data
    st, _, data = s.chat({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]})
    assert st == 404, data
    return tin, tout


def test_status_json_counts(h):
    priced(h)
    s = serve(h)
    d = status_json(s)
    assert d["requests"] == {"total": 0, "errors": 0, "client_gone": 0}, d
    assert d["models"] == [] and d["keys"] == [] and d["upstream_errors"] == [], d
    assert d["ttft"] == {"count": 0, "mean": None, "p50": None, "p90": None, "p99": None}, d
    tin, tout = traffic(h, s)
    assert tin > 0 and tout > 0
    d = wait_for(s, lambda d: d["credentials"]["checked"] and d["streams"]["open"] == 0, "the credential check")
    assert d["requests"] == {"total": 4, "errors": 2, "client_gone": 0}, d["requests"]
    pm = d["per_minute"]
    assert len(pm["requests"]) == 60 and len(pm["errors"]) == 60, pm
    assert sum(pm["requests"]) == 4 and sum(pm["errors"]) == 2, pm  # the server is under an hour old
    assert all(isinstance(n, int) and n >= 0 for n in pm["requests"] + pm["errors"]), pm
    assert d["tokens"] == {"input": tin, "output": tout}, d["tokens"]
    usd = (tin * COST["input"] + tout * COST["output"]) / 1e6
    # by model: what answered (2 + the 429) and what was asked for in vain (no tokens, no spend)
    m, other = d["models"]
    assert m["model"] == MODEL and m["requests"] == 3 and m["input"] == tin and m["output"] == tout, m
    assert math.isclose(m["usd"], usd, abs_tol=1e-9), (m, usd)
    assert other == {"model": "openai/gpt-4o", "requests": 1, "input": 0, "output": 0, "usd": None}, other
    [k] = d["keys"]
    assert k["key"] == "(no key)" and k["requests"] == 4 and k["input"] == tin and k["output"] == tout, k
    assert math.isclose(k["usd"], usd, abs_tol=1e-9), (k, usd)
    assert d["upstream_errors"] == [{"type": "ThrottlingException", "count": 1}], d["upstream_errors"]
    t = d["ttft"]
    # percentiles are the upper bounds of the histogram's buckets (those of /metrics)
    assert t["count"] == 1 and t["p50"] == t["p90"] == t["p99"] and t["mean"] >= 0, t
    assert t["p50"] in (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120) and t["mean"] <= t["p50"], t
    assert d["latency"]["count"] == 3, d["latency"]  # the 404 never went upstream
    assert d["credentials"] == {"checked": True, "source": "env", "error": None, "expires": None,
                                "expires_in_s": None}, d["credentials"]
    assert d["connections"]["open"] >= 1 and d["connections"]["accepted"] >= 5, d["connections"]
    assert d["region"] == "us-east-1", d
    ver = h.brock(["--version"]).stdout.split()[1]
    assert d["version"] == ver and re.fullmatch(r"[0-9a-f]{12}(-dirty)?|unknown", d["commit"]), d
    for f in ("now", "started"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d[f]), d
    assert d["uptime_s"] >= 0
    # the operator's own requests are not API traffic
    s.request("GET", "/status")
    s.request("GET", "/healthz")
    s.metrics()
    again = status_json(s)
    assert again["requests"] == d["requests"] and again["per_minute"] == d["per_minute"], again


def test_status_credentials_missing_and_expiring(h):
    s = serve(h, env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
    d = wait_for(s, lambda d: d["credentials"]["checked"], "the credential check")
    c = d["credentials"]
    assert c["source"] is None and c["expires"] is None and "credentials" in c["error"], c
    st, _, data = s.chat(user("x"))
    assert st >= 500, data
    assert status_json(s)["upstream_errors"] == [{"type": "credentials", "count": 1}]
    k = h.emu.credentials(ttl=3600)
    h.secret(k["SecretAccessKey"])
    h.write("creds.json", json.dumps({"Version": 1, "AccessKeyId": k["AccessKeyId"], "SessionToken": k["SessionToken"],
                                      "SecretAccessKey": k["SecretAccessKey"], "Expiration": k["Expiration"]}))
    h.write("creds.sh", "#!/bin/sh\nexec cat '%s'\n" % h.path("creds.json"), mode=0o700)
    h.aws_config("[default]\ncredential_process = %s\n" % h.path("creds.sh"))
    s2 = serve(h, env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
    c = wait_for(s2, lambda d: d["credentials"]["checked"], "the credential check")["credentials"]
    assert c["source"] == "process:default" and c["error"] is None, c
    assert c["expires"] == k["Expiration"].replace(".000", ""), (c, k["Expiration"])
    assert 0 < c["expires_in_s"] <= 3600, c


def keys_config(h, admin, user, plain):
    h.brock_config('{serve: {apiKeys: ["%s"], keys: [{name: "ops", keySha256: "%s", admin: true}, '
                   '{name: "app", key: "%s"}]}}' % (plain, hashlib.sha256(admin.encode()).hexdigest(), user))


def test_status_needs_an_admin_key(h):
    admin, user_key, plain = (h.secret("sk-status-admin-0001"), h.secret("sk-status-user-0002"),
                              h.secret("sk-status-plain-0003"))
    keys_config(h, admin, user_key, plain)
    s = serve(h)
    assert s.nkeys == 3, s.stderr()
    basic = lambda u, p: {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (u, p)).encode()).decode()}
    for path in ("/status", "/status.json"):
        for hdrs in ({}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Bearer " + admin + "x"},
                     basic("ops", "wrong"), {"Authorization": "Basic " + base64.b64encode(admin.encode()).decode()},
                     {"Authorization": "Basic %%%"}):  # no ':' / not base64
            st, rh, data = s.request("GET", path, headers=hdrs)
            assert st == 401, (path, hdrs, data)
            assert rh["www-authenticate"].startswith("Basic realm="), rh  # a browser asks for the key
            assert json.loads(data)["error"]["code"] == "invalid_api_key", data
        # a good key that is not an admin key: 403, as Bearer or as Basic
        for hdrs in ({"Authorization": "Bearer " + user_key}, {"Authorization": "Bearer " + plain},
                     basic("app", user_key), basic("x", plain)):
            st, rh, data = s.request("GET", path, headers=hdrs)
            assert st == 403 and json.loads(data)["error"]["type"] == "permission_error", (hdrs, data)
            assert user_key.encode() not in data and plain.encode() not in data
        st, rh, data = s.request("GET", path, key=admin)
        assert st == 200, data
        st, rh, data = s.request("GET", path, headers=basic("anyone", admin))
        assert st == 200, data
        st, rh, data = s.request("POST", path, b"{}", {"Content-Type": "application/json"}, key=admin)
        assert st == 405 and rh["allow"] == "GET, HEAD", (st, rh)
    d = status_json(s, key=admin)
    assert d["keys"] == [] and d["requests"]["total"] == 0, d  # /status requests are not API traffic
    for k in (user_key, plain):
        st, _, data = s.chat(user("k"), key=k)
        assert st == 200, data
    d = status_json(s, key=admin)
    assert sorted((k["key"], k["requests"]) for k in d["keys"]) == [("app", 1), ("key1", 1)], d["keys"]


def test_status_keyless_is_loopback_only(h):
    s = serve(h)
    for path in ("/status", "/status.json"):
        st, _, data = s.request("GET", path, headers={"Host": "evil.example"})
        assert st == 403 and json.loads(data)["error"]["code"] == "forbidden_host", data
        st, _, data = s.request("GET", path, headers={"Origin": "http://evil.example"})
        assert st == 403 and json.loads(data)["error"]["code"] == "forbidden_origin", data
        st, _, data = s.request("GET", path, headers={"Host": "localhost:%d" % s.port})
        assert st == 200, data


def test_status_page_is_self_contained(h):
    s = serve(h)
    st, hdrs, data = s.request("GET", "/status")
    assert st == 200 and hdrs["content-type"] == "text/html; charset=utf-8", hdrs
    csp = hdrs["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp, csp
    assert hdrs["x-frame-options"] == "DENY" and hdrs["cache-control"] == "no-store", hdrs
    page = data.decode("utf-8")
    assert 2048 < len(data) <= 8192, len(data)  # a few KiB
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</script>"), page[-100:]
    low = page.lower()
    for bad in ("http://", "https://", "src=", "href=", "url(", "@import", "<link", "<iframe", "//cdn"):
        assert bad not in low, bad
    assert "status.json" in page
    st, hdrs, data = s.request("HEAD", "/status")
    assert st == 200 and data == b"", (st, data)


# ---------------------------------------------------------------------------
# In a real browser

class Dom(html.parser.HTMLParser):
    """Text of every element with an id, and the rows of every table (cells' text)."""

    def __init__(self):
        super().__init__()
        self.text, self.tables, self.attrs = {}, {}, {}
        self.stack, self.table, self.row = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("id")
            self.tables[self.table] = []
        elif tag == "tr" and self.table:
            self.row = []
            self.tables[self.table].append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.row.append("")
        if "id" in a:
            self.attrs[a["id"]] = a
        if tag == "body":
            self.attrs["body"] = a
        if tag not in ("meta", "br", "img", "input", "link"):
            self.stack.append(a.get("id"))

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = self.row = None
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for i in self.stack:
            if i:
                self.text[i] = self.text.get(i, "") + data
        if self.row:
            self.row[-1] += data


def n(v):
    return "-" if v is None else "{:,}".format(v)


def usd(v):
    return "-" if v is None else "$" + ("%.4f" % v if v < 10 else "%.2f" % v)


def secs(v):
    return "%d ms" % math.floor(v * 1e3 + 0.5) if v < 1 else "%.2f s" % v


def bound(v, count):
    return "\u2264 " + secs(v) if v is not None else "> 120 s" if count else "-"


def chromium(h, url, shot):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        h.skip("chromium is not installed (vendor/deps.sh installs it)")
    # Nothing leaves loopback: every name but 127.0.0.1 fails to resolve, and anything that
    # still tried would meet a proxy that does not exist (loopback itself bypasses proxies).
    args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--disable-breakpad", "--metrics-recording-only",
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--user-data-dir=" + os.path.join(h.tmp, "chromium"), "--window-size=1280,860",
            "--virtual-time-budget=4000", "--screenshot=" + shot, "--dump-dom", url]
    env = {"HOME": h.home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    r = subprocess.run(args, env=env, cwd=h.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")[-2000:]
    dom = Dom()
    dom.raw = r.stdout.decode("utf-8")
    dom.feed(dom.raw)
    return dom


def hold_streams(s, count):
    """Streaming requests whose answers stall upstream after the first event: open until closed."""
    conns = []
    for i in range(count):
        c = s.conn(timeout=60)
        body = json.dumps(dict(user("held %d" % i), stream=True)).encode()
        c.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        assert r.status == 200, r.read()
        conns.append((c, r))
    return conns


def test_status_page_in_chromium(h):
    priced(h)
    s = serve(h)
    tin, tout = traffic(h, s)
    h.emu.config(stall_after=2, stall_seconds=40)
    held = hold_streams(s, 3)
    try:
        before = wait_for(s, lambda d: d["streams"]["open"] == 3 and d["credentials"]["checked"], "3 open streams")
        shot = os.path.join(h.tmp, "status.png")
        dom = chromium(h, "http://127.0.0.1:%d/status" % s.port, shot)
        after = status_json(s)
    finally:
        for c, r in held:
            c.close()
        h.emu.config(stall_after=None, stall_seconds=0)
    print("screenshot: %s" % shot)
    dest = os.environ.get("BROCK_STATUS_SCREENSHOT")
    if dest:
        shutil.copyfile(shot, dest)
        print("screenshot copied to %s" % dest)
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    t = dom.text
    assert t.get("msg", "") == "", t.get("msg")  # the page got its data
    assert dom.attrs["body"]["data-at"] in (before["now"], after["now"]) or \
        before["now"] <= dom.attrs["body"]["data-at"] <= after["now"], dom.attrs["body"]

    def same(rendered, f, what):
        """The page shows what status.json says (either side of the browser's visit)."""
        want = {f(before), f(after)}
        assert rendered in want, "%s: page shows %r, status.json %r" % (what, rendered, want)

    # The streams are stalled mid-answer: these stay put while the browser looks.
    same(t["streams"], lambda d: n(d["streams"]["open"]), "open streams")
    assert t["streams"] == "3"
    same(t["total"], lambda d: n(d["requests"]["total"]), "requests")
    same(t["errors"], lambda d: n(d["requests"]["errors"]), "errors")
    assert (t["total"], t["errors"]) == ("4", "2"), t
    same(t["rpm"], lambda d: n(d["per_minute"]["requests"][-1]), "requests this minute")
    same(t["epm"], lambda d: n(d["per_minute"]["errors"][-1]), "errors this minute")
    same(t["tin"], lambda d: n(d["tokens"]["input"]), "tokens in")
    same(t["tout"], lambda d: n(d["tokens"]["output"]), "tokens out")
    assert t["tin"] == n(tin) and t["tout"] == n(tout), t
    for q in ("p50", "p90", "p99"):
        same(t[q], lambda d: bound(d["ttft"][q], d["ttft"]["count"]), "ttft " + q)
    same(t["mean"], lambda d: secs(d["ttft"]["mean"]), "ttft mean")
    same(t["ttftn"], lambda d: n(d["ttft"]["count"]), "ttft count")
    assert t["ttftn"] == "4", t  # the streamed answer and the three held ones
    # the browser's own connections come and go; the held ones are there
    assert 3 <= int(t["conns"].replace(",", "")) <= after["connections"]["open"] + 8, t["conns"]
    same(t["cred"], lambda d: "%s, no expiry" % d["credentials"]["source"], "credentials")
    assert dom.attrs["cred"].get("class") == "ok", dom.attrs["cred"]
    assert t["ver"] == "v%s \u00b7 us-east-1" % after["version"], t["ver"]
    assert re.fullmatch(r"(\d+d \d+h|\d+h \d+m|\d+m \d+s)", t["up"]), t["up"]
    peak = max(after["per_minute"]["requests"])
    same(t["peak"], lambda d: n(max(d["per_minute"]["requests"])), "peak")
    assert peak >= 1

    def rows(table, key, f):
        return dom.tables[table][1:], lambda d: [f(x) for x in d[key]] or [["none yet"]]

    got, want = rows("models", "models", lambda m: [m["model"], n(m["requests"]), n(m["input"]), n(m["output"]),
                                                    usd(m["usd"])])
    assert got in (want(before), want(after)), (got, want(after))
    assert got[0] == [MODEL, "3", n(tin), n(tout), usd((tin * 3 + tout * 15) / 1e6)], got
    got, want = rows("keys", "keys", lambda k: [k["key"], n(k["requests"]), n(k["input"]), n(k["output"]),
                                                usd(k["usd"])])
    assert got in (want(before), want(after)) and got[0][:2] == ["(no key)", "4"], (got, want(after))
    got, want = rows("uperr", "upstream_errors", lambda u: [u["type"], n(u["count"])])
    assert got == want(after) == [["ThrottlingException", "1"]], got
    # the chart: one bar per minute with requests, one per minute with errors
    bars = sum(1 for v in after["per_minute"]["requests"] if v) + sum(1 for v in after["per_minute"]["errors"] if v)
    assert dom.text.get("chart", "").count("min ago") == bars, dom.text.get("chart")


def test_status_page_in_chromium_with_an_admin_key(h):
    """With keys, the browser sends the admin key as the Basic password (here from the URL, as
    after the login prompt) on the page and on its status.json requests."""
    admin, user_key, plain = (h.secret("sk-status-admin-0011"), h.secret("sk-status-user-0012"),
                              h.secret("sk-status-plain-0013"))
    keys_config(h, admin, user_key, plain)
    s = serve(h)
    st, _, data = s.chat(user("from app"), key=user_key)
    assert st == 200, data
    dom = chromium(h, "http://ops:%s@127.0.0.1:%d/status" % (admin, s.port), os.path.join(h.tmp, "admin.png"))
    assert dom.text.get("msg", "") == "" and dom.attrs["body"].get("data-at"), dom.text.get("msg")
    assert [r[:2] for r in dom.tables["keys"][1:]] == [["app", "1"]], dom.tables["keys"]
    assert dom.text["total"] == "1", dom.text
    # a key that is not an admin key sees the refusal, not the page
    dom = chromium(h, "http://app:%s@127.0.0.1:%d/status" % (user_key, s.port), os.path.join(h.tmp, "app.png"))
    assert "streams" not in dom.text and "permission_error" in dom.raw, dom.raw[:500]
