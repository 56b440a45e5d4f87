#!/usr/bin/env python3
"""Soak: brock serve against the emulator for a while, and whether it stays flat.

    python3 bench/soak.py --brock build/brock --seconds 1800 [--clients 16] [--hup 300] [--csv out.csv]
                          [--creds container|process]

Mixed clients (streamed and non-streamed OpenAI chat completions; Anthropic /v1/messages and the
Bedrock pass-through /model/{id}/converse(-stream) when this build serves them (probed at the
start); /v1/models, /healthz; clients that hang up mid-stream), credentials that expire every
minute (--creds container: the emulator's container credentials endpoint hands out 60-second
keys; --creds process: a credential_process mints them; either way the gateway refreshes them
all the time) and a SIGHUP every --hup seconds. Once a second it samples the gateway's RSS and open descriptors. At the end it
prints the curve (one line per tenth of the run) and a summary, and exits 1 when a request the
client did not abandon failed, or when the descriptor count did not come back to where it
started. RSS is reported, not judged (allocator caches). Loopback only; Python stdlib only.
CI runs it for 60 seconds (`.ci/run`); the note of a release reports a 30-minute run.
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
EMU = os.path.join(HERE, "..", "tests", "emulator")
START_RE = re.compile(r"on http://(\S+):(\d+)")
MODEL = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"

MINT = r'''import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/_emu/credentials", method="POST",
                             data=json.dumps({"ttl": 60, "source": "soak"}).encode())
k = json.load(urllib.request.urlopen(req, timeout=10))
print(json.dumps({"Version": 1, "AccessKeyId": k["AccessKeyId"],
                  "SecretAccessKey": k["SecretAccessKey"], "SessionToken": k["SessionToken"],
                  "Expiration": k["Expiration"]}))
'''


def start_emulator(tmp):
    certs = os.path.join(tmp, "certs")
    subprocess.run(["sh", os.path.join(EMU, "mkcerts.sh"), certs], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    state = os.path.join(tmp, "emu.json")
    p = subprocess.Popen([sys.executable, os.path.join(EMU, "emulator.py"), "--certs", certs,
                          "--state-file", state, "--parent-pid", str(os.getpid()),
                          "--max-lifetime", "7200"],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "emu.log"), "wb"),
                         start_new_session=True)
    for _ in range(400):
        if os.path.exists(state):
            with open(state) as f:
                return p, json.load(f), os.path.join(certs, "ca.crt")
        time.sleep(0.05)
    raise SystemExit("soak: the emulator did not start")


def emu_config(info, **kw):
    req = urllib.request.Request(info["http"] + "/_emu/config", method="POST",
                                 data=json.dumps(kw).encode())
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def start_brock(args, tmp, info, ca):
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".aws"))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_CA_BUNDLE": ca,
           "AWS_REGION": "us-east-1", "BROCK_CACHE_DIR": os.path.join(tmp, "cache"),
           "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": info["https"], "AWS_ENDPOINT_URL_BEDROCK": info["https"],
           "AWS_ENDPOINT_URL_STS": info["https"]}
    if args.creds == "container":
        cfg = emu_config(info, container_cred_ttl=60)
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = info["http"] + (cfg.get("container_path") or "/creds/")
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = cfg["container_token"]
    else:
        mint = os.path.join(tmp, "mint.py")
        with open(mint, "w") as f:
            f.write(MINT)
        with open(os.path.join(home, ".aws", "config"), "w") as f:
            f.write("[profile soak]\ncredential_process = %s %s %s\n" % (sys.executable, mint, info["http"]))
        env["AWS_PROFILE"] = "soak"
    err = open(os.path.join(tmp, "brock.err"), "wb")
    p = subprocess.Popen([args.brock, "serve", "--listen", "127.0.0.1:0"], env=env, cwd=tmp,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                         start_new_session=True)
    for _ in range(400):
        with open(os.path.join(tmp, "brock.err"), "rb") as f:
            m = START_RE.search(f.read().decode("utf-8", "replace"))
        if m:
            return p, int(m.group(2))
        if p.poll() is not None:
            break
        time.sleep(0.05)
    with open(os.path.join(tmp, "brock.err"), "rb") as f:
        sys.stdout.write(f.read().decode("utf-8", "replace"))
    raise SystemExit("soak: brock serve did not start")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = 0
        self.abandoned = 0
        self.failed = []
        self.by_kind = {}

    def add(self, what, err=None):
        with self.lock:
            if err is None:
                self.ok += 1
                self.by_kind[what] = self.by_kind.get(what, 0) + 1
            elif err == "abandoned":
                self.abandoned += 1
            else:
                self.failed.append("%s: %s" % (what, err))


BEDROCK_ID = MODEL.split("/", 1)[1]
# kind -> (method, path, streamed, the bytes a complete answer ends with or holds)
KINDS = {
    "stream": ("POST", "/v1/chat/completions", True, b"data: [DONE]"),
    "plain": ("POST", "/v1/chat/completions", False, b'"choices"'),
    "abandon": ("POST", "/v1/chat/completions", True, None),
    "anth-stream": ("POST", "/v1/messages", True, b"event: message_stop"),
    "anth-plain": ("POST", "/v1/messages", False, b'"content"'),
    "anth-abandon": ("POST", "/v1/messages", True, None),
    "pt-stream": ("POST", "/model/%s/converse-stream" % urllib.parse.quote(BEDROCK_ID, safe=""), True,
                  b"messageStop"),
    "pt-plain": ("POST", "/model/%s/converse" % urllib.parse.quote(BEDROCK_ID, safe=""), False,
                 b'"output"'),
    "models": ("GET", "/v1/models", False, b'"data"'),
    "health": ("GET", "/healthz", False, None),
}
# relative weights of the mix; kinds whose route this build lacks are dropped at the start
MIX = {"stream": 3, "plain": 1, "abandon": 1, "anth-stream": 2, "anth-plain": 1, "anth-abandon": 1,
       "pt-stream": 1, "pt-plain": 1, "models": 1, "health": 1}


def request_body(kind, rng):
    text = "soak %d" % rng.randrange(10**6)
    method, path, streamed, _ = KINDS[kind]
    if method == "GET":
        return None
    if kind.startswith("anth"):
        return {"model": BEDROCK_ID, "max_tokens": 64, "stream": streamed,
                "messages": [{"role": "user", "content": text}]}
    if kind.startswith("pt"):
        return {"messages": [{"role": "user", "content": [{"text": text}]}],
                "inferenceConfig": {"maxTokens": 64}}
    return {"model": MODEL, "messages": [{"role": "user", "content": text}],
            "stream": streamed, "max_tokens": 64}


def probe_kinds(port):
    """The kinds of MIX this build serves: a route that answers 404 is left out."""
    have, rng = [], random.Random(0)
    for kind in MIX:
        method, path, _, _ = KINDS[kind]
        if kind.endswith("abandon"):
            continue
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            body = request_body(kind, rng)
            c.request(method, path, body=json.dumps(body) if body else None,
                      headers={"Content-Type": "application/json", "anthropic-version": "2023-06-01"})
            r = c.getresponse()
            r.read()
            if r.status != 404:
                have.append(kind)
        finally:
            c.close()
    for streamed, abandon in (("stream", "abandon"), ("anth-stream", "anth-abandon")):
        if streamed in have:
            have.append(abandon)
    return [k for k in have for _ in range(MIX[k])]


def one_request(port, rng, stats, kinds):
    kind = rng.choice(kinds)
    method, path, streamed, want = KINDS[kind]
    body = request_body(kind, rng)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request(method, path, body=json.dumps(body) if body else None,
                  headers={"Content-Type": "application/json", "anthropic-version": "2023-06-01"})
        r = c.getresponse()
        if kind.endswith("abandon"):
            r.read(rng.randrange(1, 200))
            c.sock.close()
            stats.add(kind, "abandoned")
            return
        data = r.read()
        if r.status != 200:
            stats.add(kind, "HTTP %d %s" % (r.status, data[:200]))
        elif want and want not in data:
            stats.add(kind, "incomplete answer: %s" % data[-200:])
        else:
            stats.add(kind)
    except (OSError, http.client.HTTPException) as ex:
        stats.add(kind, repr(ex))
    finally:
        c.close()


def sample(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        return rss, len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, AttributeError):
        return None, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--brock", default="build/brock")
    ap.add_argument("--seconds", type=float, default=1800)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--hup", type=float, default=300)
    ap.add_argument("--csv")
    ap.add_argument("--creds", choices=("container", "process"), default="container",
                    help="where the 60-second credentials come from")
    args = ap.parse_args()
    args.brock = os.path.abspath(args.brock)
    tmp = tempfile.mkdtemp(prefix="brock-soak-")
    emu = brock = None
    try:
        emu, info, ca = start_emulator(tmp)
        brock, port = start_brock(args, tmp, info, ca)
        stats, stop = Stats(), threading.Event()
        kinds = probe_kinds(port)
        print("soak: request mix %s; credentials: %s, 60 s"
              % (", ".join("%s x%d" % (k, kinds.count(k)) for k in MIX if k in kinds), args.creds))

        def client(i):
            rng = random.Random(i)
            while not stop.is_set():
                one_request(port, rng, stats, kinds)

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        curve, next_hup, hups = [], t0 + args.hup, 0
        while time.monotonic() - t0 < args.seconds:
            time.sleep(1)
            rss, fds = sample(brock.pid)
            if rss is None:
                raise SystemExit("soak: brock serve died (exit %s)" % brock.poll())
            curve.append((time.monotonic() - t0, rss, fds, stats.ok))
            if time.monotonic() >= next_hup:
                brock.send_signal(signal.SIGHUP)
                hups += 1
                next_hup += args.hup
        stop.set()
        for t in threads:
            t.join(timeout=90)
        time.sleep(1)
        rss_end, fds_end = sample(brock.pid)
        if args.csv:
            with open(args.csv, "w") as f:
                f.write("seconds,rss_kib,fds,requests_ok\n")
                for row in curve:
                    f.write("%.0f,%d,%d,%d\n" % row)
        print("soak: %.0f s, %d clients, %d SIGHUP" % (args.seconds, args.clients, hups))
        print("   t(s)   RSS(KiB)   fds   requests ok")
        step = max(1, len(curve) // 10)
        for row in curve[::step] + [curve[-1]]:
            print("  %5.0f  %9d  %4d  %12d" % row)
        rss0 = curve[min(4, len(curve) - 1)][1]
        fds0 = curve[0][2]
        print("soak: requests ok %d, abandoned by the client %d, failed %d; RSS %d -> %d KiB "
              "(max %d); fds %d -> %d (idle after the clients stopped: %d)"
              % (stats.ok, stats.abandoned, len(stats.failed), rss0, curve[-1][1],
                 max(r[1] for r in curve), fds0, curve[-1][2], fds_end))
        print("soak: ok by kind: " + ", ".join("%s %d" % kv for kv in sorted(stats.by_kind.items())))
        if args.creds == "container":  # (the request log keeps only its last entries)
            with urllib.request.urlopen(info["http"] + "/_emu/issued", timeout=30) as r:
                n = json.load(r).get("container", 0)
            print("soak: container credentials fetched %d times" % n)
        for f in stats.failed[:20]:
            print("  failed: " + f)
        bad = bool(stats.failed) or fds_end > fds0 + 2 or stats.ok == 0
        return 1 if bad else 0
    finally:
        for p in (brock, emu):
            if p and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
