#!/usr/bin/env python3
"""Test HTTP/1.1 server for test_httpc (python3 stdlib only).

server.py [--tls CERT KEY] prints "PORT <n>" once listening on 127.0.0.1.
  GET /hello        200 "hello" (Content-Length, keep-alive)
  GET /count        the number of connections accepted so far
  GET /chunked      5 chunks "part<i>\n", 0.2 s apart
  GET /slow         waits 2 s, then 200
  GET /drop-next    200, then the NEXT request on this connection is read
                    and the connection closed without an answer (a keep-alive
                    connection that went stale while the client was sending)
  GET /close        200 with "Connection: close"
  GET /eof-body     200 without length, body until close
  POST /echo        echoes the request body
"""
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

accepted = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes
    drop_next = False

    def log_message(self, *a):
        pass

    def send(self, code, body, extra=()):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_one_request(self):
        if self.drop_next:
            self.raw_requestline = self.rfile.readline(65537)
            while True:
                line = self.rfile.readline(65537)
                if line in (b"\r\n", b"\n", b""):
                    break
            self.close_connection = True
            return
        super().handle_one_request()

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        p = self.path
        if p == "/hello":
            self.send(200, b"hello")
        elif p == "/count":
            with lock:
                n = accepted
            self.send(200, str(n).encode())
        elif p == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(5):
                d = b"part%d\n" % i
                self.wfile.write(b"%x\r\n%s\r\n" % (len(d), d))
                self.wfile.flush()
                time.sleep(0.2)
            self.wfile.write(b"0\r\n\r\n")
        elif p == "/slow":
            time.sleep(2)
            self.send(200, b"slow")
        elif p == "/drop-next":
            self.send(200, b"ok")
            Handler.drop_next = False
            self.__class__ = DropHandler
        elif p == "/close":
            self.send(200, b"bye", [("Connection", "close")])
            self.close_connection = True
        elif p == "/eof-body":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until-eof")
            self.close_connection = True
        else:
            self.send(404, b"not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.send(200, body)


class DropHandler(Handler):
    drop_next = True


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def get_request(self):
        global accepted
        s, a = super().get_request()
        with lock:
            accepted += 1
        return s, a


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) >= 4 and sys.argv[1] == "--tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
