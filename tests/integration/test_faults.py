"""Files survive anything: brock is SIGKILLed at random moments while it rewrites the config
(`config set`), the discovery cache (`models list --refresh`) and the SSO token cache (a refresh
through SSO-OIDC); after every kill each file parses and holds either the old or the new content. ENOSPC and a
read-only directory (a small tmpfs in a private mount namespace; needs root, as CI runs) for the
config, the discovery cache and the SSO token cache: a clear error naming the file, exit 1 (3 for
the SSO refresh: credentials), the original untouched, no temporary file left. The gateway's
ledger on a tmpfs that fills up: serve keeps answering, says so once, and writes the whole
ledger when space returns; a read-only state directory at start: it refuses to start."""

import json
import os
import random
import shutil
import subprocess
import time

RUNS = 100  # per file kind (200 kills in all); each run is a few milliseconds


def _lifetime(h, args, env):
    """Median wall time of an unkilled run: the window the kills are spread over."""
    ts = []
    for _ in range(5):
        t0 = time.monotonic()
        subprocess.run([h.brock_path] + args, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
        ts.append(time.monotonic() - t0)
    return sorted(ts)[2]


def _kill_at(h, args, env, delay):
    p = subprocess.Popen([h.brock_path] + args, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, cwd=h.tmp)
    time.sleep(delay)
    p.kill()
    p.wait(timeout=30)
    return p.returncode


def test_faults_config_set_sigkill(h):
    # strict JSON (valid JSON5), large enough that the write takes a while
    base = {"models": {"providers": {"amazon-bedrock": {"baseUrl": "https://x"}}},
            "pad": ["%06d-%s" % (i, "x" * 40) for i in range(4000)], "k": {"v": "start"}}
    path = h.brock_config(json.dumps(base, indent=2))
    env = h.env()
    rng = random.Random(1234)
    window = _lifetime(h, ["config", "set", "k.w", '"probe"'], env) * 1.3
    base["k"]["w"] = "probe"
    old = base
    killed = 0
    for i in range(RUNS):
        want = "v%d" % i
        rc = _kill_at(h, ["config", "set", "k.v", '"%s"' % want], env, rng.uniform(0, window))
        killed += rc == -9
        with open(path) as f:
            text = f.read()
        try:
            now = json.loads(text)
        except ValueError as ex:
            raise AssertionError("run %d: config does not parse after SIGKILL: %s" % (i, ex))
        new = json.loads(json.dumps(old))
        new["k"]["v"] = want
        assert now in (old, new), "run %d: neither old nor new content" % i
        old = now
    assert killed >= RUNS // 4, "too few runs were killed mid-way (%d): the window is off" % killed
    r = h.brock(["config", "get", "k"])
    assert r.rc == 0, r


def _cache_files(d):
    return sorted(f for f in os.listdir(d) if f.startswith("models-")) if os.path.isdir(d) else []


def _strip_time(text):
    # the first line carries the fetch time: compare everything else
    first, _, rest = text.partition("\n")
    parts = first.split("\t")
    return "\t".join(parts[:1] + parts[2:]) + "\n" + rest


def test_faults_cache_refresh_sigkill(h):
    env = h.env()
    r = h.brock(["models", "list", "--refresh", "--plain"])
    assert r.rc == 0, r
    files = _cache_files(h.cache)
    assert len(files) == 1, files
    with open(os.path.join(h.cache, files[0])) as f:
        ref = _strip_time(f.read())
    rng = random.Random(99)
    window = _lifetime(h, ["models", "list", "--refresh", "--plain"], env) * 1.3
    killed = 0
    for i in range(RUNS):
        if i % 3 == 0:
            shutil.rmtree(h.cache)  # also kill the very first write
            os.makedirs(h.cache, mode=0o700)
        rc = _kill_at(h, ["models", "list", "--refresh", "--plain"], env, rng.uniform(0, window))
        killed += rc == -9
        for name in _cache_files(h.cache):
            with open(os.path.join(h.cache, name)) as f:
                text = f.read()
            assert _strip_time(text) == ref, "run %d: cache file %s is not a complete list" % (i, name)
    assert killed >= RUNS // 4, "too few runs were killed mid-way (%d)" % killed
    r = h.brock(["models", "list", "--plain"])
    assert r.rc == 0 and r.stdout, r


SSO_CONFIG = """[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer

[sso-session corp]
sso_start_url = https://emulator.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
"""


def test_faults_sso_cache_sigkill(h):
    """The SSO token cache rewrite (refresh of an expired token) under SIGKILL: the file is the
    expired token as `aws sso login` left it or a whole refreshed one, never a mix."""
    h.emu.config(sso_account_id="111122223333", sso_role_name="Developer")
    h.aws_config(SSO_CONFIG)
    env = h.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    args = ["--profile", "dev", "auth", "--json"]
    path = h.sso_token_cache("corp", expires_in=-600)
    ts = []
    for _ in range(5):  # the lifetime of a run that refreshes
        h.sso_token_cache("corp", expires_in=-600)
        t0 = time.monotonic()
        subprocess.run([h.brock_path] + args, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
        ts.append(time.monotonic() - t0)
    window = sorted(ts)[2] * 1.3
    rng = random.Random(7)
    killed = rewritten = 0
    for i in range(RUNS):
        h.sso_token_cache("corp", expires_in=-600)  # expired again: every run refreshes
        with open(path) as f:
            old = json.load(f)
        rc = _kill_at(h, args, env, rng.uniform(0, window))
        killed += rc == -9
        with open(path) as f:
            text = f.read()
        try:
            now = json.loads(text)
        except ValueError as ex:
            raise AssertionError("run %d: SSO cache does not parse after SIGKILL: %s" % (i, ex))
        if now == old:
            continue
        rewritten += 1
        h.secret(now.get("accessToken"))
        h.secret(now.get("refreshToken"))
        assert now["accessToken"] != old["accessToken"] and now["expiresAt"] > old["expiresAt"], i
        for k in ("startUrl", "region", "clientId", "clientSecret", "registrationExpiresAt"):
            assert now.get(k) == old.get(k), (i, k)
    assert killed >= RUNS // 4, "too few runs were killed mid-way (%d)" % killed
    assert rewritten, "no run got as far as the rewrite: the window is off"
    # a run that is not killed refreshes and leaves nothing beside the token file (a killed
    # one may leave its temp file: clear those first)
    d = os.path.dirname(path)
    for f in os.listdir(d):
        if f.startswith(".") and ".tmp" in f:
            os.unlink(os.path.join(d, f))
    h.sso_token_cache("corp", expires_in=-600)
    r = h.brock(args[2:], env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
                               "AWS_PROFILE": "dev"})
    assert r.rc == 0, r
    assert os.listdir(d) == [os.path.basename(path)], os.listdir(d)


def test_faults_config_set_leaves_no_sidecar(h):
    """`config set` locks the directory, not a sidecar: nothing but the config is left."""
    path = h.brock_config("{ a: 1 }\n")
    for v in ("2", "3"):
        r = h.brock(["config", "set", "a", v])
        assert r.rc == 0, r
    assert sorted(os.listdir(os.path.dirname(path))) == [os.path.basename(path)], \
        os.listdir(os.path.dirname(path))


def _in_tmpfs(h, script, env=None):
    """Runs script (sh) in a private mount namespace with $T a 64 KiB tmpfs; None when the
    machine does not allow it (not root, no unshare). env: overrides for h.env()."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return None
    t = os.path.join(h.tmp, "small")
    os.makedirs(t, exist_ok=True)
    p = subprocess.run(["unshare", "-m", "sh", "-ec",
                        'mount -t tmpfs -o size=64k tmpfs "$T"\n' + script],
                       env=dict(h.env(**(env or {})), T=t, BROCK=h.brock_path), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode == 99 or b"mount:" in p.stderr[:200] and b"permission denied" in p.stderr.lower():
        return None
    return p


def test_faults_config_set_enospc(h):
    # the tmpfs is filled so that the new config cannot be written
    p = _in_tmpfs(h, r'''
printf '{ a: 1, // keep me\n}\n' >"$T/config.json5"
cp "$T/config.json5" "$T/orig"
dd if=/dev/zero of="$T/fill" bs=1k count=64 2>/dev/null || true
set +e
e=$("$BROCK" --config "$T/config.json5" config set b "$(head -c 20000 /dev/zero | tr '\0' x)" 2>&1 >/dev/null)
echo "rc=$?"
echo "err: $e"
set -e
cmp "$T/config.json5" "$T/orig" && echo same
ls -a "$T"
''')
    if p is None:
        h.skip("needs root and unshare -m (CI runs as root)")
    out, err = p.stdout.decode(), p.stderr.decode()
    assert p.returncode == 0, (out, err)
    assert "rc=1" in out, (out, err)
    assert "same" in out, (out, err)
    assert "err: brock: " in out and "No space left" in out, (out, err)
    listing = set(out.split("\n")[out.split("\n").index("same") + 1:])
    assert listing - {"", ".", "..", "config.json5", "orig", "fill"} == set(), listing


def test_faults_config_set_read_only(h):
    p = _in_tmpfs(h, r'''
printf '{ a: 1 }\n' >"$T/config.json5"
mount -o remount,ro "$T"
set +e
"$BROCK" --config "$T/config.json5" config set b 2 2>&1
echo "rc=$?"
set -e
cat "$T/config.json5"
ls -a "$T"
''')
    if p is None:
        h.skip("needs root and unshare -m (CI runs as root)")
    out = p.stdout.decode()
    assert p.returncode == 0, (out, p.stderr)
    assert "rc=1" in out, out
    assert "Read-only" in out or "read-only" in out, out
    assert "{ a: 1 }" in out, out
    assert set(out.split("rc=1")[1].split()) - {"{", "a:", "1", "}", ".", "..", "config.json5"} == set(), out


def _listing(out, after):
    """The names `ls -a` printed after the line `after`."""
    lines = out.split("\n")
    return set(lines[lines.index(after) + 1:]) - {"", ".", ".."}


def _cache_refresh_fault(h, fault, want):
    """`models list --refresh` with the cache directory on a tmpfs made full or read-only
    (fault: the sh line) after a first refresh: exit 1 with `want` and the cache file named,
    the cached list untouched, no temp file."""
    p = _in_tmpfs(h, r'''
export BROCK_CACHE_DIR="$T/cache"
"$BROCK" models list --refresh --plain >/dev/null
f=$(ls "$T/cache")
cp "$T/cache/$f" "$T/orig"
''' + fault + r'''
set +e
e=$("$BROCK" models list --refresh --plain 2>&1 >/dev/null)
echo "rc=$?"
echo "err: $e"
set -e
cmp "$T/cache/$f" "$T/orig" && echo same
echo "file: $f"
ls -a "$T/cache"
echo end
''')
    if p is None:
        h.skip("needs root and unshare -m (CI runs as root)")
    out, err = p.stdout.decode(), p.stderr.decode()
    assert p.returncode == 0, (out, err)
    assert "rc=1\n" in out and "same\n" in out, (out, err)
    name = out.split("file: ")[1].split("\n")[0]
    assert name.startswith("models-"), out
    assert "err: brock: " in out and want in out and name in out, (out, err)
    assert _listing(out.split("\nend")[0], "file: " + name) == {name}, out


def test_faults_cache_refresh_enospc(h):
    _cache_refresh_fault(h, 'dd if=/dev/zero of="$T/fill" bs=1k count=64 2>/dev/null || true',
                         "No space left")


def test_faults_cache_refresh_read_only(h):
    _cache_refresh_fault(h, 'mount -o remount,ro "$T"', "ead-only")


def _sso_tmpfs(h, fault):
    """The SSO token cache directory on a tmpfs (bind-mounted over it) made full or read-only
    (fault: the sh lines), then a refresh of the expired token."""
    h.emu.config(sso_account_id="111122223333", sso_role_name="Developer")
    h.aws_config(SSO_CONFIG)
    path = h.sso_token_cache("corp", expires_in=-600)
    with open(path, "rb") as f:
        orig = f.read()
    p = _in_tmpfs(h, r'''
cp -p "$F" "$T/"
mount --bind "$T" "$(dirname "$F")"
''' + fault + r'''
set +e
e=$("$BROCK" --profile dev auth --json 2>&1 >/dev/null)
echo "rc=$?"
echo "err: $e"
set -e
cat "$F"
echo
echo "--ls"
ls -a "$(dirname "$F")"
''', env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "F": path})
    if p is None:
        h.skip("needs root and unshare -m (CI runs as root)")
    out, err = p.stdout.decode(), p.stderr.decode()
    assert p.returncode == 0, (out, err)
    # a failed refresh of credentials: exit 3 (SPEC 2, a provider failed)
    assert "rc=3\n" in out, (out, err)
    assert "err: brock: " in out and path in out and "SSO token cache" in out, (out, err)
    assert orig.decode() + "\n--ls" in out, (out, orig)
    assert _listing(out, "--ls") - {"fill"} == {os.path.basename(path)}, out
    return out


def test_faults_sso_cache_enospc(h):
    out = _sso_tmpfs(h, 'dd if=/dev/zero of="$T/fill" bs=1k count=64 2>/dev/null || true')
    assert "No space left" in out, out


def test_faults_sso_cache_read_only(h):
    out = _sso_tmpfs(h, 'mount -o remount,ro "$T"')
    assert "ead-only" in out, out


def test_faults_ledger_enospc(h):
    """`brock serve` with budgets and its state directory on a tmpfs that fills up: the gateway
    keeps serving (the spend stays in memory and the budget still counts), says what went wrong
    on stderr once, and once space returns the ledger is written whole: it parses and holds
    every request."""
    from test_serve import Serve, user
    from test_serve_policy import keys_config, wait_for
    if os.geteuid() != 0 or not shutil.which("unshare"):
        h.skip("needs root and unshare -m (CI runs as root)")
    key = "sk-ledger-enospc"
    name = "k" * 64  # long records: a few dozen fill the ledger's page on the tmpfs
    keys_config(h, [{"name": name, "key": key, "budget": {"usd": 1000, "period": "day"}}])
    t = os.path.join(h.tmp, "small")
    os.makedirs(t)
    out_path, err_path = os.path.join(h.tmp, "serve.out"), os.path.join(h.tmp, "serve.err")
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        p = subprocess.Popen(
            ["unshare", "-m", "sh", "-ec", 'mount -t tmpfs -o size=64k,mode=700 tmpfs "$T"\n'
             'exec "$BROCK" serve --listen 127.0.0.1:0'],
            env=h.env(AWS_MAX_ATTEMPTS="1", BROCK_STATE_DIR=t + "/state", T=t,
                      BROCK=h.brock_path),
            stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, start_new_session=True)
    p.out_path, p.err_path = out_path, err_path
    try:
        s = Serve(h, p).wait_ready()
        root = "/proc/%d/root%s" % (p.pid, t)  # the tmpfs as brock's namespace sees it
        state = root + "/state"
        ledger = state + "/ledger"

        def records():
            with open(ledger) as f:
                text = f.read()
            if text and not text.endswith("\n"):
                return -1  # an append the full disk cut short: the next compaction drops it
            recs = [ln.split("\t") for ln in text.splitlines() if not ln.startswith("#")]
            for f in recs:
                assert len(f) == 9 and f[1] == name, f
            return sum(int(f[2]) for f in recs)

        st, _, data = s.chat(user("hi"), key=key)
        assert st == 200, data
        wait_for(lambda: records() == 1, "the first record")
        fd = os.open(root + "/fill", os.O_WRONLY | os.O_CREAT, 0o600)
        try:  # the tmpfs is full from here
            while os.write(fd, b"\0" * 4096) > 0:
                pass
        except OSError:
            pass
        os.close(fd)
        n = 1
        for _ in range(3):  # three ticks' worth of appends: well over the page left
            for _ in range(25):
                st, _, data = s.chat(user("hi"), key=key)
                assert st == 200, data  # it keeps serving
                n += 1
            time.sleep(1.2)
        wait_for(lambda: "No space left" in s.stderr(), "the write failure on stderr")
        time.sleep(2.5)  # more ticks that fail
        err = s.stderr()
        warns = [ln for ln in err.splitlines() if "ledger" in ln]
        assert len(warns) == 1, err  # once, not once per tick or per request
        assert ledger in warns[0].replace(root, t) or t + "/state/ledger" in warns[0], warns
        os.unlink(root + "/fill")  # space returns: the next tick writes the whole table
        wait_for(lambda: records() == n, "the ledger written again with all %d requests" % n)
        assert sorted(os.listdir(state)) == ["ledger"], os.listdir(state)
        wait_for(lambda: "written again" in s.stderr(), "the recovery on stderr")
        assert p.poll() is None, s.stderr()
    finally:
        if p.poll() is None:
            p.terminate()
        p.wait(timeout=30)


def test_faults_ledger_read_only_at_start(h):
    """A key with a budget and a state directory that cannot be written: `brock serve` refuses
    to start (it could not keep the budget across restarts), exit 1, naming the ledger."""
    from test_serve_policy import keys_config
    keys_config(h, [{"name": "team", "key": "sk-ledger-ro", "budget": {"usd": 1, "period": "day"}}])
    p = _in_tmpfs(h, r'''
mkdir -m 700 "$T/state"
printf '' >"$T/state/ledger"
mount -o remount,ro "$T"
set +e
BROCK_STATE_DIR="$T/state" "$BROCK" serve --listen 127.0.0.1:0 2>&1
echo "rc=$?"
set -e
ls -a "$T/state"
''')
    if p is None:
        h.skip("needs root and unshare -m (CI runs as root)")
    out = p.stdout.decode()
    assert p.returncode == 0, (out, p.stderr)
    assert "rc=1\n" in out and "ead-only" in out and "/state/ledger" in out, out
    assert "serving" not in out, out
    assert set(out.split("rc=1\n")[1].split()) == {".", "..", "ledger"}, out
