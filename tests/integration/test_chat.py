"""brock chat against the emulator: streaming text, options, attachments, errors, retries, exit codes."""

import json
import time

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
REF = "amazon-bedrock/" + MODEL


def last_runtime(h):
    log = h.emu.log("runtime")
    assert log, "no runtime request reached the emulator"
    return log[-1]


def req_json(entry):
    return json.loads(entry["body"])


def test_chat_streams_text(h):
    h.emu.config(reply_text="Hello from the emulator!", deltas=5)
    r = h.brock(["chat", "-m", REF, "hi there"])
    assert r.rc == 0, r
    assert r.stdout == "Hello from the emulator!\n", r
    assert "in=" in r.stderr and "stop=end_turn" in r.stderr, r
    e = last_runtime(h)
    assert e["route"] == "converse-stream", e
    assert e["model_id"] == MODEL, e
    b = req_json(e)
    assert b["messages"] == [{"role": "user", "content": [{"text": "hi there"}]}], b


def test_chat_unicode_and_escapes_round_trip(h):
    pieces = ["Emoji \U0001F600 ", "CJK \u4e2d\u6587 ", "quotes \"x\" ", "back\\slash ",
              "ctl \x01\x1f tab\t", "nl\nend \u2028 \U0001F680"]
    h.emu.config(reply_chunks=pieces)
    prompt = "caf\u00e9 \U0001F600 \"q\" \\ \t\x01 \u4e2d"
    r = h.brock(["chat", "-m", REF, prompt])
    assert r.rc == 0, r
    assert r.out == ("".join(pieces) + "\n").encode("utf-8"), r
    b = req_json(last_runtime(h))
    assert b["messages"][0]["content"][0]["text"] == prompt, b


def test_chat_tiny_writes_and_many_deltas(h):
    text = "".join("w%d " % i for i in range(300))
    h.emu.config(reply_text=text, deltas=300, tiny_writes=True)
    r = h.brock(["chat", "-m", REF, "go"])
    assert r.rc == 0, r
    assert r.stdout == text + "\n", r


def test_chat_options_in_body(h):
    r = h.brock(["chat", "-m", REF, "-s", "be brief", "--max-tokens", "100", "--temperature", "0.5",
                 "--top-p=0.9", "--stop", "END", "--stop", "STOP", "two", "words"])
    assert r.rc == 0, r
    b = req_json(last_runtime(h))
    assert b["system"] == [{"text": "be brief"}], b
    assert b["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.5, "topP": 0.9,
                                    "stopSequences": ["END", "STOP"]}, b
    assert b["messages"][0]["content"] == [{"text": "two words"}], b
    assert "additionalModelRequestFields" not in b, b


def test_chat_no_options_no_inference_config(h):
    r = h.brock(["chat", "-m", REF, "x"])
    assert r.rc == 0, r
    b = req_json(last_runtime(h))
    assert set(b) == {"messages"}, b


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + b"JFIF" + bytes(40)
GIF = b"GIF89a" + bytes(30)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(30)


def test_chat_images(h):
    import base64
    paths = [h.write("a.bin", PNG), h.write("b.img", JPEG), h.write("c", GIF), h.write("d.webp", WEBP)]
    args = ["chat", "-m", REF]
    for p in paths:
        args += ["-i", p]
    r = h.brock(args + ["describe"])
    assert r.rc == 0, r
    content = req_json(last_runtime(h))["messages"][0]["content"]
    fmts = [c["image"]["format"] for c in content if "image" in c]
    assert fmts == ["png", "jpeg", "gif", "webp"], content
    assert base64.b64decode(content[0]["image"]["source"]["bytes"]) == PNG
    assert content[-1] == {"text": "describe"}, content


def test_chat_bad_image_is_usage_error(h):
    p = h.write("x.png", b"not an image at all")
    r = h.brock(["chat", "-m", REF, "-i", p, "describe"])
    assert r.rc == 2, r
    assert "x.png" in r.stderr, r
    assert not h.emu.log("runtime")


def test_chat_missing_file_is_exit_1(h):
    r = h.brock(["chat", "-m", REF, "-i", h.path("nope.png"), "describe"])
    assert r.rc == 1, r
    assert "nope.png" in r.stderr, r


def test_chat_documents(h):
    import base64
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
    p1 = h.write("My_report (v2).final.pdf", pdf)
    p2 = h.write("notes.md", "# Title\n\nSome *notes*.\n")
    p3 = h.write("data.csv", "a,b\n1,2\n")
    p4 = h.write("___.txt", "hello")
    r = h.brock(["chat", "-m", REF, "-d", p1, "-d", p2, "-d", p3, "-d", p4, "summarise"])
    assert r.rc == 0, r
    content = req_json(last_runtime(h))["messages"][0]["content"]
    docs = [c["document"] for c in content if "document" in c]
    assert [(d["format"], d["name"]) for d in docs] == [
        ("pdf", "My report (v2) final"), ("md", "notes"), ("csv", "data"), ("txt", "document")], docs
    assert base64.b64decode(docs[0]["source"]["bytes"]) == pdf
    assert content[-1] == {"text": "summarise"}, content


def test_chat_document_magic_mismatch(h):
    p = h.write("fake.pdf", "just text")
    r = h.brock(["chat", "-m", REF, "-d", p, "read"])
    assert r.rc == 2, r
    p = h.write("doc.exe", b"MZ\x00\x00")
    r = h.brock(["chat", "-m", REF, "-d", p, "read"])
    assert r.rc == 2, r


def test_chat_thinking_and_reasoning(h):
    h.emu.config(reply_text="The answer is 4.", reasoning={"text": "Two plus two is four.", "signature": "sig123"})
    r = h.brock(["chat", "-m", REF, "--thinking", "2048", "--max-tokens", "4096", "2+2?"])
    assert r.rc == 0, r
    assert r.stdout == "The answer is 4.\n", r
    assert "Two plus two is four." in r.stderr, r
    b = req_json(last_runtime(h))
    assert b["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 2048}}, b


def test_chat_thinking_on_non_anthropic_is_usage_error(h):
    r = h.brock(["chat", "-m", "amazon-bedrock/amazon.nova-pro-v1:0", "--thinking", "1024", "hi"])
    assert r.rc == 2, r


def test_chat_json_events_with_tool_use_and_reasoning(h):
    h.emu.config(reply_text="Checking.", deltas=2,
                 reasoning={"text": "I should call the tool.", "signature": "sigABC", "redacted": "UkVEQUNURUQ="},
                 tool_use=[{"name": "get_weather", "toolUseId": "tooluse_1", "input": {"city": "Paris"}}],
                 inject_events=[{"after": 2, "event_type": "futureEvent", "payload": {"x": 1}}])
    r = h.brock(["chat", "-m", REF, "--json", "weather?"])
    assert r.rc == 0, r
    lines = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert lines[0] == {"messageStart": {"role": "assistant"}}, lines
    for ln in lines:
        assert len(ln) == 1, ln
        (k, v), = ln.items()
        assert "p" not in v, ln
        assert k != "futureEvent", ln
    kinds = [list(ln)[0] for ln in lines]
    assert kinds[-2:] == ["messageStop", "metadata"], kinds
    assert {"messageStop": {"stopReason": "tool_use"}} in lines, lines
    starts = [ln["contentBlockStart"] for ln in lines if "contentBlockStart" in ln]
    assert starts and starts[0]["start"]["toolUse"] == {"toolUseId": "tooluse_1", "name": "get_weather"}, starts
    frags = "".join(ln["contentBlockDelta"]["delta"]["toolUse"]["input"] for ln in lines
                    if "contentBlockDelta" in ln and "toolUse" in ln["contentBlockDelta"]["delta"])
    assert json.loads(frags) == {"city": "Paris"}, frags
    rc = [ln["contentBlockDelta"]["delta"]["reasoningContent"] for ln in lines
          if "contentBlockDelta" in ln and "reasoningContent" in ln["contentBlockDelta"]["delta"]]
    assert {"signature": "sigABC"} in rc and {"redactedContent": "UkVEQUNURUQ="} in rc, rc
    assert "".join(x.get("text", "") for x in rc) == "I should call the tool.", rc
    assert "usage" in lines[-1]["metadata"], lines


def test_chat_tool_use_text_mode(h):
    h.emu.config(reply_text="Let me check.", tool_use=[{"name": "lookup", "input": {"q": "x"}}])
    r = h.brock(["chat", "-m", REF, "look it up"])
    assert r.rc == 0, r
    assert r.stdout == "Let me check.\n", r
    assert "lookup" in r.stderr and "stop=tool_use" in r.stderr, r


def test_chat_exception_mid_stream(h):
    h.emu.config(reply_text="abcdefgh", deltas=4, exception_after=3, exception_type="throttlingException",
                 exception_message="Too many tokens, slow down.")
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    assert r.stdout == "abcd\n", r
    assert "throttlingException: Too many tokens, slow down." in r.stderr, r
    assert "request id" in r.stderr, r
    assert len(h.emu.log("runtime")) == 1  # a started stream is never retried


def test_chat_exception_json_mode(h):
    h.emu.config(reply_text="abcdefgh", deltas=4, exception_after=2)
    r = h.brock(["chat", "-m", REF, "--json", "hi"])
    assert r.rc == 5, r
    last = json.loads(r.stdout.splitlines()[-1])
    assert last == {"modelStreamErrorException": {"message": "The model stream was interrupted (emulated)."}}, r


def test_chat_error_frame(h):
    h.emu.config(reply_text="abcdefgh", deltas=4, error_after=2, error_code="InternalFailure",
                 error_message="Something broke.")
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    assert r.stdout == "ab\n", r
    assert "InternalFailure: Something broke." in r.stderr, r


def test_chat_bad_message_crc(h):
    h.emu.config(reply_text="abcdefgh", deltas=4, corrupt_message_crc_at=3)
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 6, r
    assert r.stdout == "abcd\n", r
    assert "checksum" in r.stderr, r


def test_chat_bad_prelude_crc(h):
    h.emu.config(reply_text="abcdefgh", deltas=4, corrupt_prelude_crc_at=2)
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 6, r
    assert r.stdout == "ab\n", r


def test_chat_truncated_stream(h):
    h.emu.config(reply_text="abcdefgh", deltas=4, truncate_after=3)
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc in (4, 6), r
    assert r.stdout == "abcd\n", r
    h.emu.config(truncate_after=3, truncate_mid_frame=True)
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc in (4, 6), r
    assert r.stdout == "abcd\n", r
    assert len(h.emu.log("runtime")) == 2  # never retried


def test_chat_stall_times_out(h):
    h.emu.config(reply_text="abcdefgh", deltas=4, stall_after=3, stall_seconds=8)
    r = h.brock(["chat", "-m", REF, "--timeout", "2", "hi"], timeout=20)
    assert r.rc == 4, r
    assert r.stdout == "abcd\n", r
    assert r.elapsed < 7, r
    assert "timed out" in r.stderr, r


def test_chat_retries_throttling(h):
    h.emu.config(fail_next=2, fail_status=429, fail_message="Rate exceeded")
    r = h.brock(["-v", "chat", "-m", REF, "hi"], timeout=60)
    assert r.rc == 0, r
    assert r.stdout.startswith("You said: hi"), r
    log = h.emu.log("runtime")
    assert [e["attempt"] for e in log] == [1, 2, 3], log
    assert "retry 1/2 in " in r.stderr and "ThrottlingException: Rate exceeded" in r.stderr, r
    assert "retry 2/2 in " in r.stderr, r


def test_chat_throttling_exhausted(h):
    h.emu.config(fail_next=10, fail_status=429)
    r = h.brock(["chat", "-m", REF, "hi"], timeout=60)
    assert r.rc == 5, r
    assert len(h.emu.log("runtime")) == 3
    assert "ThrottlingException" in r.stderr and "request id" in r.stderr, r
    assert r.stdout == "", r


def test_chat_max_attempts_one(h):
    h.emu.config(fail_next=1, fail_status=429)
    r = h.brock(["chat", "-m", REF, "hi"], env={"AWS_MAX_ATTEMPTS": "1"})
    assert r.rc == 5, r
    assert len(h.emu.log("runtime")) == 1


def test_chat_500_then_success(h):
    h.emu.config(fail_next=1, fail_status=500)
    r = h.brock(["chat", "-m", REF, "hi"], timeout=60)
    assert r.rc == 0, r
    assert len(h.emu.log("runtime")) == 2


def test_chat_connection_dropped_then_success(h):
    h.emu.config(fail_next=1, fail_status="close")
    r = h.brock(["chat", "-m", REF, "hi"], timeout=60)
    assert r.rc == 0, r
    assert len(h.emu.log("runtime")) == 2


def test_chat_model_not_ready_retried(h):
    h.emu.config(fail_next=1, fail_type="ModelNotReadyException")
    r = h.brock(["chat", "-m", REF, "hi"], timeout=60)
    assert r.rc == 0, r
    assert len(h.emu.log("runtime")) == 2


def test_chat_400_with_body(h):
    h.emu.config(fail_next=1, fail_status=400, fail_type="ValidationException", fail_message="The bad thing.")
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    rid = h.emu.log("runtime")[-1]["request_id"]
    assert "ValidationException: The bad thing. (request id %s)" % rid in r.stderr, r
    assert len(r.stderr.strip().splitlines()) == 1, r
    assert len(h.emu.log("runtime")) == 1  # not retried


def test_chat_400_without_body(h):
    h.emu.config(fail_next=1, fail_status=400, fail_type="ValidationException", fail_body="empty")
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    assert "ValidationException" in r.stderr, r
    h.emu.config(fail_next=1, fail_status=400, fail_body="empty", fail_header=False)
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    assert "400" in r.stderr, r


def test_chat_error_type_from_body_and_header_message(h):
    h.emu.config(fail_next=1, fail_status=403, fail_type="AccessDeniedException", fail_body="typed",
                 fail_header=False, fail_message="No access to this model.")
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    assert "AccessDeniedException: No access to this model." in r.stderr, r
    h.emu.config(fail_next=1, fail_status=400, fail_type="ValidationException", fail_body="empty",
                 fail_error_message_header=True, fail_message="From the header.")
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    assert "ValidationException: From the header." in r.stderr, r


def test_chat_200_with_error_body(h):
    h.emu.config(fail_next=1, fail_status=200)
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    assert "UnknownOperationException" in r.stderr, r
    h.emu.config(fail_next=1, fail_status=200, fail_header=False, fail_body="typed")
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 5, r
    assert "UnknownOperationException" in r.stderr, r


def test_chat_200_with_error_body_any_shape(h):
    """SPEC 3.3: a 200 whose JSON body names an error type is a service error (exit 5) naming the
    type, streamed or not, however large the object and whatever its type key."""
    big = {"__type": "com.amazon.coral.service#UnknownOperationException", "message": "big one"}
    big.update(("field%d" % i, [i, {"x": i}]) for i in range(300))  # past any fixed token array
    shapes = [(big, "UnknownOperationException: big one"),
              ({"Code": "UnknownOperationException:http://internal.amazon.com/", "Message": "m"},
               "UnknownOperationException: m"),
              ({"__type": "", "message": "no type given"}, "UnknownError: no type given")]
    for body, want in shapes:
        for extra in ([], ["--no-stream"]):
            h.emu.reset()
            h.emu.config(fail_next=1, fail_status=200, fail_header=False, fail_body=body)
            r = h.brock(["chat", "-m", REF] + extra + ["hi"])
            assert r.rc == 5, (want, extra, r)
            assert r.stderr.startswith("brock: " + want + " (request id "), (extra, r)
    # JSON that names no type is not an error answer: still a protocol error
    h.emu.config(fail_next=1, fail_status=200, fail_header=False, fail_body={"message": "who?"})
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 6, r
    assert "expected an event stream, got application/json" in r.stderr, r


def test_chat_rejected_credentials_exit_3(h):
    r = h.brock(["chat", "-m", REF, "hi"], env={"AWS_SECRET_ACCESS_KEY": "wrongSecretKey0000000000000000000000000"})
    assert r.rc == 3, r
    assert "InvalidSignatureException" in r.stderr, r
    r = h.brock(["chat", "-m", REF, "hi"], env={"AWS_ACCESS_KEY_ID": "AKIAUNKNOWN000000000"})
    assert r.rc == 3, r
    assert "UnrecognizedClientException" in r.stderr, r


def test_chat_model_id_with_colon_and_arn(h):
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 0, r
    e = last_runtime(h)
    assert e["path"] == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream", e
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123xyz"
    r = h.brock(["chat", "-m", arn, "hi"])
    assert r.rc == 0, r
    e = last_runtime(h)
    assert e["path"] == ("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
                         "application-inference-profile%2Fabc123xyz/converse-stream"), e
    assert e["model_id"] == arn, e
    assert e["auth"]["verdict"] == "ok", e
    r = h.brock(["chat", "-m", "amazon-bedrock/" + arn, "hi"])
    assert r.rc == 0, r
    assert last_runtime(h)["model_id"] == arn
    r = h.brock(["chat", "-m", "anthropic.claude-3-haiku-20240307-v1:0", "hi"])
    assert r.rc == 0, r
    assert last_runtime(h)["model_id"] == "anthropic.claude-3-haiku-20240307-v1:0"


def test_chat_stdin_prompt_1mib(h):
    big = ("0123456789abcdef\u00e9\n" * 60000)
    assert len(big.encode()) > 1024 * 1024
    h.emu.config(reply_text="got it")
    r = h.brock(["chat", "-m", REF], stdin=big)
    assert r.rc == 0, r
    assert r.stdout == "got it\n", r
    e = last_runtime(h)
    assert req_json(e)["messages"][0]["content"][0]["text"] == big
    r = h.brock(["chat", "-m", REF, "-"], stdin="from dash")
    assert r.rc == 0, r
    assert req_json(last_runtime(h))["messages"][0]["content"][0]["text"] == "from dash"


def test_chat_empty_prompt_is_usage_error(h):
    r = h.brock(["chat", "-m", REF], stdin="")
    assert r.rc == 2, r


def test_chat_no_stream(h):
    h.emu.config(reply_text="Whole answer.", usage={"inputTokens": 11, "outputTokens": 7})
    r = h.brock(["chat", "-m", REF, "--no-stream", "hi"])
    assert r.rc == 0, r
    assert r.stdout == "Whole answer.\n", r
    assert "in=11 out=7" in r.stderr and "stop=end_turn" in r.stderr, r
    assert last_runtime(h)["route"] == "converse"
    r = h.brock(["chat", "-m", REF, "--no-stream", "--json", "hi"])
    assert r.rc == 0, r
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r
    obj = json.loads(lines[0])
    assert obj["output"]["message"]["content"][0]["text"] == "Whole answer.", obj


def test_chat_no_stream_error(h):
    h.emu.config(fail_next=1, fail_status=400, fail_type="ValidationException", fail_message="nope")
    r = h.brock(["chat", "-m", REF, "--no-stream", "hi"])
    assert r.rc == 5, r
    assert "ValidationException: nope" in r.stderr, r


def test_chat_bearer_token(h):
    r = h.brock(["chat", "-m", REF, "hi"], env={"AWS_BEARER_TOKEN_BEDROCK": h.emu.bearer_token,
                                                "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
    assert r.rc == 0, r
    e = last_runtime(h)
    assert e["auth"]["verdict"] == "bearer", e
    assert "x-amz-date" not in e["headers"], e
    r = h.brock(["chat", "-m", REF, "hi"], env={"AWS_BEARER_TOKEN_BEDROCK": "ABSKbogusbogusbogus",
                                                "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
    assert r.rc == 3, r


def test_chat_session_token_signed(h):
    c = h.emu.credentials()
    r = h.brock(["chat", "-m", REF, "hi"], env={"AWS_ACCESS_KEY_ID": c["AccessKeyId"],
                                                "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                                                "AWS_SESSION_TOKEN": c["SessionToken"]})
    assert r.rc == 0, r
    e = last_runtime(h)
    assert e["auth"]["verdict"] == "ok" and e["auth"]["token_signed"], e
    assert sorted(e["auth"]["signed_headers"]) == ["content-type", "host", "x-amz-date", "x-amz-security-token"], e


def test_chat_clock_skew(h):
    h.emu.config(clock_skew=3600)
    r = h.brock(["-v", "chat", "-m", REF, "hi"])
    assert r.rc == 0, r
    assert r.stdout.startswith("You said: hi"), r
    log = h.emu.log("runtime")
    assert len(log) == 2, log
    assert log[0]["auth"]["verdict"] == "expired-signature" and log[1]["auth"]["verdict"] == "ok", log
    assert "clock skew" in r.stderr, r
    h.emu.config(clock_skew=-3600)
    r = h.brock(["chat", "-m", REF, "hi"])
    assert r.rc == 0, r


def test_chat_usage_errors(h):
    r = h.brock(["chat", "--bogus", "-m", REF, "hi"])
    assert r.rc == 2 and "--bogus" in r.stderr, r
    r = h.brock(["chat", "-m", "openai/gpt-4", "hi"])
    assert r.rc == 2 and "openai" in r.stderr, r
    h.brock_config("{ models: { bedrockDiscovery: { enabled: false } } }")
    r = h.brock(["chat", "hi"])  # no model configured and discovery off: nothing to pick
    assert r.rc == 2 and "model" in r.stderr, r
    r = h.brock(["chat", "-m", REF, "--max-tokens", "abc", "hi"])
    assert r.rc == 2, r
    r = h.brock(["chat", "-m", REF, "--temperature"])
    assert r.rc == 2, r
    r = h.brock(["chat", "-m", "amazon-bedrock/", "hi"])
    assert r.rc == 2, r
    assert not h.emu.log("runtime")
    r = h.brock(["chat", "--help"])
    assert r.rc == 0 and "--thinking" in r.stdout, r


def test_chat_invalid_utf8_prompt(h):
    r = h.brock(["chat", "-m", REF], stdin=b"ok \xff\xfe bad")
    assert r.rc == 2, r
    assert "UTF-8" in r.stderr, r
    assert not h.emu.log("runtime")


def test_chat_quiet(h):
    r = h.brock(["-q", "chat", "-m", REF, "hi"])
    assert r.rc == 0, r
    assert r.stderr == "", r
    r = h.brock(["chat", "-q", "-m", REF, "hi"])
    assert r.rc == 0 and r.stderr == "", r


def test_chat_default_model_and_cost(h):
    h.brock_config("""{
  models: { providers: { "amazon-bedrock": { models: [
    { id: "%s", name: "Sonnet", cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 } } ] } } },
  agents: { defaults: { model: { primary: "amazon-bedrock/%s" } } },
}""" % (MODEL, MODEL))
    h.emu.config(usage={"inputTokens": 1000, "outputTokens": 2000, "cacheReadInputTokens": 10000,
                        "cacheWriteInputTokens": 0})
    r = h.brock(["chat", "hi"])
    assert r.rc == 0, r
    assert last_runtime(h)["model_id"] == MODEL
    assert "in=1000 out=2000 cache_read=10000 cache_write=0" in r.stderr, r
    assert "cost=$0.036" in r.stderr, r


def test_chat_base_url_from_config(h):
    h.brock_config('{ models: { providers: { "amazon-bedrock": { baseUrl: "%s" } } } }' % h.emu.https)
    r = h.brock(["chat", "-m", REF, "hi"], env={"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": None})
    assert r.rc == 0, r


def test_chat_plain_http_endpoint_and_generic_override(h):
    r = h.brock(["chat", "-m", REF, "hi"], env={"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": None,
                                                "AWS_ENDPOINT_URL": h.emu.http})
    assert r.rc == 0, r
    assert not last_runtime(h)["tls"]


def core_limit_of_waiting_brock(h, p, route):
    """The "Max core file size" soft and hard limits of brock p, read while the emulator holds
    its request on `route` (credentials are loaded by then)."""
    deadline = time.monotonic() + 20
    while not h.emu.log(route):
        assert p.poll() is None and time.monotonic() < deadline, "brock never reached %s" % route
        time.sleep(0.05)
    with open("/proc/%d/limits" % p.pid) as f:
        line = [x for x in f if x.startswith("Max core file size")][0]
    return line.split()[4:6]


def test_chat_no_core_dumps(h):
    """A command that loads credentials never leaves them in a core file: RLIMIT_CORE is 0."""
    h.emu.config(latency=3)
    p = h.spawn(["chat", "-m", REF, "hi"])
    assert core_limit_of_waiting_brock(h, p, "runtime") == ["0", "0"]
    assert p.wait(timeout=30) == 0
