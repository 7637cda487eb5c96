/* vmm/hv/kvm_coco_abi.h: the KVM confidential-guest ABI that Debian 12's 6.1
 * <linux/kvm.h> lacks (guest_memfd, memory attributes, VM types, SEV INIT2,
 * SNP launch, TDX, the new kvm_run exits).  Owns definitions only; each one
 * is guarded so that newer system headers win (with identical values), and
 * each cites its source.  Values: Linux 7.2 include/uapi/linux/kvm.h and
 * arch/x86/include/uapi/asm/kvm.h (checked equal in 6.16); layout checks in
 * tests/unit/test_coco_abi.c.  Nothing here issues an ioctl. */
#ifndef FUKI_KVM_COCO_ABI_H
#define FUKI_KVM_COCO_ABI_H

#include <linux/ioctl.h>
#include <linux/kvm.h>
#include <linux/types.h>

/* ---- guest_memfd, REGION2, memory attributes, memory-fault exit ----
 * include/uapi/linux/kvm.h (Linux 6.8+); sentinel KVM_SET_USER_MEMORY_REGION2 */
#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};
struct kvm_memory_attributes {
	__u64 address;
	__u64 size;
	__u64 attributes;
	__u64 flags;
};
struct kvm_create_guest_memfd {
	__u64 size;
	__u64 flags;
	__u64 reserved[6];
};
#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#define KVM_MEM_GUEST_MEMFD (1UL << 2)
#define KVM_SET_MEMORY_ATTRIBUTES _IOW(KVMIO, 0xd2, struct kvm_memory_attributes)
#define KVM_MEMORY_ATTRIBUTE_PRIVATE (1ULL << 3)
#define KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd)
#define KVM_CAP_USER_MEMORY2 231
#define KVM_CAP_MEMORY_FAULT_INFO 232
#define KVM_CAP_MEMORY_ATTRIBUTES 233
#define KVM_CAP_GUEST_MEMFD 234
#define KVM_CAP_VM_TYPES 235
#define KVM_EXIT_MEMORY_FAULT 39
#define KVM_MEMORY_EXIT_FLAG_PRIVATE (1ULL << 3)
#endif

/* pre-fault (6.11): include/uapi/linux/kvm.h */
#ifndef KVM_PRE_FAULT_MEMORY
struct kvm_pre_fault_memory {
	__u64 gpa;
	__u64 size;
	__u64 flags;
	__u64 padding[5];
};
#define KVM_PRE_FAULT_MEMORY _IOWR(KVMIO, 0xd5, struct kvm_pre_fault_memory)
#define KVM_CAP_PRE_FAULT_MEMORY 236
#endif

/* ---- VM types: arch/x86/include/uapi/asm/kvm.h ---- */
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM 0
#define KVM_X86_SW_PROTECTED_VM 1
#endif

/* SEV VM types, INIT2 and the SEV device-attribute group (6.10) */
#ifndef KVM_X86_SEV_VM
#define KVM_X86_SEV_VM 2
#define KVM_X86_SEV_ES_VM 3
#define KVM_X86_GRP_SEV 1
#define KVM_X86_SEV_VMSA_FEATURES 0
struct kvm_sev_init {
	__u64 vmsa_features;
	__u32 flags;
	__u16 ghcb_version;
	__u16 pad1;
	__u32 pad2[8];
};
#endif

/* SNP (6.11): arch/x86/include/uapi/asm/kvm.h */
#ifndef KVM_X86_SNP_VM
#define KVM_X86_SNP_VM 4
struct kvm_sev_snp_launch_start {
	__u64 policy;
	__u8 gosvw[16];
	__u16 flags;
	__u8 pad0[6];
	__u64 pad1[4];
};
struct kvm_sev_snp_launch_update {
	__u64 gfn_start;
	__u64 uaddr;
	__u64 len;
	__u8 type;
	__u8 pad0;
	__u16 flags;
	__u32 pad1;
	__u64 pad2[4];
};
#define KVM_SEV_SNP_ID_BLOCK_SIZE 96
#define KVM_SEV_SNP_ID_AUTH_SIZE 4096
#define KVM_SEV_SNP_FINISH_DATA_SIZE 32
struct kvm_sev_snp_launch_finish {
	__u64 id_block_uaddr;
	__u64 id_auth_uaddr;
	__u8 id_block_en;
	__u8 auth_key_en;
	__u8 vcek_disabled;
	__u8 host_data[KVM_SEV_SNP_FINISH_DATA_SIZE];
	__u8 pad0[3];
	__u16 flags;
	__u64 pad1[4];
};
#endif

/* KVM_CAP_X86_APIC_BUS_CYCLES_NS (6.11) and TDX (6.16):
 * include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h */
#ifndef KVM_CAP_X86_APIC_BUS_CYCLES_NS
#define KVM_CAP_X86_APIC_BUS_CYCLES_NS 237
#endif
#ifndef KVM_X86_TDX_VM
#define KVM_X86_TDX_VM 5
#define KVM_EXIT_TDX 40
#define KVM_SYSTEM_EVENT_TDX_FATAL 7
struct kvm_tdx_cmd {
	__u32 id;
	__u32 flags;
	__u64 data;
	__u64 hw_error;
};
struct kvm_tdx_capabilities {
	__u64 supported_attrs;
	__u64 supported_xfam;
	__u64 kernel_tdvmcallinfo_1_r11;
	__u64 user_tdvmcallinfo_1_r11;
	__u64 kernel_tdvmcallinfo_1_r12;
	__u64 user_tdvmcallinfo_1_r12;
	__u64 reserved[250];
	struct kvm_cpuid2 cpuid;   /* flexible tail (GNU extension, see §1.5) */
};
struct kvm_tdx_init_vm {
	__u64 attributes;
	__u64 xfam;
	__u64 mrconfigid[6];
	__u64 mrowner[6];
	__u64 mrownerconfig[6];
	__u64 reserved[12];
	struct kvm_cpuid2 cpuid;
};
#define KVM_TDX_MEASURE_MEMORY_REGION (1UL << 0)
struct kvm_tdx_init_mem_region {
	__u64 source_addr;
	__u64 gpa;
	__u64 nr_pages;
};
#endif

/* Hypercall exit details: include/uapi/linux/kvm.h (newer headers turn
 * `longmode` into a union with `flags` at the same offset). */
#ifndef KVM_EXIT_HYPERCALL_LONG_MODE
#define KVM_EXIT_HYPERCALL_LONG_MODE (1ULL << 0)
#endif
/* arch/x86/include/uapi/asm/kvm_para.h; hypercall number in linux/kvm_para.h */
#ifndef KVM_HC_MAP_GPA_RANGE
#define KVM_HC_MAP_GPA_RANGE 12
#endif
#ifndef KVM_MAP_GPA_RANGE_ENCRYPTED
#define KVM_MAP_GPA_RANGE_PAGE_SZ_4K 0
#define KVM_MAP_GPA_RANGE_PAGE_SZ_2M (1 << 0)
#define KVM_MAP_GPA_RANGE_PAGE_SZ_1G (1 << 1)
#define KVM_MAP_GPA_RANGE_ENC_STAT(n) ((n) << 4)
#define KVM_MAP_GPA_RANGE_ENCRYPTED KVM_MAP_GPA_RANGE_ENC_STAT(1)
#define KVM_MAP_GPA_RANGE_DECRYPTED KVM_MAP_GPA_RANGE_ENC_STAT(0)
#endif
#ifndef KVM_SYSTEM_EVENT_SEV_TERM
#define KVM_SYSTEM_EVENT_SEV_TERM 6
#endif

/* SNP certificate request exit (about Linux 7.0; api.rst KVM_EXIT_SNP_REQ_CERTS) */
#ifndef KVM_EXIT_SNP_REQ_CERTS
#define KVM_EXIT_SNP_REQ_CERTS 43
#define KVM_X86_SEV_SNP_REQ_CERTS 2
#endif

/* ---- command ids: enumerators cannot be tested by the preprocessor and
 * 6.1's `enum sev_cmd_id` must not be redefined, so project names carry the
 * ABI numbers (arch/x86/include/uapi/asm/kvm.h enum sev_cmd_id and
 * enum kvm_tdx_cmd_id; kvm-coco-abi.md 2.5/2.6). ---- */
enum {
	FUKI_SEV_INIT2 = 22,
	FUKI_SEV_SNP_LAUNCH_START = 100,
	FUKI_SEV_SNP_LAUNCH_UPDATE = 101,
	FUKI_SEV_SNP_LAUNCH_FINISH = 102,
	FUKI_SEV_SNP_ENABLE_REQ_CERTS = 103,
};
enum {
	FUKI_TDX_CAPABILITIES = 0,
	FUKI_TDX_INIT_VM = 1,
	FUKI_TDX_INIT_VCPU = 2,
	FUKI_TDX_INIT_MEM_REGION = 3,
	FUKI_TDX_FINALIZE_VM = 4,
	FUKI_TDX_GET_CPUID = 5,
};
/* SNP page types (KVM_SEV_SNP_PAGE_TYPE_*, the firmware's PAGE_TYPE values) */
enum {
	FUKI_SNP_PAGE_NORMAL = 1,
	FUKI_SNP_PAGE_VMSA = 2,
	FUKI_SNP_PAGE_ZERO = 3,
	FUKI_SNP_PAGE_UNMEASURED = 4,
	FUKI_SNP_PAGE_SECRETS = 5,
	FUKI_SNP_PAGE_CPUID = 6,
};
/* SEV firmware status INVALID_PARAM (include/uapi/linux/psp-sev.h SEV_RET_*) */
#define FUKI_SEV_RET_INVALID_PARAM 0x16
/* SNP policy bit 17: reserved, must be one (include/linux/psp-sev.h) */
#define FUKI_SNP_POLICY_RSVD_MBO (1ULL << 17)
/* VMSA SEV_FEATURES bit 0 (arch/x86/include/asm/svm.h SVM_SEV_FEAT_SNP_ACTIVE) */
#define FUKI_SEV_FEAT_SNP_ACTIVE (1ULL << 0)

/* TDVMCALL leaves and status codes (arch/x86/include/asm/shared/tdx.h) */
#define FUKI_TDVMCALL_GET_TD_VM_CALL_INFO 0x10000ULL
#define FUKI_TDVMCALL_MAP_GPA 0x10001ULL
#define FUKI_TDVMCALL_GET_QUOTE 0x10002ULL
#define FUKI_TDVMCALL_REPORT_FATAL_ERROR 0x10003ULL
#define FUKI_TDVMCALL_SETUP_EVENT_NOTIFY 0x10004ULL
#define FUKI_TDVMCALL_STATUS_SUCCESS 0ULL
#define FUKI_TDVMCALL_STATUS_RETRY 1ULL
#define FUKI_TDVMCALL_STATUS_INVALID_OPERAND 0x8000000000000000ULL
#define FUKI_TDVMCALL_STATUS_ALIGN_ERROR 0x8000000000000002ULL
#define FUKI_TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED 0x8000000000000003ULL
/* GetQuote buffer status (QEMU target/i386/kvm/tdx-quote-generator.h) */
#define FUKI_TDX_QUOTE_STATUS_SUCCESS 0ULL
#define FUKI_TDX_QUOTE_STATUS_ERROR 0x8000000000000000ULL
#define FUKI_TDX_QUOTE_STATUS_QGS_UNAVAILABLE 0x8000000000000001ULL

/* ---- kvm_run exit overlays.  6.1's struct kvm_run lacks these union
 * members; the union starts at byte 32 in every version, so read them at
 * &run->mmio (kvm-coco-abi.md 1.3 and 2.7). ---- */
struct fuki_run_memory_fault {      /* KVM_EXIT_MEMORY_FAULT */
	__u64 flags;
	__u64 gpa;
	__u64 size;
};
struct fuki_run_hypercall {         /* KVM_EXIT_HYPERCALL */
	__u64 nr;
	__u64 args[6];
	__u64 ret;
	__u64 flags;                /* 6.1: __u32 longmode, __u32 pad */
};
struct fuki_run_tdx {               /* KVM_EXIT_TDX */
	__u64 flags;
	__u64 nr;
	__u64 ret;                  /* union at 48: ret then 5 values */
	__u64 data[5];
};
struct fuki_run_snp_req_certs {     /* KVM_EXIT_SNP_REQ_CERTS */
	__u64 gpa;
	__u64 npages;
	__u64 ret;
};
#define FUKI_RUN_EXIT_UNION_OFFSET 32

#endif
