/* tests/guest/triple.c: triple.rom.  Boot 1 loads an IDT with limit 0 and
 * raises #UD (-> #GP -> #DF -> triple fault -> reset); boot 2 prints
 * "triple fault reset ok" and PASSes.  Uses the main RAM boot counter. */
#include "rt.h"

void guest_main(void)
{
	uint32_t n = bootrec_advance(BOOTREC_MAIN, NULL);

	if (n == 1) {
		gputs("guest: hello from triple\n");
		gputs("triple: boot 1, faulting\n");
		bootrec_set_method(BOOTREC_MAIN, RESET_TRIPLE);
		reset_triple();
	}
	if (n == 2) {
		gputs("triple fault reset ok\n");
		guest_pass();
	}
	guest_fail("triple: unexpected boot %u", n);
}
