// One streamed chat by a peer client, for bench/peers.py:
//
//   node peer.mjs sdk|pi URL N h1|h2
//
// sdk: the AWS SDK for JavaScript v3, BedrockRuntimeClient + ConverseStreamCommand.
// pi:  pi-ai's Bedrock provider (streamSimple with its amazon.nova-pro-v1:0 model, baseUrl = URL).
// Both ask the stub for N text deltas (the prompt is N) and write each delta's text to stdout
// the moment it arrives, as `brock chat` does; the count is checked at the end (exit 1 if short).
// h1 gives the client @smithy/node-http-handler's NodeHttpHandler (HTTP/1.1, what brock speaks to
// an http:// endpoint); h2 leaves the client's default (NodeHttp2Handler: cleartext HTTP/2 with
// prior knowledge on http://). Credentials and region come from the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), as the runner sets them.
import { BedrockRuntimeClient, ConverseStreamCommand } from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { getModel, streamSimple } from "@mariozechner/pi-ai";

const MODEL = "amazon.nova-pro-v1:0";
const [which, url, nArg, proto] = process.argv.slice(2);
const n = Number(nArg);
if (!["sdk", "pi"].includes(which) || !url || !Number.isInteger(n) || !["h1", "h2"].includes(proto)) {
	process.stderr.write("usage: node peer.mjs sdk|pi URL N h1|h2\n");
	process.exit(2);
}

async function viaSdk() {
	const config = { region: process.env.AWS_REGION, endpoint: url };
	if (proto === "h1")
		config.requestHandler = new NodeHttpHandler();
	const client = new BedrockRuntimeClient(config);
	const res = await client.send(new ConverseStreamCommand({
		modelId: MODEL,
		messages: [{ role: "user", content: [{ text: String(n) }] }],
	}));
	let count = 0;
	for await (const ev of res.stream) {
		const text = ev.contentBlockDelta?.delta?.text;
		if (text !== undefined) {
			process.stdout.write(text);
			count++;
		}
	}
	client.destroy();
	return count;
}

async function viaPi() {
	// pi-ai switches to NodeHttpHandler when AWS_BEDROCK_FORCE_HTTP1=1 (its own option)
	if (proto === "h1")
		process.env.AWS_BEDROCK_FORCE_HTTP1 = "1";
	const model = { ...getModel("amazon-bedrock", MODEL), baseUrl: url };
	const s = streamSimple(model, { messages: [{ role: "user", content: String(n), timestamp: Date.now() }] });
	let count = 0;
	for await (const ev of s) {
		if (ev.type === "text_delta") {
			process.stdout.write(ev.delta);
			count++;
		} else if (ev.type === "error") {
			throw new Error(ev.error?.errorMessage || "pi-ai stream error");
		}
	}
	return count;
}

const count = await (which === "sdk" ? viaSdk() : viaPi());
if (count !== n) {
	process.stderr.write(`peer ${which}: ${count} text deltas, want ${n}\n`);
	process.exit(1);
}
