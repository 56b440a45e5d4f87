// The official openai client against brock serve: node client.mjs BASE_URL PARAMS_JSON
// (openai from tests/clients/node_modules, pinned by tests/clients/package-lock.json)
// Prints the chat.completion (or, with "stream": true, every chunk) as JSON lines.
import OpenAI from "openai";

const [baseURL, params] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || "none", maxRetries: 0 });
const req = JSON.parse(params);
try {
  const res = await client.chat.completions.create(req);
  if (req.stream) {
    for await (const chunk of res) console.log(JSON.stringify(chunk));
  } else {
    console.log(JSON.stringify(res));
  }
} catch (e) {
  console.log(JSON.stringify({ error: { status: e.status ?? null, message: String(e.message) } }));
  process.exit(3);
}
