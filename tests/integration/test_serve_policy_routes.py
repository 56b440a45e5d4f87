"""brock serve: the per-key policy (SPEC 7.4) on every protocol: /v1/messages (and count_tokens),
the Bedrock pass-through /model/{id}/... and /v1/embeddings. Refusals in each route's own dialect
(Anthropic error objects, Bedrock's {"message"} + x-amzn-ErrorType, OpenAI's), tokens charged per
key (metrics and the ledger), aliases, fallbacks on /v1/messages."""

import json
import os
import signal
import time

import harness
from test_serve import MODEL, metric
from test_serve_policy import NOVA, NOVA_REF, keys_config, ledger_lines, sane, start
from test_serve_anth import anth_error, body, messages, sse
from test_serve_pt import CONVERSE, post

ENC = harness.awsproto.uri_encode(MODEL)
TITAN2 = "amazon.titan-embed-text-v2:0"


def stop(s):
    os.kill(s.p.pid, signal.SIGTERM)
    s.p.wait(10)


def key_tokens(m, key, model, typ="input"):
    return metric(m, 'brock_key_tokens_total{key="%s",model="%s",type="%s"}' % (key, model, typ))


# ---------------------------------------------------------------------------
# /v1/messages

def test_serve_policy_messages_globs_rpm(h):
    a, b = "sk-pm-aaaa", "sk-pm-bbbb"
    keys_config(h, [{"name": "a", "key": a, "models": ["*anthropic*"]}, {"name": "b", "key": b, "rpm": 1}])
    s = start(h)
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        st, hdrs, data = messages(s, body(model=NOVA), key=a, path=path)
        assert st == 403, data
        e = anth_error(data)
        assert e["type"] == "permission_error" and NOVA in e["message"], e
        assert "retry-after" not in hdrs, hdrs
    assert h.emu.log("runtime") == [] and h.emu.log("count-tokens") == [], "a refused model went upstream"
    st, _, data = messages(s, body(), key=a, path="/v1/messages/count_tokens")
    assert st == 200, data
    st, _, data = messages(s, body(), key=b)
    assert st == 200, data
    for stream in (False, True):
        st, hdrs, data = messages(s, body(stream=stream), key=b)
        assert st == 429, data
        assert anth_error(data)["type"] == "rate_limit_error", data
        assert 1 <= int(hdrs["retry-after"]) <= 60, hdrs
    assert len(h.emu.log("invoke")) == 1
    m = s.metrics(key=a)
    assert metric(m, 'brock_key_refused_total{key="a",reason="model"}') == 2, m
    assert metric(m, 'brock_key_refused_total{key="b",reason="rpm"}') == 2, m
    sane(s)


def test_serve_policy_messages_charged_budget(h):
    """Claude (InvokeModel) and another model (Converse), stream or not: the key's tokens, its
    spend against the budget (refused in Anthropic's shape once spent) and the ledger."""
    a = "sk-pmc-aaaa"
    # 100 input tokens at $100 / 1M = $0.01 per Claude answer: the day's budget is spent after 2
    keys_config(h, [{"name": "team", "key": a, "budget": {"usd": 0.02, "period": "day"}}])
    h.emu.config(usage={"inputTokens": 100, "outputTokens": 0})
    s = start(h)
    st, _, data = messages(s, body(), key=a)
    assert st == 200, data
    st, _, data = messages(s, body(model=NOVA, stream=True), key=a)
    assert st == 200 and sse(data)[-1][0] == "message_stop", data
    m = s.metrics(key=a)
    assert key_tokens(m, "team", MODEL) == 100, m
    assert key_tokens(m, "team", NOVA) == 100, m
    assert metric(m, 'brock_key_requests_total{key="team",model="%s",code="200"}' % NOVA) == 1, m
    st, _, data = messages(s, body(stream=True), key=a)
    assert st == 200, data
    st, hdrs, data = messages(s, body(), key=a)
    assert st == 429 and anth_error(data)["type"] == "rate_limit_error", data
    assert "retry-after" in hdrs, hdrs
    stop(s)
    recs = [r for r in ledger_lines(h) if r["key"] == "team"]
    assert sum(r["requests"] for r in recs) == 3 and sum(r["in"] for r in recs) == 300, recs
    assert sum(r["nanos"] for r in recs) >= 20000000, recs  # Claude's output tokens cost too


def test_serve_policy_messages_alias_and_fallback(h):
    a = "sk-pmf-aaaa"
    keys_config(h, [{"name": "team", "key": a, "models": ["*anthropic*", "*nova*"], "admin": True}],
                ', modelAliases: {"smart": "%s", "openai/gpt-4o": "%s"}, fallbacks: {"%s": ["%s"]}'
                % (NOVA_REF, MODEL, MODEL, NOVA_REF))
    s = start(h)
    st, _, data = messages(s, body(model="smart"), key=a)
    assert st == 200, data
    assert json.loads(data)["model"] == "smart", data  # the name the client sent
    assert [e["model_id"] for e in h.emu.log("runtime")] == [NOVA]
    st, _, data = messages(s, body(model="openai/gpt-4o"), key=a, path="/v1/messages/count_tokens")
    assert st == 200, data  # an alias wins over "another provider's ref"
    assert h.emu.log("count-tokens")[-1]["model_id"] == MODEL
    # Claude throttled: Nova answers, named in the answer
    h.emu.config(failures=[{"route": "invoke-all", "count": -1, "model": MODEL, "status": 429}])
    st, _, data = messages(s, body(), key=a)
    assert st == 200, data
    assert json.loads(data)["model"] == NOVA, data
    st, _, data = messages(s, body(stream=True), key=a)
    assert st == 200, data
    evs = sse(data)
    assert evs[0][1]["message"]["model"] == NOVA and evs[-1][0] == "message_stop", evs
    assert len(h.emu.log("invoke")) + len(h.emu.log("invoke-with-response-stream")) == 2
    assert [e["model_id"] for e in h.emu.log("runtime")] == [NOVA] * 3
    m = s.metrics(key=a)
    assert metric(m, 'brock_fallbacks_total{key="team",model="%s"}' % MODEL) == 2, m
    assert metric(m, 'brock_key_requests_total{key="team",model="%s",code="200"}' % NOVA) == 3, m
    # the last model's error is the answer
    h.emu.config(failures=[{"route": "invoke-all", "count": -1, "model": MODEL, "status": 429},
                           {"route": "runtime", "count": -1, "model": NOVA, "status": 503}])
    st, _, data = messages(s, body(), key=a)
    assert st in (500, 503, 529), data
    assert anth_error(data)["type"] in ("api_error", "overloaded_error"), data
    st, _, data = s.request("GET", "/status.json", key=a)
    assert st == 200, data
    errs = {u["type"]: u["count"] for u in json.loads(data)["upstream_errors"]}
    assert errs.get("ThrottlingException") == 3 and sum(errs.values()) == 4, errs  # every attempt that failed
    sane(s)


# ---------------------------------------------------------------------------
# the pass-through

def test_serve_policy_passthrough(h):
    a, b = "sk-ppt-aaaa", "sk-ppt-bbbb"
    keys_config(h, [{"name": "a", "key": a, "models": ["*anthropic*"]}, {"name": "b", "key": b, "rpm": 1}],
                ', modelAliases: {"smart": "%s", "openai/gpt-4o": "%s"}' % (MODEL, NOVA_REF))
    h.emu.config(usage={"inputTokens": 30, "outputTokens": 7})
    s = start(h)
    st, hdrs, data = post(s, "converse", CONVERSE, model=harness.awsproto.uri_encode(NOVA), key=a)
    assert st == 403, data
    assert hdrs["x-amzn-errortype"].startswith("AccessDeniedException"), hdrs
    assert NOVA in json.loads(data)["message"], data
    st, hdrs, data = post(s, "converse", CONVERSE, model="openai%2Fgpt-4o", key=a)
    assert st == 403 and NOVA in json.loads(data)["message"], data  # the alias's target is what the globs see
    assert h.emu.log("runtime") == [], "a refused model went upstream"
    st, _, data = post(s, "converse", CONVERSE, model="smart", key=a)
    assert st == 200, data
    assert [e["model_id"] for e in h.emu.log("runtime")] == [MODEL]
    st, _, data = post(s, "converse", CONVERSE, key=b)
    assert st == 200, data
    st, hdrs, data = post(s, "converse", CONVERSE, key=b)
    assert st == 429, data
    assert hdrs["x-amzn-errortype"].startswith("ThrottlingException") and 1 <= int(hdrs["retry-after"]) <= 60, hdrs
    assert "message" in json.loads(data), data
    m = s.metrics(key=a)
    assert key_tokens(m, "a", MODEL) == 30 and key_tokens(m, "a", MODEL, "output") == 7, m
    assert key_tokens(m, "b", MODEL) == 30, m
    assert metric(m, 'brock_key_refused_total{key="a",reason="model"}') == 2, m
    stop(s)
    recs = ledger_lines(h)
    assert sum(r["in"] for r in recs if r["key"] == "a") == 30, recs
    assert sum(r["out"] for r in recs if r["key"] == "b") == 7, recs
    sane(s)


# ---------------------------------------------------------------------------
# /v1/embeddings

def test_serve_policy_embeddings(h):
    a, b = "sk-pe-aaaa", "sk-pe-bbbb"
    keys_config(h, [{"name": "a", "key": a, "models": ["*titan-embed*"]}, {"name": "b", "key": b, "rpm": 1}],
                ', modelAliases: {"text-embedding-3-small": "amazon-bedrock/%s"}' % TITAN2)
    s = start(h)
    st, hdrs, data = s.request("POST", "/v1/embeddings", {"model": "cohere.embed-english-v3", "input": "x"}, key=a)
    assert st == 403, data
    e = json.loads(data)["error"]
    assert e["type"] == "permission_error" and e["code"] == "model_not_allowed", e
    assert h.emu.log("invoke") == []
    st, _, data = s.request("POST", "/v1/embeddings", {"model": "text-embedding-3-small",
                                                       "input": ["hello world", "second one"]}, key=a)
    assert st == 200, data
    j = json.loads(data)
    assert j["model"] == "text-embedding-3-small", j
    assert {e["model_id"] for e in h.emu.log("invoke")} == {TITAN2}
    used = j["usage"]["prompt_tokens"]
    assert used > 0, j
    st, _, data = s.request("POST", "/v1/embeddings", {"model": TITAN2, "input": "x"}, key=b)
    assert st == 200, data
    st, hdrs, data = s.request("POST", "/v1/embeddings", {"model": TITAN2, "input": "x"}, key=b)
    assert st == 429 and json.loads(data)["error"]["code"] == "rate_limit_exceeded", data
    assert 1 <= int(hdrs["retry-after"]) <= 60, hdrs
    m = s.metrics(key=a)
    assert key_tokens(m, "a", TITAN2) == used, m
    stop(s)
    recs = ledger_lines(h)
    assert sum(r["in"] for r in recs if r["key"] == "a") == used, recs
    sane(s)
