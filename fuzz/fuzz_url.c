/* fuzz_url: URL parser, authority/target helpers and NO_PROXY matcher.
 * Input: "URL\nNO_PROXY" (NUL bytes end the strings early, as in C). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *np;
	struct url u;
	struct err e;
	struct buf b;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	np = strchr(s, '\n');
	if (np)
		*np++ = 0;
	/* room for everything appended below, so a failed append is a bug: two
	 * authorities (host <= 255), the target (<= size) and the path again
	 * %-encoded as one segment (<= 3 * size) */
	buf_init(&b, 4 * size + 1024);
	if (url_parse(&u, s, &e) == 0) {
		if (strlen(u.host) == 0 || strlen(u.host) > URL_HOST_MAX || u.port == 0)
			abort();
		if (u.path.n && (u.path.p[0] != '/'))
			abort();
		if (url_authority(&u, 0, &b) < 0 || url_authority(&u, 1, &b) < 0 ||
		    url_request_target(&u, &b) < 0)
			abort();
		url_path_append_segment(&b, u.path);
		if (np)
			(void)url_no_proxy_match(np, u.host, u.port);
		url_wipe(&u);
	} else if (!e.msg[0]) {
		abort();
	}
	if (np) {
		(void)url_no_proxy_match(np, s, 443);
		(void)url_no_proxy_match(s, np, 80);
	}
	buf_free(&b);
	free(s);
	return 0;
}
