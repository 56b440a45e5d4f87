#!/usr/bin/python3
"""HTTP/2 test server over TLS for test_h2c (Debian's python3-h2).

h2server.py CERT KEY [--no-h2] [--max-streams N] prints "PORT <n>" once
listening on 127.0.0.1. ALPN offers h2 and http/1.1 (--no-h2: http/1.1
only, and an HTTP/1.1 answer to anything).
  /stream?n=K&ms=D   200, K DATA frames "chunk <i>\\n" D ms apart
  /big?kb=K          200, K KiB of 'x' (flow control: waits for WINDOW_UPDATE)
  /stats             {"conns": C, "streams": S, "resets": R, "pings": P}
  /goaway?n=K        K chunks, then GOAWAY(last stream) and the stream ends
  /refuse            RST_STREAM(REFUSED_STREAM) the first time on a connection
  /echo              echoes the request body
Every response carries x-amzn-requestid: req-<stream id>.
"""
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse

import hyperframe.frame
import h2.config
import h2.connection
import h2.events
import h2.errors

stats = {"conns": 0, "streams": 0, "resets": 0, "pings": 0}
slock = threading.Lock()


class Conn:
    def __init__(self, sock, max_streams):
        self.sock = sock
        self.lock = threading.Lock()
        self.cv = threading.Condition(self.lock)
        cfg = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config=cfg)
        self.bodies = {}
        self.paths = {}
        self.refused = False
        self.dead = False
        self.max_streams = max_streams

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def run(self):
        with self.lock:
            self.h2.initiate_connection()
            if self.max_streams:
                self.h2.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.max_streams})
            self.flush()
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                with self.lock:
                    for ev in self.h2.receive_data(data):
                        self.event(ev)
                    self.flush()
                    self.cv.notify_all()
        except (OSError, h2.exceptions.ProtocolError):
            pass
        with self.lock:
            self.dead = True
            self.cv.notify_all()
        self.sock.close()

    def event(self, ev):
        if isinstance(ev, h2.events.RequestReceived):
            with slock:
                stats["streams"] += 1
            self.paths[ev.stream_id] = dict(ev.headers).get(":path", "/")
            self.bodies[ev.stream_id] = b""
        elif isinstance(ev, h2.events.DataReceived):
            self.bodies[ev.stream_id] = self.bodies.get(ev.stream_id, b"") + ev.data
            self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            threading.Thread(target=self.answer, args=(ev.stream_id,), daemon=True).start()
        elif isinstance(ev, h2.events.StreamReset):
            with slock:
                stats["resets"] += 1
        elif isinstance(ev, h2.events.PingReceived):
            with slock:
                stats["pings"] += 1

    def send(self, sid, data, end=False):
        """Sends data as the windows allow; False when the stream is gone."""
        while True:
            with self.lock:
                if self.dead:
                    return False
                try:
                    room = min(self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size)
                except (h2.exceptions.StreamClosedError, KeyError):
                    return False
                if room >= len(data) or (room > 0 and len(data) > 0):
                    part = data[:room]
                    try:
                        self.h2.send_data(sid, part, end_stream=end and len(part) == len(data))
                    except h2.exceptions.StreamClosedError:
                        return False
                    self.flush()
                    data = data[len(part):]
                    if not data:
                        return True
                elif len(data) == 0:
                    self.h2.send_data(sid, b"", end_stream=end)
                    self.flush()
                    return True
                else:
                    self.cv.wait(1)

    def goaway(self, sid):
        """GOAWAY(last stream sid) written beside the h2 state machine, which
        would refuse to finish the stream after its own close_connection."""
        f = hyperframe.frame.GoAwayFrame(0)
        f.last_stream_id = sid
        f.error_code = 0
        with self.lock:
            self.flush()
            self.sock.sendall(f.serialize())

    def answer(self, sid):
        u = urllib.parse.urlsplit(self.paths[sid])
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/refuse" and not self.refused:
            self.refused = True
            with self.lock:
                self.h2.reset_stream(sid, h2.errors.ErrorCodes.REFUSED_STREAM)
                self.flush()
            return
        hdrs = [(":status", "200"), ("content-type", "application/vnd.amazon.eventstream"),
                ("x-amzn-requestid", "req-%d" % sid)]
        with self.lock:
            self.h2.send_headers(sid, hdrs)
            self.flush()
        try:
            if u.path == "/stats":
                with slock:
                    body = json.dumps(stats).encode()
                self.send(sid, body, True)
            elif u.path == "/echo":
                self.send(sid, self.bodies.get(sid, b""), True)
            elif u.path == "/big":
                self.send(sid, b"x" * (int(q.get("kb", "64")) * 1024), True)
            else:
                n, ms = int(q.get("n", "3")), int(q.get("ms", "0"))
                for i in range(n):
                    if u.path == "/goaway" and i == n // 2:
                        self.goaway(sid)
                    if not self.send(sid, b"chunk %d\n" % i):
                        return
                    if ms:
                        time.sleep(ms / 1000)
                self.send(sid, b"", True)
        except OSError:
            pass


def h1(sock):
    try:
        sock.recv(65536)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nh1")
    except OSError:
        pass
    sock.close()


def main():
    cert, key = sys.argv[1], sys.argv[2]
    no_h2 = "--no-h2" in sys.argv
    max_streams = 0
    if "--max-streams" in sys.argv:
        max_streams = int(sys.argv[sys.argv.index("--max-streams") + 1])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"] if no_h2 else ["h2", "http/1.1"])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(256)
    print("PORT %d" % ls.getsockname()[1], flush=True)
    while True:
        raw, _ = ls.accept()
        try:
            s = ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            continue
        with slock:
            stats["conns"] += 1
        if s.selected_alpn_protocol() == "h2":
            threading.Thread(target=Conn(s, max_streams).run, daemon=True).start()
        else:
            threading.Thread(target=h1, args=(s,), daemon=True).start()


if __name__ == "__main__":
    import h2.exceptions  # noqa: F401
    import h2.settings  # noqa: F401
    main()
