/* creds_json: credentials in JSON, as credential_process, the container
 * endpoint and IMDS give them, and the string members SSO reads. */
#include <string.h>

#include "aws/creds_int.h"
#include "base/timefmt.h"

#define CREDS_JSON_TOKENS 512

const struct creds_keys creds_keys_process = {"AccessKeyId", "SecretAccessKey", "SessionToken",
					      "Expiration"};
const struct creds_keys creds_keys_meta = {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};

/* String member key of obj into dst: 1 found, 0 absent (or null), -1 bad. */
int creds_jstr(const struct json_doc *d, int obj, const char *key, char *dst, size_t cap,
	       const char *what, struct err *e)
{
	int t = json_get(d, obj, key);

	dst[0] = '\0';
	if (t < 0 || json_is_null(d, t))
		return 0;
	if (json_type(d, t) != JSON_STRING)
		return err_set(e, ERR_CREDS, "%s: \"%s\" is not a string", what, key);
	if (json_strz(d, t, dst, cap, e) != 0) {
		dst[0] = '\0';
		return err_set(e, ERR_CREDS, "%s: \"%s\" is too long or not a clean string", what,
			       key);
	}
	return 1;
}

/* A required string member. */
int creds_jstr_req(const struct json_doc *d, int obj, const char *key, char *dst, size_t cap,
		   const char *what, struct err *e)
{
	int r = creds_jstr(d, obj, key, dst, cap, what, e);

	if (r == 0 || (r == 1 && dst[0] == '\0'))
		return err_set(e, ERR_CREDS, "%s: no \"%s\" in the answer", what, key);
	return r < 0 ? -1 : 0;
}

int creds_parse_expiration(const char *s, time_t *t)
{
	size_t n = strlen(s);

	return timefmt_parse_iso8601(s, n, t, NULL) == 0 ? 0 : timefmt_parse_any(s, n, t);
}

int creds_json_open(struct json_doc *d, const struct buf *b, const char *what, struct err *e)
{
	memset(d, 0, sizeof *d);
	if (json_parse_alloc(d, (const char *)b->p, b->len, CREDS_JSON_TOKENS, e) != 0) {
		e->cls = ERR_CREDS;
		return err_wrap(e, "%s: answer is not valid JSON", what);
	}
	if (json_type(d, 0) != JSON_OBJECT) {
		json_doc_free(d);
		return err_set(e, ERR_CREDS, "%s: answer is not a JSON object", what);
	}
	return 0;
}

/* Credentials from a JSON object with the member names k. */
int creds_json_creds(const char *what, const struct buf *b, const struct creds_keys *k,
		     int need_version, struct aws_creds *out, struct err *e)
{
	struct json_doc d;
	char exp[64];
	int r = -1;

	if (creds_json_open(&d, b, what, e) != 0)
		return -1;
	if (need_version) {
		int64_t ver = 0;
		int t = json_get(&d, 0, "Version");

		if (t < 0 || json_type(&d, t) != JSON_NUMBER || json_int64(&d, t, &ver, e) != 0 ||
		    ver != 1) {
			err_set(e, ERR_CREDS, "%s: \"Version\" must be 1", what);
			goto out;
		}
	} else {
		int t = json_get(&d, 0, "Code");

		if (t >= 0 && !json_str_eq(&d, t, "Success")) {
			char code[64];

			if (creds_jstr(&d, 0, "Code", code, sizeof code, what, e) < 0)
				goto out;
			err_set(e, ERR_CREDS, "%s: answer has Code \"%s\"", what, code);
			goto out;
		}
	}
	if (creds_jstr_req(&d, 0, k->akid, out->akid, sizeof out->akid, what, e) != 0 ||
	    creds_jstr_req(&d, 0, k->secret, out->secret, sizeof out->secret, what, e) != 0 ||
	    creds_jstr(&d, 0, k->token, out->token, sizeof out->token, what, e) < 0)
		goto out;
	switch (creds_jstr(&d, 0, k->expiration, exp, sizeof exp, what, e)) {
	case -1:
		goto out;
	case 1:
		if (creds_parse_expiration(exp, &out->expires) != 0) {
			err_set(e, ERR_CREDS, "%s: \"%s\" is not a timestamp: \"%s\"", what,
				k->expiration, exp);
			goto out;
		}
		break;
	default:
		break;
	}
	r = 0;
out:
	json_doc_free(&d);
	return r;
}
