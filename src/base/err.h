/* err: errors as values. Every fallible function returns 0 on success or a
 * negative value, and fills a caller-provided struct err. Only main() turns
 * an error into an exit code (the class IS the exit code, SPEC section 1). */
#ifndef BROCK_ERR_H
#define BROCK_ERR_H

enum err_class {
	ERR_NONE = 0,
	ERR_OTHER = 1,   /* local I/O, out of memory, internal */
	ERR_USAGE = 2,   /* bad flag, bad config, unknown model ref, bad user input */
	ERR_CREDS = 3,   /* no credentials, provider failed, rejected by AWS */
	ERR_NET = 4,     /* DNS, connect, TLS, certificate, timeout, early close */
	ERR_SERVICE = 5, /* non-2xx after retries, exception event */
	ERR_PROTO = 6    /* bad CRC/framing, malformed HTTP, malformed JSON */
};

#define ERR_MSG_MAX 512

struct err {
	int cls;               /* enum err_class */
	char msg[ERR_MSG_MAX]; /* one line, no trailing newline, never a secret */
	int final;             /* 1: trying again cannot help (a rejected certificate);
				* err_set and err_clear reset it, err_wrap keeps it */
};

/* Sets cls and a printf-style message; returns -1 so callers can write
 * `return err_set(e, ERR_PROTO, "bad %s", x);`. e may be NULL. */
int err_set(struct err *e, int cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (context as errors travel up). */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

#endif
