#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int cls, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->cls = cls;
	e->final = 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char pre[ERR_MSG_MAX], old[ERR_MSG_MAX];
	size_t n, m;
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	old[sizeof old - 1] = '\0';
	n = strlen(pre);
	if (n > sizeof e->msg - 3)
		n = sizeof e->msg - 3;
	memcpy(e->msg, pre, n);
	memcpy(e->msg + n, ": ", 2);
	m = strlen(old);
	if (m > sizeof e->msg - n - 3)
		m = sizeof e->msg - n - 3;
	memcpy(e->msg + n + 2, old, m);
	e->msg[n + 2 + m] = '\0';
	return -1;
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->cls = ERR_NONE;
	e->msg[0] = '\0';
	e->final = 0;
}
