#!/usr/bin/env python3
"""Tiny HTTP proxy for test_httpc (python3 stdlib only).

proxy.py LOGFILE prints "PORT <n>" once listening on 127.0.0.1. For each
request it appends "<request line> auth=<Proxy-Authorization or ->" to
LOGFILE. CONNECT opens a tunnel; an absolute-form request is forwarded to
its origin (one request per connection)."""
import socket
import sys
import threading
from urllib.parse import urlsplit


def relay(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def read_head(c):
    """Byte by byte, so nothing after the head is swallowed."""
    d = b""
    while not d.endswith(b"\r\n\r\n") and len(d) < 65536:
        b = c.recv(1)
        if not b:
            break
        d += b
    return d


def handle(c, log):
    lines = read_head(c).split(b"\r\n")
    line = lines[0].decode("latin-1")
    headers = []
    auth = "-"
    for h in lines[1:]:
        if not h:
            continue
        h += b"\r\n"
        headers.append(h)
        k, _, v = h.decode("latin-1").partition(":")
        if k.strip().lower() == "proxy-authorization":
            auth = v.strip()
    with open(log, "a") as lf:
        lf.write("%s auth=%s\n" % (line, auth))
    method, target, _ = line.split(" ", 2)
    try:
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            up = socket.create_connection((host, int(port)))
            c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            u = urlsplit(target)
            up = socket.create_connection((u.hostname, u.port or 80))
            path = u.path or "/"
            if u.query:
                path += "?" + u.query
            head = ("%s %s HTTP/1.1\r\n" % (method, path)).encode()
            for h in headers:
                if not h.lower().startswith(b"proxy-authorization"):
                    head += h
            up.sendall(head + b"Connection: close\r\n\r\n")
    except OSError:
        c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        c.close()
        return
    t = threading.Thread(target=relay, args=(up, c), daemon=True)
    t.start()
    relay(c, up)
    t.join()
    c.close()
    up.close()


def main():
    log = sys.argv[1]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    print("PORT %d" % s.getsockname()[1], flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c, log), daemon=True).start()


if __name__ == "__main__":
    main()
