/* tests/model/model.h: a platform model backend (struct hv_ops + struct
 * hv_coco_ops) for tests without /dev/kvm.  It behaves as KVM plus the AMD
 * security processor / Intel TDX module do where a launch can go wrong:
 * command order, page ownership (private/shared, guest_memfd slots), pages
 * launched once, what the firmware rejects, and it computes the SNP launch
 * digest / TDX MRTD itself from the payloads it receives (own SHA-384
 * folding with OpenSSL EVP, not snp/digest.c or tdx/mr.c).  For SNP it
 * builds the VMSAs from the vCPU register state, as KVM does.
 * Test code only: never linked into fukivmm. */
#ifndef FUKI_TEST_MODEL_H
#define FUKI_TEST_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/hv/hv.h"
#include "vmm/hv/hv_coco.h"

extern const struct hv_ops model_ops;

struct model_opts {
	uint64_t vm_types;           /* KVM_CAP_VM_TYPES; default SNP|TDX */
	bool no_guest_memfd;         /* pretend KVM lacks guest_memfd */
	uint64_t vmsa_features;      /* KVM_X86_SEV_VMSA_FEATURES; default 0x220 */
	unsigned update_chunk;       /* SNP pages per LAUNCH_UPDATE call (0 = all) */
	unsigned eagain_every;       /* SNP: every Nth LAUNCH_UPDATE fails EAGAIN */
	uint32_t cpuid_reject_leaf;  /* SNP firmware clears EDX of this leaf in the
	                                CPUID page and rejects a page that has it */
	bool tdx_two_pass;           /* legacy KVM MRTD order */
	unsigned tdx_chunk;          /* TDX pages per INIT_MEM_REGION call (0 = all);
	                                a short call returns EINTR with progress */
	unsigned idle_wait_us;       /* vcpu_run with no queued exit waits this long
	                                for one (or a kick) before it returns
	                                HV_EXIT_INTR (0: returns at once) */
	uint16_t boot_out_port;      /* nonzero: every vCPU 0 created has a one-byte
	                                write of boot_out_byte to this port queued,
	                                a guest that writes as soon as it runs */
	uint8_t boot_out_byte;
};
void model_opts_default(struct model_opts *o);
/* Options for the next model_ops.open(). */
void model_set_opts(const struct model_opts *o);

/* The last thing the model refused, as one line ("" if none). */
const char *model_last_error(void);

/* Launch results */
bool model_vm_launched(struct hv_vm *vm);          /* LAUNCH_FINISH / FINALIZE done */
int model_vm_snp_digest(struct hv_vm *vm, uint8_t out[48]);
int model_vm_tdx_mrtd(struct hv_vm *vm, uint8_t out[48]);
const uint8_t *model_vm_vmsa(struct hv_vm *vm, unsigned index);   /* built at FINISH */
const uint8_t *model_vm_host_data(struct hv_vm *vm);
uint64_t model_vm_policy(struct hv_vm *vm);
uint64_t model_vm_vmsa_features(struct hv_vm *vm);   /* INIT2 argument */
uint64_t model_vm_exit_hypercall(struct hv_vm *vm);  /* enabled mask */
unsigned model_vm_cpuid_rejections(struct hv_vm *vm);
unsigned model_vm_gmem_count(struct hv_vm *vm);
bool model_vm_split_irqchip(struct hv_vm *vm);

/* Memory view */
bool model_vm_is_private(struct hv_vm *vm, uint64_t gpa);
/* The guest_memfd page behind @gpa holds data (populated, not punched). */
bool model_vm_gmem_populated(struct hv_vm *vm, uint64_t gpa);
bool model_vm_page_launched(struct hv_vm *vm, uint64_t gpa);

/* vCPUs */
uint64_t model_vcpu_tdx_rcx(struct hv_vcpu *vcpu);
/* Queue an exit vcpu_run will return; the pointers the handler writes
 * through (hypercall.ret, tdx.ret/out, ...) are set by the model.  Safe
 * against a vCPU thread running the vCPU.  Returns the exit's sequence
 * number (from 1), 0 if the queue is full. */
uint64_t model_vcpu_push_exit(struct hv_vcpu *vcpu, const struct hv_exit *ex);
/* Wait until the VMM has handled exit @seq of @vcpu (its thread came back
 * into vcpu_run after taking it): 0, or -ETIMEDOUT after @timeout_ms. */
int model_vcpu_wait_handled(struct hv_vcpu *vcpu, uint64_t seq, unsigned timeout_ms);
/* What the VMM wrote back for the last exit, as KVM would read it on the
 * next KVM_RUN: ret and the 5 output values. */
uint64_t model_vcpu_last_ret(struct hv_vcpu *vcpu);
const uint64_t *model_vcpu_last_out(struct hv_vcpu *vcpu);

/* Raw commands for negative tests (bypass the launchers). */
struct hv_vm *model_last_vm(void);

#endif
