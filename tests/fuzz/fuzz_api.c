/* tests/fuzz/fuzz_api.c: libFuzzer entry for the control-socket wire format
 * (vmm/api/proto.c) and the client's JSON printer (vmm/cli/ctl.c).
 * Owns: treating arbitrary bytes as a stream of frames, decoding each into a
 * request and checking the decoder's contract; touches no sockets. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/proto.h"
#include "vmm/cli/ctl.h"

static FILE *sink;

static void check_body(const uint8_t *b, size_t n)
{
	struct api_request req;
	char msg[160];
	cbor_item_t *it;
	int rc = api_request_decode(b, n, &req, msg, sizeof(msg));

	if (rc < 0 || rc > API_E_STATE)
		abort();
	if (rc && (!memchr(msg, '\0', sizeof(msg)) || !msg[0] || strchr(msg, '\n')))
		abort();   /* every error carries a one-line message */
	if (!rc) {
		if (!req.has_id || (unsigned)req.op >= API_OP_COUNT || req.v != API_PROTO_VERSION)
			abort();
		if (req.op != API_OP_POLICY &&
		    (req.policy.has_enabled || req.policy.has_locked || req.policy.has_max_image_size))
			abort();
	}
	/* the error reply for it encodes within one frame */
	it = api_reply_error(req.has_id, req.id, rc ? rc : API_E_FAILED, rc ? msg : "x");
	if (it) {
		uint8_t *f = NULL;
		long fl = api_frame_encode(it, &f);

		if (fl > 0 && api_frame_peek(f, (size_t)fl, NULL) != fl)
			abort();
		free(f);
		cbor_decref(&it);
	}
	/* whatever loads prints as JSON without crashing */
	it = api_cbor_load(b, n, msg, sizeof(msg));
	if (it) {
		if (api_cbor_check(b, n, API_MAX_DEPTH))
			abort();
		ctl_json_print(sink, it);
		cbor_decref(&it);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	if (!sink)
		sink = fopen("/dev/null", "w");
	/* as a stream of frames, like the server reads it */
	for (unsigned k = 0; k < 64 && pos < size; k++) {
		uint32_t blen = 0;
		long fl = api_frame_peek(data + pos, size - pos, &blen);

		if (fl < 0) {
			if (blen && blen <= API_FRAME_MAX)
				abort();
			break;
		}
		if (fl == 0)
			break;
		if ((size_t)fl != API_FRAME_HDR + blen || (size_t)fl > size - pos)
			abort();
		check_body(data + pos + API_FRAME_HDR, blen);
		pos += (size_t)fl;
	}
	/* and the whole input as one body */
	if (size && size <= API_FRAME_MAX)
		check_body(data, size);
	return 0;
}
