"""Integration-test harness: the `h` object every tests/integration/test_*.py function receives.

    h.emu.config(**knobs)  h.emu.reset()  h.emu.log(route=None)  h.emu.http / h.emu.https ...
    h.brock(args, env=None, stdin=None, timeout=30)  -> Result(rc, out, stdout, err, stderr, elapsed)
    h.env(**overrides)     the clean environment h.brock uses (value None removes a variable)
    h.tmp / h.home         per-test temporary directory and the fresh HOME inside it
    h.write(path, text)    write a file ('~/' = the test HOME), mode 0600
    h.aws_config(text) / h.aws_credentials(text) / h.brock_config(text)
    h.sso_token_cache(key, ...)  write ~/.aws/sso/cache/<sha1(key)>.json like `aws sso login`
    h.spawn(args, env=None)      start brock in the background (serve); stopped after the test
    h.secret(value)        record a secret that must never appear in brock's output
    h.skip(reason)         skip this test (only for things the machine lacks, never for missing brock features)

Python 3 standard library only.
"""

import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emulator"))
import awsproto  # noqa: E402,F401  (re-exported for tests: h.awsproto)


class Skip(Exception):
    pass


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.header_list = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %s %s %r>" % (self.status, self.headers.get("x-amzn-errortype", ""), self.body[:300])


class Emu:
    """Client for the emulator: control endpoints plus a raw/signed request helper."""

    def __init__(self, info, ca):
        self.info = info
        self.ca = ca
        self.http = info["http"]
        self.https = info.get("https")
        self.https_expired = info.get("https_expired")
        self.https_wronghost = info.get("https_wronghost")
        self.https6 = info.get("https6")
        self.proxy = info.get("proxy")          # http://127.0.0.1:PORT, CONNECT to loopback only
        self.proxy_port = info.get("proxy_port")
        self.http_port = info["http_port"]
        self.https_port = info.get("https_port")
        self.pid = info["pid"]
        self.ssl_ctx = ssl.create_default_context(cafile=ca) if ca else None
        cfg = self._control("GET", "/_emu/config")
        self.akid = cfg["access_key_id"]
        self.secret = cfg["secret_access_key"]
        self.bearer_token = cfg["bearer_token"]
        self.defaults = cfg

    # -- control
    def _control(self, method, path, obj=None):
        r = self.request(method, path, json.dumps(obj).encode() if obj is not None else b"", tls=False)
        if r.status != 200:
            raise AssertionError("emulator %s %s -> %d %s" % (method, path, r.status, r.text))
        return r.json()

    def config(self, **knobs):
        return self._control("POST", "/_emu/config", knobs)

    def reset(self):
        self._control("POST", "/_emu/reset", {})

    def log(self, route=None, since=0):
        entries = self._control("GET", "/_emu/log?since=%d" % since)
        if route is not None:
            from_group = {"runtime": ("converse", "converse-stream"),
                          "control": ("foundation-models", "inference-profiles", "foundation-model")}
            routes = from_group.get(route, (route,))
            entries = [e for e in entries if e["route"] in routes]
        return entries

    def secrets(self):
        return self._control("GET", "/_emu/secrets")

    def credentials(self, ttl=None, source="test"):
        """Mint temporary credentials the emulator accepts: dict AccessKeyId/SecretAccessKey/SessionToken/Expiration."""
        req = {"source": source}
        if ttl is not None:
            req["ttl"] = ttl
        return self._control("POST", "/_emu/credentials", req)

    def url(self, tls=True):
        return self.https if tls else self.http

    # -- raw requests
    def request(self, method, path, body=b"", headers=None, tls=True, port=None, host="127.0.0.1",
                sign=None, service="bedrock", region="us-east-1", now=None, timeout=15, raw_query=None,
                ctx=None):
        """One request on a fresh connection. path is the wire path (already percent-encoded) and may
        carry '?query'. sign: None (unsigned), True (the default test key) or (akid, secret[, token])."""
        if isinstance(body, str):
            body = body.encode()
        port = port or (self.https_port if tls else self.http_port)
        if tls:
            conn = http.client.HTTPSConnection(host, port, context=ctx or self.ssl_ctx, timeout=timeout)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        hdrs = dict(headers or {})
        hdrs.setdefault("host", "%s:%d" % (host, port))
        if sign:
            akid, secret, token = (self.akid, self.secret, None) if sign is True else (tuple(sign) + (None,))[:3]
            p, _, q = path.partition("?")
            hdrs = awsproto.sign_request(method, p, q, hdrs, body, akid, secret, region, service,
                                         session_token=token, now=now)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, r.getheaders(), data)
        finally:
            conn.close()


class Result:
    def __init__(self, args, rc, out, err, elapsed):
        self.args, self.rc, self.out, self.err, self.elapsed = args, rc, out, err, elapsed
        self.stdout = out.decode("utf-8", "replace")
        self.stderr = err.decode("utf-8", "replace")

    def __repr__(self):
        return "brock %s -> rc=%s in %.2fs\n  stdout: %s\n  stderr: %s" % (
            " ".join(self.args), self.rc, self.elapsed, _clip(self.stdout), _clip(self.stderr))


def _clip(s, n=1500):
    s = s.rstrip("\n")
    return (s if len(s) <= n else s[:n] + "... [%d more chars]" % (len(s) - n)).replace("\n", "\n          ")


class H:
    def __init__(self, run, name, tmp):
        self._run = run
        self.name = name
        self.emu = run.emu
        self.brock_path = run.brock_path
        self.ca = run.ca
        self.certs = run.certs
        self.awsproto = awsproto
        self.tmp = tmp
        self.home = os.path.join(tmp, "home")
        self.cache = os.path.join(tmp, "cache")
        os.makedirs(self.home, mode=0o700)
        os.makedirs(self.cache, mode=0o700)
        self.runs = []

    # -- environment and files
    def env(self, **overrides):
        e = self.emu
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": self.home,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CA_BUNDLE": self.ca,
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": e.https,
            "AWS_ENDPOINT_URL_BEDROCK": e.https,
            "AWS_ENDPOINT_URL_STS": e.https,
            "AWS_ENDPOINT_URL_SSO": e.https,
            "AWS_ENDPOINT_URL_SSO_OIDC": e.https,
            "AWS_ACCESS_KEY_ID": e.akid,
            "AWS_SECRET_ACCESS_KEY": e.secret,
            "AWS_REGION": "us-east-1",
            "BROCK_CACHE_DIR": self.cache,
        }
        for k, v in overrides.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env

    def path(self, p):
        if p.startswith("~/"):
            return os.path.join(self.home, p[2:])
        return p if os.path.isabs(p) else os.path.join(self.tmp, p)

    def write(self, p, text, mode=0o600):
        full = self.path(p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        os.chmod(full, mode)
        return full

    def read(self, p):
        with open(self.path(p), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def aws_config(self, text):
        return self.write("~/.aws/config", text)

    def aws_credentials(self, text):
        return self.write("~/.aws/credentials", text)

    def brock_config(self, text):
        return self.write("~/.config/brock/config.json5", text)

    def sso_token_cache(self, key, access_token=None, expires_in=3600, refresh_token=None, client_id="emu-client",
                        client_secret="emu-client-secret", start_url="https://emulator.awsapps.com/start",
                        region="us-east-1"):
        """Write ~/.aws/sso/cache/<sha1(key)>.json as `aws sso login` does. key: the sso_session name
        (sso-session profiles) or the start URL (legacy profiles). expires_in < 0 makes it expired.
        Defaults use the emulator's configured SSO tokens. Returns the file path."""
        import datetime
        import hashlib
        d = self.emu.defaults
        exp = datetime.datetime.fromtimestamp(int(time.time() + expires_in), datetime.timezone.utc)
        doc = {"startUrl": start_url, "region": region,
               "accessToken": access_token or d["sso_access_token"],
               "expiresAt": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if refresh_token is not False:
            doc.update(clientId=client_id, clientSecret=client_secret,
                       registrationExpiresAt="2099-01-01T00:00:00Z",
                       refreshToken=refresh_token or d["sso_refresh_token"])
        for v in (doc["accessToken"], doc.get("refreshToken"), doc.get("clientSecret")):
            self.secret(v)
        name = hashlib.sha1(key.encode()).hexdigest() + ".json"
        return self.write("~/.aws/sso/cache/" + name, json.dumps(doc, indent=2))

    def secret(self, value):
        if value:
            self._run.secrets.add(value)
        return value

    def skip(self, reason):
        raise Skip(reason)

    # -- running brock
    def brock(self, args, env=None, stdin=None, timeout=30, cwd=None):
        """Run build/brock with a clean environment. env: overrides for h.env() (None removes)."""
        if not os.path.isfile(self.brock_path):
            raise AssertionError("brock binary not found: %s (build it first)" % self.brock_path)
        full_env = self.env(**(env or {}))
        if isinstance(stdin, str):
            stdin = stdin.encode()
        t0 = time.monotonic()
        p = subprocess.Popen([self.brock_path] + list(args), env=full_env, cwd=cwd or self.tmp,
                             stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = p.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(p)
            out, err = p.communicate()
            r = Result(list(args), None, out, err, time.monotonic() - t0)
            self._record(r)
            raise AssertionError("brock %s timed out after %ss" % (" ".join(args), timeout))
        r = Result(list(args), p.returncode, out, err, time.monotonic() - t0)
        self._record(r)
        return r

    def spawn(self, args, env=None):
        """Start brock in the background (serve mode). Returns the Popen (stdout/stderr go to files
        p.out_path / p.err_path); the harness stops it after the test and scans its output."""
        if not os.path.isfile(self.brock_path):
            raise AssertionError("brock binary not found: %s (build it first)" % self.brock_path)
        n = len(self._run.spawned)
        out_path = os.path.join(self.tmp, "spawn%d.out" % n)
        err_path = os.path.join(self.tmp, "spawn%d.err" % n)
        with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
            p = subprocess.Popen([self.brock_path] + list(args), env=self.env(**(env or {})), cwd=self.tmp,
                                 stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, start_new_session=True)
        p.out_path, p.err_path = out_path, err_path
        self._run.spawned.append((self, p, list(args)))
        return p

    def _record(self, r):
        self.runs.append(r)
        self._run.outputs.append((self.name, r.out))
        self._run.outputs.append((self.name, r.err))


def _kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            p.kill()
        except ProcessLookupError:
            pass


def reap_spawned(run):
    """Stop background brock processes of a finished test; keep their output for the secret scan."""
    for h, p, args in run.spawned:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                _kill_group(p)
        with open(p.out_path, "rb") as f:
            out = f.read()
        with open(p.err_path, "rb") as f:
            err = f.read()
        r = Result(args, p.returncode, out or b"", err or b"", 0.0)
        h._record(r)
    run.spawned.clear()


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)


def query(**kw):
    return urllib.parse.urlencode(kw, quote_via=urllib.parse.quote)
