/* vmm/hv/cpuid.c: per-vCPU CPUID from KVM's supported list (see cpuid.h). */
#include "vmm/hv/cpuid.h"

#include <stdlib.h>
#include <string.h>

struct kvm_cpuid2 *cpuid_copy_for_vcpu(const struct kvm_cpuid2 *sup, unsigned index,
				       unsigned nvcpus)
{
	size_t sz = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);

	if (!c)
		return NULL;
	memcpy(c, sup, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* EBX[31:24] initial APIC ID, [23:16] logical processors */
			e->ebx = (e->ebx & 0x0000ffff) | (index << 24) | ((nvcpus & 0xff) << 16);
			if (nvcpus > 1)
				e->edx |= 1u << 28;   /* HTT: EBX[23:16] valid */
			break;
		case 0xb:
		case 0x1f:
			e->edx = index;       /* x2APIC ID */
			break;
		}
	}
	return c;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == fn &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == idx))
			return e;
	}
	return NULL;
}
