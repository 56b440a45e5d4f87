"""Several boxes behind a load balancer (SPEC 7.5): contrib/nginx.conf run for real, contrib/haproxy.cfg
checked.

Debian's nginx (nginx-light) is started on loopback with a configuration made from contrib/nginx.conf
(the upstream's servers and the listen address replaced, everything else as shipped) and a temporary
prefix, in front of three `brock serve` processes. Each box counts the requests it served in /metrics:
a key's requests all land on one box; killing a box moves its keys (only its keys: the hash is
consistent) and their new requests succeed. Skips only when nginx is not installed."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

from test_serve import REF, serve

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NGINX_CONF = os.path.join(ROOT, "contrib", "nginx.conf")
HAPROXY_CFG = os.path.join(ROOT, "contrib", "haproxy.cfg")
KEYS = ["sk-fleet-key-%02d-abcdefgh" % i for i in range(12)]


def find_nginx():
    for p in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if p and os.access(p, os.X_OK):
            return p
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def nginx_config(prefix, listen_port, box_ports):
    """contrib/nginx.conf with loopback boxes and listen address, wrapped in a main config that keeps
    every path under prefix (no root, no /var)."""
    with open(NGINX_CONF) as f:
        site = f.read()
    servers = re.findall(r"^[ \t]*server[ \t]+\S+:\d+[^;]*;", site, re.M)
    assert len(servers) == 3, servers  # the shape this test knows; change both together
    opts = servers[0].split(None, 2)[2]  # what follows the address, e.g. "max_fails=1 fail_timeout=10s;"
    site = site.replace(servers[0], "\n".join("    server 127.0.0.1:%d %s" % (p, opts) for p in box_ports))
    for s in servers[1:]:
        site = site.replace(s + "\n", "")
    site, n = re.subn(r"^(\s*)listen\s+8080;", r"\1listen 127.0.0.1:%d;" % listen_port, site, flags=re.M)
    assert n == 1, "contrib/nginx.conf: no 'listen 8080;' line"
    temps = "\n".join("    %s_temp_path %s;" % (t, os.path.join(prefix, t))
                      for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return """daemon off;
master_process on;
worker_processes 1;
pid %(p)s/nginx.pid;
error_log %(p)s/error.log info;
events { worker_connections 256; }
http {
    log_format upstreams '$status $upstream_status';
    access_log %(p)s/access.log upstreams;
%(temps)s
%(site)s
}
""" % {"p": prefix, "temps": temps, "site": site}


class Nginx:
    def __init__(self, h, box_ports, name="nginx"):
        exe = find_nginx()
        if not exe:
            h.skip("nginx is not installed (vendor/deps.sh installs nginx-light)")
        self.prefix = os.path.join(h.tmp, name)
        os.makedirs(self.prefix)
        self.port = free_port()
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(nginx_config(self.prefix, self.port, box_ports))
        t = subprocess.run([exe, "-t", "-p", self.prefix, "-c", self.conf, "-e", "stderr"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert t.returncode == 0, t.stdout.decode()
        self.p = subprocess.Popen([exe, "-p", self.prefix, "-c", self.conf, "-e", "stderr"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert self.p.poll() is None, self.p.stderr.read().decode()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)

    def stop(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(5)

    def request(self, method, path, headers, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def chat(self, key, text):
        body = json.dumps({"model": REF, "messages": [{"role": "user", "content": text}]}).encode()
        return self.request("POST", "/v1/chat/completions",
                            {"Authorization": "Bearer " + key, "Content-Type": "application/json"}, body)


def served(box, route):
    """Requests with status 200 a box counted for a route (summed over any further labels)."""
    st, _, data = box.request("GET", "/metrics", key=KEYS[0])
    assert st == 200, data
    n = 0
    for line in data.decode().splitlines():
        if line.startswith("brock_requests_total{") and 'route="%s"' % route in line and 'code="200"' in line:
            n += int(float(line.split()[-1]))
    return n


def where(boxes, alive, before, route, sent):
    """-> (index of the one box whose count grew, by how much); fails if more than one grew. Waits
    (a little) until the boxes counted all `sent` requests: a box may count an answer just after
    the client has it."""
    deadline = time.monotonic() + 5
    while True:
        now = {i: served(boxes[i], route) for i in alive}
        if sum(now.values()) - sum(before[i] for i in alive) >= sent or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    grew = {i: now[i] - before[i] for i in alive if now[i] != before[i]}
    before.update(now)
    assert len(grew) == 1, grew
    return grew.popitem()


def place_keys(ng, boxes, alive, send, route, per_key=3):
    """Send per_key requests for each key; -> {key: box index}, asserting each key used one box."""
    before = {i: served(boxes[i], route) for i in alive}
    placed = {}
    for k in KEYS:
        for j in range(per_key):
            st, data = send(k, j)
            assert st == 200, (k, st, data)
        prev = dict(before)
        box, n = where(boxes, alive, before, route, per_key)
        assert n == per_key, (k, box, n, prev, before, [b.p.poll() for b in boxes])
        placed[k] = box
    return placed


def test_fleet_nginx_keys_stick_and_move(h):
    if not find_nginx():
        h.skip("nginx is not installed (vendor/deps.sh installs nginx-light)")
    h.brock_config('{serve: {trustedProxies: ["127.0.0.1"]}}')
    boxes = [serve(h, env={"BROCK_API_KEYS": ",".join(h.secret(k) for k in KEYS)}) for _ in range(3)]
    ng = Nginx(h, [b.port for b in boxes])
    try:
        alive = [0, 1, 2]
        chat = "/v1/chat/completions"
        placed = place_keys(ng, boxes, alive, lambda k, j: ng.chat(k, "hi %d" % j), chat)
        used = sorted(set(placed.values()))
        assert len(used) >= 2, placed  # 12 keys on one of three boxes: the hash is not working
        # the hash covers x-api-key too (Anthropic SDKs): /healthz needs no key, so any header will do
        by_header = place_keys(ng, boxes, alive, lambda k, j: ng.request("GET", "/healthz", {"x-api-key": k}),
                               "/healthz", per_key=2)
        assert len(set(by_header.values())) >= 2, by_header
        assert len(h.emu.log("runtime")) == 3 * len(KEYS)

        # kill the busiest box: its keys move, every other key stays where it was
        victim = max(used, key=lambda i: sum(1 for b in placed.values() if b == i))
        boxes[victim].p.send_signal(signal.SIGKILL)
        boxes[victim].p.wait(5)
        alive.remove(victim)
        for k in KEYS:  # the first request after the kill finds the box gone and still succeeds
            st, data = ng.chat(k, "after")
            assert st == 200, (k, st, data)
        moved = place_keys(ng, boxes, alive, lambda k, j: ng.chat(k, "again %d" % j), chat)
        for k in KEYS:
            if placed[k] != victim:
                assert moved[k] == placed[k], (k, placed[k], moved[k])
            else:
                assert moved[k] in alive, (k, moved[k])
    finally:
        ng.stop()
    check_log(ng)
    # the operator then removes the dead box from the upstream: with a consistent hash no key moves
    ng = Nginx(h, [boxes[i].port for i in alive], name="nginx2")
    try:
        again = place_keys(ng, boxes, alive, lambda k, j: ng.chat(k, "removed %d" % j), chat)
        assert again == moved, (again, moved)
    finally:
        ng.stop()
    check_log(ng)


def check_log(ng):
    with open(os.path.join(ng.prefix, "error.log")) as f:
        log = f.read()
    assert "[emerg]" not in log and "[alert]" not in log, log[-2000:]


def test_fleet_haproxy_config_is_valid(h):
    exe = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)
    if not exe:
        h.skip("haproxy is not installed (vendor/deps.sh installs it)")
    r = subprocess.run([exe, "-c", "-f", HAPROXY_CFG], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert r.returncode == 0, r.stdout.decode()
    with open(HAPROXY_CFG) as f:
        cfg = f.read()
    # the settings SPEC 7.5 relies on
    for line in ("balance hash req.hdr(authorization)", "hash-type consistent", "option httpchk GET /healthz",
                 "timeout server 3600s"):
        assert line in cfg, line


def draining(box):
    """The box noticed its SIGTERM: /healthz answers 503, or a new connection is closed at once."""
    try:
        return box.request("GET", "/healthz")[0] == 503
    except (ConnectionError, http.client.HTTPException):
        return True


def test_fleet_nginx_draining_box(h):
    """SIGTERM on a box while it streams: the stream finishes, and the 503 the box now gives new
    requests sends them to another box (proxy_next_upstream http_503), so clients see no error."""
    if not find_nginx():
        h.skip("nginx is not installed (vendor/deps.sh installs nginx-light)")
    boxes = [serve(h, env={"BROCK_API_KEYS": ",".join(h.secret(k) for k in KEYS)}) for _ in range(3)]
    ng = Nginx(h, [b.port for b in boxes])
    try:
        alive = [0, 1, 2]
        chat = "/v1/chat/completions"
        placed = place_keys(ng, boxes, alive, lambda k, j: ng.chat(k, "hi"), chat, per_key=1)
        victim = max(set(placed.values()), key=lambda i: sum(1 for b in placed.values() if b == i))
        vkeys = [k for k in KEYS if placed[k] == victim]
        # a stream on the victim that pauses for a while after its first event
        h.emu.config(reply_chunks=["slow ", "stream"], stall_after=2, stall_seconds=6)
        n0 = len(h.emu.log("converse-stream"))
        box = {}

        def slow():
            body = json.dumps({"model": REF, "stream": True, "messages": [{"role": "user", "content": "x"}]})
            box["r"] = ng.request("POST", chat, {"Authorization": "Bearer " + vkeys[0],
                                                 "Content-Type": "application/json"}, body.encode())

        t = threading.Thread(target=slow, daemon=True)
        t.start()
        deadline = time.monotonic() + 10
        while len(h.emu.log("converse-stream")) == n0:
            assert time.monotonic() < deadline, "the stream never reached the emulator"
            time.sleep(0.05)
        # the stream runs on the victim (the stall only slows streams; the requests below are not)
        boxes[victim].p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while not draining(boxes[victim]):
            assert time.monotonic() < deadline, "the box never began to drain"
            time.sleep(0.02)
        for k in vkeys:
            st, data = ng.chat(k, "during the drain")
            assert st == 200, (k, st, data)
        # the first of them met the draining box and went on to another one: its 503, or (502) the
        # kept-alive connection it closed when the drain began
        with open(os.path.join(ng.prefix, "access.log")) as f:
            ups = [line.split(" ", 1)[1].strip() for line in f]
        assert "503, 200" in ups or "502, 200" in ups, ups
        t.join(30)
        st, data = box["r"]
        assert st == 200 and b"slow " in data and b"stream" in data and data.rstrip().endswith(b"data: [DONE]"), \
            (st, data[-300:])
        assert boxes[victim].p.wait(30) == 0
    finally:
        ng.stop()
    check_log(ng)
