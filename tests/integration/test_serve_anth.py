"""brock serve: the Anthropic Messages API (SPEC 7.2) against the emulator, with http.client.

Claude models go through InvokeModel(WithResponseStream) with the Anthropic body (the emulator
checks it as Bedrock does); other models through Converse(Stream)."""

import json
import threading

from test_serve import serve

CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "us.amazon.nova-pro-v1:0"
AV = {"anthropic-version": "2023-06-01"}


def messages(s, body, headers=None, key=None, path="/v1/messages", raw=None):
    hdrs = dict(AV)
    hdrs.update(headers or {})
    if key:
        hdrs["x-api-key"] = key
    if raw is not None:
        hdrs.setdefault("Content-Type", "application/json")
        return s.request("POST", path, raw, hdrs)
    return s.request("POST", path, body, hdrs)


def body(model=CLAUDE, text="hello", stream=False, **kw):
    b = {"model": model, "max_tokens": 256, "messages": [{"role": "user", "content": text}]}
    if stream:
        b["stream"] = True
    b.update(kw)
    return b


def sse(data):
    """[(event, data-json)] of an Anthropic SSE body; every event has both lines."""
    text = data.decode("utf-8")
    assert text.endswith("\n\n"), text[-300:]
    out = []
    for block in text.split("\n\n"):
        if not block:
            continue
        lines = block.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), block
        ev, js = lines[0][7:], json.loads(lines[1][6:])
        assert js["type"] == ev, block
        out.append((ev, js))
    return out


def text_of(evs):
    return "".join(d["delta"].get("text", "") for e, d in evs if e == "content_block_delta")


def anth_error(data):
    j = json.loads(data)
    assert j["type"] == "error" and set(j["error"]) == {"type", "message"}, j
    return j["error"]


# ---------------------------------------------------------------------------

def test_anth_claude_non_stream(h):
    h.emu.config(reply_text="Plain answer", usage={"inputTokens": 12, "outputTokens": 5,
                                                   "cacheReadInputTokens": 3, "cacheWriteInputTokens": 4})
    s = serve(h)
    st, hdrs, data = messages(s, body(metadata={"user_id": "u1"}))
    assert st == 200 and hdrs["content-type"] == "application/json", data
    j = json.loads(data)
    assert j["type"] == "message" and j["content"] == [{"type": "text", "text": "Plain answer"}], j
    assert j["usage"] == {"input_tokens": 12, "output_tokens": 5, "cache_read_input_tokens": 3,
                          "cache_creation_input_tokens": 4}, j
    sent = h.emu.log("invoke")
    assert len(sent) == 1 and sent[0]["model_id"] == CLAUDE, sent
    up = json.loads(sent[0]["body"])
    assert up["anthropic_version"] == "bedrock-2023-05-31" and "model" not in up and "metadata" not in up, up
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/messages",code="200"} 1' in m, m


def test_anth_claude_stream_thinking_tools_cache(h):
    h.emu.config(reply_text="Hi there", deltas=2, reasoning={"text": "let me think", "signature": "c2lnLTE="},
                 tool_use=[{"toolUseId": "toolu_1", "name": "Bash", "input": {"cmd": "ls"}}],
                 usage={"inputTokens": 20, "outputTokens": 9, "cacheReadInputTokens": 7,
                        "cacheWriteInputTokens": 2})
    s = serve(h)
    st, hdrs, data = messages(s, body(stream=True, thinking={"type": "enabled", "budget_tokens": 1024},
                                      tools=[{"name": "Bash", "input_schema": {"type": "object"}}]),
                              path="/v1/messages?beta=true")
    assert st == 200 and hdrs["content-type"] == "text/event-stream", data
    evs = sse(data)
    names = [e for e, _ in evs]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"], names
    usage = evs[0][1]["message"]["usage"]
    assert usage["cache_read_input_tokens"] == 7 and usage["cache_creation_input_tokens"] == 2, usage
    deltas = [d["delta"] for e, d in evs if e == "content_block_delta"]
    assert "".join(d.get("thinking", "") for d in deltas) == "let me think", deltas
    assert {"type": "signature_delta", "signature": "c2lnLTE="} in deltas, deltas
    assert text_of(evs) == "Hi there"
    starts = [d["content_block"] for e, d in evs if e == "content_block_start"]
    assert [b["type"] for b in starts] == ["thinking", "text", "tool_use"], starts
    assert starts[2]["id"] == "toolu_1" and starts[2]["name"] == "Bash", starts
    assert json.loads("".join(d.get("partial_json", "") for d in deltas)) == {"cmd": "ls"}
    assert evs[-2][1]["delta"]["stop_reason"] == "tool_use", evs[-2]
    assert h.emu.log("invoke-with-response-stream"), h.emu.log()
    m = s.metrics()
    assert 'brock_model_tokens_total{model="%s",type="input"} 20' % CLAUDE in m, m


def test_anth_anthropic_name_resolves(h):
    s = serve(h)
    for name in ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"):
        st, _, data = messages(s, body(model=name))
        assert st == 200, data
    ids = [e["model_id"] for e in h.emu.log("invoke")]
    assert ids == [CLAUDE, CLAUDE], ids
    st, _, data = messages(s, body(model="amazon-bedrock/" + CLAUDE))
    assert st == 200, data


def test_anth_betas_filtered(h):
    s = serve(h)
    st, _, data = messages(s, body(), headers={
        "anthropic-beta": "interleaved-thinking-2025-05-14, claude-code-20250219,oauth-2025-04-20"})
    assert st == 200, data
    assert h.emu.log("invoke")[-1]["anthropic_beta"] == ["interleaved-thinking-2025-05-14"]
    st, _, data = messages(s, body(), headers={"anthropic-beta": "fine-grained-tool-streaming-2025-05-14"})
    assert st == 200, data
    assert h.emu.log("invoke")[-1]["anthropic_beta"] is None


def test_anth_non_claude_stream_and_non_stream(h):
    h.emu.config(reply_chunks=["Nova ", "says ", "hi"], usage={"inputTokens": 11, "outputTokens": 3})
    s = serve(h)
    st, _, data = messages(s, body(model=NOVA, system="be brief"))
    assert st == 200, data
    j = json.loads(data)
    assert j["type"] == "message" and j["role"] == "assistant" and j["model"] == NOVA, j
    assert j["content"] == [{"type": "text", "text": "Nova says hi"}] and j["stop_reason"] == "end_turn", j
    assert j["id"].startswith("msg_") and j["usage"]["input_tokens"] == 11, j
    st, hdrs, data = messages(s, body(model=NOVA, stream=True))
    assert st == 200 and hdrs["content-type"] == "text/event-stream", data
    evs = sse(data)
    assert [e for e, _ in evs][0] == "message_start" and evs[-1][0] == "message_stop", evs
    assert text_of(evs) == "Nova says hi"
    md = [d for e, d in evs if e == "message_delta"][0]
    assert md["delta"]["stop_reason"] == "end_turn" and md["usage"]["output_tokens"] == 3, md
    routes = [e["route"] for e in h.emu.log()  if e["route"] in ("converse", "converse-stream", "invoke")]
    assert routes == ["converse", "converse-stream"], routes
    up = json.loads(h.emu.log("converse")[0]["body"])
    assert up["system"] == [{"text": "be brief"}], up


def test_anth_non_claude_tool_use_stream(h):
    h.emu.config(reply_chunks=["ok"], tool_use=[{"toolUseId": "t1", "name": "get", "input": {"a": 1}}])
    s = serve(h)
    st, _, data = messages(s, body(model=NOVA, stream=True,
                                   tools=[{"name": "get", "input_schema": {"type": "object"}}]))
    assert st == 200, data
    evs = sse(data)
    starts = [d["content_block"] for e, d in evs if e == "content_block_start"]
    assert starts[-1]["type"] == "tool_use" and starts[-1]["id"] == "t1" and starts[-1]["name"] == "get", starts
    pj = "".join(d["delta"].get("partial_json", "") for e, d in evs if e == "content_block_delta")
    assert json.loads(pj) == {"a": 1}, pj
    md = [d for e, d in evs if e == "message_delta"][0]
    assert md["delta"]["stop_reason"] == "tool_use", md


def test_anth_errors_400_404(h):
    s = serve(h)
    st, _, data = messages(s, None, raw=b"{not json")
    assert st == 400 and anth_error(data)["type"] == "invalid_request_error", data
    st, _, data = messages(s, {"model": CLAUDE, "messages": [{"role": "user", "content": "x"}]})
    assert st == 400 and "max_tokens" in anth_error(data)["message"], data
    for model in ("openai/gpt-4o", "claude-nonexistent-9"):
        st, _, data = messages(s, body(model=model))
        assert st == 404 and anth_error(data)["type"] == "not_found_error", (model, data)
    assert not [e for e in h.emu.log() if e["route"] in ("invoke", "invoke-with-response-stream", "converse")]
    # upstream validation error: 400 with Bedrock's message
    h.emu.config(fail_next=1, fail_route="invoke", fail_status=400, fail_message="bad field xyz")
    st, _, data = messages(s, body())
    assert st == 400, data
    e = anth_error(data)
    assert e["type"] == "invalid_request_error" and "bad field xyz" in e["message"], e
    h.emu.config(fail_next=1, fail_route="invoke", fail_status=503, fail_message="busy")
    st, _, data = messages(s, body())
    assert st == 503 and anth_error(data)["type"] == "overloaded_error", data
    # wrong method and content type, in Anthropic's shape
    st, _, data = s.request("GET", "/v1/messages", headers=AV)
    assert st == 405 and anth_error(data)["type"] == "invalid_request_error", data
    st, _, data = s.request("POST", "/v1/messages", b"{}", {"Content-Type": "text/plain"})
    assert st == 415 and anth_error(data), data


def test_anth_upstream_429_before_and_after_the_head(h):
    h.emu.config(fail_next=2, fail_route="invoke-all", fail_status=429, fail_message="Too many tokens")
    s = serve(h)
    for stream in (True, False):
        st, hdrs, data = messages(s, body(stream=stream))
        assert st == 429 and hdrs.get("retry-after"), (st, hdrs, data)
        e = anth_error(data)
        assert e["type"] == "rate_limit_error" and "Too many tokens" in e["message"], e
    st, _, data = messages(s, body(model=NOVA))  # converse path unaffected
    assert st == 200, data
    h.emu.config(failures=[], reply_chunks=["a", "b", "c", "d"], exception_after=3,
                 exception_type="throttlingException", exception_message="slow down")
    st, _, data = messages(s, body(stream=True))
    assert st == 200, data
    evs = sse(data)
    assert evs[0][0] == "message_start" and evs[-1][0] == "error", evs
    assert evs[-1][1]["error"]["type"] == "rate_limit_error" and "slow down" in evs[-1][1]["error"]["message"]
    assert "message_stop" not in [e for e, _ in evs]
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/messages",code="429"} 2' in m, m


def test_anth_converse_mid_stream_exception(h):
    h.emu.config(reply_chunks=["one ", "two"], exception_after=2, exception_type="modelStreamErrorException",
                 exception_message="model broke")
    s = serve(h)
    st, _, data = messages(s, body(model=NOVA, stream=True))
    assert st == 200, data
    evs = sse(data)
    assert evs[-1][0] == "error" and "model broke" in evs[-1][1]["error"]["message"], evs


def test_anth_keys_x_api_key_and_bearer(h):
    key = h.secret("sk-anth-test-key-0001")
    s = serve(h, env={"BROCK_API_KEYS": key})
    st, hdrs, data = messages(s, body())
    assert st == 401 and anth_error(data)["type"] == "authentication_error", data
    st, _, data = messages(s, body(), key="wrong")
    assert st == 401, data
    st, _, data = messages(s, body(), key=key)
    assert st == 200, data
    st, _, data = messages(s, body(), headers={"Authorization": "Bearer " + key})
    assert st == 200, data
    assert len(h.emu.log("invoke")) == 2


def test_anth_count_tokens(h):
    s = serve(h)
    st, _, data = messages(s, {"model": "claude-sonnet-4-5-20250929", "system": "sys",
                               "messages": [{"role": "user", "content": "count these words"}]},
                           path="/v1/messages/count_tokens")
    assert st == 200, data
    j = json.loads(data)
    assert list(j) == ["input_tokens"] and j["input_tokens"] > 0, j
    sent = h.emu.log("count-tokens")
    assert len(sent) == 1 and sent[0]["model_id"] == CLAUDE, sent
    assert "invokeModel" in json.loads(sent[0]["body"])["input"], sent[0]["body"]
    st, _, data = messages(s, {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]},
                           path="/v1/messages/count_tokens")
    assert st == 404 and anth_error(data)["type"] == "not_found_error", data
    assert len(h.emu.log("count-tokens")) == 1


def test_anth_models_list_shape(h):
    s = serve(h)
    st, _, data = s.request("GET", "/v1/models", headers=AV)
    assert st == 200, data
    j = json.loads(data)
    assert set(j) == {"data", "has_more", "first_id", "last_id"} and j["has_more"] is False, j
    ids = [m["id"] for m in j["data"]]
    assert CLAUDE in ids and j["first_id"] == ids[0] and j["last_id"] == ids[-1], j
    for m in j["data"]:
        assert set(m) == {"type", "id", "display_name", "created_at"} and m["type"] == "model", m
    st, _, data = s.request("GET", "/v1/models/" + CLAUDE, headers=AV)
    assert st == 200 and json.loads(data)["id"] == CLAUDE, data
    # without anthropic-version: OpenAI's shape
    st, _, data = s.request("GET", "/v1/models")
    assert st == 200 and json.loads(data)["object"] == "list", data


def test_anth_ping_while_upstream_is_silent(h):
    # the upstream pauses 12 s after message_start: a ping must come in between, on each of
    # three streams at once (and none on a fourth that does not pause)
    h.emu.config(reply_chunks=["a", "b"], stall_after=1, stall_seconds=12)
    s = serve(h)
    results = [None] * 3

    def one(i):
        results[i] = messages(s, body(text="n%d" % i, stream=True))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for st, _, data in results:
        assert st == 200, data
        evs = sse(data)
        names = [e for e, _ in evs]
        assert "ping" in names and names.index("ping") > names.index("message_start"), names
        assert evs[names.index("ping")][1] == {"type": "ping"}
        assert names[-1] == "message_stop" and text_of(evs) == "ab", names
    h.emu.config(stall_after=None)
    st, _, data = messages(s, body(stream=True))
    assert st == 200 and "ping" not in [e for e, _ in sse(data)], data


def test_anth_betas_from_config(h):
    h.brock_config('{serve: {anthropicBetas: ["context-1m-2025-08-07"]}}')
    s = serve(h)
    st, _, data = messages(s, body(), headers={
        "anthropic-beta": "interleaved-thinking-2025-05-14,context-1m-2025-08-07"})
    assert st == 200, data
    assert h.emu.log("invoke")[-1]["anthropic_beta"] == ["context-1m-2025-08-07"]
