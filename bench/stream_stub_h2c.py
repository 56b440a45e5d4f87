#!/usr/bin/env python3
"""bench/stream_stub.py's ConverseStream reply over cleartext HTTP/2 with prior knowledge (h2c).

    python3 bench/stream_stub_h2c.py [--port N]

For bench/peers.py --h2: the AWS SDK for JavaScript v3 opens an http:// Bedrock endpoint with
its default NodeHttp2Handler, which sends the HTTP/2 preface at once (no upgrade). Prints the
port, then answers every request stream with the bytes stream_stub.py would send for its prompt
(stream_stub.reply() and prompt_count()), in DATA frames as large as the client's windows and
frame size allow. One connection at a time; the stub's own speed is not what is measured.

Just enough HTTP/2 (RFC 9113) for that, written on raw frames (python3-h2 refuses to send
after a GOAWAY, and the SDK sends one, to close its session, as soon as the answer's headers
are in: the open stream must still finish). The request's header block is not decoded; the
answer's is written with HPACK literals (no Huffman, no table).
"""

import argparse
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stream_stub  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, ACK, END_HEADERS, PADDED = 0x1, 0x1, 0x4, 0x8


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", ftype, flags, sid) + payload


def literal(name, value):
    """An HPACK literal header field without indexing, new name, no Huffman (names < 127 B)."""
    return bytes([0, len(name)]) + name + bytes([len(value)]) + value


class Conn:
    def __init__(self, sock, cache):
        self.sock = sock
        self.cache = cache
        self.conn_window = 65535
        self.initial_window = 65535
        self.max_frame = 16384
        self.bodies = {}  # stream id -> request body so far
        self.pending = {}  # stream id -> [blob, offset, window]

    def answer(self, sid):
        n = stream_stub.prompt_count(self.bodies.pop(sid, b""))
        if n not in self.cache:
            self.cache[n] = stream_stub.reply(n)
        blob = self.cache[n]
        block = (b"\x88" + literal(b"content-type", b"application/vnd.amazon.eventstream")
                 + literal(b"x-amzn-requestid", b"00000000-0000-0000-0000-000000000000")
                 + literal(b"content-length", str(len(blob)).encode()))
        self.sock.sendall(frame(HEADERS, END_HEADERS, sid, block))
        self.pending[sid] = [blob, 0, self.initial_window]

    def pump(self):
        out = []
        for sid in list(self.pending):
            p = self.pending[sid]
            blob = p[0]
            while p[1] < len(blob):
                k = min(len(blob) - p[1], p[2], self.conn_window, self.max_frame)
                if k <= 0:
                    break
                end = p[1] + k == len(blob)
                out.append(frame(DATA, END_STREAM if end else 0, sid, blob[p[1]:p[1] + k]))
                p[1] += k
                p[2] -= k
                self.conn_window -= k
            if not blob:
                out.append(frame(DATA, END_STREAM, sid))
            if p[1] == len(blob):
                del self.pending[sid]
        if out:
            self.sock.sendall(b"".join(out))

    def settings(self, payload):
        for i in range(0, len(payload) - 5, 6):
            ident, value = struct.unpack(">HI", payload[i:i + 6])
            if ident == 4:  # INITIAL_WINDOW_SIZE: applies to open streams too
                for p in self.pending.values():
                    p[2] += value - self.initial_window
                self.initial_window = value
            elif ident == 5:
                self.max_frame = value
        self.sock.sendall(frame(SETTINGS, ACK, 0))

    def on_frame(self, ftype, flags, sid, payload):
        """Returns False once the client said GOAWAY (the open streams still finish)."""
        if ftype == SETTINGS and not flags & ACK:
            self.settings(payload)
        elif ftype == PING and not flags & ACK:
            self.sock.sendall(frame(PING, ACK, 0, payload))
        elif ftype in (HEADERS, DATA):
            if ftype == DATA:
                data = payload[1:len(payload) - payload[0]] if flags & PADDED else payload
                self.bodies[sid] = self.bodies.get(sid, b"") + data
                if payload:
                    inc = struct.pack(">I", len(payload))
                    self.sock.sendall(frame(WINDOW_UPDATE, 0, 0, inc) + frame(WINDOW_UPDATE, 0, sid, inc))
            if flags & END_STREAM:
                self.answer(sid)
        elif ftype == WINDOW_UPDATE:
            inc = struct.unpack(">I", payload)[0] & 0x7FFFFFFF
            if sid == 0:
                self.conn_window += inc
            elif sid in self.pending:
                self.pending[sid][2] += inc
        elif ftype == RST_STREAM:
            self.pending.pop(sid, None)
        elif ftype == GOAWAY:
            return False
        return True

    def run(self):
        buf = b""
        while len(buf) < len(PREFACE):
            data = self.sock.recv(65536)
            if not data:
                return
            buf += data
        if not buf.startswith(PREFACE):
            return
        buf = buf[len(PREFACE):]
        self.sock.sendall(frame(SETTINGS, 0, 0))
        open_ = True
        while open_ or self.pending:
            while len(buf) >= 9:
                n = int.from_bytes(buf[:3], "big")
                if len(buf) < 9 + n:
                    break
                ftype, flags, sid = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
                open_ = self.on_frame(ftype, flags, sid, buf[9:9 + n]) and open_
                buf = buf[9 + n:]
            self.pump()
            if not open_ and not self.pending:
                return
            data = self.sock.recv(65536)
            if not data:
                return
            buf += data


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(8)
    print(srv.getsockname()[1], flush=True)
    cache = {}
    while True:
        conn, _ = srv.accept()
        with conn:
            try:
                Conn(conn, cache).run()
            except OSError:
                pass


if __name__ == "__main__":
    main()
