// The official `openai` package against `brock serve` (driven by tests/integration/test_clients.py).
//   BROCK_URL=http://127.0.0.1:PORT BROCK_KEY=KEY BROCK_MODEL=REF node openai.mjs CASE
// Prints one JSON line: what the client saw. The Python test asserts on it; an unexpected
// exception exits non-zero with its stack on stderr.
import OpenAI from 'openai';

const url = process.env.BROCK_URL;
const key = process.env.BROCK_KEY;
const model = process.env.BROCK_MODEL;
const client = new OpenAI({ baseURL: url + '/v1', apiKey: key, maxRetries: 0, timeout: 60000 });
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
];

function errorOf(e) {
  return { class: e.constructor.name, isApiError: e instanceof OpenAI.APIError, status: e.status,
    type: e.type ?? e.error?.type ?? null, code: e.code ?? null, message: String(e.message) };
}

async function streamed(body) {
  const stream = await client.chat.completions.create({ ...body, stream: true });
  const out = { chunks: 0, text: '', reasoning: '', finish: [], usage: [], ids: new Set(), models: new Set(),
    tools: {} };
  for await (const c of stream) {
    out.chunks++;
    out.ids.add(c.id);
    out.models.add(c.model);
    if (c.usage) out.usage.push({ usage: c.usage, choices: c.choices.length });
    for (const ch of c.choices) {
      out.text += ch.delta?.content ?? '';
      out.reasoning += ch.delta?.reasoning_content ?? '';
      for (const tc of ch.delta?.tool_calls ?? []) {
        const t = (out.tools[tc.index] ??= { id: null, name: null, args: '' });
        if (tc.id) t.id = tc.id;
        if (tc.function?.name) t.name = tc.function.name;
        t.args += tc.function?.arguments ?? '';
      }
      if (ch.finish_reason) out.finish.push(ch.finish_reason);
    }
  }
  return { ...out, ids: [...out.ids], models: [...out.models] };
}

const cases = {
  async chat() {
    const r = await client.chat.completions.create({ model, messages: [
      { role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello openai' }], max_tokens: 100 });
    return { id: r.id, object: r.object, model: r.model, message: r.choices[0].message,
      finish: r.choices[0].finish_reason, usage: r.usage };
  },
  async chat_stream() {
    return streamed({ model, messages: [{ role: 'user', content: 'stream please' }],
      stream_options: { include_usage: true }, max_completion_tokens: 100 });
  },
  async chat_stream_no_usage() {
    return streamed({ model, messages: [{ role: 'user', content: 'no usage' }] });
  },
  async tools() {
    const r = await client.chat.completions.create({ model, tools, tool_choice: 'auto',
      messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    const msg = r.choices[0].message;
    // second turn: the tool result goes back with the assistant's tool_calls
    const r2 = await client.chat.completions.create({ model, tools, messages: [
      { role: 'user', content: 'Weather in Paris?' }, msg,
      { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: 'Sunny, 21 C' }] });
    return { message: msg, finish: r.choices[0].finish_reason, second: r2.choices[0].message.content };
  },
  async tools_stream() {
    return streamed({ model, tools, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
  },
  async reasoning() {
    const r = await client.chat.completions.create({ model, reasoning_effort: 'high',
      messages: [{ role: 'user', content: 'think hard' }], max_completion_tokens: 20000 });
    const s = await streamed({ model, reasoning_effort: 'low', messages: [{ role: 'user', content: 'think less' }],
      max_completion_tokens: 20000 });
    return { message: r.choices[0].message, usage: r.usage, stream: s };
  },
  async stream_error() {
    // Bedrock fails after the stream began: the SDK must raise, not end quietly
    let text = '';
    const finish = [];
    let error = null;
    try {
      const stream = await client.chat.completions.create({ model, stream: true,
        messages: [{ role: 'user', content: 'fail' }] });
      for await (const c of stream) {
        for (const ch of c.choices) {
          text += ch.delta?.content ?? '';
          if (ch.finish_reason) finish.push(ch.finish_reason);
        }
      }
    } catch (e) { error = errorOf(e); }
    return { text, finish, error };
  },
  async bad_key() {
    const bad = new OpenAI({ baseURL: url + '/v1', apiKey: 'sk-wrong-key', maxRetries: 0 });
    try {
      await bad.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      return { error: null };
    } catch (e) { return { error: errorOf(e) }; }
  },
  async unknown_model() {
    const res = {};
    for (const m of ['amazon-bedrock/no.such-model-v9:0', 'openai/gpt-4o']) {
      try {
        await client.chat.completions.create({ model: m, messages: [{ role: 'user', content: 'hi' }] });
        res[m] = null;
      } catch (e) { res[m] = errorOf(e); }
    }
    try {
      await client.models.retrieve('amazon-bedrock/no.such-model-v9:0');
      res.retrieve = null;
    } catch (e) { res.retrieve = errorOf(e); }
    return res;
  },
  async models() {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    const one = await client.models.retrieve(model);
    return { ids, one };
  },
  async embeddings() {
    const em = process.env.BROCK_EMBED_MODEL;
    const input = ['first text', 'second text'];
    const flt = await client.embeddings.create({ model: em, input, encoding_format: 'float' });
    const b64 = await client.embeddings.create({ model: em, input: 'first text', encoding_format: 'base64' });
    const dflt = await client.embeddings.create({ model: em, input, dimensions: 256 }); // SDK asks base64, decodes
    const vec = (d) => d.data.map((x) => ({ index: x.index, object: x.object, embedding: Array.from(x.embedding) }));
    return { float: { ...flt, data: vec(flt) }, base64: b64, default: { ...dflt, data: vec(dflt) } };
  },
};

const name = process.argv[2];
if (!cases[name]) {
  console.error('unknown case ' + name + '; one of ' + Object.keys(cases).join(' '));
  process.exit(2);
}
console.log(JSON.stringify(await cases[name]()));
