/* vmm/cli/smbios.h: the `fukivmm smbios` subcommand, and the CHIDs of a
 * configuration's SMBIOS tables, which `fukivmm uki` shares. */
#ifndef FUKI_CLI_SMBIOS_H
#define FUKI_CLI_SMBIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/chid.h"
#include "loader/smbios.h"
#include "vmm/config/config.h"

/* argv[0] = "smbios": dump | chids.  Exit 0 ok, 2 usage or input error. */
int smbios_cli_main(int argc, char **argv);

/* CHIDs of a structure table, plus the fields (with the fwupd-style
 * enclosure type for showing type 12). */
struct chid_view {
	struct smbios_info info;
	struct chid_fields f;           /* as sd-stub: no enclosure, no EDID */
	struct chid_set set;            /* sd-stub's CHIDs */
	struct chid t12;                /* type 12 as fwupd/Windows compute it */
	bool t12_valid;
};

/* The structure table of @cfg into @b: 0, or the usage status with
 * "fukivmm CMD: ..." printed. */
int smbios_cli_tables(const char *cmd, const struct vm_config *cfg, struct smbios_blob *b);
/* The CHID view of @tab: 0 or -EIO.  Free with chid_fields_free(&v->f). */
int chid_view_build(const uint8_t *tab, size_t len, struct chid_view *v);

#endif
