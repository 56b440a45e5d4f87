#!/usr/bin/env python3
"""Soak: brock serve against the emulator for a while, and whether it stays flat.

    python3 bench/soak.py --brock build/brock --seconds 1800 [--clients 16] [--hup 300] [--csv out.csv]

Mixed clients (streamed and non-streamed chat completions, /v1/models, /healthz, clients that
hang up mid-stream), credentials that expire every minute (a credential_process minting
60-second keys from the emulator, so the gateway refreshes them all the time) and a SIGHUP every
--hup seconds. Once a second it samples the gateway's RSS and open descriptors. At the end it
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


def start_brock(args, tmp, info, ca):
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".aws"))
    mint = os.path.join(tmp, "mint.py")
    with open(mint, "w") as f:
        f.write(MINT)
    with open(os.path.join(home, ".aws", "config"), "w") as f:
        f.write("[profile soak]\ncredential_process = %s %s %s\n" % (sys.executable, mint, info["http"]))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_CA_BUNDLE": ca, "AWS_PROFILE": "soak",
           "AWS_REGION": "us-east-1", "BROCK_CACHE_DIR": os.path.join(tmp, "cache"),
           "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": info["https"], "AWS_ENDPOINT_URL_BEDROCK": info["https"],
           "AWS_ENDPOINT_URL_STS": info["https"]}
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

    def add(self, what, err=None):
        with self.lock:
            if err is None:
                self.ok += 1
            elif err == "abandoned":
                self.abandoned += 1
            else:
                self.failed.append("%s: %s" % (what, err))


def one_request(port, rng, stats):
    kind = rng.choice(["stream", "stream", "stream", "plain", "models", "health", "abandon"])
    body = {"model": MODEL, "messages": [{"role": "user", "content": "soak %d" % rng.randrange(10**6)}],
            "stream": kind in ("stream", "abandon"), "max_tokens": 64}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        if kind == "models":
            c.request("GET", "/v1/models")
        elif kind == "health":
            c.request("GET", "/healthz")
        else:
            c.request("POST", "/v1/chat/completions", body=json.dumps(body),
                      headers={"Content-Type": "application/json"})
        r = c.getresponse()
        if kind == "abandon":
            r.read(rng.randrange(1, 200))
            c.sock.close()
            stats.add(kind, "abandoned")
            return
        data = r.read()
        if r.status != 200:
            stats.add(kind, "HTTP %d %s" % (r.status, data[:200]))
        elif kind == "stream" and b"data: [DONE]" not in data:
            stats.add(kind, "stream without [DONE]: %s" % data[-200:])
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
    args = ap.parse_args()
    args.brock = os.path.abspath(args.brock)
    tmp = tempfile.mkdtemp(prefix="brock-soak-")
    emu = brock = None
    try:
        emu, info, ca = start_emulator(tmp)
        brock, port = start_brock(args, tmp, info, ca)
        stats, stop = Stats(), threading.Event()

        def client(i):
            rng = random.Random(i)
            while not stop.is_set():
                one_request(port, rng, stats)

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
