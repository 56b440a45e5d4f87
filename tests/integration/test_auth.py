"""brock auth: what it prints for every credential source, precedence between the sources, the
region chain, and the "nothing found" message (exit 3). Never a secret on any output."""

import json
import re

# Variables that would otherwise hand out credentials in h.env().
NO_KEYS = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}


def env(**kw):
    d = dict(NO_KEYS)
    d.update(kw)
    return d


def auth_json(h, args=(), **kw):
    r = h.brock(["auth", "--json"] + list(args), **kw)
    assert r.rc == 0, r
    return json.loads(r.stdout), r


def masked(akid):
    return "*" * (len(akid) - 4) + akid[-4:]


def test_auth_env_keys_text(h):
    r = h.brock(["auth"])
    assert r.rc == 0, r
    akid = h.emu.akid
    assert "credentials: env" in r.stdout, r
    assert masked(akid) in r.stdout, r
    assert akid not in r.stdout, r
    assert "region:      us-east-1 (from AWS_REGION)" in r.stdout, r
    assert "expires:     never" in r.stdout, r
    assert h.emu.secret not in r.stdout + r.stderr, r


def test_auth_env_keys_json(h):
    tok = h.secret("FQoGZXIvYXdzEEnvSessionToken0001")
    j, _ = auth_json(h, env={"AWS_SESSION_TOKEN": tok})
    assert j["source"] == "env", j
    assert j["accessKeyId"] == masked(h.emu.akid), j
    assert j["region"] == "us-east-1" and j["regionSource"] == "AWS_REGION", j
    assert j["temporary"] is False and j["expiration"] is None, j
    assert j["bearerToken"] is False, j


def test_auth_bearer_token(h):
    tok = h.emu.bearer_token
    r = h.brock(["auth"], env={"AWS_BEARER_TOKEN_BEDROCK": tok})
    assert r.rc == 0, r
    assert "credentials: bearer-token" in r.stdout, r
    assert "bearer token: set (%d characters" % len(tok) in r.stdout, r
    assert tok not in r.stdout and tok[:12] not in r.stdout, r
    j, _ = auth_json(h, env={"AWS_BEARER_TOKEN_BEDROCK": tok})
    assert j["source"] == "bearer-token" and j["bearerToken"] is True, j
    assert j["bearerTokenLength"] == len(tok) and j["accessKeyId"] is None, j


def test_auth_whitespace_only_vars_are_unset(h):
    j, _ = auth_json(h, env={"AWS_BEARER_TOKEN_BEDROCK": "   ", "AWS_REGION": " \t",
                             "AWS_DEFAULT_REGION": "eu-west-1"})
    assert j["source"] == "env", j
    assert j["region"] == "eu-west-1" and j["regionSource"] == "AWS_DEFAULT_REGION", j


def test_auth_half_env_pair(h):
    r = h.brock(["auth"], env={"AWS_SECRET_ACCESS_KEY": None})
    assert r.rc == 3, r
    assert "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" in r.stderr, r
    r = h.brock(["auth"], env={"AWS_ACCESS_KEY_ID": None})
    assert r.rc == 3, r
    assert "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not" in r.stderr, r


def test_auth_nothing_found_lists_what_was_tried(h):
    r = h.brock(["auth"], env=env())
    assert r.rc == 3, r
    assert r.stdout == "", r
    msg = r.stderr
    assert "no AWS credentials found" in msg, r
    for what in ("AWS_BEARER_TOKEN_BEDROCK", "AWS_ACCESS_KEY_ID", "profile default",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "container", "IMDS: disabled by AWS_EC2_METADATA_DISABLED"):
        assert what in msg, (what, r)
    assert len(msg.strip().splitlines()) == 1, r


def test_auth_unknown_profile(h):
    h.aws_config("[default]\nregion = eu-west-1\n")
    r = h.brock(["--profile", "nope", "auth"], env=env())
    assert r.rc == 3, r
    assert "profile nope not found" in r.stderr, r
    r = h.brock(["auth"], env=env(AWS_PROFILE="nope2"))
    assert r.rc == 3 and "profile nope2 not found" in r.stderr, r


def test_auth_explicit_profile_beats_env_keys(h):
    h.aws_credentials("[dev]\naws_access_key_id = AKIAPROFILEDEV00001\naws_secret_access_key = s\n")
    j, _ = auth_json(h, ["--profile", "dev"])
    assert j["source"] == "profile:dev", j
    # AWS_PROFILE only names the profile: environment keys still come first
    j, _ = auth_json(h, env={"AWS_PROFILE": "dev"})
    assert j["source"] == "env", j


def test_auth_bad_argument(h):
    r = h.brock(["auth", "--bogus"])
    assert r.rc == 2, r


# ---- precedence ----

def setup_every_source(h):
    """Profile default (static keys), web identity, container, IMDS: all configured at once."""
    k = h.emu.credentials(ttl=3600)
    h.secret(k["SecretAccessKey"])
    h.secret(k["SessionToken"])
    h.aws_credentials("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n"
                      % (k["AccessKeyId"], k["SecretAccessKey"], k["SessionToken"]))
    wif = h.write("wif.jwt", h.emu.defaults["web_identity_token"])
    return {
        "AWS_WEB_IDENTITY_TOKEN_FILE": wif,
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/wi",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": h.emu.http + "/creds/",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": h.emu.defaults["container_token"],
        "AWS_EC2_METADATA_DISABLED": None,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": h.emu.http,
    }, k


def test_auth_precedence(h):
    extra, k = setup_every_source(h)
    bearer = h.emu.bearer_token
    # bearer > env
    j, _ = auth_json(h, env=dict(extra, AWS_BEARER_TOKEN_BEDROCK=bearer))
    assert j["source"] == "bearer-token", j
    # env > profile
    j, _ = auth_json(h, env=dict(extra))
    assert j["source"] == "env", j
    # profile > web identity
    j, _ = auth_json(h, env=env(**extra))
    assert j["source"] == "profile:default" and j["accessKeyId"] == masked(k["AccessKeyId"]), j
    h.write("~/.aws/credentials", "")
    h.emu.reset()
    # web identity > container
    j, _ = auth_json(h, env=env(**extra))
    assert j["source"] == "web-identity", j
    assert j["temporary"] is True and j["expiration"], j
    assert [e["route"] for e in h.emu.log()] == ["sts"], h.emu.log()
    # container > IMDS
    h.emu.reset()
    j, _ = auth_json(h, env=env(**dict(extra, AWS_WEB_IDENTITY_TOKEN_FILE=None, AWS_ROLE_ARN=None)))
    assert j["source"] == "container", j
    assert [e["route"] for e in h.emu.log()] == ["container"], h.emu.log()
    # IMDS last
    h.emu.reset()
    j, _ = auth_json(h, env=env(**dict(extra, AWS_WEB_IDENTITY_TOKEN_FILE=None, AWS_ROLE_ARN=None,
                                       AWS_CONTAINER_CREDENTIALS_FULL_URI=None)))
    assert j["source"] == "imds", j
    assert {e["route"] for e in h.emu.log()} == {"imds"}, h.emu.log()


def test_auth_every_source_shape(h):
    """One line per source for the report: the text output of brock auth."""
    extra, _ = setup_every_source(h)
    outs = []
    r = h.brock(["auth"], env={"AWS_BEARER_TOKEN_BEDROCK": h.emu.bearer_token})
    outs.append(r)
    outs.append(h.brock(["auth"]))
    outs.append(h.brock(["auth"], env=env(**extra)))
    for r in outs:
        assert r.rc == 0, r
        assert re.search(r"^region: +\S+ \(from \S+\)$", r.stdout, re.M), r
        assert re.search(r"^credentials: \S+$", r.stdout, re.M), r


# ---- region ----

def test_auth_region_chain(h):
    h.aws_config("[default]\nregion = eu-west-3\n[profile dev]\nregion = ap-south-1\n"
                 "aws_access_key_id = AKIAPROFILEDEV00001\naws_secret_access_key = s\n")
    j, _ = auth_json(h, ["--region", "eu-north-1"])
    assert (j["region"], j["regionSource"]) == ("eu-north-1", "--region"), j
    j, _ = auth_json(h)
    assert (j["region"], j["regionSource"]) == ("us-east-1", "AWS_REGION"), j
    j, _ = auth_json(h, env={"AWS_REGION": None, "AWS_DEFAULT_REGION": "ca-central-1"})
    assert (j["region"], j["regionSource"]) == ("ca-central-1", "AWS_DEFAULT_REGION"), j
    j, _ = auth_json(h, env={"AWS_REGION": None})
    assert (j["region"], j["regionSource"]) == ("eu-west-3", "profile:default"), j
    j, _ = auth_json(h, ["--profile", "dev"], env={"AWS_REGION": None})
    assert (j["region"], j["regionSource"]) == ("ap-south-1", "profile:dev"), j
    h.aws_config("")
    h.brock_config('{models: {bedrockDiscovery: {region: "us-west-2"}}}')
    j, _ = auth_json(h, env={"AWS_REGION": None})
    assert (j["region"], j["regionSource"]) == ("us-west-2", "config discovery region"), j
    h.brock_config('{models: {providers: {"amazon-bedrock": {baseUrl: "https://bedrock-runtime.eu-central-1.amazonaws.com"}}}}')
    j, _ = auth_json(h, env={"AWS_REGION": None})
    assert (j["region"], j["regionSource"]) == ("eu-central-1", "baseUrl"), j
    h.brock_config("{}")
    j, _ = auth_json(h, env={"AWS_REGION": None})
    assert (j["region"], j["regionSource"]) == ("us-east-1", "default"), j


def test_auth_bad_region(h):
    r = h.brock(["auth"], env={"AWS_REGION": "us east 1"})
    assert r.rc == 2, r
    assert "invalid region" in r.stderr, r
