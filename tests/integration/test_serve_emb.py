"""brock serve: POST /v1/embeddings (SPEC 7.1) over InvokeModel against the emulator's Titan and
Cohere models, with http.client."""

import base64
import json
import struct

from test_serve import serve

TITAN2 = "amazon.titan-embed-text-v2:0"
TITAN1 = "amazon.titan-embed-text-v1"
COHERE = "cohere.embed-english-v3"


def embed(s, body, key=None):
    st, hdrs, data = s.request("POST", "/v1/embeddings", body, key=key)
    return st, hdrs, json.loads(data)


def test_emb_titan_float_and_base64(h):
    s = serve(h)
    st, _, j = embed(s, {"model": "amazon-bedrock/" + TITAN2, "input": ["hello world", "second one"],
                         "dimensions": 256})
    assert st == 200, j
    assert j["object"] == "list" and j["model"] == "amazon-bedrock/" + TITAN2, j
    assert [d["index"] for d in j["data"]] == [0, 1] and all(d["object"] == "embedding" for d in j["data"])
    vecs = [d["embedding"] for d in j["data"]]
    assert all(len(v) == 256 and all(isinstance(x, float) for x in v) for v in vecs), [len(v) for v in vecs]
    assert j["usage"]["prompt_tokens"] == 4 and j["usage"]["total_tokens"] == 4, j["usage"]
    calls = h.emu.log("invoke")
    assert len(calls) == 2 and calls[0]["model_id"] == TITAN2, calls  # one call per input
    assert json.loads(calls[0]["body"]) == {"inputText": "hello world", "dimensions": 256}, calls[0]["body"]
    st, _, b = embed(s, {"model": TITAN2, "input": "hello world", "dimensions": 256,
                         "encoding_format": "base64"})
    assert st == 200, b
    raw = base64.b64decode(b["data"][0]["embedding"])
    floats = struct.unpack("<%df" % (len(raw) // 4), raw)
    assert len(floats) == 256 and all(abs(a - x) < 1e-6 for a, x in zip(floats, vecs[0])), floats[:4]
    st, _, j = embed(s, {"model": TITAN1, "input": "v1 text"})
    assert st == 200 and len(j["data"][0]["embedding"]) == 1536, j["usage"]


def test_emb_cohere_batches(h):
    s = serve(h)
    inputs = ["text number %d" % i for i in range(100)]
    st, _, j = embed(s, {"model": COHERE, "input": inputs, "encoding_format": "base64"})
    assert st == 200, j
    assert [d["index"] for d in j["data"]] == list(range(100)), j["data"][:2]
    assert all(len(base64.b64decode(d["embedding"])) == 1024 * 4 for d in j["data"])
    calls = [json.loads(c["body"]) for c in h.emu.log("invoke")]
    assert [len(c["texts"]) for c in calls] == [96, 4], [len(c["texts"]) for c in calls]
    assert all(c["input_type"] == "search_document" for c in calls), calls[0]
    assert j["usage"]["prompt_tokens"] == 300, j["usage"]
    st, _, j = embed(s, {"model": COHERE, "input": "q", "input_type": "search_query"})
    assert st == 200 and isinstance(j["data"][0]["embedding"], list), j
    assert json.loads(h.emu.log("invoke")[-1]["body"])["input_type"] == "search_query"


def test_emb_errors(h):
    s = serve(h)
    st, _, j = embed(s, {"model": "openai/text-embedding-3-small", "input": "x"})
    assert st == 404 and j["error"]["code"] == "model_not_found", j
    st, _, j = embed(s, {"model": TITAN2, "input": []})
    assert st == 400 and j["error"]["type"] == "invalid_request_error" and j["error"]["param"] == "input", j
    st, _, j = embed(s, {"model": "amazon.nova-pro-v1:0", "input": "x"})
    assert st == 400 and j["error"]["param"] == "model", j
    assert not h.emu.log("invoke")
    h.emu.config(fail_next=1, fail_route="invoke", fail_status=429, fail_message="Rate exceeded")
    st, hdrs, j = embed(s, {"model": TITAN2, "input": "x"})
    assert st == 429 and "Rate exceeded" in j["error"]["message"] and hdrs.get("retry-after"), j
    m = s.metrics()
    assert 'brock_requests_total{route="/v1/embeddings",code="429"} 1' in m, m
