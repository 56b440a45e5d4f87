"""Model features of current Bedrock models (SPEC 3.5) end to end: adaptive thinking, prompt caching,
service tiers, latency, guardrails, request metadata, extra model fields, the known-model table in
`models list`, zero configuration and count-tokens; the emulator enforces Bedrock's rules."""

import json

from test_serve import serve, user

OPUS47 = "us.anthropic.claude-opus-4-7"
OPUS4 = "us.anthropic.claude-opus-4-20250514-v1:0"
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
LLAMA = "meta.llama3-70b-instruct-v1:0"
ADAPTIVE_MSG = '"thinking.type.enabled" is not supported for this model.'


def body_of(h, route="runtime"):
    log = h.emu.log(route)
    assert log, "no %s request reached the emulator" % route
    return json.loads(log[-1]["body"])


def chat(h, model, *args):
    return h.brock(["chat", "-m", "amazon-bedrock/" + model] + list(args))


# ---- thinking --------------------------------------------------------------

def test_thinking_budget_on_adaptive_only_model_becomes_effort(h):
    r = chat(h, OPUS47, "--thinking", "8000", "hi")
    assert r.rc == 0, r
    amrf = body_of(h)["additionalModelRequestFields"]
    assert amrf == {"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}}, amrf


def test_effort_flag(h):
    r = chat(h, OPUS47, "--effort", "high", "hi")
    assert r.rc == 0, r
    assert body_of(h)["additionalModelRequestFields"]["output_config"] == {"effort": "high"}
    r = chat(h, OPUS4, "--effort", "low", "hi")  # a date suffix: Opus 4, a budget
    assert r.rc == 0, r
    b = body_of(h)
    assert b["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 2048}}, b
    assert b["inferenceConfig"]["maxTokens"] > 2048, b
    r = chat(h, OPUS47, "--effort", "extreme", "hi")
    assert r.rc == 2 and "--effort" in r.stderr, r
    r = chat(h, "amazon.nova-pro-v1:0", "--effort", "low", "hi")
    assert r.rc == 2, r


def test_no_thinking_flag_sends_no_thinking_field(h):
    r = chat(h, OPUS47, "hi")
    assert r.rc == 0, r
    assert "additionalModelRequestFields" not in body_of(h)


def test_emulator_refuses_enabled_on_adaptive_only_model(h):
    """The emulator's rule, checked directly: what users hit with other tools."""
    req = {"messages": [{"role": "user", "content": [{"text": "hi"}]}],
           "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 2048}}}
    r = h.emu.request("POST", "/model/%s/converse" % OPUS47, json.dumps(req).encode(), sign=True,
                      headers={"content-type": "application/json"})
    assert r.status == 400 and ADAPTIVE_MSG in r.json()["message"], r
    req["additionalModelRequestFields"] = {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    r = h.emu.request("POST", "/model/%s/converse" % OPUS4, json.dumps(req).encode(), sign=True,
                      headers={"content-type": "application/json"})
    assert r.status == 200, r
    req["inferenceConfig"] = {"maxTokens": 2048}  # no room after the budget
    r = h.emu.request("POST", "/model/%s/converse" % OPUS4, json.dumps(req).encode(), sign=True,
                      headers={"content-type": "application/json"})
    assert r.status == 400 and "budget_tokens" in r.json()["message"], r


def test_unknown_adaptive_model_is_retried_with_adaptive(h):
    """An application profile ARN hides the model: Bedrock's refusal names adaptive thinking, brock
    sends the request again in that shape."""
    h.emu.config(failures=[{"route": "converse-stream", "status": 400, "type": "ValidationException",
                            "message": ADAPTIVE_MSG + ' Use "thinking.type.adaptive" and "output_config.effort" '
                            "to control thinking behavior.", "count": 1}])
    arn = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123"
    r = h.brock(["chat", "-m", arn, "--thinking", "20000", "hi"])
    assert r.rc == 0, r
    bodies = [json.loads(e["body"]) for e in h.emu.log("runtime")]
    assert bodies[-2]["additionalModelRequestFields"]["thinking"]["type"] == "enabled", bodies
    assert bodies[-1]["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"},
                                                          "output_config": {"effort": "high"}}, bodies


def test_gateway_reasoning_effort_adaptive(h):
    s = serve(h)
    req = {"model": "amazon-bedrock/" + OPUS47, "messages": [{"role": "user", "content": "hi"}],
           "reasoning_effort": "low"}
    st, _, data = s.chat(req)
    assert st == 200, data
    amrf = body_of(h)["additionalModelRequestFields"]
    assert amrf == {"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}}, amrf


# ---- the known-model table -------------------------------------------------

def test_models_list_shows_real_limits(h):
    h.brock_config('{ agents: { defaults: { model: { primary: "amazon-bedrock/%s" } } } }' % LLAMA)
    r = h.brock(["models", "list", "--json"])
    assert r.rc == 0, r
    doc = json.loads(r.stdout)
    by_id = {m["id"]: m for m in doc["models"]}
    opus = [m for m in doc["models"] if "claude-opus-4-6" in m["id"] or "claude-sonnet-4-5" in m["id"]]
    assert opus, by_id.keys()
    for m in opus:
        assert m["contextWindow"] >= 200000 and m["maxTokens"] >= 64000 and m["reasoning"], m
    assert by_id[LLAMA]["contextWindow"] == 8000, by_id[LLAMA]


# ---- prompt caching ----------------------------------------------------------

def test_cache_points_and_usage_line(h):
    args = ["-s", "You are a careful assistant. " * 50, "--cache", "what is 2+2?"]
    r = chat(h, SONNET, *args)
    assert r.rc == 0, r
    b = body_of(h)
    assert b["system"][-1] == {"cachePoint": {"type": "default"}}, b["system"]
    assert b["messages"][0]["content"][-1] == {"cachePoint": {"type": "default"}}, b
    assert "cache_write=" in r.stderr and "cache_write=0 " not in r.stderr, r.stderr
    assert "cache_read=0 " in r.stderr, r.stderr
    r = chat(h, SONNET, *args)  # the same prefix: read from the cache
    assert r.rc == 0, r
    assert "cache_read=0 " not in r.stderr and "cache_write=0 " in r.stderr, r.stderr


def test_cache_ttl_and_refusals(h):
    r = chat(h, SONNET, "--cache", "1h", "hi")
    assert r.rc == 0, r
    assert body_of(h)["messages"][0]["content"][-1] == {"cachePoint": {"type": "default", "ttl": "1h"}}
    r = chat(h, SONNET, "--cache=2h", "hi")
    assert r.rc == 2 and "--cache" in r.stderr, r
    n = len(h.emu.log("runtime"))
    r = chat(h, LLAMA, "--cache", "hi")  # known not to take caching: refused before any call
    assert r.rc == 2 and "prompt caching" in r.stderr, r
    assert len(h.emu.log("runtime")) == n


def test_emulator_refuses_cache_points_on_models_without_caching(h):
    req = {"messages": [{"role": "user", "content": [{"text": "hi"}, {"cachePoint": {"type": "default"}}]}]}
    r = h.emu.request("POST", "/model/%s/converse" % LLAMA, json.dumps(req).encode(), sign=True,
                      headers={"content-type": "application/json"})
    assert r.status == 400 and "prompt caching" in r.json()["message"], r
    req["system"] = [{"text": "s"}, {"cachePoint": {"type": "default"}}] * 4
    r = h.emu.request("POST", "/model/%s/converse" % SONNET, json.dumps(req).encode(), sign=True,
                      headers={"content-type": "application/json"})
    assert r.status == 400 and "maximum of 4" in r.json()["message"], r


# ---- service tier, latency, guardrails, metadata, extra -----------------------

def test_feature_flags_on_the_wire(h):
    r = chat(h, SONNET, "--service-tier", "flex", "--latency", "optimized", "--meta", "team=a=b",
             "--meta", "run=7", "--extra", '{"anthropic_beta":["context-1m-2025-08-07"]}', "hi")
    assert r.rc == 0, r
    b = body_of(h)
    assert b["serviceTier"] == {"type": "flex"}, b
    assert b["performanceConfig"] == {"latency": "optimized"}, b
    assert b["requestMetadata"] == {"team": "a=b", "run": "7"}, b
    assert b["additionalModelRequestFields"] == {"anthropic_beta": ["context-1m-2025-08-07"]}, b


def test_feature_flag_refusals_are_exit_2(h):
    n = len(h.emu.log("runtime"))
    for bad in (["--service-tier", "gold"], ["--latency", "fast"], ["--meta", "novalue"], ["--meta", "=x"],
                ["--extra", "[1]"], ["--extra", "{"], ["--guardrail", ""]):
        r = chat(h, SONNET, *(bad + ["hi"]))
        assert r.rc == 2, (bad, r)
    r = chat(h, SONNET, *sum((["--meta", "k%d=v" % i] for i in range(17)), []), "hi")
    assert r.rc == 2, r
    assert len(h.emu.log("runtime")) == n


def test_guardrail_intervenes_with_json_trace(h):
    r = chat(h, SONNET, "--guardrail", "gr-block", "--json", "hi")
    assert r.rc == 0, r
    b = body_of(h)
    assert b["guardrailConfig"] == {"guardrailIdentifier": "gr-block", "guardrailVersion": "DRAFT",
                                    "trace": "enabled"}, b
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    stop = [l["messageStop"] for l in lines if "messageStop" in l]
    assert stop == [{"stopReason": "guardrail_intervened"}], lines
    md = [l["metadata"] for l in lines if "metadata" in l][0]
    assert "guardrail" in md["trace"], md
    r = chat(h, SONNET, "--guardrail", "gr-block", "--guardrail-version", "2", "hi")
    assert r.rc == 0 and "stop=guardrail_intervened" in r.stderr, r
    assert body_of(h)["guardrailConfig"]["guardrailVersion"] == "2"
    r = chat(h, SONNET, "--guardrail", "gr-pass", "hi")
    assert r.rc == 0 and "stop=end_turn" in r.stderr, r
    r = chat(h, SONNET, "--guardrail", "gr-nope", "hi")
    assert r.rc == 5 and "guardrail" in r.stderr, r


def test_config_defaults_and_flags_win(h):
    h.brock_config("""{ bedrock: { serviceTier: "priority", latency: "optimized",
        guardrail: { identifier: "gr-pass", version: "1", trace: true },
        requestMetadata: { app: "brock-test" } } }""")
    r = chat(h, SONNET, "hi")
    assert r.rc == 0, r
    b = body_of(h)
    assert b["serviceTier"] == {"type": "priority"} and b["performanceConfig"] == {"latency": "optimized"}, b
    assert b["guardrailConfig"] == {"guardrailIdentifier": "gr-pass", "guardrailVersion": "1",
                                    "trace": "enabled"}, b
    assert b["requestMetadata"] == {"app": "brock-test"}, b
    r = chat(h, SONNET, "--service-tier", "flex", "--meta", "x=y", "hi")
    assert r.rc == 0, r
    b = body_of(h)
    assert b["serviceTier"] == {"type": "flex"} and b["requestMetadata"] == {"x": "y"}, b
    h.brock_config("{ bedrock: { requestMetadata: { app: 5 } } }")
    r = chat(h, SONNET, "hi")
    assert r.rc == 2 and "requestMetadata" in r.stderr, r


def test_emulator_service_tier_echo_and_bad_value(h):
    req = {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "serviceTier": {"type": "flex"}}
    r = h.emu.request("POST", "/model/%s/converse" % SONNET, json.dumps(req).encode(), sign=True,
                      headers={"content-type": "application/json"})
    assert r.status == 200 and r.json()["serviceTier"] == {"type": "flex"}, r
    req["serviceTier"] = {"type": "gold"}
    r = h.emu.request("POST", "/model/%s/converse" % SONNET, json.dumps(req).encode(), sign=True,
                      headers={"content-type": "application/json"})
    assert r.status == 400, r


# ---- the gateway: cache_control, service_tier, user -----------------------------

def test_gateway_cache_control_tier_and_cached_tokens(h):
    s = serve(h)
    sysp = {"role": "system", "content": [{"type": "text", "text": "Rules. " * 200,
                                           "cache_control": {"type": "ephemeral"}}]}
    req = {"model": "amazon-bedrock/" + SONNET, "messages": [sysp, {"role": "user", "content": "hi"}],
           "service_tier": "priority", "user": "alice"}
    st, _, data = s.chat(req)
    assert st == 200, data
    b = body_of(h)
    assert b["system"][-1] == {"cachePoint": {"type": "default"}}, b
    assert b["serviceTier"] == {"type": "priority"} and b["requestMetadata"] == {"user": "alice"}, b
    st, _, data = s.chat(req)  # the same prefix again: a cache read
    assert st == 200, data
    u = json.loads(data)["usage"]
    assert u["prompt_tokens_details"]["cached_tokens"] > 0, u
    assert u["prompt_tokens"] >= u["prompt_tokens_details"]["cached_tokens"], u
    req["service_tier"] = "gold"
    st, _, data = s.chat(req)
    assert st == 400, data


# ---- zero configuration -----------------------------------------------------------

def test_zero_config_picks_the_newest_sonnet(h):
    r = h.brock(["chat", "hello"])
    assert r.rc == 0, r
    e = h.emu.log("runtime")[-1]
    assert "claude-sonnet-4-5" in e["model_id"] and e["model_id"].startswith("us."), e["model_id"]
    assert "using amazon-bedrock/" + e["model_id"] in r.stderr, r.stderr
    r = h.brock(["-q", "chat", "hello"])
    assert r.rc == 0 and "using" not in r.stderr, r


# ---- ARN region, count-tokens ---------------------------------------------------------

def test_arn_ref_is_called_in_the_arns_region(h):
    h.emu.config(expected_region="us-west-2")
    arn = "arn:aws:bedrock:us-west-2:111122223333:inference-profile/us.anthropic.claude-opus-4-7"
    r = h.brock(["--region", "us-east-1", "chat", "-m", arn, "hi"])
    assert r.rc == 0, r
    r = h.brock(["--region", "us-east-1", "chat", "-m", "amazon-bedrock/" + OPUS47, "hi"])
    assert r.rc == 3, r  # signed for us-east-1: the emulator wants us-west-2


def test_count_tokens(h):
    r = h.brock(["count-tokens", "-m", "amazon-bedrock/" + SONNET, "-s", "be brief", "hello", "there"])
    assert r.rc == 0, r
    assert r.stdout.strip().isdigit() and int(r.stdout) > 0, r
    e = h.emu.log()[-1]
    assert e["route"] == "count-tokens" and e["model_id"] == SONNET, e
    b = json.loads(e["body"])
    assert b == {"input": {"converse": {"messages": [{"role": "user", "content": [{"text": "hello there"}]}],
                                        "system": [{"text": "be brief"}]}}}, b
    r = h.brock(["count-tokens", "-m", "amazon-bedrock/" + SONNET], stdin=b"from stdin")
    assert r.rc == 0 and int(r.stdout) > 0, r
    r = h.brock(["count-tokens", "--bogus", "x"])
    assert r.rc == 2, r
    r = h.brock(["count-tokens", "-m", "openai/gpt-4o", "x"])
    assert r.rc == 2, r


# ---- the gateway: config defaults, tools' cache_control, betas, replayed reasoning ---------

def test_gateway_config_defaults_and_request_fields_win(h):
    h.brock_config("""{ bedrock: { serviceTier: "priority", latency: "optimized",
        guardrail: { identifier: "gr-pass", version: "1", trace: true },
        requestMetadata: { app: "brock-test" } } }""")
    s = serve(h)
    st, _, data = s.chat({"model": "amazon-bedrock/" + SONNET, "messages": [{"role": "user", "content": "hi"}]})
    assert st == 200, data
    b = body_of(h)
    assert b["serviceTier"] == {"type": "priority"} and b["performanceConfig"] == {"latency": "optimized"}, b
    assert b["guardrailConfig"] == {"guardrailIdentifier": "gr-pass", "guardrailVersion": "1",
                                    "trace": "enabled"}, b
    assert b["requestMetadata"] == {"app": "brock-test"}, b
    st, _, data = s.chat({"model": "amazon-bedrock/" + SONNET, "messages": [{"role": "user", "content": "hi"}],
                          "service_tier": "flex", "user": "alice"})
    assert st == 200, data
    b = body_of(h)
    assert b["serviceTier"] == {"type": "flex"}, b
    assert b["requestMetadata"] == {"app": "brock-test", "user": "alice"}, b
    st, _, data = s.chat({"model": "amazon-bedrock/" + SONNET, "messages": [{"role": "user", "content": "hi"}],
                          "service_tier": "auto"})  # auto: the box's default
    assert st == 200 and body_of(h)["serviceTier"] == {"type": "priority"}, data


def test_gateway_guardrail_default_is_content_filter(h):
    h.brock_config('{ bedrock: { guardrail: { identifier: "gr-block" } } }')
    s = serve(h)
    st, _, data = s.chat({"model": "amazon-bedrock/" + SONNET, "messages": [{"role": "user", "content": "hi"}]})
    assert st == 200, data
    assert json.loads(data)["choices"][0]["finish_reason"] == "content_filter", data
    assert body_of(h)["guardrailConfig"] == {"guardrailIdentifier": "gr-block", "guardrailVersion": "DRAFT"}


def tool(name, cc=None):
    t = {"type": "function", "function": {"name": name, "description": "d " * 40,
                                          "parameters": {"type": "object", "properties": {}}}}
    if cc:
        t["cache_control"] = cc
    return t


def test_gateway_cache_control_on_tools(h):
    s = serve(h)
    req = {"model": "amazon-bedrock/" + SONNET, "messages": [{"role": "user", "content": "hi"}],
           "tools": [tool("a"), tool("b", {"type": "ephemeral", "ttl": "1h"})]}
    st, _, data = s.chat(req)
    assert st == 200, data
    tools = body_of(h)["toolConfig"]["tools"]
    assert [list(t) for t in tools] == [["toolSpec"], ["toolSpec"], ["cachePoint"]], tools
    assert tools[2] == {"cachePoint": {"type": "default", "ttl": "1h"}}, tools
    st, _, data = s.chat(req)  # the tools again: read from the cache
    assert st == 200, data
    assert json.loads(data)["usage"]["prompt_tokens_details"]["cached_tokens"] > 0, data
    # a 5m point on a tool, then a 1h one in system: sent as 5m (TTLs never increase)
    req["tools"] = [tool("a", {"type": "ephemeral"})]
    req["messages"] = [{"role": "system", "content": [{"type": "text", "text": "rules",
                                                       "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
                       {"role": "user", "content": "hi"}]
    st, _, data = s.chat(req)
    assert st == 200, data
    b = body_of(h)
    assert b["toolConfig"]["tools"][-1] == {"cachePoint": {"type": "default"}}, b
    assert b["system"][-1] == {"cachePoint": {"type": "default"}}, b
    # five marks: four points, the last kept
    req["tools"] = [tool("t%d" % i, {"type": "ephemeral"}) for i in range(4)]
    req["messages"][0]["content"][0]["cache_control"] = {"type": "ephemeral"}
    st, _, data = s.chat(req)
    assert st == 200, data
    b = body_of(h)
    n = sum("cachePoint" in t for t in b["toolConfig"]["tools"]) + sum("cachePoint" in x for x in b["system"])
    assert n == 4 and "cachePoint" in b["system"][-1], b
    # Nova caches system and messages but not tools: the tools' points are left out
    req["model"] = "amazon-bedrock/us.amazon.nova-pro-v1:0"
    st, _, data = s.chat(req)
    assert st == 200, data
    b = body_of(h)
    assert "cachePoint" not in json.dumps(b["toolConfig"]) and "cachePoint" in b["system"][-1], b
    # a model without caching: left out (the emulator refuses them there)
    req["model"] = "amazon-bedrock/" + LLAMA
    st, _, data = s.chat(req)
    assert st == 200, data
    assert "cachePoint" not in json.dumps(body_of(h)), body_of(h)


def test_gateway_anthropic_beta_and_model_fields(h):
    s = serve(h)
    req = {"model": "amazon-bedrock/" + SONNET, "messages": [{"role": "user", "content": "hi"}],
           "anthropic_beta": ["context-1m-2025-08-07", "no-such-beta-2099-01-01"],
           "additionalModelRequestFields": {"top_k": 5}}
    st, _, data = s.chat(req)
    assert st == 200, data
    assert body_of(h)["additionalModelRequestFields"] == {"top_k": 5,
                                                          "anthropic_beta": ["context-1m-2025-08-07"]}, body_of(h)
    req["anthropic_beta"] = "context-1m-2025-08-07,interleaved-thinking-2025-05-14"
    req["reasoning_effort"] = "low"
    st, _, data = s.chat(req)
    assert st == 200, data
    amrf = body_of(h)["additionalModelRequestFields"]
    assert amrf["anthropic_beta"] == ["context-1m-2025-08-07", "interleaved-thinking-2025-05-14"], amrf
    assert amrf["thinking"] == {"type": "enabled", "budget_tokens": 2048}, amrf
    req = {"model": "amazon-bedrock/amazon.nova-pro-v1:0", "messages": [{"role": "user", "content": "hi"}],
           "anthropic_beta": ["context-1m-2025-08-07"]}
    st, _, data = s.chat(req)  # not an Anthropic model: no betas sent (the emulator refuses them)
    assert st == 200, data
    assert "additionalModelRequestFields" not in body_of(h), body_of(h)
    for bad in ({"anthropic_beta": 5}, {"additionalModelRequestFields": [1]}):
        r2 = dict(req, **bad)
        st, _, data = s.chat(r2)
        assert st == 400, (bad, data)


def test_gateway_drops_reasoning_without_signature(h):
    s = serve(h)
    hist = [{"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello",
             "thinking_blocks": [{"type": "thinking", "thinking": "let me think"}]},
            {"role": "user", "content": "again"}]
    st, _, data = s.chat({"model": "amazon-bedrock/" + SONNET, "messages": hist})
    assert st == 200, data
    assert "reasoningContent" not in json.dumps(body_of(h)), body_of(h)
    hist[1]["thinking_blocks"] = [{"type": "thinking", "thinking": "let me think", "signature": "c2ln"},
                                  {"type": "redacted_thinking", "data": "cmVk"}]
    st, _, data = s.chat({"model": "amazon-bedrock/" + SONNET, "messages": hist})
    assert st == 200, data
    content = body_of(h)["messages"][1]["content"]
    assert content[0] == {"reasoningContent": {"reasoningText": {"text": "let me think", "signature": "c2ln"}}}
    assert content[1] == {"reasoningContent": {"redactedContent": "cmVk"}}, content


def test_emulator_refuses_unsigned_reasoning_and_bad_ttl_order(h):
    req = {"messages": [{"role": "user", "content": [{"text": "hi"}]},
                        {"role": "assistant", "content": [{"reasoningContent": {"reasoningText": {"text": "x"}}},
                                                          {"text": "y"}]},
                        {"role": "user", "content": [{"text": "z"}]}]}
    r = h.emu.request("POST", "/model/%s/converse" % SONNET, json.dumps(req).encode(), sign=True,
                      headers={"content-type": "application/json"})
    assert r.status == 400 and "signature" in r.json()["message"], r
    req = {"system": [{"text": "s"}, {"cachePoint": {"type": "default"}}],
           "messages": [{"role": "user", "content": [{"text": "hi"}, {"cachePoint": {"type": "default", "ttl": "1h"}}]}]}
    r = h.emu.request("POST", "/model/%s/converse" % SONNET, json.dumps(req).encode(), sign=True,
                      headers={"content-type": "application/json"})
    assert r.status == 400 and "ttl" in r.json()["message"], r
    req = {"messages": [{"role": "user", "content": [{"text": "hi"}]}],
           "additionalModelRequestFields": {"anthropic_beta": ["no-such-beta"]}}
    r = h.emu.request("POST", "/model/%s/converse" % SONNET, json.dumps(req).encode(), sign=True,
                      headers={"content-type": "application/json"})
    assert r.status == 400 and "beta" in r.json()["message"], r


def test_count_tokens_attachments_and_zero_config(h):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
    img, doc = h.write("pic.png", png), h.write("notes.txt", b"some notes")
    r = h.brock(["count-tokens", "-m", "amazon-bedrock/" + SONNET, "-i", img, "--document", doc, "what is this"])
    assert r.rc == 0 and int(r.stdout) > 0, r
    content = json.loads(h.emu.log()[-1]["body"])["input"]["converse"]["messages"][0]["content"]
    assert content[0]["image"]["format"] == "png", content
    assert content[1]["document"]["format"] == "txt" and content[1]["document"]["name"] == "notes", content
    assert content[2] == {"text": "what is this"}, content
    r = h.brock(["count-tokens", "-m", "amazon-bedrock/" + SONNET, "-i", doc, "x"])
    assert r.rc == 2 and "notes.txt" in r.stderr, r
    r = h.brock(["count-tokens", "hello"])  # no model configured: the preference order, named on stderr
    assert r.rc == 0 and int(r.stdout) > 0, r
    e = h.emu.log()[-1]
    assert e["route"] == "count-tokens" and "claude-sonnet-4-5" in e["model_id"], e
    assert "using amazon-bedrock/" + e["model_id"] in r.stderr, r.stderr


# ---- application inference profiles: listed by name, the ARN sent -------------------

APP_ARN = "arn:aws:bedrock:us-east-1:%s:application-inference-profile/appprof01x7k2m9q"


def test_application_profiles_by_name(h):
    arn = APP_ARN % "123456789012"  # the emulator's account (fixtures.ACCOUNT)
    r = h.brock(["models", "list", "--plain"])
    assert r.rc == 0 and "amazon-bedrock/batch-nova" in r.stdout.splitlines(), r
    assert "appprof" not in r.stdout, r.stdout
    r = h.brock(["models", "list", "--json"])
    m = [m for m in json.loads(r.stdout)["models"] if m["name"] == "batch-nova"]
    assert len(m) == 1 and m[0]["key"] == "amazon-bedrock/batch-nova" and m[0]["id"] == arn, m
    assert "profile" in m[0]["tags"] and m[0]["input"] == ["text", "image"], m  # its model's inputs
    assert m[0]["contextWindow"] == 300000 and m[0]["maxTokens"] == 5000, m  # and its limits (Nova Pro)
    r = h.brock(["models", "list"])
    assert any(l.startswith("amazon-bedrock/batch-nova ") for l in r.stdout.splitlines()), r.stdout
    # the name as a model ref: the ARN is what is sent
    r = h.brock(["chat", "-m", "amazon-bedrock/batch-nova", "hi"])
    assert r.rc == 0, r
    assert h.emu.log("runtime")[-1]["model_id"] == arn, h.emu.log("runtime")[-1]
    r = h.brock(["chat", "-m", "amazon-bedrock/no-such-profile", "hi"])
    assert r.rc == 2 and "no-such-profile" in r.stderr, r
    s = serve(h)
    st, _, data = s.request("GET", "/v1/models")
    assert st == 200 and "amazon-bedrock/batch-nova" in [x["id"] for x in json.loads(data)["data"]], data
    st, _, data = s.chat({"model": "batch-nova", "messages": [{"role": "user", "content": "hi"}]})
    assert st == 200, data
    assert h.emu.log("runtime")[-1]["model_id"] == arn
    assert json.loads(data)["model"] == "batch-nova", data
