"""The credential chain against the emulator: every source (profile static keys, credential_process,
assume-role chains, credential_source, web identity, SSO both forms, container, IMDSv2/v1), each
failure mode with its message and exit code, and a real `brock chat` signed with what each source
produced (the emulator verifies the SigV4 signature with the issued keys)."""

import json
import os
import stat
import time

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NO_KEYS = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
ROLE = "arn:aws:iam::123456789012:role/brock-test"


def env(**kw):
    d = dict(NO_KEYS)
    d.update(kw)
    return d


def auth(h, args=(), **kw):
    r = h.brock(["auth", "--json"] + list(args), **kw)
    assert r.rc == 0, r
    return json.loads(r.stdout)


def chat_ok(h, args=(), **kw):
    """A chat turn signed with the chain's credentials; returns the runtime log entry."""
    n0 = len(h.emu.log())  # no reset: it would forget the credentials the emulator issued
    r = h.brock(list(args) + ["chat", "-m", MODEL, "ping"], **kw)
    assert r.rc == 0, r
    assert r.stdout == "You said: ping\n", r
    rt = [e for e in h.emu.log()[n0:] if e["route"] in ("converse-stream", "converse")]
    assert rt and rt[-1]["auth"]["verdict"] in ("ok", "bearer"), rt
    return rt[-1]


def base_profile(h, name="base"):
    return "[profile %s]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (
        name, h.emu.akid, h.emu.secret)


# ---- static profile keys ----

def test_profile_static_credentials_file_wins(h):
    k = h.emu.credentials(ttl=3600)
    h.secret(k["SecretAccessKey"])
    h.aws_config("[profile dev]\naws_access_key_id = AKIACONFIGFILE00000\naws_secret_access_key = nope\n"
                 "region = eu-west-1\n")
    h.aws_credentials("[dev]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n"
                      % (k["AccessKeyId"], k["SecretAccessKey"], k["SessionToken"]))
    j = auth(h, ["--profile", "dev"], env=env(AWS_REGION=None))
    assert j["source"] == "profile:dev", j
    assert j["accessKeyId"].endswith(k["AccessKeyId"][-4:]), j
    assert j["region"] == "eu-west-1", j
    e = chat_ok(h, ["--profile", "dev"], env=env())
    assert e["auth"]["akid"] == k["AccessKeyId"], e


def test_profile_files_from_env_and_rotation(h):
    p = h.write("elsewhere/creds", "[x]\naws_access_key_id = AKIAROTATE000000001\naws_secret_access_key = s1\n")
    j = auth(h, env=env(AWS_SHARED_CREDENTIALS_FILE=p, AWS_PROFILE="x"))
    assert j["accessKeyId"].endswith("0001"), j
    # a rotated file is read again
    h.write("elsewhere/creds", "[x]\naws_access_key_id = AKIAROTATE000000002\naws_secret_access_key = s2\n")
    j = auth(h, env=env(AWS_SHARED_CREDENTIALS_FILE=p, AWS_PROFILE="x"))
    assert j["accessKeyId"].endswith("0002"), j
    c = h.write("cfg", base_profile(h, "y"))
    j = auth(h, env=env(AWS_CONFIG_FILE=c, AWS_PROFILE="y"))
    assert j["source"] == "profile:y", j


def test_profile_broken_file_is_a_config_error(h):
    h.aws_config("[default]\nregion = eu-west-1\n[profile broken\n")
    r = h.brock(["auth"], env=env(AWS_REGION=None))
    assert r.rc == 2, r
    assert ".aws/config" in r.stderr and "line 3" in r.stderr, r


# ---- credential_process ----

def process_script(h, body, name="proc.sh"):
    p = h.write(name, "#!/bin/sh\n" + body, mode=0o700)
    return p


def test_process_success_and_stderr_passthrough(h):
    k = h.emu.credentials(ttl=3600)
    h.secret(k["SecretAccessKey"])
    out = json.dumps({"Version": 1, "AccessKeyId": k["AccessKeyId"], "SecretAccessKey": k["SecretAccessKey"],
                      "SessionToken": k["SessionToken"], "Expiration": k["Expiration"]})
    h.write("proc.json", out)
    sc = process_script(h, "echo 'helper says hi' >&2\ncat '%s'\n" % h.path("proc.json"))
    h.aws_config("[profile p]\ncredential_process = %s --flag \"quoted arg\"\n" % sc)
    r = h.brock(["--profile", "p", "auth", "--json"], env=env())
    assert r.rc == 0, r
    j = json.loads(r.stdout)
    assert j["source"] == "process:p" and j["temporary"] is True, j
    assert j["expiration"] == k["Expiration"].replace(".000", ""), j
    assert "helper says hi" in r.stderr, r
    e = chat_ok(h, ["--profile", "p"], env=env())
    assert e["auth"]["akid"] == k["AccessKeyId"], e


def test_process_environment_and_no_stdin(h):
    # The helper sees the same environment as brock and an empty stdin.
    sc = process_script(h, 'read x || x=EOF\nprintf \'{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"%s"}\' '
                        '"$HELPER_AKID" "$x"\n')
    h.aws_config("[default]\ncredential_process = %s\n" % sc)
    j = auth(h, env=env(HELPER_AKID="AKIAFROMHELPERENV01"), stdin="should-not-be-read\n")
    assert j["source"] == "process:default" and j["accessKeyId"].endswith("NV01"), j
    assert j["temporary"] is False, j


def test_process_failure_exit_status(h):
    sc = process_script(h, "echo 'no MFA device' >&2\nexit 7\n")
    h.aws_config("[default]\ncredential_process = %s\n" % sc)
    r = h.brock(["auth"], env=env())
    assert r.rc == 3, r
    assert "credential_process: exited with status 7" in r.stderr, r
    assert "no MFA device" in r.stderr, r


def test_process_malformed_output(h):
    for body, want in (("echo 'not json'", "not valid JSON"),
                       ("echo '{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\"}'", "Version"),
                       ("echo '{\"Version\":1,\"AccessKeyId\":\"A\"}'", "SecretAccessKey"),
                       ("echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\",\"Expiration\":\"soon\"}'",
                        "Expiration")):
        sc = process_script(h, body + "\n")
        h.aws_config("[default]\ncredential_process = %s\n" % sc)
        r = h.brock(["auth"], env=env())
        assert r.rc == 3, r
        assert want in r.stderr and "profile default" in r.stderr, (want, r)


def test_process_timeout(h):
    # the stalled sleep is a grandchild of brock (sh -c -> script -> sleep): it must be killed
    # too, or it would keep brock's stderr open after brock has exited
    sc = process_script(h, "sleep 30\n")
    h.aws_config("[default]\ncredential_process = %s\n" % sc)
    r = h.brock(["auth"], env=env(BROCK_CREDENTIAL_PROCESS_TIMEOUT="1"), timeout=20)
    assert r.rc == 3, r
    assert "timed out after 1 s" in r.stderr, r
    assert r.elapsed < 5, r


# ---- assume role ----

def test_assume_role_chain(h):
    h.aws_config(base_profile(h) +
                 "[profile mid]\nrole_arn = %s-mid\nsource_profile = base\nrole_session_name = brock-mid\n"
                 "[profile top]\nrole_arn = %s-top\nsource_profile = mid\nexternal_id = ext-123\n"
                 "duration_seconds = 1800\n" % (ROLE, ROLE))
    j = auth(h, ["--profile", "top"], env=env())
    assert j["source"] == "assume-role:top" and j["temporary"], j
    sts = h.emu.log("sts")
    assert len(sts) == 2, sts
    assert sts[0]["form"]["RoleArn"] == ROLE + "-mid" and sts[0]["auth"]["akid"] == h.emu.akid, sts[0]
    assert sts[0]["form"]["RoleSessionName"] == "brock-mid", sts[0]
    assert sts[1]["form"]["RoleArn"] == ROLE + "-top", sts[1]
    assert sts[1]["form"]["ExternalId"] == "ext-123" and sts[1]["form"]["DurationSeconds"] == "1800", sts[1]
    assert sts[1]["auth"]["akid"] == sts[0]["issued_akid"], (sts[0], sts[1])
    assert sts[1]["auth"]["token_signed"], sts[1]
    e = chat_ok(h, ["--profile", "top"], env=env())
    assert e["auth"]["akid"] == h.emu.log("sts")[-1]["issued_akid"], e


def test_assume_role_cycle(h):
    h.aws_config("[profile a]\nrole_arn = %s\nsource_profile = b\n"
                 "[profile b]\nrole_arn = %s\nsource_profile = c\n"
                 "[profile c]\nrole_arn = %s\nsource_profile = a\n" % (ROLE, ROLE, ROLE))
    r = h.brock(["--profile", "a", "auth"], env=env())
    assert r.rc == 3, r
    assert "source_profile cycle: a -> b -> c -> a" in r.stderr, r
    assert h.emu.log("sts") == [], h.emu.log()


def test_assume_role_self_source_uses_static_keys(h):
    h.aws_config("[profile s]\nrole_arn = %s\nsource_profile = s\naws_access_key_id = %s\n"
                 "aws_secret_access_key = %s\n" % (ROLE, h.emu.akid, h.emu.secret))
    j = auth(h, ["--profile", "s"], env=env())
    assert j["source"] == "assume-role:s", j
    assert len(h.emu.log("sts")) == 1


def test_assume_role_denied(h):
    h.emu.config(sts_deny_roles=[ROLE])
    h.aws_config(base_profile(h) + "[profile r]\nrole_arn = %s\nsource_profile = base\n" % ROLE)
    r = h.brock(["--profile", "r", "auth"], env=env())
    assert r.rc == 3, r
    assert "AccessDenied" in r.stderr and "profile r" in r.stderr, r


def test_assume_role_missing_source(h):
    h.aws_config("[profile r]\nrole_arn = %s\nsource_profile = ghost\n" % ROLE)
    r = h.brock(["--profile", "r", "auth"], env=env())
    assert r.rc == 3 and "profile ghost not found" in r.stderr, r
    h.aws_config("[profile r]\nrole_arn = %s\n" % ROLE)
    r = h.brock(["--profile", "r", "auth"], env=env())
    assert r.rc == 3 and "source_profile" in r.stderr, r


def test_credential_source_environment(h):
    h.aws_config("[profile ce]\nrole_arn = %s\ncredential_source = Environment\n" % ROLE)
    # h.env() carries the emulator's static keys; --profile (like the AWS CLI's) skips the
    # environment-keys source, credential_source = Environment then reads them.
    j = auth(h, ["--profile", "ce"])
    assert j["source"] == "assume-role:ce", j
    sts = h.emu.log("sts")
    assert len(sts) == 1 and sts[0]["auth"]["akid"] == h.emu.akid, sts


def test_credential_source_imds_and_container(h):
    h.aws_config("[profile ci]\nrole_arn = %s\ncredential_source = Ec2InstanceMetadata\n"
                 "[profile cc]\nrole_arn = %s\ncredential_source = EcsContainer\n"
                 "[profile cx]\nrole_arn = %s\ncredential_source = Nowhere\n" % (ROLE, ROLE, ROLE))
    j = auth(h, ["--profile", "ci"], env=env(AWS_EC2_METADATA_DISABLED=None,
                                             AWS_EC2_METADATA_SERVICE_ENDPOINT=h.emu.http))
    assert j["source"] == "assume-role:ci", j
    routes = [e["route"] for e in h.emu.log()]
    assert routes[-1] == "sts" and "imds" in routes, routes
    h.emu.reset()
    j = auth(h, ["--profile", "cc"], env=env(AWS_CONTAINER_CREDENTIALS_FULL_URI=h.emu.http + "/creds/",
                                             AWS_CONTAINER_AUTHORIZATION_TOKEN=h.emu.defaults["container_token"]))
    assert j["source"] == "assume-role:cc", j
    assert [e["route"] for e in h.emu.log()] == ["container", "sts"], h.emu.log()
    r = h.brock(["--profile", "cx", "auth"], env=env())
    assert r.rc == 3 and "unknown credential_source" in r.stderr, r


# ---- web identity ----

def test_web_identity_env(h):
    wif = h.write("token.jwt", h.emu.defaults["web_identity_token"] + "\n")
    e = env(AWS_WEB_IDENTITY_TOKEN_FILE=wif, AWS_ROLE_ARN=ROLE, AWS_ROLE_SESSION_NAME="brock-wi")
    j = auth(h, env=e)
    assert j["source"] == "web-identity" and j["temporary"], j
    sts = h.emu.log("sts")
    assert len(sts) == 1 and sts[0]["form"]["Action"] == "AssumeRoleWithWebIdentity", sts
    assert sts[0]["form"]["RoleSessionName"] == "brock-wi" and sts[0]["form"]["RoleArn"] == ROLE, sts
    assert "authorization" not in sts[0]["headers"], sts[0]
    chat_ok(h, env=e)


def test_web_identity_failures(h):
    wif = h.write("token.jwt", "not-the-right-token")
    r = h.brock(["auth"], env=env(AWS_WEB_IDENTITY_TOKEN_FILE=wif, AWS_ROLE_ARN=ROLE))
    assert r.rc == 3, r
    assert "AssumeRoleWithWebIdentity" in r.stderr and "InvalidIdentityToken" in r.stderr, r
    r = h.brock(["auth"], env=env(AWS_WEB_IDENTITY_TOKEN_FILE=h.path("missing.jwt"), AWS_ROLE_ARN=ROLE))
    assert r.rc == 3 and "does not exist" in r.stderr, r
    r = h.brock(["auth"], env=env(AWS_WEB_IDENTITY_TOKEN_FILE=wif))
    assert r.rc == 3 and "AWS_ROLE_ARN" in r.stderr, r


def test_web_identity_profile(h):
    wif = h.write("token.jwt", h.emu.defaults["web_identity_token"])
    h.aws_config("[profile w]\nrole_arn = %s\nweb_identity_token_file = %s\n" % (ROLE, wif))
    j = auth(h, ["--profile", "w"], env=env())
    assert j["source"] == "assume-role:w", j
    assert h.emu.log("sts")[0]["form"]["Action"] == "AssumeRoleWithWebIdentity"


# ---- SSO ----

SSO_CONFIG = """[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
region = eu-west-1
[sso-session corp]
sso_start_url = https://emulator.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = Developer
"""


def test_sso_fresh_token(h):
    h.emu.config(sso_account_id="111122223333", sso_role_name="Developer")
    h.aws_config(SSO_CONFIG)
    path = h.sso_token_cache("corp")
    before = open(path).read()
    j = auth(h, ["--profile", "dev"], env=env(AWS_REGION=None))
    assert j["source"] == "sso:dev" and j["temporary"], j
    assert j["region"] == "eu-west-1", j
    log = h.emu.log()
    assert [e["route"] for e in log] == ["sso"], log
    assert log[0]["query"] == {"account_id": ["111122223333"], "role_name": ["Developer"]}, log[0]
    assert open(path).read() == before  # not rewritten
    chat_ok(h, ["--profile", "dev"], env=env(AWS_REGION=None))


def test_sso_legacy_form(h):
    h.aws_config(SSO_CONFIG)
    h.sso_token_cache("https://legacy.awsapps.com/start", refresh_token=False)
    j = auth(h, ["--profile", "legacy"], env=env())
    assert j["source"] == "sso:legacy", j


def test_sso_expired_token_is_refreshed(h):
    h.aws_config(SSO_CONFIG)
    path = h.sso_token_cache("corp", expires_in=-600)
    os.chmod(path, 0o644)
    j = auth(h, ["--profile", "dev"], env=env())
    assert j["source"] == "sso:dev", j
    routes = [e["route"] for e in h.emu.log()]
    assert routes == ["oidc", "sso"], routes
    oidc = h.emu.log("oidc")[0]
    body = json.loads(oidc["body"])
    assert body["grantType"] == "refresh_token" and body["clientId"] == "emu-client", body
    doc = json.load(open(path))
    h.secret(doc["accessToken"])
    h.secret(doc.get("refreshToken"))
    assert doc["accessToken"] != h.emu.defaults["sso_access_token"], doc
    assert doc["startUrl"] == "https://emulator.awsapps.com/start" and doc["clientId"] == "emu-client", doc
    assert doc["registrationExpiresAt"] == "2099-01-01T00:00:00Z", doc
    exp = time.mktime(time.strptime(doc["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert exp > time.time() + 3600, doc
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, oct(os.stat(path).st_mode)
    leftovers = [f for f in os.listdir(os.path.dirname(path)) if f != os.path.basename(path)]
    assert leftovers == [], leftovers
    # the next run uses the refreshed token without another refresh
    n0 = len(h.emu.log())
    auth(h, ["--profile", "dev"], env=env())
    assert [e["route"] for e in h.emu.log()[n0:]] == ["sso"], h.emu.log()


def test_sso_token_refreshed_before_expiry(h):
    """A token that expires in 2 minutes is refreshed now (5-minute window)."""
    h.aws_config(SSO_CONFIG)
    path = h.sso_token_cache("corp", expires_in=120)
    auth(h, ["--profile", "dev"], env=env())
    assert [e["route"] for e in h.emu.log()] == ["oidc", "sso"], h.emu.log()
    doc = json.load(open(path))
    h.secret(doc["accessToken"])
    h.secret(doc.get("refreshToken"))


def test_sso_expired_without_refresh(h):
    h.aws_config(SSO_CONFIG)
    h.sso_token_cache("corp", expires_in=-60, refresh_token=False)
    r = h.brock(["--profile", "dev", "auth"], env=env())
    assert r.rc == 3, r
    assert "run 'aws sso login --profile dev'" in r.stderr, r
    assert h.emu.log() == [], h.emu.log()
    h.sso_token_cache("https://legacy.awsapps.com/start", expires_in=-60)
    r = h.brock(["--profile", "legacy", "auth"], env=env())
    assert r.rc == 3 and "aws sso login --profile legacy" in r.stderr, r


def test_sso_refresh_rejected(h):
    h.aws_config(SSO_CONFIG)
    h.sso_token_cache("corp", expires_in=-60, refresh_token="aorAAAAAGwrongRefreshToken")
    r = h.brock(["--profile", "dev", "auth"], env=env())
    assert r.rc == 3, r
    assert "aws sso login --profile dev" in r.stderr and "refreshing it failed" in r.stderr, r


def test_sso_no_login(h):
    h.aws_config(SSO_CONFIG)
    r = h.brock(["--profile", "dev", "auth"], env=env())
    assert r.rc == 3, r
    assert "no SSO login found" in r.stderr and "aws sso login --profile dev" in r.stderr, r


def test_sso_access_token_rejected(h):
    h.aws_config(SSO_CONFIG)
    h.sso_token_cache("corp", access_token="aoaAAAAAGrevokedToken")
    r = h.brock(["--profile", "dev", "auth"], env=env())
    assert r.rc == 3, r
    assert "aws sso login --profile dev" in r.stderr, r


# ---- container ----

def test_container_with_token_file(h):
    tokf = h.write("ctoken", h.emu.defaults["container_token"] + "\n")
    e = env(AWS_CONTAINER_CREDENTIALS_FULL_URI=h.emu.http + "/creds/", AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tokf,
            AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong-env-token-loses")
    j = auth(h, env=e)
    assert j["source"] == "container" and j["temporary"], j
    c = h.emu.log("container")
    assert c[0]["headers"]["authorization"] == h.emu.defaults["container_token"], c
    chat_ok(h, env=e)
    # the file is read again: a rotated token is used
    newtok = h.secret("rotated-container-token-0002")
    h.emu.config(container_token=newtok)
    h.write("ctoken", newtok)
    j = auth(h, env=e)
    assert j["source"] == "container", j


def test_container_failures(h):
    r = h.brock(["auth"], env=env(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.1/creds"))
    assert r.rc == 3 and "http is only allowed to loopback" in r.stderr, r
    r = h.brock(["auth"], env=env(AWS_CONTAINER_CREDENTIALS_FULL_URI=h.emu.http + "/creds/",
                                  AWS_CONTAINER_AUTHORIZATION_TOKEN="bad"))
    assert r.rc == 3 and "HTTP 401" in r.stderr, r
    r = h.brock(["auth"], env=env(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="no-slash"))
    assert r.rc == 3 and "must start with '/'" in r.stderr, r


# ---- IMDS ----

def imds_env(h, **kw):
    return env(AWS_EC2_METADATA_DISABLED=None, AWS_EC2_METADATA_SERVICE_ENDPOINT=h.emu.http, **kw)


def test_imds_v2(h):
    j = auth(h, env=imds_env(h))
    assert j["source"] == "imds" and j["temporary"], j
    log = h.emu.log("imds")
    assert [(e["method"], e["path"]) for e in log] == [
        ("PUT", "/latest/api/token"),
        ("GET", "/latest/meta-data/iam/security-credentials/"),
        ("GET", "/latest/meta-data/iam/security-credentials/brock-imds-role")], log
    assert log[0]["headers"]["x-aws-ec2-metadata-token-ttl-seconds"] == "21600", log[0]
    assert all(e["auth"]["verdict"] == "imds-v2" for e in log[1:]), log
    chat_ok(h, env=imds_env(h))


def test_imds_token_401_refetched_once(h):
    h.emu.config(imds_reject_tokens=1)
    j = auth(h, env=imds_env(h))
    assert j["source"] == "imds", j
    log = h.emu.log("imds")
    seq = [(e["method"], e["status"]) for e in log[:4]]
    assert seq == [("PUT", 200), ("GET", 401), ("PUT", 200), ("GET", 200)], seq
    assert [e["method"] for e in log] == ["PUT", "GET", "PUT", "GET", "GET"], log
    # a second 401 after the refetch is an error, not a loop
    h.emu.reset()
    h.emu.config(imds_reject_tokens=5)
    r = h.brock(["auth"], env=imds_env(h))
    assert r.rc == 3 and "HTTP 401" in r.stderr, r
    assert len(h.emu.log("imds")) == 4, h.emu.log("imds")


def test_imds_v1_fallback(h):
    h.emu.config(imds_token_status=403, imds_v1=True)
    j = auth(h, env=imds_env(h))
    assert j["source"] == "imds", j
    log = h.emu.log("imds")
    assert [e["auth"]["verdict"] for e in log[1:]] == ["imds-v1", "imds-v1"], log
    assert "x-aws-ec2-metadata-token" not in log[1]["headers"], log[1]
    r = h.brock(["auth"], env=imds_env(h, AWS_EC2_METADATA_V1_DISABLED="true"))
    assert r.rc == 3, r
    assert "IMDSv1 is disabled" in r.stderr, r


def test_imds_no_v1_fallback_on_server_error(h):
    h.emu.config(imds_token_status=500, imds_v1=True)
    r = h.brock(["auth"], env=imds_env(h))
    assert r.rc == 3 and "HTTP 500" in r.stderr, r
    assert all(e["method"] == "PUT" for e in h.emu.log("imds")), h.emu.log("imds")


def test_imds_unreachable_is_quick(h):
    # a closed loopback port
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = h.brock(["auth"], env=env(AWS_EC2_METADATA_DISABLED=None,
                                  AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:%d" % port))
    assert r.rc == 3 and "IMDS unreachable" in r.stderr, r
    assert r.elapsed < 2.5, r
    # a stalling metadata service: ~1 s read timeout, one retry
    h.emu.config(imds_down="stall")
    r = h.brock(["auth"], env=imds_env(h), timeout=30)
    assert r.rc == 3 and "IMDS unreachable" in r.stderr, r
    assert r.elapsed < 3.0, r


def test_imds_disabled_never_contacted(h):
    r = h.brock(["auth"], env=env(AWS_EC2_METADATA_DISABLED="true", AWS_EC2_METADATA_SERVICE_ENDPOINT=h.emu.http))
    assert r.rc == 3 and "disabled by AWS_EC2_METADATA_DISABLED" in r.stderr, r
    assert h.emu.log("imds") == []


# ---- bearer and env in a chat ----

def test_chat_with_bearer_and_env(h):
    e = chat_ok(h, env={"AWS_BEARER_TOKEN_BEDROCK": h.emu.bearer_token})
    assert e["auth"]["verdict"] == "bearer", e
    e = chat_ok(h)
    assert e["auth"]["akid"] == h.emu.akid, e


def test_chat_no_credentials_exit_3(h):
    r = h.brock(["chat", "-m", MODEL, "ping"], env=env())
    assert r.rc == 3 and "no AWS credentials found" in r.stderr, r
    assert h.emu.log() == [], h.emu.log()


def test_verbose_never_prints_secrets(h):
    """-v on every networked source: the harness's secret scan checks all of this output
    (issued keys and session tokens, IMDS tokens, SSO access/refresh tokens, container token)."""
    h.aws_config(base_profile(h) + "[profile r]\nrole_arn = %s\nsource_profile = base\n" % ROLE + SSO_CONFIG)
    path = h.sso_token_cache("corp", expires_in=-60)
    tokf = h.write("ctoken", h.emu.defaults["container_token"])
    runs = [
        (["--profile", "r"], env()),
        (["--profile", "dev"], env()),
        ([], env(AWS_CONTAINER_CREDENTIALS_FULL_URI=h.emu.http + "/creds/",
                 AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tokf)),
        ([], imds_env(h)),
        ([], {"AWS_BEARER_TOKEN_BEDROCK": h.emu.bearer_token}),
    ]
    for args, e in runs:
        r = h.brock(["-v"] + args + ["auth"], env=e)
        assert r.rc == 0, r
        assert "credentials from" in r.stderr, r
        r = h.brock(["-v"] + args + ["chat", "-m", MODEL, "ping"], env=e)
        assert r.rc == 0, r
    doc = json.load(open(path))
    h.secret(doc["accessToken"])
    h.secret(doc.get("refreshToken"))
