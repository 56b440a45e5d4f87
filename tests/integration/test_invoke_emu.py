"""The emulator's InvokeModel / InvokeModelWithResponseStream (Anthropic bodies, chunk events),
embeddings (Titan v1/v2, Cohere) and CountTokens, talked to directly. These do not run brock."""

import base64
import json

import harness
from test_emulator import aws_error, decode_all, raw_exchange, signed

ap = harness.awsproto
CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def path(model, op):
    return "/model/%s/%s" % (ap.uri_encode(model), op)


def claude_body(**extra):
    b = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100,
         "messages": [{"role": "user", "content": "hello there"}]}
    b.update(extra)
    return json.dumps(b).encode()


def chunk_events(r):
    msgs, err, left = decode_all(r["body"])
    assert err is None and left == 0, (err, left)
    out = []
    for m in msgs:
        hd = m["headers"]
        if hd.get(":message-type") != "event":
            out.append(("!" + hd.get(":exception-type", "error"), json.loads(m["payload"] or b"{}")))
            continue
        assert hd[":event-type"] == "chunk", hd
        out.append(json.loads(base64.b64decode(json.loads(m["payload"])["bytes"])))
    return out


def test_invoke_claude_message(h):
    h.emu.config(reply_text="Plain answer", usage={"inputTokens": 12, "outputTokens": 5,
                                                   "cacheReadInputTokens": 3, "cacheWriteInputTokens": 4})
    r = signed(h, "POST", path(CLAUDE, "invoke"), claude_body())
    assert r.status == 200, r
    j = r.json()
    assert j["type"] == "message" and j["content"] == [{"type": "text", "text": "Plain answer"}], j
    assert j["usage"] == {"input_tokens": 12, "output_tokens": 5, "cache_read_input_tokens": 3,
                          "cache_creation_input_tokens": 4}, j
    assert j["stop_reason"] == "end_turn", j


def test_invoke_stream_chunks(h):
    h.emu.config(reply_text="Hi there", deltas=2, reasoning={"text": "hmm", "signature": "c2ln"},
                 tool_use=[{"toolUseId": "toolu_1", "name": "Bash", "input": {"cmd": "ls"}}])
    r = raw_exchange(h, "POST", path(CLAUDE, "invoke-with-response-stream"),
                     claude_body(thinking={"type": "enabled", "budget_tokens": 1024}))
    assert r["status"] == 200 and r["complete"], r
    ev = chunk_events(r)
    types = [e["type"] for e in ev]
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"], types
    assert "cache_read_input_tokens" in ev[0]["message"]["usage"], ev[0]
    deltas = [e["delta"] for e in ev if e["type"] == "content_block_delta"]
    assert "".join(d.get("thinking", "") for d in deltas) == "hmm"
    assert {"type": "signature_delta", "signature": "c2ln"} in deltas
    assert "".join(d.get("text", "") for d in deltas) == "Hi there"
    assert json.loads("".join(d.get("partial_json", "") for d in deltas)) == {"cmd": "ls"}
    assert ev[-2]["delta"]["stop_reason"] == "tool_use", ev[-2]


def test_invoke_stream_failures_apply(h):
    h.emu.config(exception_after=2, exception_type="throttlingException", exception_message="slow")
    r = raw_exchange(h, "POST", path(CLAUDE, "invoke-with-response-stream"), claude_body())
    ev = chunk_events(r)
    assert ev[-1][0] == "!throttlingException", ev


def test_invoke_claude_validation_and_betas(h):
    ok = ["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"]
    r = signed(h, "POST", path(CLAUDE, "invoke"), claude_body(anthropic_beta=ok))
    assert r.status == 200, r
    assert h.emu.log(route="invoke")[-1]["anthropic_beta"] == ok
    for bad in (claude_body(anthropic_beta=["claude-code-20250219"]),
                claude_body(model="claude"), claude_body(stream=True),
                claude_body(anthropic_version="2023-06-01"),
                claude_body(messages=[{"role": "system", "content": "x"}]),
                json.dumps({"anthropic_version": "bedrock-2023-05-31",
                            "messages": [{"role": "user", "content": "x"}]}).encode()):
        r = signed(h, "POST", path(CLAUDE, "invoke"), bad)
        assert r.status == 400 and aws_error(r) == "ValidationException", (bad, r)
    r = signed(h, "POST", path(CLAUDE, "invoke"), claude_body(anthropic_beta=["nope"]))
    assert r.json()["message"] == "invalid beta flag", r


def test_embeddings_models(h):
    r = signed(h, "POST", path("amazon.titan-embed-text-v2:0", "invoke"),
               json.dumps({"inputText": "hello world", "dimensions": 256}).encode())
    assert r.status == 200, r
    j = r.json()
    assert len(j["embedding"]) == 256 and j["inputTextTokenCount"] == 2, j
    r2 = signed(h, "POST", path("amazon.titan-embed-text-v2:0", "invoke"),
                json.dumps({"inputText": "hello world", "dimensions": 256}).encode())
    assert r2.json()["embedding"] == j["embedding"], "deterministic"
    r = signed(h, "POST", path("amazon.titan-embed-text-v1", "invoke"),
               json.dumps({"inputText": "a"}).encode())
    assert r.status == 200 and len(r.json()["embedding"]) == 1536, r
    r = signed(h, "POST", path("amazon.titan-embed-text-v2:0", "invoke"),
               json.dumps({"inputText": "a", "dimensions": 300}).encode())
    assert r.status == 400, r
    r = signed(h, "POST", path("cohere.embed-english-v3", "invoke"),
               json.dumps({"texts": ["a b", "c"], "input_type": "search_document"}).encode())
    assert r.status == 200, r
    j = r.json()
    assert len(j["embeddings"]) == 2 and len(j["embeddings"][0]) == 1024, j.keys()
    assert r.headers.get("x-amzn-bedrock-input-token-count") == "3", r.headers
    r = signed(h, "POST", path("cohere.embed-english-v3", "invoke"), json.dumps({"texts": ["a"]}).encode())
    assert r.status == 400, r


def test_count_tokens(h):
    inner = base64.b64encode(claude_body()).decode()
    r = signed(h, "POST", path(CLAUDE, "count-tokens"),
               json.dumps({"input": {"invokeModel": {"body": inner}}}).encode())
    assert r.status == 200 and r.json()["inputTokens"] > 0, r
    r = signed(h, "POST", path(CLAUDE, "count-tokens"),
               json.dumps({"input": {"converse": {"messages": [{"role": "user", "content": [{"text": "x"}]}]}}}).encode())
    assert r.status == 200 and r.json()["inputTokens"] > 0, r
    r = signed(h, "POST", path(CLAUDE, "count-tokens"), b'{"input":{}}')
    assert r.status == 400, r
