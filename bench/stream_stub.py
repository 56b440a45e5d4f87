#!/usr/bin/env python3
"""A ConverseStream stub for bench/chat_cpu.sh: plain HTTP on loopback, one reply per request.

    python3 bench/stream_stub.py [--port N] [--certs DIR]

Prints the port on stdout, then answers every POST with a 200
application/vnd.amazon.eventstream body: messageStart, N contentBlockDelta events, contentBlockStop,
messageStop and metadata, where N is the request's prompt (the text of the last user message)
read as a whole number ("20000" -> 20,000 deltas; "0" -> none). The deltas look like Bedrock's:
compact JSON, 8 to 40 bytes of English text, every eighth one holding an escaped newline or quote,
and a "p" padding string of random length. The reply for each N is built once and cached, so
the stub's own speed does not matter. No signature check: this is not a test of auth. With
--certs (a directory made by tests/emulator/mkcerts.sh) it speaks HTTPS with server.crt, as Bedrock
does; give brock ca.crt as AWS_CA_BUNDLE.

Python 3 standard library only (the event-stream encoder is tests/emulator/awsproto.py, an
implementation independent of brock's C code).
"""

import argparse
import json
import os
import random
import socket
import ssl
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "emulator"))
import awsproto  # noqa: E402

WORDS = ("the quick brown fox jumps over a lazy dog while streams of tokens arrive one small "
         "piece at a time from the model and each piece is printed as soon as it is decoded").split()
PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def event(rnd, etype, payload, pad=True):
    if pad:
        payload = dict(payload, p=PADDING[:rnd.randint(1, len(PADDING))])
    body = json.dumps(payload, separators=(",", ":")).encode()
    return awsproto.encode_message([(":event-type", etype), (":content-type", "application/json"),
                                    (":message-type", "event")], body)


def delta_text(rnd, i):
    words = []
    while sum(len(w) + 1 for w in words) < rnd.randint(8, 40):
        words.append(rnd.choice(WORDS))
    t = " " + " ".join(words)
    if i % 8 == 7:
        t += rnd.choice(("\n", "\n\n", ' "quoted"'))
    return t


def reply(n):
    rnd = random.Random(n)  # the same bytes for the same N, run after run
    out = [event(rnd, "messageStart", {"role": "assistant"})]
    for i in range(n):
        out.append(event(rnd, "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": delta_text(rnd, i)}}))
    out.append(event(rnd, "contentBlockStop", {"contentBlockIndex": 0}))
    out.append(event(rnd, "messageStop", {"stopReason": "end_turn"}))
    out.append(event(rnd, "metadata", {"usage": {"inputTokens": 3, "outputTokens": n, "totalTokens": n + 3},
                                       "metrics": {"latencyMs": 1}}, pad=False))
    return b"".join(out)


def read_request(f):
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = f.readline(65536)
        if not line:
            return None
        head += line
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    return f.read(length)


def prompt_count(body):
    try:
        req = json.loads(body)
        return max(0, int(req["messages"][-1]["content"][0]["text"].strip()))
    except (ValueError, KeyError, IndexError, TypeError):
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--certs", help="serve HTTPS with DIR/server.crt and DIR/server.key")
    args = ap.parse_args()
    tls = None
    if args.certs:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(os.path.join(args.certs, "server.crt"), os.path.join(args.certs, "server.key"))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(8)
    print(srv.getsockname()[1], flush=True)
    cache = {}
    while True:
        conn, _ = srv.accept()
        if tls:
            try:
                conn = tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                continue
        with conn, conn.makefile("rb") as f:
            while True:
                body = read_request(f)
                if body is None:
                    break
                n = prompt_count(body)
                if n not in cache:
                    cache[n] = reply(n)
                blob = cache[n]
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n"
                             b"x-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(blob) + blob)


if __name__ == "__main__":
    main()
