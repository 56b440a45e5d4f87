"""HTTP/2 front of the emulator: a TLS listener whose ALPN offers h2 and
http/1.1; each h2 stream is forwarded as an HTTP/1.1 request to the
emulator's plain port and the answer streamed back as it arrives (headers,
then DATA as the peer's windows allow). A connection that picks http/1.1
is forwarded byte for byte. Counts connections, streams, resets by the
client and PINGs, for tests (GET /_emu/h2 on the emulator; POST
/_emu/h2 {"goaway": n} sends GOAWAY after the next n streams' headers).

Needs python3-h2 (Debian; the import falls back to Debian's dist-packages
when another python3 runs the emulator)."""
import http.client
import socket
import ssl
import sys
import threading
import time

try:
    import h2.config
except ImportError:  # pyenv or venv python: Debian's pure-Python packages
    sys.path.append("/usr/lib/python3/dist-packages")
    import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hyperframe.frame

STATS = {"conns": 0, "h1_conns": 0, "streams": 0, "open_streams": 0, "max_open_streams": 0,
         "resets": 0, "pings": 0, "goaway_next": 0}
SLOCK = threading.Lock()

HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te"}


def stat(k, d):
    with SLOCK:
        STATS[k] += d
        if k == "open_streams":
            STATS["max_open_streams"] = max(STATS["max_open_streams"], STATS["open_streams"])


class Conn:
    def __init__(self, sock, backend):
        self.sock = sock
        self.backend = backend
        self.lock = threading.Lock()
        self.cv = threading.Condition(self.lock)
        cfg = h2.config.H2Configuration(client_side=False, header_encoding="utf-8",
                                        validate_inbound_headers=False)
        self.h2 = h2.connection.H2Connection(config=cfg)
        self.reqs = {}
        self.reset = set()
        self.dead = False

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def run(self):
        with self.lock:
            self.h2.initiate_connection()
            self.h2.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100})
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
        try:
            self.sock.close()
        except OSError:
            pass

    def event(self, ev):
        if isinstance(ev, h2.events.RequestReceived):
            stat("streams", 1)
            stat("open_streams", 1)
            self.reqs[ev.stream_id] = [ev.headers, b""]
        elif isinstance(ev, h2.events.DataReceived):
            self.reqs[ev.stream_id][1] += ev.data
            self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            threading.Thread(target=self.forward, args=(ev.stream_id,), daemon=True).start()
        elif isinstance(ev, h2.events.StreamReset):
            stat("resets", 1)
            self.reset.add(ev.stream_id)
            self.cv.notify_all()
        elif isinstance(ev, h2.events.PingReceived):
            stat("pings", 1)

    def send(self, sid, data, end):
        """Sends data as the windows allow; False once the stream is gone."""
        while True:
            with self.lock:
                if self.dead or sid in self.reset:
                    return False
                try:
                    room = min(self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size)
                    if not data:
                        self.h2.send_data(sid, b"", end_stream=end)
                        self.flush()
                        return True
                    if room > 0:
                        part, data = data[:room], data[room:]
                        self.h2.send_data(sid, part, end_stream=end and not data)
                        self.flush()
                        if not data:
                            return True
                        continue
                except (h2.exceptions.StreamClosedError, KeyError, OSError):
                    return False
                self.cv.wait(1)

    def goaway_after(self, sid):
        with SLOCK:
            if STATS["goaway_next"] <= 0:
                return
            STATS["goaway_next"] -= 1
        f = hyperframe.frame.GoAwayFrame(0)
        f.last_stream_id = sid
        f.error_code = 0
        with self.lock:
            self.flush()
            self.sock.sendall(f.serialize())

    def forward(self, sid):
        headers, body = self.reqs.pop(sid)
        h = dict(headers)
        out = {k: v for k, v in headers if not k.startswith(":") and k not in HOP}
        out["host"] = h.get(":authority", "")
        b = None
        try:
            for attempt in range(5):  # a thousand streams at once overflow the backlog now and then
                b = http.client.HTTPConnection("127.0.0.1", self.backend, timeout=600)
                try:
                    b.request(h.get(":method", "GET"), h.get(":path", "/"), body=body, headers=out)
                    r = b.getresponse()
                    break
                except (OSError, http.client.HTTPException) as e:
                    b.close()
                    if attempt == 4:
                        raise
                    sys.stderr.write("h2front: backend: %r, again\n" % e)
                    time.sleep(0.2)
            rh = [(":status", str(r.status))] + [(k.lower(), v) for k, v in r.getheaders()
                                                 if k.lower() not in HOP and k.lower() != "content-length"]
            with self.lock:
                if self.dead or sid in self.reset:
                    return
                self.h2.send_headers(sid, rh)
                self.flush()
            self.goaway_after(sid)
            while True:
                chunk = r.read1(65536)
                if not chunk:
                    break
                if not self.send(sid, chunk, False):
                    return
            self.send(sid, b"", True)
        except (OSError, http.client.HTTPException, h2.exceptions.ProtocolError) as e:
            sys.stderr.write("h2front: stream %d: %r\n" % (sid, e))
            with self.lock:
                try:
                    self.h2.reset_stream(sid, h2.errors.ErrorCodes.INTERNAL_ERROR)
                    self.flush()
                except (h2.exceptions.ProtocolError, OSError):
                    pass
        finally:
            if b:
                b.close()
            stat("open_streams", -1)


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Front:
    """Listens on host:0 (TLS with cert/key); ALPN h2 and http/1.1."""

    def __init__(self, host, certfile, keyfile, backend):
        self.backend = backend
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(certfile, keyfile)
        self.ctx.set_alpn_protocols(["h2", "http/1.1"])
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, 0))
        self.ls.listen(512)
        self.server_address = self.ls.getsockname()

    def serve_forever(self, poll_interval=None):
        while True:
            raw, _ = self.ls.accept()
            threading.Thread(target=self.conn, args=(raw,), daemon=True).start()

    def conn(self, raw):
        try:
            raw.settimeout(10)
            s = self.ctx.wrap_socket(raw, server_side=True)
            s.settimeout(None)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        if s.selected_alpn_protocol() == "h2":
            stat("conns", 1)
            Conn(s, self.backend).run()
            return
        stat("h1_conns", 1)
        b = socket.create_connection(("127.0.0.1", self.backend))
        threading.Thread(target=pipe, args=(b, s), daemon=True).start()
        pipe(s, b)


def stats():
    with SLOCK:
        return dict(STATS)


def configure(obj):
    with SLOCK:
        if "goaway" in obj:
            STATS["goaway_next"] = int(obj["goaway"])
        if obj.get("reset"):
            for k in STATS:
                STATS[k] = 0
