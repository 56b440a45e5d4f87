"""brock config get/set/unset/file end to end: paths, values, comment-preserving edits, atomic writes,
refused edits, concurrency, exit codes."""

import json
import os
import re
import subprocess

CFG = "~/.config/brock/config.json5"

OPENCLAW = """// my OpenClaw config
{
  models: {
    /* discovery */
    bedrockDiscovery: { enabled: true, region: 'us-east-1', refreshInterval: 3600, },
    providers: {
      "amazon-bedrock": {
        baseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com",
        models: [{ id: "us.anthropic.claude-opus-4-6-v1:0", contextWindow: 0x30D40, maxTokens: 8192 }],
      },
    },
  },
  agents: { defaults: { model: { primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0" } } },
}
"""


def cfg(h, *args, env=None):
    return h.brock(["config"] + list(args), env=env)


def test_config_file_path(h):
    r = cfg(h, "file")
    assert r.rc == 0 and r.stdout == h.path(CFG) + "\n", r
    r = cfg(h, "file", env={"BROCK_CONFIG": "/tmp/x.json5"})
    assert r.rc == 0 and r.stdout == "/tmp/x.json5\n", r
    r = h.brock(["--config", "/tmp/y.json5", "config", "file"], env={"BROCK_CONFIG": "/tmp/x.json5"})
    assert r.rc == 0 and r.stdout == "/tmp/y.json5\n", r
    xdg = os.path.join(h.tmp, "xdg")
    r = cfg(h, "file", env={"XDG_CONFIG_HOME": xdg})
    assert r.stdout == os.path.join(xdg, "brock", "config.json5") + "\n", r


def test_config_get(h):
    h.brock_config(OPENCLAW)
    cases = [
        ("models.bedrockDiscovery.enabled", "true"),
        ("models.bedrockDiscovery.region", '"us-east-1"'),
        ('models.providers["amazon-bedrock"].baseUrl', '"https://bedrock-runtime.us-east-1.amazonaws.com"'),
        ('models.providers["amazon-bedrock"].models[0].contextWindow', "200000"),
        ("agents.defaults.model", '{"primary":"amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0"}'),
    ]
    for path, want in cases:
        r = cfg(h, "get", path)
        assert r.rc == 0 and r.stdout == want + "\n", (path, r)
    r = cfg(h, "get", "")
    assert r.rc == 0 and json.loads(r.stdout)["models"]["bedrockDiscovery"]["refreshInterval"] == 3600, r
    for bad in ("models.nope", "models.bedrockDiscovery.enabled.x", "models[", "models..x"):
        r = cfg(h, "get", bad)
        assert r.rc == 2 and r.stdout == "" and r.stderr.startswith("brock: "), (bad, r)


def test_config_set_keeps_comments_and_format(h):
    path = h.brock_config(OPENCLAW)
    r = cfg(h, "set", "models.bedrockDiscovery.refreshInterval", "600")
    assert r.rc == 0 and r.stdout == "", r
    text = h.read(path)
    assert text == OPENCLAW.replace("refreshInterval: 3600", "refreshInterval: 600"), text
    assert os.stat(path).st_mode & 0o777 == 0o600
    r = cfg(h, "get", "models.bedrockDiscovery.refreshInterval")
    assert r.stdout == "600\n", r


def test_config_set_values(h):
    h.brock_config(OPENCLAW)
    cases = [
        ("models.bedrockDiscovery.enabled", "false", "false"),
        ("models.bedrockDiscovery.providerFilter", "['anthropic', 'amazon',]", '["anthropic","amazon"]'),
        ("models.bedrockDiscovery.defaultMaxTokens", "0x1000", "4096"),
        ("models.bedrockDiscovery.region", "eu-west-1", '"eu-west-1"'),      # not JSON5: a string
        ("serve.listen", "127.0.0.1:8080", '"127.0.0.1:8080"'),
        ('models.providers["amazon-bedrock"].models[0].name', "'Opus'", '"Opus"'),
        ('models.providers["amazon-bedrock"].models[1]', "{id: 'meta.llama3-70b-instruct-v1:0'}",
         '{"id":"meta.llama3-70b-instruct-v1:0"}'),
        ("a.b.c", "{x: [1, 2, {y: null}]}", '{"x":[1,2,{"y":null}]}'),
    ]
    for path, value, want in cases:
        r = cfg(h, "set", path, value)
        assert r.rc == 0, (path, r)
        r = cfg(h, "get", path)
        assert r.rc == 0 and r.stdout == want + "\n", (path, r)
    assert "// my OpenClaw config" in h.read(CFG)
    # the edited file is still a valid config that brock reads
    r = h.brock(["models", "list", "--plain"], env={"AWS_ACCESS_KEY_ID": None})
    assert r.rc == 0 and "amazon-bedrock/meta.llama3-70b-instruct-v1:0\n" in r.stdout, r


def test_config_set_creates_file(h):
    assert not os.path.exists(h.path(CFG))
    r = cfg(h, "set", "models.bedrockDiscovery.enabled", "false")
    assert r.rc == 0, r
    assert os.stat(h.path(CFG)).st_mode & 0o777 == 0o600
    r = cfg(h, "get", "models.bedrockDiscovery.enabled")
    assert r.stdout == "false\n", r
    r = h.brock(["models", "list"])
    assert r.rc == 0 and h.emu.log("control") == [], r


def test_config_refused_edits_leave_file_unchanged(h):
    path = h.brock_config(OPENCLAW)
    before = h.read(path)
    mtime = os.stat(path).st_mtime_ns
    for args in (["set", "models.bedrockDiscovery.region.x", "1"],       # through a string
                 ["set", 'models.providers["amazon-bedrock"].models.x', "1"],  # array, not object
                 ["set", "", "1"],
                 ["set", "a[", "1"],
                 ["set", "se\udc84ve.x", "1"]):  # byte 0x84: not UTF-8 (was "edit too large")
        r = cfg(h, *args)
        assert r.rc == 2 and r.stderr.startswith("brock: "), (args, r)
        assert h.read(path) == before and os.stat(path).st_mtime_ns == mtime, args
        if "\udc84" in args[1]:
            assert r.stderr == "brock: bad path: invalid UTF-8 at offset 2\n", r
    # a file that does not parse: every edit refused, with FILE:LINE:COL, bytes unchanged
    broken = OPENCLAW.replace("maxTokens: 8192 }]", "maxTokens: 8192 ]")
    h.write(path, broken)
    for args in (["set", "models.bedrockDiscovery.enabled", "false"], ["unset", "agents"], ["get", "agents"]):
        r = cfg(h, *args)
        assert r.rc == 2 and re.search(r"config\.json5:\d+:\d+: ", r.stderr), (args, r)
        assert h.read(path) == broken
    r = h.brock(["models", "list"])
    assert r.rc == 2 and re.search(r"config\.json5:\d+:\d+: ", r.stderr), r
    assert not [f for f in os.listdir(os.path.dirname(path)) if f != "config.json5"]


def test_config_unset(h):
    path = h.brock_config(OPENCLAW)
    r = cfg(h, "unset", "models.bedrockDiscovery.region")
    assert r.rc == 0, r
    r = cfg(h, "get", "models.bedrockDiscovery.region")
    assert r.rc == 2, r
    assert "/* discovery */" in h.read(path) and "refreshInterval: 3600" in h.read(path)
    r = cfg(h, "unset", 'models.providers["amazon-bedrock"].models[0]')
    assert r.rc == 0, r
    assert cfg(h, "get", 'models.providers["amazon-bedrock"].models').stdout == "[]\n"
    # unsetting what is not there: success, file not rewritten
    mtime = os.stat(path).st_mtime_ns
    r = cfg(h, "unset", "no.such.key")
    assert r.rc == 0 and os.stat(path).st_mtime_ns == mtime, r


def test_config_usage(h):
    for args in ([], ["get"], ["set", "a"], ["set", "a", "b", "c"], ["unset"], ["file", "x"], ["frob"]):
        r = cfg(h, *args)
        assert r.rc == 2 and r.stdout == "" and r.stderr.startswith("brock: "), (args, r)
    for args in (["--help"], ["set", "--help"]):
        r = cfg(h, *args)
        assert r.rc == 0 and "config get PATH" in r.stdout, r


def test_config_concurrent_sets(h):
    h.brock_config(OPENCLAW)
    env = h.env()
    n = 12
    procs = []
    for i in range(n):
        procs.append(subprocess.Popen([h.brock_path, "config", "set", "k.a%d" % i, str(i)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        procs.append(subprocess.Popen([h.brock_path, "config", "set", "k.b%d" % i, "'v%d'" % i], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    r = cfg(h, "get", "k")
    want = {}
    for i in range(n):
        want["a%d" % i] = i
        want["b%d" % i] = "v%d" % i
    assert r.rc == 0 and json.loads(r.stdout) == want, r
    assert "// my OpenClaw config" in h.read(CFG)
