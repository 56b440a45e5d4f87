/* bench: throughput of the wire layer, linked against build/bench/libbrock.a
 * (gcc -O2, glibc), zlib and libdeflate by `make bench`.
 *   crc32      each of our CRC-32 paths the CPU has, against zlib's and
 *              libdeflate's crc32, same buffers, same run
 *   evstream   a realistic ~1 MB ConverseStream capture fed in 1-4 KiB reads,
 *              and a stream of ~100-byte frames (messages/s)
 *   converse   the same capture through conv_stream_feed (framing, JSON,
 *              text callbacks), with the text-delta fast path and without
 *   sigv4      signatures/s for a Bedrock converse-stream request
 *   trust      trust anchors from the system CA bundle (BENCH_CA_BUNDLE, default
 *              /etc/ssl/certs/ca-certificates.crt): milliseconds per load, what
 *              the first https call of every brock command pays
 *   config     `config unset` of a key written 1, 1,000 and 20,000 times
 *              (config_edit_unset, no file I/O): milliseconds per edit
 * Each measurement runs for about BENCH_SECONDS (default 1.5 s; a CRC cell for
 * 1/16 of it), so the whole run stays well under 30 s; BENCH_SECONDS=0.01 (CI)
 * only proves it links and runs. CRC rates are the best of three alternating
 * rounds (the build machine is shared, so single runs are noisy). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libdeflate.h>
#include <zlib.h>

#include "base/buf.h"
#include "base/file.h"
#include "bedrock/config.h"
#include "bedrock/converse.h"
#include "net/tls.h"
#include "wire/crc32.h"
#include "wire/evstream.h"
#include "base/err.h"
#include "wire/sigv4.h"

static double bench_seconds = 1.5;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t rng = 0x2545f491u;
static uint32_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
	return rng;
}

/* Keeps results alive so the compiler cannot drop the work. */
static volatile uint32_t sink;

/* ------------------------------------------------------------------ crc32 */

typedef uint32_t crc_fn(uint32_t crc, const void *p, size_t n);

static uint32_t zlib_crc(uint32_t crc, const void *data, size_t n)
{
	const Bytef *p = data;
	uLong c = crc;

	/* zlib takes uInt lengths */
	while (n) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		c = crc32(c, p, k);
		p += k;
		n -= k;
	}
	return (uint32_t)c;
}

/* CPU time of this thread: on a shared build machine the wall clock also
 * counts the time other processes had the core. */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* MB/s of f over `chunk`-byte calls walking n bytes from p, for about t
 * seconds of CPU time. */
static double crc_rate(crc_fn *f, const uint8_t *p, size_t n, size_t chunk, double t_min)
{
	double t0 = cpu_now(), t;
	uint64_t bytes = 0;
	uint32_t acc = 0;

	do {
		for (size_t off = 0; off + chunk <= n; off += chunk)
			acc ^= f(0, p + off, chunk);
		bytes += n / chunk * chunk;
		t = cpu_now() - t0;
	} while (t < t_min);
	sink ^= acc;
	return (double)bytes / t / 1e6;
}

/* Every path this CPU has, crc32_update (the one it picks, through the
 * dispatch), zlib and libdeflate on the same buffers in the same run: one call
 * over 64 MiB (memory-bound), then chunks walking a 256 KiB buffer (cache-hot;
 * 100 B is a typical event-stream message, 8 B its prelude). */
static void bench_crc32(void)
{
	enum { NF = CRC32_IMPL_MAX + 3, NS = 5 };
	static const size_t sizes[NS] = {64u << 20, 64u << 10, 1024, 100, 8};
	static const char *const labels[NS] = {"64 MiB", "64 KiB", "1 KiB", "100 B", "8 B"};
	size_t n = 64u << 20;
	uint8_t *p = malloc(n + 1);
	struct crc32_impl impl[CRC32_IMPL_MAX];
	size_t nimpl = crc32_impls(impl), nf = 0;
	crc_fn *f[NF];
	const char *name[NF];
	double best[NF][NS] = {{0}};
	char zname[32];

	if (!p)
		exit(1);
	for (size_t i = 0; i < n + 1; i++)
		p[i] = (uint8_t)rnd();
	snprintf(zname, sizeof zname, "zlib %s", ZLIB_VERSION);
	f[nf] = crc32_update, name[nf++] = "crc32_update";
	for (size_t i = 0; i < nimpl; i++)
		f[nf] = impl[i].update, name[nf++] = impl[i].name;
	f[nf] = zlib_crc, name[nf++] = zname;
	f[nf] = libdeflate_crc32, name[nf++] = "libdeflate " LIBDEFLATE_VERSION_STRING;
	for (size_t i = 0; i < nf; i++) {
		if (f[i](0, p + 1, n) != zlib_crc(0, p + 1, n) ||
		    f[i](7, p, 1001) != zlib_crc(7, p, 1001)) {
			printf("crc32: %s disagrees with zlib\n", name[i]);
			exit(1);
		}
	}
	/* alternate and keep the best of 3: the machine may be shared */
	for (int round = 0; round < 3; round++)
		for (size_t s = 0; s < NS; s++)
			for (size_t i = 0; i < nf; i++) {
				size_t span = s == 0 ? n : 256u << 10;
				/* p + 1: unaligned on purpose */
				double r =
					crc_rate(f[i], p + 1, span, sizes[s], bench_seconds / 16);
				best[i][s] = r > best[i][s] ? r : best[i][s];
			}
	printf("crc32 (MB/s of thread CPU time, best of 3; 64 MiB in one call, chunks over a 256 KiB "
	       "buffer)\n");
	printf("  %-22s", "");
	for (size_t s = 0; s < NS; s++)
		printf(" %9s", labels[s]);
	printf("\n");
	for (size_t i = 0; i < nf; i++) {
		printf("  %-22s", name[i]);
		for (size_t s = 0; s < NS; s++)
			printf(" %9.0f", best[i][s]);
		printf("\n");
	}
	for (size_t b = nf - 2; b < nf; b++) {
		char label[48];
		snprintf(label, sizeof label, "update / %s", name[b]);
		printf("  %-22s", label);
		for (size_t s = 0; s < NS; s++)
			printf(" %8.2fx", best[0][s] / best[b][s]);
		printf("\n");
	}
	free(p);
}

/* ------------------------------------------------------------------ evstream */

static void add_event(struct buf *out, const char *type, const char *json)
{
	struct evs_header h[3] = {
		evs_hdr_string(":event-type", type),
		evs_hdr_string(":content-type", "application/json"),
		evs_hdr_string(":message-type", "event"),
	};

	if (evs_encode(out, h, 3, json, strlen(json)) != 0) {
		printf("evstream: encode failed\n");
		exit(1);
	}
}

/* A ConverseStream reply as Bedrock sends it: random-length "p" padding,
 * short text deltas. About 1 MB with ~5000 deltas. */
static size_t make_capture(struct buf *out)
{
	static const char pad[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static const char *const words[] = {"The", " model", " streams", " text", " in",
					    " small", " pieces,", " each", " a", " token."};
	char json[512];
	size_t n = 0;

	add_event(out, "messageStart", "{\"role\":\"assistant\",\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ\"}");
	for (int i = 0; i < 5000; i++) {
		int plen = (int)(rnd() % 40) + 1;
		snprintf(json, sizeof json,
			 "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"%s\"},\"p\":\"%.*s\"}",
			 words[i % 10], plen, pad);
		add_event(out, "contentBlockDelta", json);
		n++;
	}
	add_event(out, "contentBlockStop", "{\"contentBlockIndex\":0,\"p\":\"abcdefghijklmnopq\"}");
	add_event(out, "messageStop", "{\"stopReason\":\"end_turn\",\"p\":\"abcdefghijklmnopqrstuvw\"}");
	add_event(out, "metadata",
		  "{\"usage\":{\"inputTokens\":1200,\"outputTokens\":5000,\"totalTokens\":6200},"
		  "\"metrics\":{\"latencyMs\":41234},\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEF\"}");
	return n + 4;
}

/* Decodes the stream once in reads of lo..hi bytes (as a socket would hand
 * them over) and dispatches on :event-type like the chat client; returns the
 * number of messages. */
static size_t decode_once(const uint8_t *p, size_t n, size_t lo, size_t hi, size_t *text)
{
	struct evs_decoder d;
	size_t msgs = 0, off = 0;

	evs_init(&d, 0);
	while (off < n) {
		size_t len = lo + rnd() % (hi - lo + 1), used;
		const uint8_t *q = p + off;
		if (len > n - off)
			len = n - off;
		off += len;
		while (len) {
			struct evs_msg m;
			int r = evs_feed(&d, q, len, &used, &m);
			if (r < 0) {
				printf("evstream: decode error %s\n", evs_strerror(r));
				exit(1);
			}
			q += used;
			len -= used;
			if (r == 1) {
				msgs++;
				if (slice_eq_str(evs_msg_str(&m, ":event-type"), "contentBlockDelta"))
					*text += m.payload.n;
			}
		}
	}
	if (evs_finish(&d) != 0) {
		printf("evstream: truncated\n");
		exit(1);
	}
	evs_free(&d);
	return msgs;
}

/* Best of three rounds of bench_seconds / 3 each, in thread CPU time (the
 * machine is shared: wall time would count other processes' turns). */
static void bench_decode(const char *label, const struct buf *s, size_t expect, size_t lo,
			 size_t hi)
{
	double best = 0, rate_b = 0;
	size_t text = 0;

	for (int round = 0; round < 3; round++) {
		double t0 = cpu_now(), t;
		uint64_t bytes = 0, msgs = 0;

		do {
			size_t m = decode_once(s->p, s->len, lo, hi, &text);
			if (m != expect) {
				printf("evstream: %zu messages, want %zu\n", m, expect);
				exit(1);
			}
			msgs += m;
			bytes += s->len;
			t = cpu_now() - t0;
		} while (t < bench_seconds / 3);
		if ((double)msgs / t > best) {
			best = (double)msgs / t;
			rate_b = (double)bytes / t;
		}
	}
	sink ^= (uint32_t)text;
	printf("  %-34s %8.0f MB/s %10.0f msg/s\n", label, rate_b / 1e6, best);
}

/* 200 messages with a 64 KiB payload: handed over whole (views into the
 * input, no copy) and in reads of 16 KiB (each message gathered). */
static void bench_big(void)
{
	struct buf big;
	uint8_t *payload = malloc(65536);
	size_t nbig = 0;

	if (!payload)
		exit(1);
	for (size_t i = 0; i < 65536; i++)
		payload[i] = (uint8_t)rnd();
	buf_init(&big, 64u << 20);
	while (nbig < 200) {
		struct evs_header h[2] = {evs_hdr_string(":message-type", "event"),
					  evs_hdr_string(":event-type", "chunk")};
		if (evs_encode(&big, h, 2, payload, 65536) != 0)
			exit(1);
		nbig++;
	}
	bench_decode("64 KiB frames, whole buffer", &big, nbig, big.len, big.len);
	bench_decode("64 KiB frames, reads of 16 KiB", &big, nbig, 16384, 16384);
	buf_free(&big);
	free(payload);
}

static void bench_evstream(void)
{
	struct buf cap, small;
	size_t ncap, nsmall = 0;
	char label[64];

	buf_init(&cap, 64u << 20);
	ncap = make_capture(&cap);
	printf("evstream decode (CRC-checked, :event-type looked up per message; thread CPU time, best of 3)\n");
	snprintf(label, sizeof label, "ConverseStream %.2f MB, %zu msgs", cap.len / 1e6, ncap);
	bench_decode(label, &cap, ncap, 1024, 4096);
	printf("    (%zu bytes, average message %zu B, reads of 1-4 KiB)\n", cap.len, cap.len / ncap);
	bench_decode("ConverseStream, reads of 16 KiB", &cap, ncap, 16384, 16384);

	/* ~100-byte frames: one header, a short payload */
	buf_init(&small, 64u << 20);
	while (small.len < (1u << 20)) {
		struct evs_header h = evs_hdr_string(":message-type", "event");
		static const char payload[] = "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"hi there\"},\"p\":\"abc\"}";
		if (evs_encode(&small, &h, 1, payload, sizeof payload - 1) != 0)
			exit(1);
		nsmall++;
	}
	snprintf(label, sizeof label, "small frames (%zu B each)", small.len / nsmall);
	bench_decode(label, &small, nsmall, 4096, 4096);
	snprintf(label, sizeof label, "small frames, whole buffer");
	bench_decode(label, &small, nsmall, small.len, small.len);
	bench_big();
	buf_free(&cap);
	buf_free(&small);
}

/* ------------------------------------------------------------------ converse */

static int count_text(void *user, int index, struct slice text, struct err *e)
{
	(void)index;
	(void)e;
	*(size_t *)user += text.n;
	return 0;
}

/* The capture through the chat client's decoder in 1-4 KiB reads: event
 * framing, CRCs, JSON payloads, text callbacks. */
static void bench_converse_one(const char *label, const struct buf *cap, size_t ncap, int no_fast)
{
	double t0 = now(), t;
	uint64_t bytes = 0, msgs = 0;
	size_t text = 0;

	do {
		struct conv_handler h;
		struct conv_stream cs;
		struct err e;
		size_t off = 0;

		memset(&h, 0, sizeof h);
		h.user = &text;
		h.text = count_text;
		conv_stream_init(&cs, &h, 0);
		cs.no_fast = no_fast;
		while (off < cap->len) {
			size_t len = 1024 + rnd() % 3073;
			if (len > cap->len - off)
				len = cap->len - off;
			if (conv_stream_feed(&cs, cap->p + off, len, &e) != 0) {
				printf("converse: %s\n", e.msg);
				exit(1);
			}
			off += len;
		}
		if (conv_stream_finish(&cs, &e) != 0 || cs.events != ncap) {
			printf("converse: %lu events, want %zu\n", cs.events, ncap);
			exit(1);
		}
		conv_stream_free(&cs);
		msgs += ncap;
		bytes += cap->len;
		t = now() - t0;
	} while (t < bench_seconds);
	sink ^= (uint32_t)text;
	printf("  %-34s %8.0f MB/s %10.0f msg/s\n", label, (double)bytes / t / 1e6,
	       (double)msgs / t);
}

static void bench_converse(void)
{
	struct buf cap;
	size_t ncap;

	buf_init(&cap, 64u << 20);
	ncap = make_capture(&cap);
	printf("converse stream decode (the ConverseStream capture above, 1-4 KiB reads)\n");
	bench_converse_one("text-delta fast path", &cap, ncap, 0);
	bench_converse_one("full JSON reader for every event", &cap, ncap, 1);
	buf_free(&cap);
}

/* ------------------------------------------------------------------ sigv4 */

static void bench_sigv4(void)
{
	static const char body[] =
		"{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Write a haiku about "
		"small computers talking to large models.\"}]}],\"inferenceConfig\":{\"maxTokens\":"
		"1024,\"temperature\":0.7}}";
	struct sigv4_creds creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
				    "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
	struct sigv4_header h[] = {
		{SLICE_LIT("content-type"), SLICE_LIT("application/json")},
		{SLICE_LIT("host"), SLICE_LIT("bedrock-runtime.us-east-1.amazonaws.com")},
	};
	struct sigv4_request req = {
		SLICE_LIT("POST"), SLICE_LIT("/model/us.anthropic.claude-opus-4-6-v1%3A0/converse-stream"),
		{(const uint8_t *)"", 0}, h, sizeof h / sizeof h[0], SLICE_LIT(body), NULL};
	struct sigv4_params par = {&creds, "us-east-1", "bedrock", 1795561363, SIGV4_DOUBLE_ENCODE, 0};
	struct sigv4_result res;
	struct sigv4_ctx ctx;
	struct err e;

	printf("sigv4 (Bedrock converse-stream POST, %zu-byte body, session token)\n",
	       sizeof body - 1);
	sigv4_result_init(&res);
	for (int cached = 1; cached >= 0; cached--) {
		double t0 = now(), t;
		uint64_t n = 0;
		sigv4_ctx_init(&ctx);
		do {
			for (int i = 0; i < 256; i++) {
				if (sigv4_sign(cached ? &ctx : NULL, &req, &par, &res, &e) != 0) {
					printf("sigv4: %s\n", e.msg);
					exit(1);
				}
				sink ^= (uint32_t)res.signature[0];
			}
			n += 256;
			t = now() - t0;
		} while (t < bench_seconds);
		printf("  %-34s %10.0f signatures/s\n",
		       cached ? "signing key cached" : "signing key derived each time", (double)n / t);
		sigv4_ctx_release(&ctx);
	}
	sigv4_result_free(&res);
}

/* ------------------------------------------------------------------ trust */

static void bench_trust(void)
{
	const char *path = getenv("BENCH_CA_BUNDLE");
	struct tls_trust t = {0};
	struct buf b;
	struct err e = {0};
	size_t added = 0;
	double t0, el;
	uint64_t n = 0;

	if (!path || !*path)
		path = "/etc/ssl/certs/ca-certificates.crt";
	buf_init(&b, TLS_BUNDLE_MAX);
	if (file_read(path, TLS_BUNDLE_MAX, &b, &e) != 1) {
		printf("trust: %s not readable, skipped\n", path);
		buf_free(&b);
		return;
	}
	t0 = now();
	do {
		if (tls_trust_add_pem(&t, b.p, b.len, &added, &e) != 0) {
			printf("trust: %s\n", e.msg);
			exit(1);
		}
		tls_trust_free(&t);
		n++;
		el = now() - t0;
	} while (el < bench_seconds);
	printf("trust anchors (%s, %zu KiB, %zu certificates)\n  %-34s %10.2f ms\n", path,
	       b.len >> 10, added, "one load", el * 1e3 / (double)n);
	buf_free(&b);
}

/* ----------------------------------------------------------------- config */

static void bench_config(void)
{
	static const struct {
		const char *label, *item;
		size_t copies;
	} cases[] = {
	    {"1 copy, own line", "  a: 1,\n", 1},
	    {"1,000 copies, own lines", "  a: 1,\n", 1000},
	    {"20,000 copies, own lines", "  a: 1,\n", 20000},
	    {"20,000 copies, one line", "a: 1, ", 20000},
	};
	struct buf in, out;
	struct err e = {0};

	printf("config unset of a duplicated key (in memory, no file I/O)\n");
	buf_init(&in, 1 << 22);
	buf_init(&out, 1 << 22);
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		double t0, el;
		uint64_t n = 0;

		buf_reset(&in);
		if (buf_append_str(&in, "{\n  b: 0,\n") < 0)
			exit(1);
		for (size_t k = 0; k < cases[c].copies; k++)
			if (buf_append_str(&in, cases[c].item) < 0)
				exit(1);
		if (buf_append_str(&in, "\n}\n") < 0)
			exit(1);
		t0 = now();
		do {
			buf_reset(&out);
			if (config_edit_unset("bench", (const char *)in.p, in.len, "a", &out, &e) != 0) {
				printf("config: %s\n", e.msg);
				exit(1);
			}
			sink ^= (uint32_t)out.len;
			n++;
			el = now() - t0;
		} while (el < bench_seconds);
		printf("  %-34s %10.3f ms (%zu KiB)\n", cases[c].label, el * 1e3 / (double)n,
		       in.len >> 10);
	}
	buf_free(&in);
	buf_free(&out);
}

int main(int argc, char **argv)
{
	const char *s = getenv("BENCH_SECONDS");

	/* bench [crc32|evstream|converse|sigv4|trust|config]: one part only */
	const char *only = argc > 1 ? argv[1] : "";

	if (s && strtod(s, NULL) > 0)
		bench_seconds = strtod(s, NULL);
	if (!*only || !strcmp(only, "crc32"))
		bench_crc32();
	if (!*only || !strcmp(only, "evstream"))
		bench_evstream();
	if (!*only || !strcmp(only, "converse"))
		bench_converse();
	if (!*only || !strcmp(only, "sigv4"))
		bench_sigv4();
	if (!*only || !strcmp(only, "trust"))
		bench_trust();
	if (!*only || !strcmp(only, "config"))
		bench_config();
	return 0;
}
