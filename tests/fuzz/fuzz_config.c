/* tests/fuzz/fuzz_config.c: libFuzzer entry for the guest.toml schema
 * (vmm/config/config.c above the TOML parser).
 * Owns: feeding arbitrary text to config_parse without touching files
 * (check_files = false) and checking its contract: one error line naming
 * the document, nothing left allocated on failure (LeakSanitizer), and on
 * success a config within the documented ranges. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config/config.h"

static void check_ok(const struct vm_config *c)
{
	if (!c->name || c->memory % 4096 || c->memory < CFG_MIN_MEMORY ||
	    c->memory > CFG_MAX_MEMORY || c->vcpus < 1 || c->vcpus > CFG_MAX_VCPUS)
		abort();
	if (!c->firmware_path || !*c->firmware_path)
		abort();
	if ((c->serial == SERIAL_FILE) != (c->serial_path != NULL))
		abort();
	if (c->serial_max_size && c->serial != SERIAL_FILE)
		abort();
	if (c->ndisks > CFG_MAX_DISKS)
		abort();
	for (unsigned i = 0; i < c->ndisks; i++)
		if (!c->disks[i].path || c->disks[i].bootindex < -1 || c->disks[i].bootindex > 0xffff)
			abort();
	for (unsigned i = c->ndisks; i < CFG_MAX_DISKS; i++)
		if (c->disks[i].path)
			abort();
	if (c->api.nuids > CFG_MAX_API_UIDS)
		abort();
	if (c->api.socket && strlen(c->api.socket) >= 108)
		abort();
	if (c->doorbell.max_image_size > CFG_FW_MAX || c->doorbell.max_image_size % 4096)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config cfg;
	char err[512];
	/* an exact-size copy, so reads past the end are caught */
	char *buf = malloc(size ? size : 1);
	static const struct vm_config zero;

	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	if (config_parse(buf, size, "fuzz.toml", "/cfgdir", false, &cfg, err, sizeof(err)) == 0) {
		check_ok(&cfg);
		config_free(&cfg);
	} else {
		/* the error contract: one "NAME:LINE:COL: msg" line */
		if (strncmp(err, "fuzz.toml:", 10) != 0 || strchr(err, '\n'))
			abort();
		/* and nothing left behind (config_free clears what it frees) */
		if (memcmp(&cfg, &zero, sizeof(cfg)))
			abort();
	}
	free(buf);
	return 0;
}
