/* tests/guest/idle.c: idle.rom: prints "idle: ready" (with its boot count)
 * and halts with interrupts off, forever: a guest that neither exits nor
 * burns host CPU (with an in-kernel irqchip, such a hlt never leaves KVM).
 * The control-socket tests stop it from the host. */
#include "rt.h"

void guest_main(void)
{
	uint32_t n = bootrec_advance(BOOTREC_MAIN, NULL);

	gprintf("idle: ready, boot %u\n", n);
	for (;;)
		__asm__ volatile("cli; hlt");
}
