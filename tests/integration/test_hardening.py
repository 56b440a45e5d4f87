"""Issue 14's audit: what the other files did not cover yet. Core dumps are off (RLIMIT_CORE 0,
soft and hard) in every command that loads credentials, not only chat and models
(test_chat_no_core_dumps, test_models_no_core_dumps): the gateway, which holds credentials for
its whole life, and count-tokens. The gateway refuses an unsafe state directory as models does
an unsafe cache directory (doctor only reported it)."""

from test_chat import core_limit_of_waiting_brock
from test_serve import REF, serve


def _core_limits(pid):
    with open("/proc/%d/limits" % pid) as f:
        line = [x for x in f if x.startswith("Max core file size")][0]
    return line.split()[4:6]


def test_hardening_serve_no_core_dumps(h):
    s = serve(h)  # ready: credentials loaded, the listener up
    assert _core_limits(s.p.pid) == ["0", "0"]
    assert s.p.poll() is None, s.stderr()


def test_hardening_count_tokens_no_core_dumps(h):
    h.emu.config(failures=[{"route": "count-tokens", "count": 1, "status": "stall", "seconds": 3}])
    p = h.spawn(["count-tokens", "-m", REF, "hi"])
    assert core_limit_of_waiting_brock(h, p, "count-tokens") == ["0", "0"]


def test_hardening_serve_refuses_unsafe_state_dir(h):
    """The gateway's ledger directory (BROCK_STATE_DIR) follows the cache's rule: group- or
    world-writable is refused with a message naming it (another user could rewrite the spend),
    before any request is served; a private one is accepted."""
    import os
    from test_serve_policy import keys_config
    keys_config(h, [{"name": "team", "key": "sk-hardening-aaaa", "budget": {"usd": 5}}])
    state = h.path("state")
    os.makedirs(state)
    os.chmod(state, 0o777)
    r = h.brock(["serve", "--listen", "127.0.0.1:0"], env={"BROCK_STATE_DIR": state}, timeout=30)
    assert r.rc != 0, r
    assert "group/world-writable" in r.stderr and "BROCK_STATE_DIR" in r.stderr, r
    assert not os.path.exists(os.path.join(state, "ledger")), os.listdir(state)
    os.chmod(state, 0o700)
    s = serve(h, env={"BROCK_STATE_DIR": state})
    assert s.p.poll() is None, s.stderr()


def test_hardening_sso_concurrent_refresh_takes_the_lock(h):
    """The SSO token cache rewrite takes the config's lock discipline (the directory's lock, the
    cache read again under it): eight brocks finding the same expired token refresh it once (the
    first, whose first attempt the emulator stalls a second, holds the lock; the others find it fresh), every one
    succeeds, and the file is one whole refreshed token with nothing beside it."""
    import json
    import os
    import subprocess
    from test_faults import SSO_CONFIG
    h.emu.config(sso_account_id="111122223333", sso_role_name="Developer",
                 failures=[{"route": "oidc", "count": 1, "status": "stall", "seconds": 1}])
    h.aws_config(SSO_CONFIG)
    path = h.sso_token_cache("corp", expires_in=-600)
    with open(path) as f:
        old = json.load(f)
    env = h.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    procs = [subprocess.Popen([h.brock_path, "--profile", "dev", "auth", "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)]
    outs = [p.communicate(timeout=60) for p in procs]
    for out, err in outs:
        h._run.outputs.append((h.name, out))
        h._run.outputs.append((h.name, err))
    assert all(p.returncode == 0 for p in procs), outs
    with open(path) as f:
        now = json.load(f)
    h.secret(now.get("accessToken"))
    h.secret(now.get("refreshToken"))
    assert now["accessToken"] != old["accessToken"] and now["expiresAt"] > old["expiresAt"], now
    # one refresh: the stalled first attempt (dropped by the emulator) and its retry
    calls = [e for e in h.emu.log("oidc") if not e.get("injected")]
    assert len(calls) == 1, h.emu.log("oidc")
    assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)], os.listdir(os.path.dirname(path))
