#!/usr/bin/env python3
"""bench/serve_h2_emu.py BROCK N [h2|h1]: N concurrent streaming completions through `brock serve`
against the test emulator's HTTP/2 front (tests/emulator/h2front.py, python3-h2), upstream over
HTTP/2 (h2) or forced onto the HTTP/1.1 path (h1: BROCK_SERVE_HTTP1=1, same front, ALPN
http/1.1 pass-through). Prints completed streams, brock's peak RSS (VmHWM), its peak descriptor
count and the front's counters (upstream connections, streams). Numbers, not a test: the Python
front is the slow part (20 events 100 ms apart per stream take longer than 2 s at N=1,000)."""
import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
EMU = os.path.join(HERE, "..", "tests", "emulator")


def main():
    brock, n = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "h2"
    tmp = tempfile.mkdtemp(prefix="brock-h2bench-")
    procs = []
    try:
        subprocess.run(["sh", os.path.join(EMU, "mkcerts.sh"), tmp + "/certs"], check=True,
                       stdout=subprocess.DEVNULL)
        procs.append(subprocess.Popen([sys.executable, os.path.join(EMU, "emulator.py"), "--certs",
                                       tmp + "/certs", "--state-file", tmp + "/state.json",
                                       "--parent-pid", str(os.getpid())],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while not os.path.exists(tmp + "/state.json"):
            time.sleep(0.05)
        st = json.load(open(tmp + "/state.json"))
        if "https_h2" not in st:
            sys.exit("no python3-h2: the emulator has no h2 front")

        def ctl(p, o=None):
            r = urllib.request.Request("http://127.0.0.1:%d%s" % (st["http_port"], p),
                                       data=None if o is None else json.dumps(o).encode(),
                                       method="GET" if o is None else "POST")
            return json.loads(urllib.request.urlopen(r).read())

        cfg = ctl("/_emu/config")
        ctl("/_emu/config", {"reply_chunks": ["tok "] * 20, "event_delay": 0.1})
        os.makedirs(tmp + "/home/.config/brock")
        with open(tmp + "/home/.config/brock/config.json5", "w") as f:
            f.write("{serve: {maxConnectionsPerIp: 20000, maxConnections: 20000}}")
        env = {"HOME": tmp + "/home", "PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_CA_BUNDLE": tmp + "/certs/ca.crt", "AWS_ACCESS_KEY_ID": cfg["access_key_id"],
               "AWS_SECRET_ACCESS_KEY": cfg["secret_access_key"], "AWS_REGION": "us-east-1",
               "AWS_MAX_ATTEMPTS": "1", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": st["https_h2"]}
        if mode == "h1":
            env["BROCK_SERVE_HTTP1"] = "1"
        err = open(tmp + "/serve.err", "wb")
        p = subprocess.Popen([brock, "serve", "--listen", "127.0.0.1:0"], env=env, stderr=err)
        procs.append(p)
        port = None
        while port is None:
            time.sleep(0.05)
            text = open(tmp + "/serve.err").read()
            if "http://127.0.0.1:" in text:
                port = int(text.split("http://127.0.0.1:")[1].split()[0])
        body = json.dumps({"model": "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                           "stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode()
        req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
               b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        sel, got = selectors.DefaultSelector(), {}
        t0 = time.time()
        for _ in range(n):
            c = socket.create_connection(("127.0.0.1", port))
            c.sendall(req)
            c.setblocking(False)
            got[c] = b""
            sel.register(c, selectors.EVENT_READ)
        left, peak_fd = n, 0
        while left and time.time() - t0 < 300:
            for k, _ in sel.select(0.2):
                c = k.fileobj
                try:
                    d = c.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    d = b""
                if d:
                    got[c] += d
                    continue
                sel.unregister(c)
                c.close()
                left -= 1
            peak_fd = max(peak_fd, len(os.listdir("/proc/%d/fd" % p.pid)))
        hwm = [l.split()[1] for l in open("/proc/%d/status" % p.pid) if l.startswith("VmHWM")][0]
        done = sum(1 for v in got.values() if b"data: [DONE]" in v)
        print("%s N=%d completed=%d wall=%.1fs brock_VmHWM=%s kB peak_fds=%d front=%s" %
              (mode, n, done, time.time() - t0, hwm, peak_fd, ctl("/_emu/h2")))
    finally:
        for q in procs:
            q.terminate()
        for q in procs:
            q.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
