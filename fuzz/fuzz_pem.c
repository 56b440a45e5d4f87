/* fuzz_pem: a PEM bundle (any bytes) -> trust anchors. Checks that every
 * anchor produced is well formed and that freeing leaves nothing behind. */
#include <bearssl.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_trust t = {0};
	struct err e = {0};
	size_t added = 0, i;
	int rc = tls_trust_add_pem(&t, data, size, &added, &e);

	if (rc == 0 && added != t.n)
		abort();
	for (i = 0; i < t.n; i++) {
		const br_x509_trust_anchor *ta = (const br_x509_trust_anchor *)t.ta + i;
		if (ta->dn.len == 0)
			abort();
		if (ta->pkey.key_type == BR_KEYTYPE_RSA && ta->pkey.key.rsa.nlen == 0)
			abort();
		if (ta->pkey.key_type == BR_KEYTYPE_EC && ta->pkey.key.ec.qlen == 0)
			abort();
	}
	tls_trust_free(&t);
	return 0;
}
