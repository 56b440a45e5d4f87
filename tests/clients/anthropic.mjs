// The official `@anthropic-ai/sdk` against `brock serve` (driven by tests/integration/test_clients.py).
//   BROCK_URL=http://127.0.0.1:PORT BROCK_KEY=KEY BROCK_ANTHROPIC_MODEL=NAME node anthropic.mjs CASE
// Prints one JSON line: what the client saw. The Python test asserts on it; an unexpected
// exception exits non-zero with its stack on stderr.
import Anthropic from '@anthropic-ai/sdk';

const url = process.env.BROCK_URL;
const key = process.env.BROCK_KEY;
const model = process.env.BROCK_ANTHROPIC_MODEL;
const client = new Anthropic({ baseURL: url, apiKey: key, maxRetries: 0, timeout: 60000 });
const weather = { name: 'get_weather', description: 'Weather of a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
// a 1x1 red PNG
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==';

function errorOf(e) {
  return { class: e.constructor.name, isApiError: e instanceof Anthropic.APIError, status: e.status ?? null,
    type: e.error?.error?.type ?? null, message: String(e.message) };
}

async function caught(fn) {
  try {
    return { ok: await fn(), error: null };
  } catch (e) { return { ok: null, error: errorOf(e) }; }
}

// every event of a stream, and the message the SDK assembled from them
async function streamed(params) {
  const stream = client.messages.stream(params);
  const events = [];
  // a copy: the SDK builds its snapshot of the message into message_start's object
  for await (const ev of stream) events.push(JSON.parse(JSON.stringify(ev)));
  return { events, final: await stream.finalMessage() };
}

const cases = {
  async message() {
    const m = await client.messages.create({ model, max_tokens: 200, system: 'Be brief.',
      messages: [{ role: 'user', content: 'hello anthropic' }], temperature: 0.5, stop_sequences: ['STOP'] });
    return m;
  },
  async bearer() {
    // Authorization: Bearer instead of x-api-key (ANTHROPIC_AUTH_TOKEN's way)
    const c = new Anthropic({ baseURL: url, apiKey: null, authToken: key, maxRetries: 0 });
    return c.messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content: 'bearer hello' }] });
  },
  async stream() {
    return streamed({ model, max_tokens: 200, messages: [{ role: 'user', content: 'stream please' }] });
  },
  async tools() {
    const first = await client.messages.create({ model, max_tokens: 300, tools: [weather],
      tool_choice: { type: 'auto' }, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    const use = first.content.find((b) => b.type === 'tool_use');
    const second = await client.messages.create({ model, max_tokens: 300, tools: [weather], messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'Sunny, 21 C' }] }] });
    return { first, second };
  },
  async tools_stream() {
    return streamed({ model, max_tokens: 300, tools: [weather],
      messages: [{ role: 'user', content: 'Weather in Oslo and Rome?' }] });
  },
  async thinking() {
    // thinking with its signature, then the same block replayed in the second turn
    const thinking = { type: 'enabled', budget_tokens: 2048 };
    const first = await streamed({ model, max_tokens: 4096, thinking,
      messages: [{ role: 'user', content: 'think first' }] });
    const second = await client.messages.create({ model, max_tokens: 4096, thinking, messages: [
      { role: 'user', content: 'think first' },
      { role: 'assistant', content: first.final.content },
      { role: 'user', content: 'and again' }] });
    return { first, second };
  },
  async image() {
    return client.messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'text', text: 'what colour is this?' }] }] });
  },
  async cache_control() {
    const cc = { type: 'ephemeral' };
    return streamed({ model, max_tokens: 100,
      system: [{ type: 'text', text: 'A long stable system prompt.', cache_control: cc }],
      tools: [{ ...weather, cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'cached context', cache_control: cc },
        { type: 'text', text: 'the question' }] }] });
  },
  async count_tokens() {
    return client.messages.countTokens({ model, system: 'Be brief.', tools: [weather],
      messages: [{ role: 'user', content: 'how many tokens is this?' }] });
  },
  async errors() {
    const msg = { max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] };
    const bad = new Anthropic({ baseURL: url, apiKey: 'sk-ant-wrong', maxRetries: 0 });
    return {
      bad_key: await caught(() => bad.messages.create({ model, ...msg })),
      unknown_model: await caught(() => client.messages.create({ model: 'claude-no-such-model-9', ...msg })),
      // the emulator throttles or refuses the next calls (the test configures it)
      upstream1: await caught(() => client.messages.create({ model, ...msg })),
      upstream2: await caught(() => client.messages.create({ model, ...msg })),
    };
  },
  async stream_error() {
    // Bedrock fails after the stream began: the SDK must raise, not end quietly
    const events = [];
    let error = null;
    try {
      const stream = client.messages.stream({ model, max_tokens: 200, messages: [{ role: 'user', content: 'fail' }] });
      for await (const ev of stream) events.push(ev.type);
    } catch (e) { error = errorOf(e); }
    return { events, error };
  },
  async bad_key_stream() {
    const bad = new Anthropic({ baseURL: url, apiKey: 'sk-ant-wrong', maxRetries: 0 });
    return caught(async () => {
      const s = bad.messages.stream({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
      return s.finalMessage();
    });
  },
  async models() {
    const all = [];
    for await (const m of client.models.list({ limit: 1000 })) all.push(m);
    const page = await client.models.list();
    return { all, first: { data: page.data.length, has_more: page.has_more, first_id: page.first_id,
      last_id: page.last_id } };
  },
};

const name = process.argv[2];
if (!cases[name]) {
  console.error('unknown case ' + name + '; one of ' + Object.keys(cases).join(' '));
  process.exit(2);
}
console.log(JSON.stringify(await cases[name]()));
