/* tests/guest/probe.c: probe.rom.  Does the host's /dev/kvm run guest code
 * the way the integration tests need?  tests/kvmvm/probe.sh runs it (next to
 * irq.rom, which covers interrupt delivery) before choosing where the KVM
 * tests run.  It executes, in protected mode entered from the ROM, the
 * instruction groups the test guests and Linux rely on and that an
 * emulating KVM is known to lack: x87 (fninit/fnstsw/fld1), SSE with
 * OSFXSR (fxsave, movaps, xorps), cpuid, rdtsc and a string move.
 * PASS (status 65) when every one ran and gave the right answer. */
#include "rt.h"

static uint8_t fxarea[512] __attribute__((aligned(16)));
static uint32_t sse_buf[4] __attribute__((aligned(16))) = { 1, 2, 3, 4 };

void guest_main(void)
{
	uint32_t cr0, cr4, eax, ebx, ecx, edx;
	uint16_t fsw = 0xffff;
	uint32_t lo1, hi1, lo2, hi2;

	/* x87: clear EM and TS, set MP and NE, then initialise the FPU */
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = (cr0 & ~((1u << 2) | (1u << 3))) | (1u << 1) | (1u << 5);
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
	__asm__ volatile("fninit; fnstsw %0" : "=m"(fsw));
	if (fsw != 0)
		guest_fail("probe: x87 status word 0x%x after fninit\n", fsw);
	__asm__ volatile("fld1; fstp %%st(0); fwait" : : : "memory");

	/* SSE: OSFXSR and OSXMMEXCPT, then fxsave and a vector round trip */
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= (1u << 9) | (1u << 10);
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	__asm__ volatile("fxsave %0" : "=m"(fxarea));
	__asm__ volatile("movaps %0, %%xmm0; xorps %%xmm1, %%xmm1; orps %%xmm0, %%xmm1;"
			 "movaps %%xmm1, %0" : "+m"(sse_buf) : : "memory");
	if (sse_buf[0] != 1 || sse_buf[3] != 4)
		guest_fail("probe: SSE round trip gave %u..%u\n", sse_buf[0], sse_buf[3]);

	/* cpuid, rdtsc, rep movsb */
	__asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0), "c"(0));
	if (eax == 0)
		guest_fail("probe: cpuid leaf 0 reports no leaves\n");
	__asm__ volatile("rdtsc" : "=a"(lo1), "=d"(hi1));
	__asm__ volatile("rdtsc" : "=a"(lo2), "=d"(hi2));
	if (((uint64_t)hi2 << 32 | lo2) < ((uint64_t)hi1 << 32 | lo1))
		guest_fail("probe: rdtsc went backwards\n");
	{
		char src[16] = "probe-movsb-ok", dst[16];
		void *d = dst;
		const void *s = src;
		size_t n = sizeof(src);
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
		if (memcmp(dst, src, sizeof(src)) != 0)
			guest_fail("probe: rep movsb copied the wrong bytes\n");
	}
	gprintf("probe: x87, SSE, cpuid, rdtsc, movsb ok\n");
	guest_pass();
}
