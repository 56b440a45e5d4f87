"""brock token: short-term Bedrock API keys minted offline from SigV4 credentials (SPEC 8). Each key is
decoded and its signature checked by the emulator's own verifier (tests/emulator/awsproto.py), never by
brock's code; byte identity with AWS's generator is the unit test's job (test_bedrock_token). The key
goes to stdout only: never to stderr, not with -v; the secret key never anywhere."""

import datetime
import json

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
REF = "amazon-bedrock/" + MODEL
NO_KEYS = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}


def mint(h, args=(), env=None, rc=0):
    r = h.brock(["token"] + list(args), env=env)
    assert r.rc == rc, r
    if rc == 0:
        assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1, r
    return r


def check_key(h, key, secret, region="us-east-1", expires=43200, token=None, akid=None):
    """Decodes key, checks its shape and signature; returns the parsed key."""
    ap = h.awsproto
    assert key.startswith("bedrock-api-key-"), key[:20]
    k = ap.parse_bedrock_api_key(key)
    assert k is not None, "not a short-term Bedrock API key"
    p = k["params"]
    assert k["akid"] == (akid or h.emu.akid) and k["region"] == region and k["service"] == "bedrock", k["region"]
    assert p["X-Amz-SignedHeaders"] == "host" and p["X-Amz-Algorithm"] == ap.ALGO
    assert k["expires"] == expires, k["expires"]
    assert p.get("X-Amz-Security-Token") == token
    assert ap.bedrock_api_key_signature(k, secret) == p["X-Amz-Signature"], "signature does not verify"
    # the reference generator's layout: Action first, the rest sorted by name, then Version=1
    names = [q.split("=", 1)[0] for q in k["raw_query"].split("&")]
    assert names[0] == "Action" and names[1:] == sorted(names[1:]), names
    return k


def no_leak(r, *extra):
    for s in (r.stderr,):
        assert "bedrock-api-key-" not in s, r
        for x in extra:
            assert x not in s, r


def test_token_env_keys(h):
    r = mint(h)
    key = r.stdout.strip()
    check_key(h, key, h.emu.secret)
    no_leak(r, h.emu.secret, key[16:40])
    assert h.emu.secret not in r.stdout, r
    assert r.stderr == "", r


def test_token_json_region_expires(h):
    r = mint(h, ["--json", "--expires", "900"], env={"AWS_REGION": "eu-west-3"})
    j = json.loads(r.stdout)
    assert sorted(j) == ["expiration", "region", "token"], j
    assert j["region"] == "eu-west-3", j
    k = check_key(h, j["token"], h.emu.secret, region="eu-west-3", expires=900)
    want = datetime.datetime.fromtimestamp(k["signed_at"] + 900, datetime.timezone.utc)
    assert j["expiration"] == want.strftime("%Y-%m-%dT%H:%M:%SZ"), j
    # --region wins, and --expires=N is the same flag
    r = mint(h, ["--expires=60", "--region", "ap-south-1"], env={"AWS_REGION": "eu-west-3"})
    check_key(h, r.stdout.strip(), h.emu.secret, region="ap-south-1", expires=60)


def test_token_session_token_signed(h):
    c = h.emu.credentials()
    h.secret(c["SecretAccessKey"])
    r = mint(h, env={"AWS_ACCESS_KEY_ID": c["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                     "AWS_SESSION_TOKEN": c["SessionToken"]})
    check_key(h, r.stdout.strip(), c["SecretAccessKey"], token=c["SessionToken"], akid=c["AccessKeyId"])
    no_leak(r, c["SecretAccessKey"], c["SessionToken"])


def process_creds(h, ttl):
    """A credential_process profile handing out emulator credentials that expire in ttl seconds."""
    c = h.emu.credentials(ttl=ttl)
    h.secret(c["SecretAccessKey"])
    h.write("proc.json", json.dumps({"Version": 1, "AccessKeyId": c["AccessKeyId"],
                                     "SecretAccessKey": c["SecretAccessKey"],
                                     "SessionToken": c["SessionToken"], "Expiration": c["Expiration"]}))
    sc = h.write("proc.sh", "#!/bin/sh\ncat '%s'\n" % h.path("proc.json"), mode=0o700)
    h.aws_config("[default]\ncredential_process = %s\n" % sc)
    return c


def test_token_capped_at_credentials_expiry(h):
    c = process_creds(h, 1800)
    exp = datetime.datetime.strptime(c["Expiration"].replace(".000", ""), "%Y-%m-%dT%H:%M:%SZ")
    exp = exp.replace(tzinfo=datetime.timezone.utc).timestamp()
    r = mint(h, env=NO_KEYS)
    key = r.stdout.strip()
    k = h.awsproto.parse_bedrock_api_key(key)
    assert k is not None, r
    # never past the credentials' expiry: the lifetime ends exactly when they do
    assert k["signed_at"] + k["expires"] == exp, (k["signed_at"], k["expires"], exp)
    assert 1700 <= k["expires"] <= 1800, k["expires"]
    check_key(h, key, c["SecretAccessKey"], expires=k["expires"], token=c["SessionToken"],
              akid=c["AccessKeyId"])
    assert "valid for %d s only" % k["expires"] in r.stderr and "process:default" in r.stderr, r
    no_leak(r, c["SecretAccessKey"], c["SessionToken"])
    # shorter than the credentials: as asked, and no note; -q silences the note
    r = mint(h, ["--expires", "600"], env=NO_KEYS)
    assert h.awsproto.parse_bedrock_api_key(r.stdout.strip())["expires"] == 600 and r.stderr == "", r
    r = mint(h, ["-q", "--json"], env=NO_KEYS)
    assert r.stderr == "", r
    j = json.loads(r.stdout)
    assert j["expiration"] == c["Expiration"].replace(".000", ""), j


def test_token_bearer_token_alone_is_exit_3(h):
    bearer = h.emu.bearer_token
    r = mint(h, env=dict(NO_KEYS, AWS_BEARER_TOKEN_BEDROCK=bearer), rc=3)
    assert r.stdout == "", r
    assert "AWS_BEARER_TOKEN_BEDROCK" in r.stderr and "SigV4" in r.stderr, r
    assert bearer not in r.stderr and bearer[:12] not in r.stderr, r
    # with SigV4 keys beside it, the keys sign (a bearer token cannot)
    r = mint(h, env={"AWS_BEARER_TOKEN_BEDROCK": bearer})
    check_key(h, r.stdout.strip(), h.emu.secret)


def test_token_no_credentials_is_exit_3(h):
    r = mint(h, env=NO_KEYS, rc=3)
    assert r.stdout == "" and "no AWS credentials" in r.stderr, r


def test_token_usage_errors(h):
    for args in (["--expires", "0"], ["--expires", "43201"], ["--expires", "-5"], ["--expires", "1h"],
                 ["--expires", ""], ["--expires"], ["--bogus"], ["extra"]):
        r = h.brock(["token"] + args)
        assert r.rc == 2, r
        assert r.stdout == "", r
    r = h.brock(["token", "--help"])
    assert r.rc == 0 and "--expires SECONDS" in r.stdout, r
    r = h.brock(["--help"])
    assert r.rc == 0 and "token [--expires SECONDS] [--json]" in r.stdout, r


def test_token_verbose_never_shows_the_key(h):
    c = h.emu.credentials()
    h.secret(c["SecretAccessKey"])
    r = mint(h, ["-v"], env={"AWS_ACCESS_KEY_ID": c["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                             "AWS_SESSION_TOKEN": c["SessionToken"]})
    key = r.stdout.strip()
    k = check_key(h, key, c["SecretAccessKey"], token=c["SessionToken"], akid=c["AccessKeyId"])
    assert "key for region us-east-1" in r.stderr and "valid 43200 s" in r.stderr, r
    no_leak(r, c["SecretAccessKey"], c["SessionToken"], k["params"]["X-Amz-Signature"], key[16:60])


# ---- the emulator accepts the keys as AWS does ----

def chat_with(h, key, args=(), **env):
    e = dict(NO_KEYS, AWS_BEARER_TOKEN_BEDROCK=key)
    e.update(env)
    return h.brock(["chat", "-m", REF] + list(args) + ["hi"], env=e)


def test_token_accepted_by_chat(h):
    key = mint(h).stdout.strip()
    r = chat_with(h, key, ["-v"])
    assert r.rc == 0, r
    e = h.emu.log("runtime")[-1]
    assert e["auth"]["verdict"] == "bearer" and e["auth"]["kind"] == "api-key", e["auth"]
    assert e["auth"]["akid"] == h.emu.akid and e["auth"]["region"] == "us-east-1", e["auth"]
    assert "x-amz-date" not in e["headers"], e["headers"]
    assert key not in r.stderr and key[16:60] not in r.stderr, r
    # a key from temporary credentials carries their session token
    c = h.emu.credentials()
    h.secret(c["SecretAccessKey"])
    key = mint(h, env={"AWS_ACCESS_KEY_ID": c["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                       "AWS_SESSION_TOKEN": c["SessionToken"]}).stdout.strip()
    r = chat_with(h, key)
    assert r.rc == 0, r
    assert h.emu.log("runtime")[-1]["auth"]["akid"] == c["AccessKeyId"]


def test_token_rejected_when_expired_tampered_or_other_region(h):
    key = mint(h, ["--expires", "60"]).stdout.strip()
    assert chat_with(h, key).rc == 0
    # the emulator's clock moves past the key's lifetime
    h.emu.config(clock_skew=120)
    r = chat_with(h, key)
    assert r.rc == 3 and "ExpiredToken" in r.stderr, r
    h.emu.config(clock_skew=0)
    # another region's key
    other = mint(h, ["--region", "us-west-2"]).stdout.strip()
    r = chat_with(h, other)
    assert r.rc == 3, r
    # a tampered key (lifetime raised without re-signing)
    k = h.awsproto.parse_bedrock_api_key(key)
    url = "bedrock.amazonaws.com/?" + k["raw_query"].replace("X-Amz-Expires=60", "X-Amz-Expires=43200") + \
        "&Version=1"
    import base64
    forged = "bedrock-api-key-" + base64.b64encode(url.encode()).decode()
    r = chat_with(h, forged)
    assert r.rc == 3, r
    # signed by a key the service does not know
    r = mint(h, env={"AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000001", "AWS_SECRET_ACCESS_KEY": "nope/unknown"})
    r = chat_with(h, r.stdout.strip())
    assert r.rc == 3, r
    for e in h.emu.log("runtime")[-4:]:
        assert e["auth"]["verdict"] in ("expired-token", "bad-bearer"), e["auth"]


def test_token_auth_shows_region_and_expiry_of_a_key(h):
    r = mint(h, ["--json", "--expires", "3600", "--region", "us-west-2"])
    j = json.loads(r.stdout)
    env = dict(NO_KEYS, AWS_BEARER_TOKEN_BEDROCK=j["token"])
    r = h.brock(["auth", "--json"], env=env)
    assert r.rc == 0, r
    a = json.loads(r.stdout)
    assert a["source"] == "bearer-token" and a["bearerTokenRegion"] == "us-west-2", a
    assert a["temporary"] is True and a["expiration"] == j["expiration"], a
    assert j["token"][16:60] not in r.stdout + r.stderr, r
    # text: the region it works in, and a warning when brock would send it elsewhere
    r = h.brock(["auth"], env=env)
    assert r.rc == 0, r
    assert "short-term key for us-west-2" in r.stdout, r
    assert "works in us-west-2 only, not in us-east-1" in r.stdout, r
    assert "expires:     " + j["expiration"] in r.stdout, r
    r = h.brock(["auth"], env=dict(env, AWS_REGION="us-west-2"))
    assert "warning" not in r.stdout, r
    # a long-term key: nothing to read
    r = h.brock(["auth", "--json"], env=dict(NO_KEYS, AWS_BEARER_TOKEN_BEDROCK=h.emu.bearer_token))
    a = json.loads(r.stdout)
    assert "bearerTokenRegion" not in a and a["expiration"] is None, a
