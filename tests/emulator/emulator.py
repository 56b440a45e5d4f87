#!/usr/bin/env python3
"""Local emulator of the AWS endpoints brock talks to (Bedrock runtime + control plane, STS, SSO,
SSO-OIDC, EC2 IMDS, container credentials), with knobs to misbehave on purpose.

Python 3 standard library only. See README.md in this directory for routes and knobs.

    python3 tests/emulator/emulator.py --certs DIR [--state-file F] [--config JSON] [--verbose]

When ready, prints one JSON line on stdout (and writes it to --state-file, atomically) with the
ports and base URLs.
"""

import argparse
import base64
import copy
import email.utils
import http.server
import json
import os
import random
import selectors
import secrets as _secrets
import socket
import socketserver
import ssl
import string
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import datetime
from xml.sax.saxutils import escape as xml_escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsproto as ap  # noqa: E402
import features  # noqa: E402
import fixtures  # noqa: E402
import invoke_emu  # noqa: E402

MAX_BODY = 64 * 1024 * 1024
LOG_BODY_MAX = 4 * 1024 * 1024
LOG_MAX_ENTRIES = 20000
CONN_TIMEOUT = 60          # seconds of read silence before a connection is dropped
HANDSHAKE_TIMEOUT = 10

DEFAULTS = {
    # identity and secrets
    "region": "us-east-1",
    "expected_region": None,
    "access_key_id": "AKIAEMULATORTEST0001",
    "secret_access_key": "emuSecretKey/0001+abcdefghijklmnopqrstuvw",
    "static_keys": {},
    "bearer_token": "ABSKZW11bGF0b3ItYmVkcm9jay1hcGkta2V5LTAwMDE=",
    "web_identity_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJlbXVsYXRvciJ9.emulator-web-identity-sig",
    "sso_access_token": "aoaAAAAAGemulatorSsoAccessToken0001",
    "sso_refresh_token": "aorAAAAAGemulatorSsoRefreshToken0001",
    "sso_client_id": None,
    "sso_client_secret": None,
    "sso_account_id": None,
    "sso_role_name": None,
    "sso_token_ttl": 28800,
    "container_token": "emulator-container-auth-token-0001",
    "container_path": "/creds/",
    "cred_ttl": 3600,
    "sts_cred_ttl": None,
    "sso_cred_ttl": None,
    "imds_cred_ttl": None,
    "container_cred_ttl": None,
    "sts_deny_roles": [],
    # IMDS
    "imds_role": "brock-imds-role",
    "imds_v1": False,
    "imds_token_status": None,
    "imds_down": None,
    "imds_token_ttl_max": 21600,
    "imds_reject_tokens": 0,  # the next N GETs carrying a valid token answer 401 (token expired)
    # reply shape
    "reply_text": None,
    "reply_chunks": None,
    "deltas": 4,
    "delta_size": None,
    "reasoning": None,
    "tool_use": [],
    "stop_reason": None,
    "usage": {},
    "padding": True,
    "inject_events": [],
    # stream misbehaviour
    "tiny_writes": False,
    "frames_per_chunk": 1,
    "corrupt_prelude_crc_at": None,
    "corrupt_message_crc_at": None,
    "truncate_after": None,
    "truncate_mid_frame": False,
    "stall_after": None,
    "stall_seconds": 0,
    "exception_after": None,
    "exception_type": "modelStreamErrorException",
    "exception_message": "The model stream was interrupted (emulated).",
    "error_after": None,
    "error_code": "InternalFailure",
    "error_message": "An internal error occurred (emulated).",
    "latency": 0,
    "event_delay": 0,
    # request-level misbehaviour
    "failures": [],
    "clock_skew": 0,
    "strict_models": False,
    "profiles_page_size": 10,
    # HTTPS proxy (CONNECT) port
    "proxy_auth": None,
    "proxy_status": None,
}

ERROR_DEFAULTS = {  # type -> (status, message)
    "ThrottlingException": (429, "Too many requests, please wait before trying again."),
    "ModelNotReadyException": (429, "Model is not ready for inference. Wait and try your request again."),
    "ServiceUnavailableException": (503, "Bedrock is unable to process your request."),
    "InternalServerException": (500, "The server encountered an internal error while processing the request."),
    "ValidationException": (400, "Malformed input request, please reformat your input and try again."),
    "AccessDeniedException": (403, "You don't have access to the model with the specified model ID."),
    "ResourceNotFoundException": (404, "The requested resource could not be found."),
    "ModelTimeoutException": (408, "Model has timed out in processing the request."),
    "ModelErrorException": (424, "The model returned an error (emulated)."),
    "ServiceQuotaExceededException": (400, "Your request exceeds the service quota for your account."),
    "UnknownOperationException": (404, "Unknown operation"),
}
STATUS_TYPES = {429: "ThrottlingException", 500: "InternalServerException", 503: "ServiceUnavailableException",
                400: "ValidationException", 403: "AccessDeniedException", 404: "ResourceNotFoundException",
                408: "ModelTimeoutException", 424: "ModelErrorException", 502: "InternalServerException",
                504: "InternalServerException", 200: "UnknownOperationException"}

PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class State:
    def __init__(self, overrides):
        self.lock = threading.RLock()
        self.overrides = overrides
        self.all_secrets = set()
        self.tls_failures = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.cfg = copy.deepcopy(DEFAULTS)
            self.cfg.update(copy.deepcopy(self.overrides))
            self.log = []
            self.seq = 0
            self.attempts = {}
            self.failures = []
            self.issued = {}          # akid -> {secret, token, expires, source}
            self.imds_tokens = {}     # token -> expiry (monotonic)
            self.sso_tokens = set()
            self.refresh_tokens = set()
            self.prompt_cache = {}    # prefix hash -> tokens (features.check)
            self._note_config_secrets()

    def _note_config_secrets(self):
        c = self.cfg
        for k in ("secret_access_key", "bearer_token", "web_identity_token", "sso_access_token",
                  "sso_refresh_token", "sso_client_secret", "container_token"):
            if c.get(k):
                self.all_secrets.add(c[k])
        for v in (c.get("static_keys") or {}).values():
            if isinstance(v, dict):
                for k in ("secret", "token"):
                    if v.get(k):
                        self.all_secrets.add(v[k])
            elif v:
                self.all_secrets.add(v)

    def merge(self, upd):
        with self.lock:
            upd = dict(upd)
            if "fail_next" in upd:
                f = {"route": upd.pop("fail_route", "runtime"), "count": upd.pop("fail_next")}
                for k in ("status", "type", "message", "body", "header", "error_message_header", "model"):
                    if "fail_" + k in upd:
                        f[k] = upd.pop("fail_" + k)
                self.failures.append(f)
            for k in list(upd):
                if k.startswith("fail_"):
                    raise ValueError("fail_* knobs need fail_next: %s" % k)
            if "failures" in upd:
                self.failures = [dict(f) for f in upd.pop("failures")]
            unknown = [k for k in upd if k not in DEFAULTS]
            if unknown:
                raise ValueError("unknown knob(s): %s" % ", ".join(sorted(unknown)))
            self.cfg.update(upd)
            self._note_config_secrets()
            return self.snapshot()

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.cfg)
            s["failures"] = copy.deepcopy(self.failures)
            return s

    def now(self):
        """The emulator's clock (possibly skewed)."""
        return time.time() + float(self.cfg.get("clock_skew") or 0)

    def issue(self, source, ttl=None):
        c = self.cfg
        if ttl is None:
            ttl = c.get(source + "_cred_ttl")
            if ttl is None:
                ttl = c["cred_ttl"]
        akid = "ASIA" + "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(16))
        secret = "".join(random.choice(string.ascii_letters + string.digits + "+/") for _ in range(40))
        token = "IQoJb3JpZ2luX2VjE" + base64.b64encode(os.urandom(96)).decode() + "emu" + source
        exp = self.now() + float(ttl)
        with self.lock:
            self.issued[akid] = {"secret": secret, "token": token, "expires": exp, "source": source}
            self.all_secrets.update((secret, token))
        return {"akid": akid, "secret": secret, "token": token, "expires": exp}

    def lookup_key(self, akid):
        """-> dict(secret, token or None, expires or None, source) or None."""
        c = self.cfg
        with self.lock:
            if akid in self.issued:
                return dict(self.issued[akid])
        if akid == c.get("access_key_id"):
            return {"secret": c["secret_access_key"], "token": None, "expires": None, "source": "static"}
        v = (c.get("static_keys") or {}).get(akid)
        if isinstance(v, dict):
            return {"secret": v.get("secret"), "token": v.get("token"), "expires": v.get("expires"),
                    "source": "static"}
        if v:
            return {"secret": v, "token": None, "expires": None, "source": "static"}
        return None

    def take_failure(self, route, model_id=None):
        with self.lock:
            for f in self.failures:
                r = f.get("route", "runtime")
                if not route_matches(r, route):
                    continue
                if f.get("model") is not None and f["model"] != model_id:
                    continue
                n = f.get("count", 1)
                if n == 0:
                    continue
                if n > 0:
                    f["count"] = n - 1
                return dict(f)
        return None

    def new_log(self, entry):
        with self.lock:
            self.seq += 1
            entry["n"] = self.seq
            key = (entry["route"], entry.get("model_id") or entry["path"])
            self.attempts[key] = self.attempts.get(key, 0) + 1
            entry["attempt"] = self.attempts[key]
            self.log.append(entry)
            if len(self.log) > LOG_MAX_ENTRIES:
                del self.log[:len(self.log) - LOG_MAX_ENTRIES]
        return entry


ROUTE_GROUPS = {
    "runtime": ("converse", "converse-stream"),
    "invoke-all": ("invoke", "invoke-with-response-stream"),
    "control": ("foundation-models", "inference-profiles", "foundation-model"),
    "credentials": ("sts", "sso", "oidc", "imds", "container"),
}


def route_matches(pattern, route):
    if pattern in ("any", "*", route):
        return True
    return route in ROUTE_GROUPS.get(pattern, ())


def iso8601(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Reply(Exception):
    """Raised by a route to send a prepared error reply."""

    def __init__(self, status, etype, message, body="json", header=True, xml=False, errmsg_header=False):
        super().__init__(message)
        self.status, self.etype, self.message = status, etype, message
        self.body, self.header, self.xml, self.errmsg_header = body, header, xml, errmsg_header


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "brock-emulator/1"
    sys_version = ""
    timeout = CONN_TIMEOUT

    # ------------------------------------------------------------------ plumbing
    def setup(self):
        ctx = getattr(self.server, "ssl_context", None)
        if ctx is not None:
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            try:
                self.request = ctx.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                with STATE.lock:
                    STATE.tls_failures += 1
                raise
        try:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        super().setup()

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if VERBOSE:
            sys.stderr.write("emulator: %s %s\n" % (self.address_string(), fmt % args))

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(STATE.now() if timestamp is None else timestamp, usegmt=True)

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + size > MAX_BODY:
                    raise ValueError("body too large")
                out += self.rfile.read(size)
                self.rfile.readline(16)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def header_list(self):
        return [(k, v) for k, v in self.headers.items()]

    def send_raw(self, status, body, ctype, headers=()):
        self.send_response(status)
        self.send_header("x-amzn-RequestId", self.request_id)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.entry["status"] = status

    def send_json(self, status, obj, headers=()):
        self.send_raw(status, json.dumps(obj).encode(), "application/json", headers)

    def send_error_reply(self, r):
        self.entry["error"] = r.etype
        if r.xml:
            body = ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
                    "  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n    <Message>%s</Message>\n"
                    "  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n") % (
                "Receiver" if r.status >= 500 else "Sender", xml_escape(r.etype),
                xml_escape(r.message), self.request_id)
            self.send_raw(r.status, body.encode(), "text/xml", self.date_hdr())
            return
        headers = list(self.date_hdr())
        if r.header:
            headers.append(("x-amzn-ErrorType",
                            "%s:http://internal.amazon.com/coral/com.amazon.bedrock/" % r.etype))
        if r.errmsg_header:
            headers.append(("x-amzn-ErrorMessage", r.message))
        if r.body == "empty":
            self.send_raw(r.status, b"", "application/json", headers)
        elif r.body == "typed":
            self.send_json(r.status, {"__type": r.etype, "message": r.message}, headers)
        elif r.body == "Message":
            self.send_json(r.status, {"Message": r.message}, headers)
        elif isinstance(r.body, dict):
            self.send_json(r.status, r.body, headers)
        elif isinstance(r.body, str) and r.body != "json":
            self.send_raw(r.status, r.body.encode(), "text/plain", headers)
        else:
            self.send_json(r.status, {"message": r.message}, headers)

    def date_hdr(self):
        return ()  # Date is always sent by send_response (emulator clock)

    def drop(self):
        """Close the connection without (completing) a response."""
        self.close_connection = True
        self.entry["dropped"] = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ------------------------------------------------------------------ dispatch
    def dispatch(self):
        self.request_id = str(uuid.uuid4())
        raw_path, _, raw_query = self.path.partition("?")
        self.raw_path, self.raw_query = raw_path, raw_query
        self.entry = {"time": time.time(), "method": self.command, "path": raw_path,
                      "raw_query": raw_query, "query": urllib.parse.parse_qs(raw_query, keep_blank_values=True),
                      "headers": {}, "header_list": [], "route": "unknown", "status": None,
                      "tls": getattr(self.server, "ssl_context", None) is not None,
                      "port": self.server.server_address[1], "request_id": self.request_id,
                      "peer": "%s:%s" % tuple(self.client_address[:2])}  # one TCP connection
        for k, v in self.headers.items():
            self.entry["header_list"].append([k, v])
            lk = k.lower()
            self.entry["headers"][lk] = (self.entry["headers"][lk] + "," + v) if lk in self.entry["headers"] else v
        sdk = self.headers.get("amz-sdk-request") or ""
        if "attempt=" in sdk:
            self.entry["sdk_attempt"] = sdk.split("attempt=")[1].split(";")[0]
        try:
            self.body = self.read_body()
        except (ValueError, ConnectionError, OSError) as e:
            self.close_connection = True
            self.entry["error"] = "bad request body: %s" % e
            self.entry["route"] = "bad-request"
            STATE.new_log(self.entry)
            try:
                self.send_raw(400, b"bad request body", "text/plain")
            except OSError:
                pass
            return
        self.entry["body_len"] = len(self.body)
        b = self.body[:LOG_BODY_MAX]
        try:
            self.entry["body"] = b.decode("utf-8")
        except UnicodeDecodeError:
            self.entry["body"] = None
            self.entry["body_b64"] = base64.b64encode(b).decode()
        route, handler, arg = self.route(raw_path)
        self.entry["route"] = route
        if arg is not None:
            self.entry["model_id"] = arg
        if route != "control":
            STATE.new_log(self.entry)
        try:
            handler(arg)
        except Reply as r:
            self.send_error_reply(r)
        except _Dropped:
            pass
        except (BrokenPipeError, ConnectionResetError, socket.timeout, ssl.SSLError):
            self.close_connection = True
            self.entry["client_gone"] = True
        except Exception as e:  # a bug in the emulator: say so loudly, keep serving
            traceback.print_exc()
            self.entry["emulator_bug"] = repr(e)
            try:
                self.send_error_reply(Reply(500, "InternalServerException", "emulator bug: %r" % e))
            except OSError:
                self.close_connection = True

    def route(self, p):
        m = self.command
        if p.startswith("/_emu/"):
            return "control", self.r_control, None
        if p.startswith("/model/"):
            parts = p.split("/")
            if len(parts) == 4 and m == "POST" and parts[3] in ("converse", "converse-stream") and parts[2]:
                return parts[3], self.r_runtime, urllib.parse.unquote(parts[2])
            if len(parts) == 4 and m == "POST" and parts[2] and \
                    parts[3] in ("invoke", "invoke-with-response-stream", "count-tokens"):
                return parts[3], self.r_invoke, urllib.parse.unquote(parts[2])
            return "unknown", self.r_unknown, None
        if p == "/foundation-models" and m == "GET":
            return "foundation-models", self.r_foundation_models, None
        if p.startswith("/foundation-models/") and m == "GET":
            return "foundation-model", self.r_foundation_model, urllib.parse.unquote(p[len("/foundation-models/"):])
        if p == "/inference-profiles" and m == "GET":
            return "inference-profiles", self.r_inference_profiles, None
        if p == "/federation/credentials" and m == "GET":
            return "sso", self.r_sso, None
        if p == "/token" and m == "POST":
            return "oidc", self.r_oidc, None
        if p.startswith("/latest/"):
            return "imds", self.r_imds, None
        cp = STATE.cfg.get("container_path") or "/creds/"
        if p.startswith(cp) and m == "GET":
            return "container", self.r_container, None
        if p == "/" and m in ("POST", "GET"):
            return "sts", self.r_sts, None
        return "unknown", self.r_unknown, None

    def r_unknown(self, _):
        raise Reply(404, "UnknownOperationException", "Unknown operation %s %s" % (self.command, self.raw_path))

    # ------------------------------------------------------------------ auth
    def auth_error(self, service, kind, message):
        if service == "sts":
            code = {"unknown-key": "InvalidClientTokenId", "bad-token": "InvalidClientTokenId",
                    "expired-token": "ExpiredToken", "missing": "MissingAuthenticationToken",
                    "incomplete": "IncompleteSignature"}.get(kind, "SignatureDoesNotMatch")
            status = 400 if kind in ("expired-token", "incomplete") else 403
            return Reply(status, code, message, xml=True)
        etype = {"unknown-key": "UnrecognizedClientException", "bad-token": "UnrecognizedClientException",
                 "bad-bearer": "UnrecognizedClientException", "expired-token": "ExpiredTokenException",
                 "missing": "MissingAuthenticationTokenException",
                 "incomplete": "IncompleteSignatureException"}.get(kind, "InvalidSignatureException")
        status = 400 if kind == "incomplete" else 403
        return Reply(status, etype, message)

    def check_auth(self, service, allow_bearer):
        verdict = self._check_auth(service, allow_bearer)
        self.entry["auth"] = verdict
        if verdict["verdict"] not in ("ok", "bearer"):
            raise self.auth_error(service, verdict["verdict"], verdict["message"])
        return verdict

    def _check_auth(self, service, allow_bearer):
        cfg = STATE.cfg
        authz = self.headers.get("Authorization")
        if authz is None:
            return {"verdict": "missing", "message": "Missing Authentication Token"}
        if authz.startswith("Bearer "):
            if allow_bearer and authz[7:].startswith(ap.API_KEY_PREFIX):
                return self._check_api_key(authz[7:])
            if allow_bearer and cfg.get("bearer_token") and authz[7:] == cfg["bearer_token"]:
                return {"verdict": "bearer"}
            return {"verdict": "bad-bearer", "message": "The security token included in the request is invalid."}
        a = ap.parse_authorization(authz)
        if a is None:
            return {"verdict": "incomplete",
                    "message": "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' "
                               "parameters (AWS4-HMAC-SHA256)."}
        v = {"akid": a["akid"], "region": a["region"], "service": a["service"],
             "signed_headers": a["signed"]}
        date_hdr = self.headers.get("X-Amz-Date")
        if not date_hdr or ap.parse_amz_date(date_hdr) is None:
            v.update(verdict="incomplete", message="Authorization header requires existence of either a "
                     "'X-Amz-Date' or a 'Date' header.")
            return v
        if "host" not in a["signed"] or a["signed"] != sorted(a["signed"]):
            v.update(verdict="incomplete", message="'Host' or ':authority' must be a 'SignedHeader' in the "
                     "AWS Authorization, and SignedHeaders must be sorted.")
            return v
        key = STATE.lookup_key(a["akid"])
        if key is None or not key.get("secret"):
            v.update(verdict="unknown-key", message="The security token included in the request is invalid.")
            return v
        v["source"] = key["source"]
        if a["service"] != service:
            v.update(verdict="wrong-service",
                     message="Credential should be scoped to correct service: '%s'. " % service)
            return v
        if cfg.get("expected_region") and a["region"] != cfg["expected_region"]:
            v.update(verdict="wrong-region", message="Credential should be scoped to a valid region. ")
            return v
        if a["date"] != date_hdr[:8]:
            v.update(verdict="bad-signature", message="Date in Credential scope does not match YYYYMMDD from "
                     "ISO-8601 version of date from HTTP: '%s' != '%s'" % (a["date"], date_hdr[:8]))
            return v
        body_hash = ap.sha256_hex(self.body)
        content_sha = self.headers.get("X-Amz-Content-Sha256")
        if content_sha and content_sha != "UNSIGNED-PAYLOAD" and content_sha != body_hash:
            v.update(verdict="bad-signature", message="The provided 'x-amz-content-sha256' header does not "
                     "match what was computed.")
            return v
        creq = ap.canonical_request(self.command, self.raw_path, self.raw_query, self.header_list(),
                                    a["signed"], content_sha or body_hash)
        if creq is None:
            v.update(verdict="bad-signature", message="The request signature we calculated does not match the "
                     "signature you provided. A signed header is missing from the request.")
            return v
        want = ap.signature(key["secret"], date_hdr, a["region"], a["service"], creq)
        v["canonical_request"] = creq
        if not _secrets.compare_digest(want, a["signature"]):
            v.update(verdict="bad-signature", message="The request signature we calculated does not match the "
                     "signature you provided. Check your AWS Secret Access Key and signing method. Consult the "
                     "service documentation for details.")
            return v
        now = STATE.now()
        t = ap.parse_amz_date(date_hdr)
        if t < now - 300:
            v.update(verdict="expired-signature", message="Signature expired: %s is now earlier than %s (%s - 5 min.)"
                     % (date_hdr, ap.amz_date(now - 300), ap.amz_date(now)))
            return v
        if t > now + 300:
            v.update(verdict="expired-signature", message="Signature not yet current: %s is still later than %s "
                     "(%s + 5 min.)" % (date_hdr, ap.amz_date(now + 300), ap.amz_date(now)))
            return v
        tok = self.headers.get("X-Amz-Security-Token")
        v["token_signed"] = "x-amz-security-token" in a["signed"]
        if key.get("token"):
            if tok != key["token"]:
                v.update(verdict="bad-token", message="The security token included in the request is invalid.")
                return v
        elif tok:
            v.update(verdict="bad-token", message="The security token included in the request is invalid.")
            return v
        if key.get("expires") is not None and now >= key["expires"]:
            v.update(verdict="expired-token", message="The security token included in the request is expired")
            return v
        v["verdict"] = "ok"
        return v

    def _check_api_key(self, key):
        """A short-term Bedrock API key (what `brock token` and AWS's generators mint): a presigned
        CallWithBearerToken URL, checked as AWS does: signature by a known key, the session token
        of temporary credentials, not expired, scoped to bedrock in this endpoint's region."""
        bad = {"verdict": "bad-bearer", "message": "The security token included in the request is invalid."}
        k = ap.parse_bedrock_api_key(key)
        if k is None:
            return bad
        v = {"kind": "api-key", "akid": k["akid"], "region": k["region"], "expires": k["expires"]}
        key_info = STATE.lookup_key(k["akid"])
        want = ap.bedrock_api_key_signature(k, key_info["secret"]) if key_info and key_info.get("secret") else None
        if k["service"] != "bedrock" or k["params"]["X-Amz-Algorithm"] != ap.ALGO or want is None or \
                not _secrets.compare_digest(want, k["params"]["X-Amz-Signature"]) or \
                k["date"] != k["params"]["X-Amz-Date"][:8]:
            v.update(bad)
            return v
        if (key_info.get("token") or None) != k["params"].get("X-Amz-Security-Token"):
            v.update(bad)
            return v
        region = STATE.cfg.get("expected_region") or STATE.cfg.get("region")
        if k["region"] != region:
            v.update(verdict="bad-bearer", message="The API key was created for region %s, not %s."
                     % (k["region"], region))
            return v
        now = STATE.now()
        if k["signed_at"] > now + 300:
            v.update(bad)
            return v
        if now >= k["signed_at"] + k["expires"] or (key_info.get("expires") is not None
                                                    and now >= key_info["expires"]):
            v.update(verdict="expired-token", message="The security token included in the request is expired")
            return v
        v["verdict"] = "bearer"
        return v

    def maybe_fail(self, route, xml=False):
        f = STATE.take_failure(route, self.entry.get("model_id"))
        if f is None:
            return
        self.entry["injected"] = f
        st = f.get("status")
        if st == "close":
            self.drop()
            raise _Dropped()
        if st == "stall":
            time.sleep(float(f.get("seconds", 5)))
            self.drop()
            raise _Dropped()
        if st == "raw":
            # bytes exactly as given (malformed HTTP for protocol-error tests), then close
            try:
                self.wfile.write(str(f.get("body", "")).encode("latin-1"))
                self.wfile.flush()
            except OSError:
                pass
            self.drop()
            raise _Dropped()
        etype = f.get("type") or STATUS_TYPES.get(st or 500, "InternalServerException")
        dstatus, dmsg = ERROR_DEFAULTS.get(etype, (500, "Emulated failure."))
        raise Reply(st or dstatus, etype, f.get("message") or dmsg, body=f.get("body", "json"),
                    header=f.get("header", True), xml=xml, errmsg_header=f.get("error_message_header", False))

    # ------------------------------------------------------------------ control
    def r_control(self, _):
        p = self.raw_path
        try:
            if p == "/_emu/config" and self.command == "POST":
                upd = json.loads(self.body or b"{}")
                if not isinstance(upd, dict):
                    raise ValueError("config must be a JSON object")
                return self.send_json(200, STATE.merge(upd))
            if p == "/_emu/config":
                return self.send_json(200, STATE.snapshot())
            if p == "/_emu/reset" and self.command == "POST":
                STATE.reset()
                return self.send_json(200, {"ok": True})
            if p == "/_emu/log":
                q = urllib.parse.parse_qs(self.raw_query)
                since = int(q.get("since", ["0"])[0])
                with STATE.lock:
                    entries = [e for e in STATE.log if e["n"] > since]
                    body = json.dumps(entries, default=str).encode()
                return self.send_raw(200, body, "application/json")
            if p == "/_emu/issued":  # credentials handed out so far, by source
                with STATE.lock:
                    by = {}
                    for c in STATE.issued.values():
                        by[c["source"]] = by.get(c["source"], 0) + 1
                return self.send_json(200, by)
            if p == "/_emu/secrets":
                with STATE.lock:
                    return self.send_json(200, sorted(STATE.all_secrets))
            if p == "/_emu/credentials" and self.command == "POST":
                req = json.loads(self.body or b"{}")
                c = STATE.issue(req.get("source", "test"), req.get("ttl"))
                return self.send_json(200, {"AccessKeyId": c["akid"], "SecretAccessKey": c["secret"],
                                            "SessionToken": c["token"], "Expiration": iso8601(c["expires"])})
            if p == "/_emu/h2" and H2FRONT is not None:
                if self.command == "POST":
                    H2FRONT.configure(json.loads(self.body or b"{}"))
                return self.send_json(200, H2FRONT.stats())
            if p == "/_emu/health":
                return self.send_json(200, {"ok": True, "tls_failures": STATE.tls_failures})
        except (ValueError, TypeError, AttributeError) as e:
            return self.send_json(400, {"error": str(e)})
        return self.send_json(404, {"error": "no such control endpoint"})

    # ------------------------------------------------------------------ bedrock runtime
    def r_runtime(self, model_id):
        cfg = STATE.cfg
        self.check_auth("bedrock", True)
        self.maybe_fail(self.entry["route"])
        if cfg.get("latency"):
            time.sleep(float(cfg["latency"]))
        try:
            req = json.loads(self.body)
        except ValueError:
            raise Reply(400, "ValidationException", "Malformed input request: request body is not valid JSON.")
        if not isinstance(req, dict):
            raise Reply(400, "ValidationException", "Malformed input request: expected a JSON object.")
        self.entry["request_json"] = True
        msgs = req.get("messages")
        if not isinstance(msgs, list) or not msgs:
            raise Reply(400, "ValidationException", "1 validation error detected: Value null at 'messages' "
                        "failed to satisfy constraint: Member must not be null")
        self.check_model(model_id)
        try:
            with STATE.lock:
                extras = features.check(model_id, req, STATE.prompt_cache)
        except features.Refusal as r:
            raise Reply(r.status, r.etype, r.message)
        plan = Plan(cfg, req, extras)
        if self.entry["route"] == "converse":
            return self.send_json(200, plan.converse_response())
        self.stream(plan)

    def r_invoke(self, model_id):
        """InvokeModel(WithResponseStream) and CountTokens (invoke_emu.py)."""
        cfg = STATE.cfg
        self.check_auth("bedrock", True)
        self.maybe_fail(self.entry["route"])
        try:
            req = json.loads(self.body)
        except ValueError:
            raise Reply(400, "ValidationException", "Malformed input request: request body is not valid JSON.")
        if not isinstance(req, dict):
            raise Reply(400, "ValidationException", "Malformed input request: expected a JSON object.")
        self.entry["request_json"] = True
        self.check_model(model_id)
        route = self.entry["route"]
        if route == "count-tokens":
            return self.send_json(200, invoke_emu.count_tokens(req, Reply))
        if invoke_emu.embed_family(model_id):
            if route != "invoke":
                raise Reply(400, "ValidationException", "The model is unsupported for streaming.")
            body, hdrs = invoke_emu.embeddings(model_id, req, Reply)
            return self.send_json(200, body, headers=hdrs)
        if not invoke_emu.is_claude(model_id):
            raise Reply(400, "ValidationException", "The emulator invokes Claude and embeddings models only.")
        invoke_emu.check_claude_body(req, Reply)
        self.entry["anthropic_beta"] = req.get("anthropic_beta")
        plan = invoke_emu.make_plan_class(Plan)(cfg, req)
        if route == "invoke":
            return self.send_json(200, plan.message())
        self.stream(plan)

    def check_model(self, model_id):
        cfg = STATE.cfg
        m = fixtures.find_model(model_id)
        if m is not None and "ON_DEMAND" not in m[6]:
            raise Reply(400, "ValidationException", "Invocation of model ID %s with on-demand throughput isn't "
                        "supported. Retry your request with the ID or ARN of an inference profile that contains "
                        "this model." % model_id)
        if cfg.get("strict_models") and m is None and not model_id.startswith("arn:") and \
                model_id not in fixtures.profile_model_ids(cfg["region"]):
            raise Reply(400, "ValidationException", "The provided model identifier is invalid.")

    def stream(self, plan):
        cfg = STATE.cfg
        self.send_response(200)
        self.send_header("x-amzn-RequestId", self.request_id)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.entry["status"] = 200
        tiny = bool(cfg.get("tiny_writes"))
        per_chunk = max(1, int(cfg.get("frames_per_chunk") or 1))
        rnd = random.Random()
        pending = []

        def write_chunk(data):
            if not data:
                return
            if tiny:
                i = 0
                while i < len(data):
                    n = rnd.randint(1, 3)
                    piece = data[i:i + n]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                    i += n
            else:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

        def flush_pending():
            if pending:
                write_chunk(b"".join(pending))
                pending.clear()

        sent = 0
        delay = float(cfg.get("event_delay") or 0)
        for mtype, etype, payload in plan.events():
            i = sent
            if cfg.get("stall_after") == i:
                flush_pending()
                self.entry["stalled"] = True
                time.sleep(float(cfg.get("stall_seconds") or 0))
            if cfg.get("truncate_after") == i:
                if cfg.get("truncate_mid_frame"):
                    frame = plan.frame(mtype, etype, payload)
                    pending.append(frame[:max(1, len(frame) // 2)])
                flush_pending()
                self.entry["events_sent"] = sent
                self.entry["truncated"] = True
                self.drop()
                return
            if cfg.get("exception_after") == i:
                mtype, etype, payload = "exception", cfg["exception_type"], {"message": cfg["exception_message"]}
            elif cfg.get("error_after") == i:
                mtype, etype, payload = "error", None, None
            frame = bytearray(plan.frame(mtype, etype, payload))
            if cfg.get("corrupt_prelude_crc_at") == i:
                frame[8] ^= 0x5A
            if cfg.get("corrupt_message_crc_at") == i:
                frame[-1] ^= 0x5A
            pending.append(bytes(frame))
            sent += 1
            if len(pending) >= per_chunk or delay:
                flush_pending()
            if delay:
                time.sleep(delay)
            if mtype in ("exception", "error"):
                break
        flush_pending()
        self.wfile.write(b"0\r\n\r\n")
        self.entry["events_sent"] = sent

    # ------------------------------------------------------------------ control plane
    def r_foundation_models(self, _):
        self.check_auth("bedrock", True)
        self.maybe_fail("foundation-models")
        q = self.entry["query"]
        models = fixtures.foundation_models(STATE.cfg["region"])
        if "byProvider" in q:
            want = q["byProvider"][0].lower()
            models = [m for m in models if m["providerName"].lower() == want or m["modelId"].startswith(want + ".")]
        if "byOutputModality" in q:
            models = [m for m in models if q["byOutputModality"][0] in m["outputModalities"]]
        if "byInferenceType" in q:
            models = [m for m in models if q["byInferenceType"][0] in m["inferenceTypesSupported"]]
        self.send_json(200, {"modelSummaries": models})

    def r_foundation_model(self, model_id):
        self.check_auth("bedrock", True)
        self.maybe_fail("foundation-model")
        for m in fixtures.foundation_models(STATE.cfg["region"]):
            if m["modelId"] == model_id:
                return self.send_json(200, {"modelDetails": m})
        raise Reply(404, "ResourceNotFoundException", "Could not resolve the foundation model from the provided "
                    "model identifier.")

    def r_inference_profiles(self, _):
        cfg = STATE.cfg
        self.check_auth("bedrock", True)
        self.maybe_fail("inference-profiles")
        q = self.entry["query"]
        profiles = fixtures.inference_profiles(cfg["region"])
        if "type" in q:
            t = q["type"][0]
            if t not in ("SYSTEM_DEFINED", "APPLICATION"):
                raise Reply(400, "ValidationException", "1 validation error detected: Value '%s' at 'typeEquals' "
                            "failed to satisfy constraint: Member must satisfy enum value set: "
                            "[SYSTEM_DEFINED, APPLICATION]" % t)
            profiles = [p for p in profiles if p["type"] == t]
        try:
            max_results = int(q.get("maxResults", ["1000"])[0])
        except ValueError:
            max_results = 0
        if not 1 <= max_results <= 1000:
            raise Reply(400, "ValidationException", "1 validation error detected: Value at 'maxResults' failed "
                        "to satisfy constraint: Member must have value between 1 and 1000")
        page = min(max_results, int(cfg.get("profiles_page_size") or 1000))
        start = 0
        if "nextToken" in q:
            start = decode_page_token(q["nextToken"][0])
            if start is None:
                raise Reply(400, "ValidationException", "Invalid pagination token.")
        out = {"inferenceProfileSummaries": profiles[start:start + page]}
        if start + page < len(profiles):
            out["nextToken"] = encode_page_token(start + page)
        self.entry["page_start"] = start
        self.send_json(200, out)

    # ------------------------------------------------------------------ STS
    def r_sts(self, _):
        params = {}
        for src in (self.raw_query, self.body.decode("utf-8", "replace")):
            for k, v in urllib.parse.parse_qsl(src, keep_blank_values=True):
                params[k] = v
        self.entry["form"] = {k: (v if k != "WebIdentityToken" else "<redacted>") for k, v in params.items()}
        action = params.get("Action")
        if action == "AssumeRole":
            self.check_auth("sts", False)
            self._sts_fail()
            arn, name = self._sts_role(params)
            if arn in (STATE.cfg.get("sts_deny_roles") or []):
                raise Reply(403, "AccessDenied", "User: arn:aws:iam::%s:user/emulator is not authorized to "
                            "perform: sts:AssumeRole on resource: %s" % (fixtures.ACCOUNT, arn), xml=True)
            c = STATE.issue("sts")
            return self._sts_creds("AssumeRole", c, arn, name, "")
        if action == "AssumeRoleWithWebIdentity":
            self.entry["auth"] = {"verdict": "unsigned"}
            self._sts_fail()
            arn, name = self._sts_role(params)
            if params.get("WebIdentityToken") != STATE.cfg.get("web_identity_token"):
                raise Reply(400, "InvalidIdentityToken", "The ID Token provided is not a valid JWT. (You may "
                            "see this error if you sent an Access Token)", xml=True)
            c = STATE.issue("sts")
            extra = ("    <SubjectFromWebIdentityToken>emulator-subject</SubjectFromWebIdentityToken>\n"
                     "    <Audience>sts.amazonaws.com</Audience>\n    <Provider>emulator.invalid</Provider>\n")
            return self._sts_creds("AssumeRoleWithWebIdentity", c, arn, name, extra)
        if action == "GetCallerIdentity":
            v = self.check_auth("sts", False)
            self._sts_fail()
            body = ("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
                    "  <GetCallerIdentityResult>\n    <Arn>arn:aws:iam::%s:user/emulator</Arn>\n"
                    "    <UserId>%s</UserId>\n    <Account>%s</Account>\n  </GetCallerIdentityResult>\n"
                    "  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n"
                    "</GetCallerIdentityResponse>\n") % (fixtures.ACCOUNT, v["akid"], fixtures.ACCOUNT,
                                                          self.request_id)
            return self.send_raw(200, body.encode(), "text/xml")
        raise Reply(400, "InvalidAction", "Could not find operation %s for version 2011-06-15" % action, xml=True)

    def _sts_fail(self):
        self.maybe_fail("sts", xml=True)

    def _sts_role(self, params):
        arn = params.get("RoleArn") or ""
        name = params.get("RoleSessionName") or ""
        if not arn.startswith("arn:aws:iam::") or ":role/" not in arn:
            raise Reply(400, "ValidationError", "%s is invalid" % (arn or "RoleArn"), xml=True)
        if not name:
            raise Reply(400, "ValidationError", "1 validation error detected: Value null at 'roleSessionName' "
                        "failed to satisfy constraint: Member must not be null", xml=True)
        return arn, name

    def _sts_creds(self, action, c, arn, name, extra):
        role = arn.split(":role/", 1)[1].split("/")[-1]
        body = ("<{a}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <{a}Result>\n{extra}"
                "    <AssumedRoleUser>\n      <Arn>arn:aws:sts::{acct}:assumed-role/{role}/{name}</Arn>\n"
                "      <AssumedRoleId>AROAEMULATOR000000001:{name}</AssumedRoleId>\n    </AssumedRoleUser>\n"
                "    <Credentials>\n      <AccessKeyId>{akid}</AccessKeyId>\n"
                "      <SecretAccessKey>{secret}</SecretAccessKey>\n      <SessionToken>{token}</SessionToken>\n"
                "      <Expiration>{exp}</Expiration>\n    </Credentials>\n    <PackedPolicySize>6</PackedPolicySize>\n"
                "  </{a}Result>\n  <ResponseMetadata>\n    <RequestId>{rid}</RequestId>\n  </ResponseMetadata>\n"
                "</{a}Response>\n").format(a=action, extra=extra, acct=fixtures.ACCOUNT, role=xml_escape(role),
                                           name=xml_escape(name), akid=c["akid"], secret=xml_escape(c["secret"]),
                                           token=xml_escape(c["token"]), exp=iso8601(c["expires"]),
                                           rid=self.request_id)
        self.entry["issued_akid"] = c["akid"]
        self.send_raw(200, body.encode(), "text/xml")

    # ------------------------------------------------------------------ SSO / OIDC
    def r_sso(self, _):
        cfg = STATE.cfg
        self.maybe_fail("sso")
        tok = self.headers.get("x-amz-sso_bearer_token")
        with STATE.lock:
            ok = tok and (tok == cfg.get("sso_access_token") or tok in STATE.sso_tokens)
        self.entry["auth"] = {"verdict": "ok" if ok else "bad-sso-token"}
        if not ok:
            raise Reply(401, "UnauthorizedException", "Session token not found or invalid")
        q = self.entry["query"]
        acct, role = q.get("account_id", [""])[0], q.get("role_name", [""])[0]
        if not acct or not role:
            raise Reply(400, "InvalidRequestException", "account_id and role_name are required")
        if (cfg.get("sso_account_id") and acct != cfg["sso_account_id"]) or \
                (cfg.get("sso_role_name") and role != cfg["sso_role_name"]):
            raise Reply(403, "ForbiddenException", "No access")
        c = STATE.issue("sso")
        self.entry["issued_akid"] = c["akid"]
        self.send_json(200, {"roleCredentials": {"accessKeyId": c["akid"], "secretAccessKey": c["secret"],
                                                 "sessionToken": c["token"],
                                                 "expiration": int(c["expires"] * 1000)}})

    def r_oidc(self, _):
        cfg = STATE.cfg
        self.maybe_fail("oidc")
        try:
            req = json.loads(self.body)
            assert isinstance(req, dict)
        except (ValueError, AssertionError):
            raise Reply(400, "InvalidRequestException", "invalid request body",
                        body={"error": "invalid_request", "error_description": "body is not a JSON object"})
        if req.get("grantType") != "refresh_token":
            raise Reply(400, "UnsupportedGrantTypeException", "unsupported grant type",
                        body={"error": "unsupported_grant_type"})
        if (cfg.get("sso_client_id") and req.get("clientId") != cfg["sso_client_id"]) or \
                (cfg.get("sso_client_secret") and req.get("clientSecret") != cfg["sso_client_secret"]):
            raise Reply(401, "InvalidClientException", "invalid client", body={"error": "invalid_client"})
        rt = req.get("refreshToken")
        with STATE.lock:
            ok = rt and (rt == cfg.get("sso_refresh_token") or rt in STATE.refresh_tokens)
        if not ok:
            raise Reply(400, "InvalidGrantException", "Invalid refresh token provided",
                        body={"error": "invalid_grant", "error_description": "Invalid refresh token provided"})
        at = "aoaAAAAAG" + base64.urlsafe_b64encode(os.urandom(30)).decode()
        nrt = "aorAAAAAG" + base64.urlsafe_b64encode(os.urandom(30)).decode()
        with STATE.lock:
            STATE.sso_tokens.add(at)
            STATE.refresh_tokens.add(nrt)
            STATE.all_secrets.update((at, nrt))
        self.send_json(200, {"accessToken": at, "expiresIn": int(cfg.get("sso_token_ttl") or 3600),
                             "refreshToken": nrt, "tokenType": "Bearer"})

    # ------------------------------------------------------------------ IMDS
    def r_imds(self, _):
        cfg = STATE.cfg
        down = cfg.get("imds_down")
        if down == "close":
            self.drop()
            return
        if down == "stall":
            time.sleep(10)
            self.drop()
            return
        if isinstance(down, int):
            return self.send_raw(down, b"", "text/plain")
        self.maybe_fail("imds")
        p = self.raw_path
        if p == "/latest/api/token":
            if self.command != "PUT":
                return self.send_raw(405, b"", "text/plain")
            if cfg.get("imds_token_status"):
                return self.send_raw(int(cfg["imds_token_status"]), b"", "text/plain")
            try:
                ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") or "")
            except ValueError:
                ttl = 0
            if not 1 <= ttl <= 21600:
                return self.send_raw(400, b"", "text/plain")
            ttl = min(ttl, int(cfg.get("imds_token_ttl_max") or 21600))
            tok = "AQAEA" + base64.urlsafe_b64encode(os.urandom(36)).decode()
            with STATE.lock:
                STATE.imds_tokens[tok] = time.monotonic() + ttl
                STATE.all_secrets.add(tok)
            return self.send_raw(200, tok.encode(), "text/plain",
                                 [("X-aws-ec2-metadata-token-ttl-seconds", str(ttl))])
        if self.command != "GET":
            return self.send_raw(405, b"", "text/plain")
        tok = self.headers.get("X-aws-ec2-metadata-token")
        if tok is not None:
            with STATE.lock:
                exp = STATE.imds_tokens.get(tok)
            reject = False
            with STATE.lock:
                if exp is not None and int(cfg.get("imds_reject_tokens") or 0) > 0:
                    cfg["imds_reject_tokens"] = int(cfg["imds_reject_tokens"]) - 1
                    STATE.imds_tokens.pop(tok, None)
                    reject = True
            if reject or exp is None or time.monotonic() >= exp:
                self.entry["auth"] = {"verdict": "imds-token-expired" if exp else "imds-token-invalid"}
                return self.send_raw(401, b"", "text/plain")
            self.entry["auth"] = {"verdict": "imds-v2"}
        elif cfg.get("imds_v1"):
            self.entry["auth"] = {"verdict": "imds-v1"}
        else:
            self.entry["auth"] = {"verdict": "imds-token-missing"}
            return self.send_raw(401, b"", "text/plain")
        role = cfg.get("imds_role") or "brock-imds-role"
        base = "/latest/meta-data/iam/security-credentials/"
        if p == base:
            return self.send_raw(200, role.encode(), "text/plain")
        if p == base + role:
            c = STATE.issue("imds")
            self.entry["issued_akid"] = c["akid"]
            return self.send_raw(200, json.dumps({
                "Code": "Success", "LastUpdated": iso8601(STATE.now()), "Type": "AWS-HMAC",
                "AccessKeyId": c["akid"], "SecretAccessKey": c["secret"], "Token": c["token"],
                "Expiration": iso8601(c["expires"])}, indent=2).encode(), "text/plain")
        if p == "/latest/meta-data/placement/region":
            return self.send_raw(200, cfg["region"].encode(), "text/plain")
        return self.send_raw(404, b"", "text/plain")

    # ------------------------------------------------------------------ container credentials
    def r_container(self, _):
        cfg = STATE.cfg
        self.maybe_fail("container")
        want = cfg.get("container_token")
        got = self.headers.get("Authorization")
        self.entry["auth"] = {"verdict": "ok" if (not want or got == want) else "bad-container-token"}
        if want and got != want:
            return self.send_json(401, {"code": "InvalidToken", "message": "Authorization token is invalid"})
        c = STATE.issue("container")
        self.entry["issued_akid"] = c["akid"]
        self.send_json(200, {"AccessKeyId": c["akid"], "SecretAccessKey": c["secret"], "Token": c["token"],
                             "Expiration": iso8601(c["expires"]),
                             "RoleArn": "arn:aws:iam::%s:role/emulator-task-role" % fixtures.ACCOUNT})


class _Dropped(Exception):
    pass


# ---------------------------------------------------------------------- page tokens
# Deliberately full of characters that must be percent-encoded in a query ('+', '/', '=').

def encode_page_token(offset):
    raw = json.dumps({"o": offset, "k": "emu+page/token"}).encode()
    return "AAE+/" + base64.b64encode(raw).decode() + "=="


def decode_page_token(tok):
    if not tok.startswith("AAE+/") or not tok.endswith("=="):
        return None
    try:
        d = json.loads(base64.b64decode(tok[5:-2]))
        return int(d["o"])
    except (ValueError, KeyError, TypeError):
        return None


# ---------------------------------------------------------------------- reply plan

class Plan:
    """What a Converse(Stream) reply contains, computed from the scenario and the request."""

    def __init__(self, cfg, req, extras=None):
        self.cfg = cfg
        self.rnd = random.Random()
        extras = extras or {"usage": {}}
        self.extras = extras
        gr = extras.get("guardrail")
        text = self.last_user_text(req)
        self.reply = cfg["reply_text"] if cfg.get("reply_text") is not None else "You said: %s" % text
        if gr and gr["intervened"]:
            self.reply = features.GUARDRAIL_BLOCK_TEXT
        self.chunks = self.split_reply()
        self.full_text = "".join(self.chunks)
        self.reasoning = cfg.get("reasoning")
        self.tools = cfg.get("tool_use") or []
        self.stop = cfg.get("stop_reason") or ("tool_use" if self.tools else "end_turn")
        if gr and gr["intervened"]:
            self.reasoning, self.tools, self.stop = None, [], "guardrail_intervened"
        in_chars = len(json.dumps(req.get("messages"))) + len(json.dumps(req.get("system") or ""))
        self.usage = {"inputTokens": max(1, in_chars // 4), "outputTokens": max(1, len(self.full_text) // 4)}
        self.usage.update(extras["usage"])
        cached = sum(extras["usage"].values())
        self.usage.update(cfg.get("usage") or {})
        self.usage.setdefault("totalTokens", self.usage["inputTokens"] + self.usage["outputTokens"] + cached)
        self.trailer = {}  # serviceTier, trace: in metadata (stream) or the answer (Converse)
        if "serviceTier" in extras:
            self.trailer["serviceTier"] = extras["serviceTier"]
        if gr and gr["trace"]:
            self.trailer["trace"] = features.guardrail_trace(gr)

    @staticmethod
    def last_user_text(req):
        for m in reversed(req.get("messages") or []):
            if isinstance(m, dict) and m.get("role") == "user":
                for b in reversed(m.get("content") or []):
                    if isinstance(b, dict) and isinstance(b.get("text"), str):
                        return b["text"]
        return ""

    def split_reply(self):
        c = self.cfg
        if c.get("reply_chunks") is not None:
            return [str(x) for x in c["reply_chunks"]]
        n = max(0, int(c.get("deltas") or 0))
        if c.get("delta_size"):
            size = int(c["delta_size"])
            src = self.reply or "x"
            rep = src * (size * n // len(src) + 2)
            return [rep[i * size:(i + 1) * size] for i in range(n)]
        if not self.reply or n == 0:
            return []
        n = min(n, len(self.reply))
        step = len(self.reply) / n
        cuts = [round(i * step) for i in range(n + 1)]
        return [self.reply[cuts[i]:cuts[i + 1]] for i in range(n)]

    def pad(self, payload):
        if self.cfg.get("padding", True):
            payload = dict(payload)
            payload["p"] = PADDING[:self.rnd.randint(1, len(PADDING))]
        return payload

    def frame(self, mtype, etype, payload):
        if mtype == "error":
            return ap.encode_message([(":message-type", "error"), (":error-code", self.cfg["error_code"]),
                                      (":error-message", self.cfg["error_message"])], b"")
        if mtype == "exception":
            return ap.encode_message([(":exception-type", etype), (":content-type", "application/json"),
                                      (":message-type", "exception")], json.dumps(payload).encode())
        return ap.encode_message([(":event-type", etype), (":content-type", "application/json"),
                                  (":message-type", mtype)], json.dumps(self.pad(payload)).encode())

    def events(self):
        inject = {}
        for ev in self.cfg.get("inject_events") or []:
            inject.setdefault(int(ev.get("after", 1)), []).append(ev)
        for i, ev in enumerate(self._events()):
            for extra in inject.pop(i, []):
                yield (extra.get("message_type", "event"), extra.get("event_type", "futureEvent"),
                       extra.get("payload", {}))
            yield ev
        for k in sorted(inject):
            for extra in inject[k]:
                yield (extra.get("message_type", "event"), extra.get("event_type", "futureEvent"),
                       extra.get("payload", {}))

    def _events(self):
        yield ("event", "messageStart", {"role": "assistant"})
        idx = 0
        r = self.reasoning
        if r:
            rt = r.get("text") or ""
            if r.get("redacted"):
                yield ("event", "contentBlockDelta", {"contentBlockIndex": idx,
                                                      "delta": {"reasoningContent": {"redactedContent": r["redacted"]}}})
            for piece in (rt[:len(rt) // 2], rt[len(rt) // 2:]):
                if piece:
                    yield ("event", "contentBlockDelta", {"contentBlockIndex": idx,
                                                          "delta": {"reasoningContent": {"text": piece}}})
            if r.get("signature"):
                yield ("event", "contentBlockDelta", {"contentBlockIndex": idx,
                                                      "delta": {"reasoningContent": {"signature": r["signature"]}}})
            yield ("event", "contentBlockStop", {"contentBlockIndex": idx})
            idx += 1
        if self.chunks:
            for piece in self.chunks:
                yield ("event", "contentBlockDelta", {"contentBlockIndex": idx, "delta": {"text": piece}})
            yield ("event", "contentBlockStop", {"contentBlockIndex": idx})
            idx += 1
        for t in self.tools:
            inp = t.get("input", {})
            s = inp if isinstance(inp, str) else json.dumps(inp)
            yield ("event", "contentBlockStart", {"contentBlockIndex": idx, "start": {"toolUse": {
                "toolUseId": t.get("toolUseId", "tooluse_emu%d" % idx), "name": t.get("name", "tool")}}})
            k = max(1, int(t.get("chunks", 3)))
            step = max(1, -(-len(s) // k))
            for j in range(0, len(s), step):
                yield ("event", "contentBlockDelta", {"contentBlockIndex": idx,
                                                      "delta": {"toolUse": {"input": s[j:j + step]}}})
            yield ("event", "contentBlockStop", {"contentBlockIndex": idx})
            idx += 1
        yield ("event", "messageStop", {"stopReason": self.stop})
        md = {"usage": self.usage, "metrics": {"latencyMs": 42 + self.rnd.randint(0, 100)}}
        md.update(self.trailer)
        yield ("event", "metadata", md)

    def converse_response(self):
        content = []
        r = self.reasoning
        if r:
            if r.get("redacted"):
                content.append({"reasoningContent": {"redactedContent": r["redacted"]}})
            else:
                rt = {"text": r.get("text") or ""}
                if r.get("signature"):
                    rt["signature"] = r["signature"]
                content.append({"reasoningContent": {"reasoningText": rt}})
        if self.chunks:
            content.append({"text": self.full_text})
        for i, t in enumerate(self.tools):
            inp = t.get("input", {})
            if isinstance(inp, str):
                inp = json.loads(inp)
            content.append({"toolUse": {"toolUseId": t.get("toolUseId", "tooluse_emu%d" % i),
                                        "name": t.get("name", "tool"), "input": inp}})
        ans = {"output": {"message": {"role": "assistant", "content": content}},
               "stopReason": self.stop, "usage": self.usage, "metrics": {"latencyMs": 42}}
        ans.update(self.trailer)
        return ans


# ---------------------------------------------------------------------- CONNECT proxy

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


class ProxyHandler(socketserver.StreamRequestHandler):
    """HTTP CONNECT proxy that only tunnels to loopback (tests must never leave the machine)."""
    timeout = CONN_TIMEOUT
    rbufsize = 0  # unbuffered: nothing of the tunnelled stream may be read ahead into a buffer

    def handle(self):
        cfg = STATE.cfg
        line = self.rfile.readline(8192).decode("latin-1").strip()
        headers = {}
        while True:
            h = self.rfile.readline(8192)
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        parts = line.split()
        entry = {"time": time.time(), "method": parts[0] if parts else "", "path": parts[1] if len(parts) > 1 else "",
                 "raw_query": "", "query": {}, "headers": headers, "route": "proxy", "status": None,
                 "tls": False, "port": self.server.server_address[1]}
        STATE.new_log(entry)

        def reply(status, text, extra=""):
            entry["status"] = status
            self.wfile.write(("HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n"
                              % (status, text, extra)).encode())

        if len(parts) != 3 or parts[0] != "CONNECT":
            return reply(405, "Method Not Allowed")
        want = cfg.get("proxy_auth")
        got = headers.get("proxy-authorization", "")
        entry["auth"] = {"verdict": "none"}
        if want:
            ok = got == "Basic " + base64.b64encode(want.encode()).decode()
            entry["auth"] = {"verdict": "ok" if ok else ("bad-proxy-auth" if got else "missing-proxy-auth")}
            if not ok:
                return reply(407, "Proxy Authentication Required", "Proxy-Authenticate: Basic realm=\"emulator\"\r\n")
        if cfg.get("proxy_status"):
            return reply(int(cfg["proxy_status"]), "Emulated Proxy Failure")
        host, _, port = parts[1].rpartition(":")
        if host not in LOOPBACK_NAMES or not port.isdigit():
            return reply(403, "Forbidden (loopback only)")
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except OSError:
            return reply(502, "Bad Gateway")
        entry["status"] = 200
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.pipe(up)

    def pipe(self, up):
        down = self.connection
        sel = selectors.DefaultSelector()
        sel.register(down, selectors.EVENT_READ, up)
        sel.register(up, selectors.EVENT_READ, down)
        try:
            while True:
                ready = sel.select(CONN_TIMEOUT)
                if not ready:
                    return
                for key, _ in ready:
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            up.close()


class ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if VERBOSE:
            traceback.print_exc()


# ---------------------------------------------------------------------- servers

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    ssl_context = None

    def handle_error(self, request, client_address):
        if VERBOSE:
            traceback.print_exc()


class Server6(Server):
    address_family = socket.AF_INET6


def tls_context(certs, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(certs, name + ".crt"), os.path.join(certs, name + ".key"))
    return ctx


def serve(server):
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    return t


def watchdog(deadline, parent):
    while True:
        time.sleep(1)
        if time.time() > deadline:
            sys.stderr.write("emulator: watchdog: lifetime exceeded, exiting\n")
            os._exit(3)
        if parent and os.getppid() != parent:
            sys.stderr.write("emulator: parent gone, exiting\n")
            os._exit(0)


STATE = None
VERBOSE = False
H2FRONT = None  # the h2front module when python3-h2 is installed


def main():
    global STATE, VERBOSE
    ap_ = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap_.add_argument("--certs", help="directory made by mkcerts.sh (HTTPS ports are skipped without it)")
    ap_.add_argument("--state-file", help="write the ready JSON here (atomically)")
    ap_.add_argument("--config", default="{}", help="JSON object of knobs applied at start and on every reset")
    ap_.add_argument("--host", default="127.0.0.1")
    ap_.add_argument("--port", type=int, default=0, help="plain HTTP port (default: a free one)")
    ap_.add_argument("--https-port", type=int, default=0)
    ap_.add_argument("--max-lifetime", type=float, default=1200, help="watchdog: exit after this many seconds")
    ap_.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone")
    ap_.add_argument("--verbose", action="store_true")
    args = ap_.parse_args()
    VERBOSE = args.verbose
    overrides = json.loads(args.config)
    bad = [k for k in overrides if k not in DEFAULTS]
    if bad:
        sys.exit("emulator: unknown knob(s) in --config: %s" % ", ".join(bad))
    STATE = State(overrides)
    threading.Thread(target=watchdog, args=(time.time() + args.max_lifetime, args.parent_pid),
                     daemon=True).start()

    servers = {}
    servers["http"] = Server((args.host, args.port), Handler)
    if args.certs:
        for key, cert, port in (("https", "server", args.https_port), ("https_expired", "expired", 0),
                                ("https_wronghost", "wronghost", 0)):
            s = Server((args.host, port), Handler)
            s.ssl_context = tls_context(args.certs, cert)
            servers[key] = s
        try:
            s6 = Server6(("::1", 0), Handler)
            s6.ssl_context = tls_context(args.certs, "server")
            servers["https6"] = s6
        except OSError:
            pass
    if args.certs:
        # HTTPS with ALPN h2 and http/1.1 (python3-h2); the "https" port above
        # offers no ALPN, which is how a test makes the gateway fall back
        global H2FRONT
        try:
            import h2front
            H2FRONT = h2front
            servers["https_h2"] = h2front.Front(args.host, os.path.join(args.certs, "server.crt"),
                                                os.path.join(args.certs, "server.key"),
                                                servers["http"].server_address[1])
        except ImportError:
            pass
    servers["proxy"] = ProxyServer((args.host, 0), ProxyHandler)
    for s in servers.values():
        serve(s)
    info = {"pid": os.getpid()}
    for k, s in servers.items():
        port = s.server_address[1]
        host = "[::1]" if k == "https6" else args.host
        scheme = "http" if k in ("http", "proxy") else "https"
        info[k + "_port"] = port
        info[k] = "%s://%s:%d" % (scheme, host, port)
    line = json.dumps(info)
    if args.state_file:
        tmp = args.state_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(line + "\n")
        os.replace(tmp, args.state_file)
    print(line, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
