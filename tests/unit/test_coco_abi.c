/* tests/unit/test_coco_abi.c: sizes, offsets and ioctl numbers of the
 * confidential-guest KVM ABI in vmm/hv/kvm_coco_abi.h, against the values
 * printed from Linux 7.2 headers (kvm-coco-abi.md section 2).  Compile-time
 * asserts catch a wrong header at build; the runtime asserts report which
 * value is off. */
#include <criterion/criterion.h>

#include <stddef.h>

#include "vmm/hv/kvm_coco_abi.h"

#define SA(c) _Static_assert(c, #c)

SA(sizeof(struct kvm_userspace_memory_region2) == 160);
SA(offsetof(struct kvm_userspace_memory_region2, guest_memfd_offset) == 32);
SA(offsetof(struct kvm_userspace_memory_region2, guest_memfd) == 40);
SA(offsetof(struct kvm_userspace_memory_region2, pad2) == 48);
SA(sizeof(struct kvm_create_guest_memfd) == 64);
SA(sizeof(struct kvm_memory_attributes) == 32);
SA(sizeof(struct kvm_pre_fault_memory) == 64);
SA(sizeof(struct kvm_sev_cmd) == 24);
SA(offsetof(struct kvm_sev_cmd, data) == 8);
SA(offsetof(struct kvm_sev_cmd, error) == 16);
SA(offsetof(struct kvm_sev_cmd, sev_fd) == 20);
SA(sizeof(struct kvm_sev_init) == 48);
SA(offsetof(struct kvm_sev_init, ghcb_version) == 12);
SA(sizeof(struct kvm_sev_snp_launch_start) == 64);
SA(offsetof(struct kvm_sev_snp_launch_start, flags) == 24);
SA(sizeof(struct kvm_sev_snp_launch_update) == 64);
SA(offsetof(struct kvm_sev_snp_launch_update, type) == 24);
SA(offsetof(struct kvm_sev_snp_launch_update, flags) == 26);
SA(sizeof(struct kvm_sev_snp_launch_finish) == 88);
SA(offsetof(struct kvm_sev_snp_launch_finish, host_data) == 19);
SA(offsetof(struct kvm_sev_snp_launch_finish, flags) == 54);
SA(sizeof(struct kvm_tdx_cmd) == 24);
SA(offsetof(struct kvm_tdx_cmd, hw_error) == 16);
SA(sizeof(struct kvm_tdx_capabilities) == 2056);
SA(offsetof(struct kvm_tdx_capabilities, cpuid) == 2048);
SA(sizeof(struct kvm_tdx_init_vm) == 264);
SA(offsetof(struct kvm_tdx_init_vm, mrowner) == 64);
SA(offsetof(struct kvm_tdx_init_vm, cpuid) == 256);
SA(sizeof(struct kvm_tdx_init_mem_region) == 24);
SA(sizeof(struct kvm_enable_cap) == 104);
SA(sizeof(struct kvm_cpuid_entry2) == 40);
SA(offsetof(struct kvm_run, mmio) == FUKI_RUN_EXIT_UNION_OFFSET);
SA(offsetof(struct kvm_run, exit_reason) == 8);
SA(sizeof(struct fuki_run_hypercall) == 72);
SA(FUKI_RUN_EXIT_UNION_OFFSET + offsetof(struct fuki_run_hypercall, ret) == 88);
SA(FUKI_RUN_EXIT_UNION_OFFSET + offsetof(struct fuki_run_hypercall, flags) == 96);
SA(FUKI_RUN_EXIT_UNION_OFFSET + offsetof(struct fuki_run_tdx, ret) == 48);
SA(FUKI_RUN_EXIT_UNION_OFFSET + offsetof(struct fuki_run_tdx, data) + 4 * 8 == 88);
SA(FUKI_RUN_EXIT_UNION_OFFSET + offsetof(struct fuki_run_memory_fault, size) == 48);
SA(FUKI_RUN_EXIT_UNION_OFFSET + offsetof(struct fuki_run_snp_req_certs, ret) == 48);

Test(coco_abi, ioctl_numbers)
{
	cr_assert_eq(KVM_SET_USER_MEMORY_REGION2, 0x40A0AE49UL);
	cr_assert_eq(KVM_SET_MEMORY_ATTRIBUTES, 0x4020AED2UL);
	cr_assert_eq(KVM_CREATE_GUEST_MEMFD, 0xC040AED4UL);
	cr_assert_eq(KVM_PRE_FAULT_MEMORY, 0xC040AED5UL);
	cr_assert_eq(KVM_MEMORY_ENCRYPT_OP, 0xC008AEBAUL);
	cr_assert_eq(KVM_ENABLE_CAP, 0x4068AEA3UL);
	cr_assert_eq(KVM_SET_CPUID2, 0x4008AE90UL);
	cr_assert_eq(KVM_GET_DEVICE_ATTR, 0x4018AEE2UL);
	cr_assert_eq(KVM_CREATE_VM, 0xAE01UL);
}

Test(coco_abi, constants)
{
	cr_assert_eq(KVM_MEM_GUEST_MEMFD, 4);
	cr_assert_eq(KVM_MEMORY_ATTRIBUTE_PRIVATE, 8);
	cr_assert_eq(KVM_CAP_USER_MEMORY2, 231);
	cr_assert_eq(KVM_CAP_MEMORY_ATTRIBUTES, 233);
	cr_assert_eq(KVM_CAP_GUEST_MEMFD, 234);
	cr_assert_eq(KVM_CAP_VM_TYPES, 235);
	cr_assert_eq(KVM_CAP_EXIT_HYPERCALL, 201);
	cr_assert_eq(KVM_CAP_SPLIT_IRQCHIP, 121);
	cr_assert_eq(KVM_CAP_X86_APIC_BUS_CYCLES_NS, 237);
	cr_assert_eq(KVM_X86_SNP_VM, 4);
	cr_assert_eq(KVM_X86_TDX_VM, 5);
	cr_assert_eq(KVM_EXIT_HYPERCALL, 3);
	cr_assert_eq(KVM_EXIT_MEMORY_FAULT, 39);
	cr_assert_eq(KVM_EXIT_TDX, 40);
	cr_assert_eq(KVM_EXIT_SNP_REQ_CERTS, 43);
	cr_assert_eq(KVM_MEMORY_EXIT_FLAG_PRIVATE, 8);
	cr_assert_eq(KVM_SYSTEM_EVENT_SEV_TERM, 6);
	cr_assert_eq(KVM_SYSTEM_EVENT_TDX_FATAL, 7);
	cr_assert_eq(KVM_HC_MAP_GPA_RANGE, 12);
	cr_assert_eq(KVM_MAP_GPA_RANGE_ENCRYPTED, 0x10);
	cr_assert_eq(KVM_X86_GRP_SEV, 1);
	cr_assert_eq(FUKI_SEV_INIT2, 22);
	cr_assert_eq(FUKI_SEV_SNP_LAUNCH_START, 100);
	cr_assert_eq(FUKI_SEV_SNP_LAUNCH_UPDATE, 101);
	cr_assert_eq(FUKI_SEV_SNP_LAUNCH_FINISH, 102);
	cr_assert_eq(FUKI_TDX_INIT_MEM_REGION, 3);
	cr_assert_eq(FUKI_TDX_FINALIZE_VM, 4);
	cr_assert_eq(FUKI_SNP_PAGE_CPUID, 6);
	cr_assert_eq(KVM_TDX_MEASURE_MEMORY_REGION, 1);
}

Test(coco_abi, layouts_at_run_time)
{
	struct kvm_run run;
	struct fuki_run_tdx *t = (struct fuki_run_tdx *)&run.mmio;
	struct fuki_run_hypercall *h = (struct fuki_run_hypercall *)&run.mmio;

	cr_assert_eq((char *)&t->ret - (char *)&run, 48);
	cr_assert_eq((char *)&h->ret - (char *)&run, 88);
	cr_assert_eq((char *)&h->ret - (char *)&run, (char *)&run.hypercall.ret - (char *)&run);
	cr_assert_eq((char *)&h->args[0] - (char *)&run, (char *)&run.hypercall.args[0] - (char *)&run);
	cr_assert_eq(offsetof(struct kvm_sev_snp_launch_finish, pad1), 56);
	cr_assert_eq(offsetof(struct kvm_tdx_init_vm, reserved), 160);
	cr_assert_eq(offsetof(struct kvm_userspace_memory_region2, userspace_addr), 24);
	cr_assert_eq(offsetof(struct kvm_create_guest_memfd, reserved), 16);
	cr_assert_eq(offsetof(struct kvm_memory_attributes, flags), 24);
	cr_assert_eq(offsetof(struct kvm_tdx_capabilities, user_tdvmcallinfo_1_r12), 40);
}
