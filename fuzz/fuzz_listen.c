/* fuzz_listen: the serve-mode listen-address parser (server_parse_listen).
 * Input: the address text (a NUL byte ends it early, as in C). Checks that
 * an accepted address round-trips: the host is non-empty, fits, has no
 * bracket, a ':' only when it came bracketed, and the port is <= 65535. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char host[SERVER_HOST_MAX];
	unsigned port = 99999;
	struct err e;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	e.cls = 0;
	if (server_parse_listen(s, host, sizeof host, &port, &e) == 0) {
		size_t n = strlen(host);

		if (n == 0 || n >= sizeof host || port > 65535 || strchr(host, '[') ||
		    strchr(host, ']'))
			abort();
		if (strchr(host, ':') && s[0] != '[')
			abort();
		if (!strstr(s, host))
			abort();
	} else if (e.cls != ERR_USAGE || !e.msg[0]) {
		abort();
	}
	free(s);
	return 0;
}
