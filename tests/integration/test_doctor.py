"""brock doctor: one line per check (OK/WARN/FAIL/SKIP and the fix), exit 0 when nothing FAILs,
exit 1 otherwise; every failure the emulator can stage is named by its own check. Never a secret."""

import json
import os

NO_KEYS = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
RT = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"


def doctor(h, env=None, args=()):
    # port 0 is always free, so the gateway check does not depend on the machine
    if not os.path.exists(h.path("~/.config/brock/config.json5")):
        h.brock_config('{ serve: { listen: "127.0.0.1:0" } }')
    r = h.brock(["doctor", "--json"] + list(args), env=env or {})
    assert r.rc in (0, 1), r
    j = json.loads(r.stdout)
    checks = {c["name"]: c for c in j["checks"]}
    assert j["ok"] == (r.rc == 0), r
    assert h.emu.secret not in r.stdout + r.stderr, r
    return r, checks


def failed(checks):
    return sorted(n for n, c in checks.items() if c["status"] == "FAIL")


def test_doctor_all_ok(h):
    r, c = doctor(h)
    assert r.rc == 0, r
    assert failed(c) == [], c
    for n in ("config", "region", "credentials", "dns", "endpoint", "clock", "bedrock", "cache",
              "state", "gateway"):
        assert n in c, (n, c)
    assert c["credentials"]["status"] == "OK" and "env" in c["credentials"]["detail"], c
    assert "TLS verified" in c["endpoint"]["detail"], c
    assert c["clock"]["status"] == "OK", c
    assert c["model"]["status"] == "SKIP", c
    t = h.brock(["doctor"])
    assert t.rc == 0, t
    assert t.stdout.splitlines()[-1].endswith("0 failed"), t
    assert all(line.split()[0] in ("OK", "WARN", "SKIP", "0") or line.startswith(" ")
               for line in t.stdout.splitlines()[:-1]), t


def test_doctor_no_credentials(h):
    r, c = doctor(h, env=NO_KEYS)
    assert r.rc == 1, r
    assert failed(c) == ["credentials"], c
    assert "aws sso login" in c["credentials"]["fix"], c
    assert c["bedrock"]["status"] == "SKIP", c
    assert "doctor: 1 check failed" in r.stderr, r


def test_doctor_expired_credentials(h):
    k = h.emu.credentials(ttl=3600)
    h.aws_config("[profile old]\ncredential_process = printf '%s'\n" % json.dumps({
        "Version": 1, "AccessKeyId": k["AccessKeyId"], "SecretAccessKey": k["SecretAccessKey"],
        "SessionToken": k["SessionToken"], "Expiration": "2001-01-01T00:00:00Z"}))
    r, c = doctor(h, env=dict(NO_KEYS, AWS_PROFILE="old"))
    assert r.rc == 1, r
    assert "credentials" in failed(c), c
    assert "expire" in c["credentials"]["detail"].lower(), c
    assert k["SecretAccessKey"] not in r.stdout + r.stderr


def test_doctor_wrong_clock(h):
    h.emu.config(clock_skew=900)
    r, c = doctor(h)
    assert r.rc == 1, r
    assert failed(c) == ["clock"], c
    assert "behind by 900 s" in c["clock"]["detail"] or "behind by 899 s" in c["clock"]["detail"], c
    assert "synchronise" in c["clock"]["fix"], c


def test_doctor_unknown_ca(h):
    r, c = doctor(h, env={"AWS_CA_BUNDLE": None, "SSL_CERT_FILE": None})
    assert r.rc == 1, r
    assert "endpoint" in failed(c), c
    assert "not trusted" in c["endpoint"]["detail"], c
    assert "AWS_CA_BUNDLE" in c["endpoint"]["fix"], c


def test_doctor_unreachable_endpoint(h):
    r, c = doctor(h, env={RT: "https://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"})
    assert r.rc == 1, r
    assert "endpoint" in failed(c), c
    assert "cannot connect" in c["endpoint"]["detail"], c
    assert c["dns"]["status"] == "OK", c


def test_doctor_unresolvable_endpoint(h):
    r, c = doctor(h, env={RT: "https://no-such-host.invalid", "AWS_MAX_ATTEMPTS": "1"})
    assert r.rc == 1, r
    assert "dns" in failed(c), c
    assert "endpoint" not in c, c


def test_doctor_access_denied(h):
    h.emu.config(fail_next=1, fail_route="foundation-models", fail_status=403,
                 fail_type="AccessDeniedException",
                 fail_message="User is not authorized to perform: bedrock:ListFoundationModels")
    r, c = doctor(h)
    assert r.rc == 1, r
    assert failed(c) == ["bedrock"], c
    assert "not authorized" in c["bedrock"]["detail"], c
    assert "bedrock:ListFoundationModels" in c["bedrock"]["fix"], c


def test_doctor_unwritable_cache(h):
    h.write("notadir", "x")
    r, c = doctor(h, env={"BROCK_CACHE_DIR": h.path("notadir") + "/sub"})
    assert r.rc == 1, r
    assert failed(c) == ["cache"], c
    assert "BROCK_CACHE_DIR" in c["cache"]["fix"], c


def test_doctor_world_writable_state_dir(h):
    d = h.path("state")
    os.makedirs(d)
    os.chmod(d, 0o777)
    r, c = doctor(h, env={"BROCK_STATE_DIR": d})
    assert r.rc == 1, r
    assert failed(c) == ["state"], c
    assert "group/world-writable" in c["state"]["detail"], c


def test_doctor_gateway_without_keys_off_loopback(h):
    h.brock_config('{ serve: { listen: "0.0.0.0:0" } }')
    r, c = doctor(h)
    assert r.rc == 1, r
    assert failed(c) == ["gateway"], c
    assert "apiKeys" in c["gateway"]["fix"], c
    r, c = doctor(h, env={"BROCK_API_KEYS": "k1"})
    assert r.rc == 0, r


def test_doctor_bad_config(h):
    h.brock_config("{ serve: ")
    r, c = doctor(h)
    assert r.rc == 1, r
    assert failed(c) == ["config"], c


def test_doctor_call_default_model(h):
    h.brock_config('{ serve: { listen: "127.0.0.1:0" }, agents: { defaults: { model: { primary: '
                   '"amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0" } } } }')
    r, c = doctor(h)
    assert c["model"]["status"] == "SKIP" and "--call" in c["model"]["detail"], c
    assert [e for e in h.emu.log() if e["route"] in ("converse", "converse-stream")] == []
    r, c = doctor(h, args=["--call"])
    assert r.rc == 0, r
    assert c["model"]["status"] == "OK", c
    calls = [e for e in h.emu.log() if e["route"] == "converse"]
    assert len(calls) == 1, calls
