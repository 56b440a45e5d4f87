#!/usr/bin/env python3
"""CPU per streamed token and peak memory: brock against two JavaScript peers (bench/RESULTS.md).

    make build/brock && python3 bench/peers.py [--runs 10] [--deltas 20000] [--h2] [--only a,b]
    make bench-peers                       (the same, with npm ci in bench/peers first)

Every client reads the same ConverseStream reply of N text deltas from bench/stream_stub.py
(plain HTTP/1.1 on loopback; the reply is built once per N and cached):

  brock chat   `brock chat -q -m amazon.nova-pro-v1:0 N`, text to stdout (/dev/null)
  gateway      `brock serve` and a minimal reader in this script: one streamed POST
               /v1/chat/completions (Connection: close) read to its end; brock's CPU only
  sdk          the AWS SDK for JavaScript v3, ConverseStreamCommand (bench/peers/peer.mjs)
  pi           pi-ai's Bedrock provider, streamSimple (bench/peers/peer.mjs)

The peers write each delta's text to stdout (/dev/null) as it arrives, as `brock chat` does,
and check the count. By default they are given @smithy/node-http-handler's NodeHttpHandler,
HTTP/1.1 like brock (the same bytes on the wire); --h2 adds rows with their default handler
(NodeHttp2Handler: cleartext HTTP/2 with prior knowledge) against bench/stream_stub_h2c.py.
Each process runs in a clean environment (a temporary HOME, static test keys,
AWS_EC2_METADATA_DISABLED=true, endpoints on 127.0.0.1): nothing leaves loopback.

For each client, N = 0 and N = --deltas are run interleaved --runs times (brock's clients
three times as often: they are short), and the report gives medians of the child's rusage:
user+sys CPU per 1,000 deltas = (median(N) - median(0)) / (N / 1000), which takes out
start-up (node's module loading, brock's config) and the request; the share of that in user
space (outside the kernel); and peak RSS (ru_maxrss of the N-delta runs). It then divides each
peer's figures by brock's. The 1-minute load average is sampled before every run (median and
maximum shown): the machine may be shared. A warm-up run of each client checks that it got the
same text as `brock chat`.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.path.join(HERE, "peers")
MODEL = "amazon.nova-pro-v1:0"
CLIENTS = ("brock chat", "gateway", "sdk", "pi")


def start(argv):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE)
    return p, int(p.stdout.readline())


def base_env(home):
    return {"PATH": "/usr/bin:/bin", "HOME": home, "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "AWS_REGION": "us-east-1", "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true"}


LAUNCHER = None  # bench/rusage.c, built in main()


def spawn(argv, env, stdout):
    """Starts argv under the launcher; returns (Popen, read end of its report pipe)."""
    r, w = os.pipe()
    p = subprocess.Popen([LAUNCHER, str(w)] + argv, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                         stderr=subprocess.PIPE, pass_fds=(w,))
    os.close(w)
    return p, r


def reap(p, r, what):
    """The child's rusage once it exits: (user s, sys s, maxrss KiB)."""
    p.wait()
    with os.fdopen(r) as f:
        rep = f.read().split()
    if p.returncode != 0 or len(rep) != 4:
        raise SystemExit("%s exited %d" % (what, p.returncode))
    return int(rep[0]) / 1e6, int(rep[1]) / 1e6, int(rep[2])


def build_launcher(tmp):
    exe = os.path.join(tmp, "rusage")
    cc = [c for c in (["musl-gcc", "-static"], ["gcc", "-static"], ["gcc"]) if shutil.which(c[0])]
    for c in cc:
        if subprocess.run(c + ["-Os", "-o", exe, os.path.join(HERE, "rusage.c")]).returncode == 0:
            return exe
    raise SystemExit("cannot build bench/rusage.c")


class Client:
    """One way of reading the stream; run(n, capture) -> ((user, sys, maxrss), text or None)."""

    def __init__(self, name, argv_for, env, proto="h1"):
        self.name, self.argv_for, self.env, self.proto = name, argv_for, env, proto

    def run(self, n, capture=False):
        argv = self.argv_for(n)
        p, r = spawn(argv, self.env, subprocess.PIPE if capture else subprocess.DEVNULL)
        err = []
        t = threading.Thread(target=lambda: err.append(p.stderr.read()))
        t.start()
        out = p.stdout.read() if capture else None
        try:
            ru = reap(p, r, " ".join(argv))
        except SystemExit:
            t.join()
            sys.stderr.write(err[0].decode(errors="replace")[-2000:])
            raise
        t.join()
        return ru, (out.decode() if capture else None)


class Gateway(Client):
    """`brock serve` for one request, read by this script; brock's own rusage."""

    def __init__(self, brock, env):
        super().__init__("gateway", None, env)
        self.brock = brock

    def run(self, n, capture=False):
        p, r = spawn([self.brock, "serve", "--listen", "127.0.0.1:0"], self.env, subprocess.DEVNULL)
        line = p.stderr.readline().decode()
        t = threading.Thread(target=p.stderr.read)
        t.start()
        try:
            port = int(line.split("http://127.0.0.1:")[1].split()[0])
        except (IndexError, ValueError):
            p.send_signal(signal.SIGTERM)
            raise SystemExit("brock serve said: %r" % line)
        body = json.dumps({"model": MODEL, "stream": True, "messages": [{"role": "user", "content": str(n)}]})
        raw = []
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
            while True:
                b = s.recv(262144)
                if not b:
                    break
                raw.append(b)
        p.send_signal(signal.SIGTERM)
        ru = reap(p, r, "brock serve")
        t.join()
        raw = b"".join(raw)
        if not raw.startswith(b"HTTP/1.1 200") or b"data: [DONE]" not in raw[-64:]:
            raise SystemExit("gateway: unexpected answer %r" % raw[:300])
        return ru, (sse_text(raw) if capture else None)


def sse_text(raw):
    """The content deltas of a chunked text/event-stream answer, joined."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    body = []
    while True:
        size, _, rest = rest.partition(b"\r\n")
        k = int(size, 16)
        if k == 0:
            break
        body.append(rest[:k])
        rest = rest[k + 2:]
    text = []
    for ev in b"".join(body).split(b"\n\n"):
        if ev.startswith(b"data: {"):
            for ch in json.loads(ev[6:])["choices"]:
                text.append(ch["delta"].get("content") or "")
    return "".join(text)


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return "%s, %d CPUs, Linux %s" % (cpu, os.cpu_count(), platform.release())


def versions():
    try:
        with open(os.path.join(PEERS, "package-lock.json")) as f:
            pk = json.load(f)["packages"]
        names = ("@aws-sdk/client-bedrock-runtime", "@mariozechner/pi-ai", "@smithy/node-http-handler")
        return ", ".join("%s %s" % (k, pk["node_modules/" + k]["version"]) for k in names)
    except (OSError, KeyError, ValueError):
        return "?"


def ensure_node_modules(node):
    if os.path.isdir(os.path.join(PEERS, "node_modules", "@mariozechner", "pi-ai")):
        return
    npm = shutil.which("npm")
    if not node or not npm:
        raise SystemExit("node and npm are needed for the peers (or --only 'brock chat,gateway')")
    print("bench/peers: npm ci (once)", flush=True)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PEERS, check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--brock", default=os.path.join(ROOT, "build", "brock"))
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--deltas", type=int, default=20000)
    ap.add_argument("--h2", action="store_true", help="also the peers on their default HTTP/2 handler")
    ap.add_argument("--only", help="comma-separated subset of: " + ", ".join(CLIENTS))
    ap.add_argument("--smoke", action="store_true",
                    help="one run of 200 deltas, brock's clients only (proves it runs; CI)")
    args = ap.parse_args()
    if args.smoke:
        args.runs, args.deltas, args.only, args.h2 = 1, 200, "brock chat,gateway", False
    only = set(args.only.split(",")) if args.only else set(CLIENTS)
    node = shutil.which("node")
    if only & {"sdk", "pi"}:
        ensure_node_modules(node)
    tmp = tempfile.mkdtemp(prefix="brock-peers-")
    stubs = []
    global LAUNCHER
    try:
        LAUNCHER = build_launcher(tmp)
        stub, port = start([sys.executable, os.path.join(HERE, "stream_stub.py")])
        stubs.append(stub)
        url = "http://127.0.0.1:%d" % port
        home = os.path.join(tmp, "home")
        os.mkdir(home)
        env = base_env(home)
        env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = url
        brock = os.path.abspath(args.brock)
        clients = []
        if "brock chat" in only:
            clients.append(Client("brock chat", lambda n: [brock, "chat", "-q", "-m", MODEL, str(n)], env))
        if "gateway" in only:
            clients.append(Gateway(brock, env))
        peer_urls = [("h1", url)]
        if args.h2:
            stub2, port2 = start([sys.executable, os.path.join(HERE, "stream_stub_h2c.py")])
            stubs.append(stub2)
            peer_urls.append(("h2", "http://127.0.0.1:%d" % port2))
        for proto, u in peer_urls:
            for which in ("sdk", "pi"):
                if which in only:
                    name = which + (" (HTTP/2)" if proto == "h2" else "")
                    clients.append(Client(name, lambda n, w=which, u=u, pr=proto:
                                          [node, os.path.join(PEERS, "peer.mjs"), w, u, str(n), pr], env, proto))
        # warm-up: each stub builds its reply once; every client must get the same text
        want = None
        for c in clients:
            c.run(0)
            _, text = c.run(args.deltas, capture=True)
            text = text.rstrip("\n")
            if want is None:
                want = text
            elif text != want:
                raise SystemExit("%s read %d characters of text, the first client %d" % (c.name, len(text), len(want)))
        n_big = args.deltas
        samples = {(c.name, n): [] for c in clients for n in (0, n_big)}
        load = {c.name: [] for c in clients}
        t0 = time.time()
        start_load = os.getloadavg()
        for _ in range(args.runs):
            for c in clients:
                for _ in range(3 if c.name in ("brock chat", "gateway") else 1):
                    for n in (0, n_big):
                        load[c.name].append(os.getloadavg()[0])
                        samples[(c.name, n)].append(c.run(n)[0])
        report(args, clients, samples, load, start_load, time.time() - t0, node)
    finally:
        for s in stubs:
            s.kill()
            s.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def report(args, clients, samples, load, start_load, secs, node):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    print("peers: %s UTC, commit %s%s, %s" % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), commit,
                                                 " (modified)" if dirty else "", machine()))
    if node:
        nv = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        print("  node %s; %s" % (nv, versions()))
    print("  %d text deltas per reply from bench/stream_stub.py over loopback; %d runs each (brock's x3), "
          "%.0f s; load average %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end"
          % ((args.deltas, args.runs, secs) + tuple(start_load) + tuple(os.getloadavg())))
    print("  %-16s %9s %9s %11s %6s %12s %9s %11s" % ("client", "CPU ms", "at 0", "ms/1000 dl", "user", "peak RSS",
                                                        "at 0", "load med/max"))
    k = args.deltas / 1000.0
    res = {}
    for c in clients:
        big, zero = samples[(c.name, args.deltas)], samples[(c.name, 0)]
        u = statistics.median(s[0] for s in big) - statistics.median(s[0] for s in zero)
        sy = statistics.median(s[1] for s in big) - statistics.median(s[1] for s in zero)
        tot_big = statistics.median(s[0] + s[1] for s in big)
        tot_zero = statistics.median(s[0] + s[1] for s in zero)
        per_k = (tot_big - tot_zero) * 1e3 / k
        rss = statistics.median(s[2] for s in big)
        rss0 = statistics.median(s[2] for s in zero)
        share = u / (u + sy) if u + sy > 0 else float("nan")
        res[c.name] = (per_k, rss)
        print("  %-16s %9.1f %9.1f %11.2f %5.0f%% %8d KiB %5d KiB %5.2f/%5.2f"
              % (c.name, tot_big * 1e3, tot_zero * 1e3, per_k, 100 * share, rss, rss0,
                 statistics.median(load[c.name]), max(load[c.name])))
    mine = [n for n in ("brock chat", "gateway") if n in res]
    peers = [n for n in res if n not in mine]
    if not mine or not peers:
        return
    print("  peer / brock (CPU per 1000 deltas, peak RSS); targets >= 20x CPU, >= 100x memory:")
    for m in mine:
        cells = []
        worst_cpu = worst_mem = float("inf")
        for p in peers:
            rc = res[p][0] / res[m][0] if res[m][0] > 0 else float("inf")
            rm = res[p][1] / res[m][1]
            worst_cpu, worst_mem = min(worst_cpu, rc), min(worst_mem, rm)
            cells.append("%s %.1fx %.0fx" % (p, rc, rm))
        print("    %-12s %s -> CPU %s, memory %s" % (m, "; ".join(cells), "met" if worst_cpu >= 20 else "MISSED",
                                                   "met" if worst_mem >= 100 else "MISSED"))


if __name__ == "__main__":
    main()
