/* tests/fuzz/fuzz_uki.c: arbitrary bytes as a UKI (loader/uki.c: PE
 * headers, section table, every .efifw header, the .hwids table and the
 * firmware choice), and as bare .efifw / .hwids / SMBIOS table contents.
 * Nothing here may read out of bounds, leak or abort. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/smbios.h"
#include "loader/chid.h"
#include "loader/uki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chid_set m;
	struct uki u;
	struct uki_choice c;
	struct uki_efifw f;
	struct uki_hwid *hw = NULL;
	unsigned n;
	const char *why;
	char err[256];
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	/* an exact-size heap copy so ASan sees every overread */
	memcpy(copy, data, size);
	memset(&m, 0, sizeof(m));
	for (unsigned t = 0; t < 15; t++) {
		memset(m.id[t].b, 0x40 + t, 16);
		m.valid[t] = true;
	}
	if (uki_parse(copy, size, &u, err, sizeof(err)) == 0) {
		for (unsigned i = 0; i < u.nfw; i++)
			if (u.fw[i].valid && strlen(u.fw[i].fwid) + 1 != u.fw[i].fwid_len)
				abort();
		for (unsigned i = 0; i < u.nhw; i++) {
			if (u.hw[i].name)
				(void)strlen(u.hw[i].name);
			if (u.hw[i].str)
				(void)uki_find_fwid(&u, u.hw[i].str);
		}
		if (uki_select(&u, &m, &c) == 1 && (c.efifw < 0 || (unsigned)c.efifw >= u.nfw))
			abort();
		uki_free(&u);
	}
	(void)uki_efifw_parse(copy, size, &f);
	(void)uki_hwids_parse(copy, size, &hw, &n, &why);
	free(hw);
	(void)chid_from_smbios_table(copy, size, &m);
	free(copy);
	return 0;
}
