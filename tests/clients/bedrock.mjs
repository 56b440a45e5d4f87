// The official `@aws-sdk/client-bedrock-runtime` against the pass-through of `brock serve`
// (driven by tests/integration/test_clients.py). Configured the way SPEC 7.3 tells a user to:
//   AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:PORT AWS_BEARER_TOKEN_BEDROCK=KEY AWS_REGION=us-east-1 \
//   BROCK_MODEL=ID node bedrock.mjs CASE
// The client's default handler speaks cleartext HTTP/2 with prior knowledge to an http:// endpoint;
// BROCK_HTTP1=1 swaps in the SDK's HTTP/1.1 handler (to tell a route from the transport).
// BROCK_CONFIG=1 passes the endpoint and the key in the client's config instead of the environment.
// Prints one JSON line: what the client saw.
import {
  BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, CountTokensCommand, InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const model = process.env.BROCK_MODEL;
const opts = { maxAttempts: 1 };
if (process.env.BROCK_HTTP1 === '1') opts.requestHandler = new NodeHttpHandler();
if (process.env.BROCK_CONFIG === '1') {
  opts.endpoint = process.env.BROCK_URL;
  opts.token = { token: process.env.BROCK_KEY };
  opts.authSchemePreference = ['httpBearerAuth'];
}
const client = new BedrockRuntimeClient(opts);
const enc = new TextEncoder();
const dec = new TextDecoder();
const tools = { tools: [{ toolSpec: { name: 'get_weather', description: 'Weather of a city',
  inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } } }] };

function errorOf(e) {
  return { name: e.name, status: e.$metadata?.httpStatusCode ?? null, message: String(e.message) };
}

function anthropicBody(text, extra = {}) {
  return enc.encode(JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 200,
    messages: [{ role: 'user', content: text }], ...extra }));
}

const cases = {
  async converse() {
    const r = await client.send(new ConverseCommand({ modelId: model, system: [{ text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ text: 'hello bedrock' }] }], inferenceConfig: { maxTokens: 100 } }));
    return { output: r.output, stopReason: r.stopReason, usage: r.usage, status: r.$metadata.httpStatusCode };
  },
  async converse_stream() {
    const r = await client.send(new ConverseStreamCommand({ modelId: model, toolConfig: tools,
      messages: [{ role: 'user', content: [{ text: 'stream bedrock' }] }] }));
    const events = [];
    let text = '';
    let toolInput = '';
    for await (const ev of r.stream) {
      const kind = Object.keys(ev)[0];
      events.push(kind);
      text += ev.contentBlockDelta?.delta?.text ?? '';
      toolInput += ev.contentBlockDelta?.delta?.toolUse?.input ?? '';
      if (ev.messageStop) events.push('stop:' + ev.messageStop.stopReason);
      if (ev.metadata) events.push({ usage: ev.metadata.usage });
    }
    return { events, text, toolInput };
  },
  async invoke() {
    const r = await client.send(new InvokeModelCommand({ modelId: model, contentType: 'application/json',
      accept: 'application/json', body: anthropicBody('invoke bedrock', { system: 'Be brief.' }) }));
    return { body: JSON.parse(dec.decode(r.body)), contentType: r.contentType };
  },
  async invoke_stream() {
    const r = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: model,
      contentType: 'application/json', body: anthropicBody('invoke stream') }));
    const events = [];
    for await (const ev of r.body) {
      if (ev.chunk) events.push(JSON.parse(dec.decode(ev.chunk.bytes)));
      else events.push({ other: Object.keys(ev) });
    }
    return { events };
  },
  async count_tokens() {
    const converse = await client.send(new CountTokensCommand({ modelId: model, input: { converse: {
      messages: [{ role: 'user', content: [{ text: 'count these tokens please' }] }] } } }));
    const invoke = await client.send(new CountTokensCommand({ modelId: model, input: { invokeModel: {
      body: anthropicBody('count these tokens too') } } }));
    return { converse: converse.inputTokens, invoke: invoke.inputTokens };
  },
  async bad_key() {
    const bad = new BedrockRuntimeClient({ ...opts, token: { token: 'sk-wrong-key' },
      authSchemePreference: ['httpBearerAuth'] });
    try {
      await bad.send(new ConverseCommand({ modelId: model, messages: [{ role: 'user', content: [{ text: 'x' }] }] }));
      return { error: null };
    } catch (e) { return { error: errorOf(e) }; }
  },
  async upstream_error() {
    try {
      await client.send(new ConverseCommand({ modelId: model, messages: [{ role: 'user', content: [{ text: 'x' }] }] }));
      return { error: null };
    } catch (e) { return { error: errorOf(e) }; }
  },
};

const name = process.argv[2];
if (!cases[name]) {
  console.error('unknown case ' + name + '; one of ' + Object.keys(cases).join(' '));
  process.exit(2);
}
console.log(JSON.stringify(await cases[name]()));
