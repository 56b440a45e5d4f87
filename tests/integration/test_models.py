"""brock models list against the emulator: SPEC 5 filters, pagination, the cache, renderings, merge, errors."""

import json
import os
import re
import subprocess
import time

REF = "amazon-bedrock/"

# What the emulator's catalogue (tests/emulator/fixtures.py) must yield with no providerFilter.
MUST = [
    "anthropic.claude-3-haiku-20240307-v1:0",          # ON_DEMAND + streaming
    "amazon.titan-text-express-v1",
    "amazon.nova-pro-v1:0",
    "meta.llama3-70b-instruct-v1:0",
    "mistral.mistral-large-2402-v1:0",
    "cohere.command-r-plus-v1:0",
    "ai21.jamba-1-5-mini-v1:0",
    "deepseek.v3-v1:0",
    "us.anthropic.claude-opus-4-6-v1:0",               # profile of a profile-only model
    "global.anthropic.claude-opus-4-6-v1:0",
    "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.deepseek.r1-v1:0",
    "team-haiku",                                       # application profile (claude 3 haiku), by name
    "batch-nova",                                       # application profile (nova pro), by name
]
MUST_NOT = {
    "anthropic.claude-opus-4-6-v1:0": "profile-only (no ON_DEMAND)",
    "deepseek.r1-v1:0": "profile-only (no ON_DEMAND)",
    "anthropic.claude-instant-v1": "LEGACY",
    "meta.llama3-8b-instruct-v1:0": "LEGACY",
    "amazon.titan-embed-text-v2:0": "EMBEDDING output",
    "cohere.embed-english-v3": "EMBEDDING output",
    "amazon.nova-canvas-v1:0": "IMAGE output",
    "stability.sd3-5-large-v1:0": "IMAGE output",
    "amazon.nova-reel-v1:0": "VIDEO output",
    "amazon.rerank-v1:0": "no streaming",
    "cohere.rerank-v3-5:0": "no streaming",
    "apac.anthropic.claude-3-5-sonnet-20240620-v1:0": "INACTIVE profile",
    "search-embeddings": "application profile of an embedding model",
}


def plain(h, *args, env=None):
    r = h.brock(["models", "list", "--plain"] + list(args), env=env)
    assert r.rc == 0, r
    ids = [line[len(REF):] for line in r.stdout.splitlines()]
    assert all(line.startswith(REF) for line in r.stdout.splitlines()), r
    return ids, r


def as_json(h, *args, env=None):
    r = h.brock(["models", "list", "--json"] + list(args), env=env)
    assert r.rc == 0, r
    return json.loads(r.stdout), r


def control_calls(h):
    return h.emu.log("control")


def cache_files(h, d=None):
    d = d or h.cache
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_models_every_filter(h):
    ids, r = plain(h)
    for m in MUST:
        assert m in ids, (m, r)
    for m, why in MUST_NOT.items():
        assert m not in ids, (m, why, r)
    assert len(ids) == len(set(ids)) == 42, (len(ids), r)


def test_models_calls_and_pagination(h):
    ids, r = plain(h)
    log = control_calls(h)
    fm = [e for e in log if e["route"] == "foundation-models"]
    prof = [e for e in log if e["route"] == "inference-profiles"]
    assert len(fm) == 1, log
    assert all(e["auth"]["verdict"] == "ok" and e["auth"]["service"] == "bedrock" for e in log), log
    sysd = [e for e in prof if e["query"].get("type") == ["SYSTEM_DEFINED"]]
    app = [e for e in prof if e["query"].get("type") == ["APPLICATION"]]
    assert len(sysd) == 3 and len(app) == 1 and len(prof) == 4, [e["raw_query"] for e in prof]
    assert [e["page_start"] for e in sysd] == [0, 10, 20], [e["raw_query"] for e in sysd]
    assert "nextToken" not in sysd[0]["query"]
    for e in sysd[1:]:
        # the token has '+', '/' and '=': all percent-encoded on the wire
        raw = dict(p.split("=", 1) for p in e["raw_query"].split("&"))
        assert raw["nextToken"].startswith("AAE%2B%2F") and raw["nextToken"].endswith("%3D%3D"), e["raw_query"]
        assert "+" not in raw["nextToken"] and "/" not in raw["nextToken"]
        assert raw["maxResults"].isdigit()
    # one kept-alive connection for all five calls
    peers = {e["peer"] for e in log}
    assert len(peers) == 1, peers


def test_models_table(h):
    h.brock_config("""{
      models: { providers: { 'amazon-bedrock': { models: [
        { id: 'us.anthropic.claude-opus-4-6-v1:0', name: 'Opus', reasoning: true, input: ['text', 'image'],
          contextWindow: 200000, maxTokens: 8192 } ] } } },
      agents: { defaults: { model: { primary: 'amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0' } } },
    }""")
    r = h.brock(["models", "list"])
    assert r.rc == 0, r
    lines = r.stdout.splitlines()
    assert re.match(r"^Model +Input +Ctx +MaxOut +Tags$", lines[0]), lines[0]
    cols = [lines[0].index(c) for c in ("Input", "Ctx", "MaxOut", "Tags")]
    for line in lines[1:]:
        assert line.startswith(REF), line
        for c in cols:
            assert line[c - 2:c] == "  " and line[c] != " ", (line, c)
    first = lines[1].split()
    assert first == [REF + "us.anthropic.claude-opus-4-6-v1:0", "text+image", "200k", "8192",
                     "default,configured,discovered,profile,reasoning"], lines[1]
    row = [l for l in lines if l.startswith(REF + "meta.llama3-70b-instruct-v1:0 ")]
    assert row and row[0].split()[1:] == ["text", "8000", "2048", "discovered"], row  # known table
    row = [l for l in lines if l.startswith(REF + "ai21.jamba-1-5-large-v1:0 ")]
    assert row and row[0].split()[1:] == ["text", "32k", "4096", "discovered"], row  # unknown: defaults
    assert len(lines) == 43, r


# a few lines of the known-model table: id -> (contextWindow, maxTokens, reasoning)
KNOWN = {"amazon.nova-pro-v1:0": (300000, 5000, False), "amazon.nova-lite-v1:0": (300000, 5000, False),
         "amazon.nova-micro-v1:0": (128000, 5000, False),
         "anthropic.claude-opus-4-6-v1:0": (1000000, 128000, True),
         "anthropic.claude-sonnet-4-5-20250929-v1:0": (200000, 64000, True),
         "anthropic.claude-3-5-sonnet-20240620-v1:0": (200000, 8192, False),
         "anthropic.claude-3-haiku-20240307-v1:0": (200000, 4096, False),
         "meta.llama3-70b-instruct-v1:0": (8000, 2048, False),
         "meta.llama3-8b-instruct-v1:0": (8000, 2048, False),
         "meta.llama3-1-70b-instruct-v1:0": (128000, 2048, False),
         "mistral.mistral-large-2402-v1:0": (32000, 8192, False)}


def known_id(i):
    if ":application-inference-profile/" in i:
        return True  # the fixture's application profiles are of known models (Claude 3 Haiku, Nova Pro)
    return any(i.startswith(p) for p in ("anthropic.", "amazon.nova", "meta.llama", "mistral.", "deepseek.",
                                         "openai.", "qwen.", "us.", "eu.", "global."))


def test_models_json_shape(h):
    doc, r = as_json(h)
    assert set(doc) == {"count", "models"}, doc.keys()
    assert doc["count"] == len(doc["models"]) == 42
    keys = {"key", "id", "name", "input", "contextWindow", "maxTokens", "reasoning", "tags"}
    for m in doc["models"]:
        assert set(m) == keys, m
        app = ":application-inference-profile/" in m["id"]  # listed by name, the ARN is the id
        assert m["key"] == REF + (m["name"] if app else m["id"]), m
        assert m["input"] in (["text"], ["text", "image"]), m
        k = KNOWN.get(m["id"].split(".", 1)[1] if m["id"].split(".")[0] in ("us", "eu", "global")
                      else m["id"])
        if app:  # an application profile: its foundation model's limits
            assert (m["contextWindow"], m["maxTokens"]) == {"team-haiku": (200000, 4096),
                                                            "batch-nova": (300000, 5000)}[m["name"]], m
        elif k:  # the known-model table (SPEC 5)
            assert (m["contextWindow"], m["maxTokens"], m["reasoning"]) == k, m
        elif not known_id(m["id"]):  # the discovery defaults
            assert m["contextWindow"] == 32000 and m["maxTokens"] == 4096 and m["reasoning"] is False, m
        assert "discovered" in m["tags"], m
        assert ("profile" in m["tags"]) == (m["id"].split(".")[0] in ("us", "eu", "global") or app), m
    byid = {m["id"]: m for m in doc["models"]}
    assert byid["amazon.nova-pro-v1:0"]["name"] == "Nova Pro"
    app = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/appprof01x7k2m9q"
    assert byid[app]["name"] == "batch-nova" and byid[app]["key"] == REF + "batch-nova", byid[app]
    assert byid[app]["input"] == ["text", "image"]


def test_models_configured_win_and_defaults(h):
    h.brock_config("""// OpenClaw layout, as is
    {
      models: {
        bedrockDiscovery: { defaultContextWindow: 64000, defaultMaxTokens: 2048, },
        providers: {
          "amazon-bedrock": {
            baseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com",
            api: "bedrock-converse-stream", auth: "aws-sdk",
            models: [
              { id: "amazon.nova-pro-v1:0", name: "My Nova", reasoning: true, input: ["text"],
                cost: { input: 0.8, output: 3.2, cacheRead: 0.2, cacheWrite: 0 },
                contextWindow: 300000, maxTokens: 5000 },
              { id: "custom.not-discovered-v1", name: "Private" },
            ],
          },
        },
      },
      agents: { defaults: { model: { primary: "amazon-bedrock/amazon.nova-pro-v1:0" } } },
    }""")
    doc, r = as_json(h)
    ms = doc["models"]
    assert ms[0]["id"] == "amazon.nova-pro-v1:0" and ms[1]["id"] == "custom.not-discovered-v1", ms[:2]
    assert ms[0] == {"key": REF + "amazon.nova-pro-v1:0", "id": "amazon.nova-pro-v1:0", "name": "My Nova",
                     "input": ["text"], "contextWindow": 300000, "maxTokens": 5000, "reasoning": True,
                     "tags": ["default", "configured", "discovered", "reasoning"]}, ms[0]
    assert ms[1]["tags"] == ["configured"] and ms[1]["contextWindow"] == 64000 and ms[1]["maxTokens"] == 2048
    assert [m["id"] for m in ms].count("amazon.nova-pro-v1:0") == 1
    assert doc["count"] == 43
    others = [m for m in ms if "configured" not in m["tags"] and not known_id(m["id"])]
    assert others and all(m["contextWindow"] == 64000 and m["maxTokens"] == 2048 for m in others), others


def test_models_provider_flag(h):
    for prov, prefixes in (("anthropic", ("anthropic.", "us.anthropic.", "eu.anthropic.", "global.anthropic.")),
                           ("meta", ("meta.", "us.meta.")), ("mistral", ("mistral.", "us.mistral.")),
                           ("AI21", ("ai21.",))):
        ids, r = plain(h, "--provider", prov)
        assert ids, r
        assert all(i.startswith(prefixes) or i == "team-haiku" for i in ids), (prov, ids)
    ids, _ = plain(h, "--provider", "anthropic")
    assert "team-haiku" in ids and "batch-nova" not in ids, ids
    ids, _ = plain(h, "--provider=amazon")
    assert "batch-nova" in ids and "us.amazon.nova-premier-v1:0" in ids, ids
    ids, _ = plain(h, "--provider", "nobody")
    assert ids == []
    # all of these came from one fetch and then the cache
    assert len([e for e in control_calls(h) if e["route"] == "foundation-models"]) == 1


def test_models_provider_filter_config(h):
    h.brock_config('{ plugins: { entries: { "amazon-bedrock": { config: { discovery: '
                   '{ providerFilter: ["Meta", "deepseek"] } } } } },'
                   '  models: { bedrockDiscovery: { providerFilter: ["amazon"] } } }')
    ids, r = plain(h)
    assert ids and all(i.split(".")[0] in ("meta", "deepseek") or i.split(".")[1] in ("meta", "deepseek")
                       for i in ids), ids
    assert "us.deepseek.r1-v1:0" in ids and "us.meta.llama3-3-70b-instruct-v1:0" in ids
    assert cache_files(h) == ["models-us-east-1-deepseek+meta.tsv"], cache_files(h)


def test_models_cache_fresh_no_calls(h):
    ids1, _ = plain(h)
    n = len(control_calls(h))
    assert n == 5
    assert cache_files(h) == ["models-us-east-1.tsv"]
    with open(os.path.join(h.cache, "models-us-east-1.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
    assert head[0] == "brock-models-cache v2" and head[2] == "42" and head[3] == "us-east-1", head
    assert abs(int(head[1]) - time.time()) < 60
    st = os.stat(os.path.join(h.cache, "models-us-east-1.tsv"))
    assert st.st_mode & 0o777 == 0o600
    ids2, _ = plain(h)
    doc, _ = as_json(h)
    assert ids1 == ids2 == [m["key"][len(REF):] for m in doc["models"]]
    assert len(control_calls(h)) == n, "a fresh cache must not call the control plane"
    # --refresh ignores it
    plain(h, "--refresh")
    assert len(control_calls(h)) == 2 * n


def test_models_cache_per_region(h):
    plain(h, env={"AWS_REGION": "eu-west-1"})
    plain(h, "--region", "us-west-2")
    assert cache_files(h) == ["models-eu-west-1.tsv", "models-us-west-2.tsv"], cache_files(h)
    regions = {e["auth"]["region"] for e in control_calls(h)}
    assert regions == {"eu-west-1", "us-west-2"}, regions


def test_models_refresh_interval_zero(h):
    h.brock_config("{ models: { bedrockDiscovery: { refreshInterval: 0 } } }")
    plain(h)
    plain(h)
    assert len([e for e in control_calls(h) if e["route"] == "foundation-models"]) == 2
    assert cache_files(h) == []


def test_models_refresh_interval_expiry(h):
    h.brock_config("{ models: { bedrockDiscovery: { refreshInterval: 1 } } }")
    plain(h)
    time.sleep(2.1)
    plain(h)
    assert len([e for e in control_calls(h) if e["route"] == "foundation-models"]) == 2


def test_models_corrupt_cache_rewritten(h):
    path = os.path.join(h.cache, "models-us-east-1.tsv")
    for junk in (b"garbage\n", b"", b"brock-models-cache v2\t99999999999\t1\tus-east-1\t\nx\n",
                 b"brock-models-cache v2\t%d\t40\tus-west-2\t\n" % int(time.time()),
                 b"brock-models-cache v1\t%d\t0\tus-east-1\t\n" % int(time.time())):  # the old format
        with open(path, "wb") as f:
            f.write(junk)
        before = len(control_calls(h))
        ids, r = plain(h)
        assert len(ids) == 42 and "warning" not in r.stderr, r
        assert len(control_calls(h)) == before + 5, junk
        with open(path, "rb") as f:
            assert f.readline().startswith(b"brock-models-cache v2\t"), junk
    assert cache_files(h) == ["models-us-east-1.tsv"]


def _age_cache(h, seconds):
    path = os.path.join(h.cache, "models-us-east-1.tsv")
    with open(path) as f:
        lines = f.read().split("\n")
    head = lines[0].split("\t")
    head[1] = str(int(head[1]) - seconds)
    lines[0] = "\t".join(head)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def test_models_stale_cache_fallback(h):
    ids1, _ = plain(h)
    _age_cache(h, 7200)
    h.emu.config(failures=[{"route": "foundation-models", "status": 500, "count": -1}])
    ids2, r = plain(h)
    assert ids2 == ids1, r
    assert "warning" in r.stderr and "cached list" in r.stderr and "2h" in r.stderr, r
    assert "InternalServerException" in r.stderr, r
    q = h.brock(["-q", "models", "list", "--plain"])
    assert q.rc == 0 and q.stderr == "" and q.stdout == r.stdout, q
    # --refresh does not fall back
    x = h.brock(["models", "list", "--refresh"])
    assert x.rc == 5 and "InternalServerException" in x.stderr and x.stdout == "", x


def test_models_error_without_cache(h):
    h.emu.config(failures=[{"route": "foundation-models", "status": 500, "count": -1}])
    r = h.brock(["models", "list"])
    assert r.rc == 5 and r.stdout == "", r
    assert "InternalServerException" in r.stderr and "request id" in r.stderr.lower(), r
    assert len(r.stderr.strip().splitlines()) == 1, r
    assert cache_files(h) == []


def test_models_error_classes(h):
    cases = [
        ({"route": "inference-profiles", "status": 403, "type": "AccessDeniedException", "count": -1}, 5),
        ({"route": "foundation-models", "status": 403, "type": "UnrecognizedClientException", "count": -1}, 3),
        ({"route": "foundation-models", "status": 200, "body": "this is not json", "header": False, "count": -1}, 6),
        ({"route": "inference-profiles", "status": 200, "body": {"inferenceProfileSummaries": 7}, "header": False,
          "count": -1}, 6),
        ({"route": "inference-profiles", "status": 200, "body": {"__type": "UnknownOperationException"},
          "count": -1}, 5),
        ({"route": "foundation-models", "status": "close", "count": -1}, 4),
    ]
    for failure, rc in cases:
        h.emu.reset()
        h.emu.config(failures=[failure])
        r = h.brock(["models", "list", "--refresh"], env={"AWS_MAX_ATTEMPTS": "1"})
        assert r.rc == rc, (failure, r)
        assert r.stdout == "" and r.stderr.startswith("brock: "), r


def test_models_retry_then_success(h):
    h.emu.config(failures=[{"route": "inference-profiles", "status": 503, "count": 1}])
    ids, r = plain(h)
    assert len(ids) == 42, r


def test_models_no_credentials(h):
    h.brock_config("{ models: { providers: { 'amazon-bedrock': { models: [ { id: 'us.meta.llama3-3-70b-instruct-v1:0' } ] } } } }")
    env = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
    r = h.brock(["models", "list", "--plain"], env=env)
    assert r.rc == 0, r
    assert r.stdout == REF + "us.meta.llama3-3-70b-instruct-v1:0\n", r
    assert "warning" in r.stderr and "discovery" in r.stderr, r
    assert control_calls(h) == []
    q = h.brock(["-q", "models", "list", "--plain"], env=env)
    assert q.rc == 0 and q.stderr == "", q
    # explicit enabled: true and no credentials is an error (nothing cached)
    h.brock_config("{ models: { bedrockDiscovery: { enabled: true } } }")
    x = h.brock(["models", "list"], env=env)
    assert x.rc == 3, x


def test_models_enabled_false(h):
    h.brock_config("{ models: { bedrockDiscovery: { enabled: false }, providers: { 'amazon-bedrock': "
                   "{ models: [ { id: 'amazon.nova-pro-v1:0' } ] } } } }")
    ids, r = plain(h)
    assert ids == ["amazon.nova-pro-v1:0"] and r.stderr == "", r
    assert control_calls(h) == []


def test_models_imds_credentials(h):
    """An instance role (IMDS) enables discovery with no environment markers."""
    env = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_EC2_METADATA_DISABLED": None,
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": h.emu.http}
    ids, r = plain(h, env=env)
    assert len(ids) == 42, r
    log = h.emu.log()
    assert any(e["route"] == "imds" for e in log), log
    akids = {e["auth"].get("akid") for e in control_calls(h)}
    assert akids and h.emu.akid not in akids, akids


def test_models_bearer_token(h):
    env = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
           "AWS_BEARER_TOKEN_BEDROCK": h.secret(h.emu.bearer_token)}
    ids, r = plain(h, env=env)
    assert len(ids) == 42, r
    assert {e["auth"]["verdict"] for e in control_calls(h)} == {"bearer"}


def test_models_cache_dir_precedence(h):
    xdg = os.path.join(h.tmp, "xdg")
    plain(h, env={"BROCK_CACHE_DIR": None, "XDG_CACHE_HOME": xdg})
    assert cache_files(h, os.path.join(xdg, "brock")) == ["models-us-east-1.tsv"]
    plain(h, env={"BROCK_CACHE_DIR": None})
    assert cache_files(h, os.path.join(h.home, ".cache", "brock")) == ["models-us-east-1.tsv"]
    assert cache_files(h) == []
    # an unwritable cache directory is not an error
    r = h.brock(["models", "list", "--plain"], env={"BROCK_CACHE_DIR": "/proc/brock-cannot-exist"})
    assert r.rc == 0 and len(r.stdout.splitlines()) == 42, r


def test_models_concurrent_refreshers(h):
    env = h.env()
    for _ in range(3):
        procs = [subprocess.Popen([h.brock_path, "models", "list", "--refresh", "--plain"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
        outs = [p.communicate(timeout=60) for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        assert len({o for o, _ in outs}) == 1
    assert cache_files(h) == ["models-us-east-1.tsv"], cache_files(h)  # no temp files left
    before = len(control_calls(h))
    ids, _ = plain(h)
    assert len(ids) == 42 and len(control_calls(h)) == before


def test_models_listed_are_invokable(h):
    """Every listed model id is accepted by ConverseStream (strict emulator: no on-demand trap)."""
    h.emu.config(strict_models=True)
    ids, _ = plain(h)
    for i in ids:
        r = h.brock(["chat", "-q", "-m", REF + i, "ping"])
        assert r.rc == 0 and r.stdout == "You said: ping\n", (i, r)


def test_models_usage_errors(h):
    for args in (["models", "list", "--bogus"], ["models", "frob"], ["models", "list", "--provider"],
                 ["models", "list", "--json", "--plain"]):
        r = h.brock(args)
        assert r.rc == 2 and r.stdout == "", r
    r = h.brock(["models", "--help"])
    assert r.rc == 0 and "--provider" in r.stdout, r
    r = h.brock(["models", "list", "--plain"], env={})
    assert r.rc == 0
    h.brock_config("{ models: { bedrockDiscovery: { refreshInterval: 'soon' } } }")
    r = h.brock(["models", "list"])
    assert r.rc == 2 and "refreshInterval" in r.stderr, r
    h.brock_config("{ models: { ")
    r = h.brock(["models", "list"])
    assert r.rc == 2 and re.search(r"config\.json5:\d+:\d+", r.stderr), r


def test_models_cached_vs_uncached_timing(h):
    """Not a benchmark: the cached path must not be slower than the fetching one."""
    t0 = time.monotonic()
    for _ in range(5):
        plain(h, "--refresh")
    uncached = (time.monotonic() - t0) / 5
    t0 = time.monotonic()
    for _ in range(5):
        plain(h)
    cached = (time.monotonic() - t0) / 5
    assert cached <= uncached * 1.5 + 0.02, (cached, uncached)


def test_models_no_core_dumps(h):
    """Like chat (test_chat_no_core_dumps): RLIMIT_CORE 0 once credentials are loaded."""
    from test_chat import core_limit_of_waiting_brock
    h.emu.config(failures=[{"route": "foundation-models", "count": 1, "status": "stall", "seconds": 3}])
    p = h.spawn(["models", "list", "--refresh"])
    assert core_limit_of_waiting_brock(h, p, "foundation-models") == ["0", "0"]


def test_models_unsafe_cache_dir_is_refused(h):
    # another user could plant a model list in a group/world-writable cache directory
    os.chmod(h.cache, 0o777)
    r = h.brock(["models", "list", "--plain"])
    assert r.rc == 2, r
    assert "group/world-writable" in r.stderr and "BROCK_CACHE_DIR" in r.stderr, r
    os.chmod(h.cache, 0o700)
    r = h.brock(["models", "list", "--plain"])
    assert r.rc == 0, r


def test_models_cache_dir_of_another_user_is_refused(h):
    # a private (0700) directory that belongs to someone else is not ours either (root only:
    # chown; CI runs as root)
    if os.geteuid() != 0:
        h.skip("needs root to chown the cache directory")
    r = h.brock(["models", "list", "--refresh", "--plain"])
    assert r.rc == 0, r
    os.chown(h.cache, 65534, 65534)
    try:
        r = h.brock(["models", "list", "--plain"])
        assert r.rc == 2, r
        assert "owned by another user (uid 65534)" in r.stderr and "BROCK_CACHE_DIR" in r.stderr, r
        assert r.stdout == "", r
    finally:
        os.chown(h.cache, 0, 0)
    r = h.brock(["models", "list", "--plain"])
    assert r.rc == 0, r


def test_models_cache_file_symlink_not_followed(h):
    r = h.brock(["models", "list", "--refresh", "--plain"])
    assert r.rc == 0, r
    name = [f for f in os.listdir(h.cache) if f.startswith("models-")][0]
    planted = h.write("planted.tsv", open(os.path.join(h.cache, name)).read().replace(
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "us.evil.planted-model-v1:0"))
    assert "planted" in open(planted).read()
    os.unlink(os.path.join(h.cache, name))
    os.symlink(planted, os.path.join(h.cache, name))
    r = h.brock(["models", "list", "--plain"])
    assert r.rc == 0, r
    assert "planted" not in r.stdout, r
