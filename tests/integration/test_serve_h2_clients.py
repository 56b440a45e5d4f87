"""The official clients (test_clients.py) again with the gateway's runtime endpoint at the emulator's
h2 front: /v1/messages and the pass-through served on the event loop over HTTP/2 upstream (the
front counts HTTP/1.1 connections: none means no call took the blocking path). The AWS SDK's
default handler speaks cleartext HTTP/2 to the gateway, whose streams run on helper threads (the
blocking path): only its HTTP/1.1 handler reaches the loop."""

import test_clients
from test_serve_h2 import _over_h2

BEDROCK_ID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def _clients(h, name, h1=0, bedrock_id=True):
    orig = test_clients.CLAUDE
    if bedrock_id:  # an Anthropic name is resolved against the catalog on the blocking path
        test_clients.CLAUDE = BEDROCK_ID
    try:
        _over_h2(h, getattr(test_clients, name), [test_clients], h1=h1)
    finally:
        test_clients.CLAUDE = orig


def test_serve_h2_clients_anthropic_message(h):
    _clients(h, "test_anthropic_message")


def test_serve_h2_clients_anthropic_stream(h):
    _clients(h, "test_anthropic_stream")


def test_serve_h2_clients_anthropic_tools_stream(h):
    _clients(h, "test_anthropic_tools_stream")


def test_serve_h2_clients_anthropic_thinking_signature_replayed(h):
    # Anthropic's name: the first call resolves it on the blocking path, the replay runs on the loop
    _clients(h, "test_anthropic_thinking_signature_replayed", h1=1, bedrock_id=False)


def test_serve_h2_clients_anthropic_errors(h):
    _clients(h, "test_anthropic_errors")


def test_serve_h2_clients_anthropic_stream_error_after_first_byte(h):
    _clients(h, "test_anthropic_stream_error_after_first_byte")


def test_serve_h2_clients_bedrock_sdk_converse_http1(h):
    _clients(h, "test_bedrock_sdk_converse_http1")


def test_serve_h2_clients_claude_code_bedrock_mode(h):
    _clients(h, "test_claude_code_bedrock_mode")
