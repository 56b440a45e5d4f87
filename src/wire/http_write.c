/* http_write: the HTTP/1.1 message writer (http_write_*, see http.h). It
 * appends to a bounded buffer and refuses CR, LF, NUL and other control
 * bytes in every field it writes. */
#include "wire/http.h"

#include <stddef.h>
#include <stdint.h>

#include "wire/http_int.h"

static int full(struct err *e)
{
	return err_set(e, ERR_OTHER, "HTTP message exceeds its buffer");
}

static int check_token(const char *s, const char *what, struct err *e)
{
	size_t i;

	if (!s || !*s)
		return err_set(e, ERR_USAGE, "empty HTTP %s", what);
	for (i = 0; s[i]; i++)
		if (!http_is_tchar((uint8_t)s[i]))
			return err_set(e, ERR_USAGE, "invalid character in HTTP %s", what);
	return 0;
}

static int check_value(struct slice v, const char *what, struct err *e)
{
	size_t i;

	for (i = 0; i < v.n; i++)
		if (!is_field_char(v.p[i]))
			return err_set(e, ERR_USAGE, "invalid character (CR, LF, NUL or control) in HTTP %s",
				       what);
	return 0;
}

int http_write_request_line(struct buf *out, const char *method, const char *target,
			    struct err *e)
{
	size_t i;

	if (check_token(method, "method", e) < 0)
		return -1;
	if (!target || !*target)
		return err_set(e, ERR_USAGE, "empty HTTP request-target");
	for (i = 0; target[i]; i++)
		if ((uint8_t)target[i] <= 0x20 || (uint8_t)target[i] >= 0x7f)
			return err_set(e, ERR_USAGE, "invalid character in HTTP request-target");
	if (buf_appendf(out, "%s %s HTTP/1.1\r\n", method, target) < 0)
		return full(e);
	return 0;
}

int http_write_status_line(struct buf *out, int status, const char *reason, struct err *e)
{
	struct slice r = slice_str(reason);

	if (status < 100 || status > 999)
		return err_set(e, ERR_USAGE, "invalid HTTP status %d", status);
	if (check_value(r, "reason phrase", e) < 0)
		return -1;
	if (buf_appendf(out, "HTTP/1.1 %d %.*s\r\n", status, (int)r.n, (const char *)r.p) < 0)
		return full(e);
	return 0;
}

int http_write_header_slice(struct buf *out, const char *name, struct slice value, struct err *e)
{
	if (check_token(name, "header name", e) < 0)
		return -1;
	if (check_value(value, "header value", e) < 0)
		return -1;
	if (buf_append_str(out, name) < 0 || buf_append(out, ": ", 2) < 0 ||
	    buf_append(out, value.p, value.n) < 0 || buf_append(out, "\r\n", 2) < 0)
		return full(e);
	return 0;
}

int http_write_header(struct buf *out, const char *name, const char *value, struct err *e)
{
	return http_write_header_slice(out, name, slice_str(value), e);
}

int http_write_end(struct buf *out, int64_t content_length, struct err *e)
{
	if (content_length >= 0 &&
	    buf_appendf(out, "Content-Length: %lld\r\n", (long long)content_length) < 0)
		return full(e);
	if (buf_append(out, "\r\n", 2) < 0)
		return full(e);
	return 0;
}

int http_write_chunk(struct buf *out, const void *data, size_t n, struct err *e)
{
	if (n == 0)
		return 0;
	if (buf_appendf(out, "%zx\r\n", n) < 0 || buf_append(out, data, n) < 0 ||
	    buf_append(out, "\r\n", 2) < 0)
		return full(e);
	return 0;
}

int http_write_chunk_end(struct buf *out, struct err *e)
{
	if (buf_append(out, "0\r\n\r\n", 5) < 0)
		return full(e);
	return 0;
}
