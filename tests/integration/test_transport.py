"""The transport as users meet it through `brock chat`: certificate failures, proxies, IPv6,
plain http, and the exit codes of SPEC section 1 for each."""

import time

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
RT = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"


def chat(h, env=None, args=None):
    return h.brock(["chat", "-m", MODEL] + (args or []) + ["hi"], env=env or {})


def test_transport_expired_certificate_is_exit_4(h):
    r = chat(h, {RT: h.emu.https_expired})
    assert r.rc == 4, r
    assert "certificate expired or not yet valid" in r.stderr, r.stderr
    assert r.stdout == "", r


def test_transport_wrong_host_certificate_is_exit_4(h):
    r = chat(h, {RT: h.emu.https_wronghost})
    assert r.rc == 4, r
    assert "does not match host name" in r.stderr, r.stderr


def tls_failures(h):
    return h.emu._control("GET", "/_emu/health")["tls_failures"]


def test_transport_certificate_failure_is_not_retried(h):
    # a rejected certificate is rejected again on every attempt: one handshake, no backoff
    for url, what in ((h.emu.https_expired, "expired"), (h.emu.https_wronghost, "host name")):
        before = tls_failures(h)
        r = chat(h, {RT: url, "AWS_MAX_ATTEMPTS": "3"}, args=["-v"])
        assert r.rc == 4, r
        assert what in r.stderr and "retry" not in r.stderr, r.stderr
        # the emulator counts the failed handshake on its own thread: wait until it has
        for _ in range(50):
            if tls_failures(h) > before:
                break
            time.sleep(0.1)
        assert tls_failures(h) - before == 1, (before, tls_failures(h))


def test_transport_unknown_ca_is_exit_4(h):
    # with neither variable set brock trusts the system bundle (or the built-in
    # Amazon roots), which does not hold the emulator's throwaway CA
    r = chat(h, {"AWS_CA_BUNDLE": None, "SSL_CERT_FILE": None})
    assert r.rc == 4, r
    assert "not trusted" in r.stderr, r.stderr


def test_transport_missing_ca_bundle_names_the_variable(h):
    r = chat(h, {"AWS_CA_BUNDLE": h.tmp + "/no-such-bundle.pem"})
    assert r.rc == 2, r
    assert "AWS_CA_BUNDLE" in r.stderr, r.stderr


def test_transport_https_proxy_connect(h):
    h.emu.config(proxy_auth="user:p@ss")
    proxy = h.emu.proxy.replace("http://", "http://user:p%40ss@")
    r = chat(h, {"HTTPS_PROXY": proxy})
    assert r.rc == 0, r
    assert r.stdout.startswith("You said: hi"), r
    entries = h.emu.log(route="proxy")
    assert entries and entries[-1]["status"] == 200, entries
    assert entries[-1]["auth"]["verdict"] == "ok", entries[-1]
    assert "p@ss" not in r.stderr


def test_transport_proxy_refusal_is_exit_4(h):
    h.emu.config(proxy_status=502)
    r = chat(h, {"HTTPS_PROXY": h.emu.proxy, "AWS_MAX_ATTEMPTS": "1"})
    assert r.rc == 4, r
    assert "proxy" in r.stderr and "502" in r.stderr, r.stderr


def test_transport_no_proxy_bypasses_the_proxy(h):
    r = chat(h, {"HTTPS_PROXY": h.emu.proxy, "NO_PROXY": "localhost,127.0.0.1"})
    assert r.rc == 0, r
    assert h.emu.log(route="proxy") == [], "NO_PROXY must bypass the proxy"


def test_transport_ipv6_endpoint(h):
    r = chat(h, {RT: h.emu.https6})
    assert r.rc == 0, r
    assert r.stdout.startswith("You said: hi"), r


def test_transport_plain_http_endpoint(h):
    r = chat(h, {RT: h.emu.http})
    assert r.rc == 0, r
    assert r.stdout.startswith("You said: hi"), r


def test_transport_refused_port_is_exit_4(h):
    r = chat(h, {RT: "https://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"})
    assert r.rc == 4, r
    assert "cannot connect" in r.stderr, r.stderr


def _raw(h, text):
    h.emu.config(failures=[{"route": "converse-stream", "count": -1, "status": "raw", "body": text}])


def test_transport_malformed_status_line_is_exit_6(h):
    _raw(h, "HTTP/1.1 OK\r\n\r\n")
    r = chat(h, {"AWS_MAX_ATTEMPTS": "1"})
    assert r.rc == 6, r
    assert "status line" in r.stderr, r.stderr


def test_transport_bad_chunk_size_is_exit_6(h):
    _raw(h, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n"
            "Transfer-Encoding: chunked\r\n\r\nzz\r\n")
    r = chat(h, {"AWS_MAX_ATTEMPTS": "1"})
    assert r.rc == 6, r
    assert "chunk" in r.stderr, r.stderr


def test_transport_headers_cut_off_is_exit_4(h):
    _raw(h, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amaz")
    r = chat(h, {"AWS_MAX_ATTEMPTS": "1"})
    assert r.rc == 4, r
    assert "closed" in r.stderr, r.stderr


def test_transport_oversized_header_section_is_exit_6(h):
    _raw(h, "HTTP/1.1 200 OK\r\n" + "X-Filler: " + "a" * 70000 + "\r\n\r\n")
    r = chat(h, {"AWS_MAX_ATTEMPTS": "1"})
    assert r.rc == 6, r
    assert "64 KiB" in r.stderr or "header" in r.stderr, r.stderr


def test_transport_proxy_wants_auth_is_exit_2_without_retries(h):
    h.emu.config(proxy_auth="user:p@ss")
    r = chat(h, {"HTTPS_PROXY": h.emu.proxy})
    assert r.rc == 2, r
    assert "407" in r.stderr and "user:password" in r.stderr, r.stderr
    assert "proxy proxy" not in r.stderr, r.stderr
    assert len(h.emu.log(route="proxy")) == 1, "a 407 must not be retried"
