/* kvmcheck: a small static self-test of /dev/kvm (API version, VM, memslots, a real-mode
 * vCPU doing port I/O, in-kernel irqchip + PIT, read-only slots, triple fault, speed).
 * Used by tests/kvmvm/run.sh --selftest; owns nothing else and touches no project code. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int g_pass, g_fail;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	if (ok)
		g_pass++;
	else
		g_fail++;
}

struct vm {
	int vm, cpu;
	struct kvm_run *run;
	uint8_t *mem;
};

static int g_kvm = -1;
static long g_run_size;

/* Creates a VM with 1 MiB of RAM at GPA 0 (slot 0) and optional in-kernel irqchip + PIT. */
static int vm_open(struct vm *v, int irqchip)
{
	memset(v, 0, sizeof(*v));
	v->vm = ioctl(g_kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0) {
		printf("KVM_CREATE_VM: %s\n", strerror(errno));
		return -1;
	}
	v->mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED)
		return -1;
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = 1 << 20,
		.userspace_addr = (uintptr_t)v->mem,
	};
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		printf("KVM_SET_USER_MEMORY_REGION: %s\n", strerror(errno));
		return -1;
	}
	if (irqchip) {
		if (ioctl(v->vm, KVM_CREATE_IRQCHIP, 0) < 0) {
			printf("KVM_CREATE_IRQCHIP: %s\n", strerror(errno));
			return -1;
		}
		struct kvm_pit_config pit = { .flags = 0 };
		if (ioctl(v->vm, KVM_CREATE_PIT2, &pit) < 0) {
			printf("KVM_CREATE_PIT2: %s\n", strerror(errno));
			return -1;
		}
	}
	v->cpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->cpu < 0) {
		printf("KVM_CREATE_VCPU: %s\n", strerror(errno));
		return -1;
	}
	v->run = mmap(NULL, g_run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->cpu, 0);
	if (v->run == MAP_FAILED)
		return -1;
	return 0;
}

static void vm_close(struct vm *v)
{
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, g_run_size);
	if (v->mem && v->mem != MAP_FAILED)
		munmap(v->mem, 1 << 20);
	if (v->cpu > 0)
		close(v->cpu);
	if (v->vm > 0)
		close(v->vm);
}

/* Real mode, CS:IP = 0:0x1000, DS = ds_sel, flat otherwise; code copied to 0x1000. */
static int vm_load(struct vm *v, const uint8_t *code, size_t len, uint16_t ds_sel, int idt_zero)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	memcpy(v->mem + 0x1000, code, len);
	if (ioctl(v->cpu, KVM_GET_SREGS, &s) < 0)
		return -1;
	s.cs.base = 0;
	s.cs.selector = 0;
	s.ds.base = (uint64_t)ds_sel << 4;
	s.ds.selector = ds_sel;
	if (idt_zero) {
		s.idt.base = 0;
		s.idt.limit = 0;
	}
	if (ioctl(v->cpu, KVM_SET_SREGS, &s) < 0)
		return -1;
	memset(&r, 0, sizeof(r));
	r.rip = 0x1000;
	r.rflags = 0x2;
	r.rsp = 0x8000;
	return ioctl(v->cpu, KVM_SET_REGS, &r);
}

static int vm_run(struct vm *v)
{
	if (ioctl(v->cpu, KVM_RUN, 0) < 0) {
		printf("KVM_RUN: %s\n", strerror(errno));
		return -1;
	}
	return (int)v->run->exit_reason;
}

static int io_is(struct vm *v, uint16_t port, uint8_t val)
{
	return v->run->exit_reason == KVM_EXIT_IO && v->run->io.direction == KVM_EXIT_IO_OUT &&
	       v->run->io.port == port && v->run->io.size == 1 &&
	       *((uint8_t *)v->run + v->run->io.data_offset) == val;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* mov al,'A'; mov dx,0x3f8; out dx,al; hlt */
static const uint8_t code_out[] = { 0xb0, 'A', 0xba, 0xf8, 0x03, 0xee, 0xf4 };

static void test_basic_io(int irqchip)
{
	struct vm v;
	char name[96];
	int ok = vm_open(&v, irqchip) == 0 && vm_load(&v, code_out, sizeof(code_out), 0, 0) == 0;
	snprintf(name, sizeof(name), "real-mode out 0x3f8,'A' -> KVM_EXIT_IO%s",
		 irqchip ? " (irqchip+PIT2)" : "");
	ok = ok && vm_run(&v) == KVM_EXIT_IO && io_is(&v, 0x3f8, 'A');
	check(ok, name);
	if (ok && !irqchip) /* with an in-kernel irqchip, hlt stays in the kernel */
		check(vm_run(&v) == KVM_EXIT_HLT, "hlt -> KVM_EXIT_HLT");
	vm_close(&v);
}

static void test_readonly(void)
{
	struct vm v;
	int ok = vm_open(&v, 0) == 0;
	uint8_t *ro = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!ok || ro == MAP_FAILED) {
		check(0, "read-only memslot setup");
		vm_close(&v);
		return;
	}
	ro[1] = 0x77;
	struct kvm_userspace_memory_region r = {
		.slot = 1, .flags = KVM_MEM_READONLY, .guest_phys_addr = 0x100000,
		.memory_size = 0x1000, .userspace_addr = (uintptr_t)ro,
	};
	int rc = ioctl(v.vm, KVM_SET_USER_MEMORY_REGION, &r);
	check(rc == 0, "KVM_MEM_READONLY slot accepted");
	/* DS = 0xffff (base 0xffff0): [0x11] = 0x100001, [0x10] = 0x100000.
	 * mov al,[0x11]; mov dx,0x3f8; out dx,al; mov byte [0x10],0x5a; hlt */
	static const uint8_t code[] = { 0xa0, 0x11, 0x00, 0xba, 0xf8, 0x03, 0xee,
					0xc6, 0x06, 0x10, 0x00, 0x5a, 0xf4 };
	ok = rc == 0 && vm_load(&v, code, sizeof(code), 0xffff, 0) == 0;
	/* A20 is not gated by KVM, so 0xffff:0x11 really is 0x100001 */
	check(ok && vm_run(&v) == KVM_EXIT_IO && io_is(&v, 0x3f8, 0x77), "read from read-only slot");
	int e = ok ? vm_run(&v) : -1;
	check(e == KVM_EXIT_MMIO && v.run->mmio.is_write && v.run->mmio.phys_addr == 0x100000 &&
		      v.run->mmio.len == 1 && v.run->mmio.data[0] == 0x5a && ro[0] == 0,
	      "write to read-only slot -> KVM_EXIT_MMIO");
	munmap(ro, 0x1000);
	vm_close(&v);
}

static void test_triple_fault(void)
{
	struct vm v;
	static const uint8_t code[] = { 0x0f, 0x0b }; /* ud2 with an empty IDT */
	int ok = vm_open(&v, 0) == 0 && vm_load(&v, code, sizeof(code), 0, 1) == 0;
	int e = ok ? vm_run(&v) : -1;
	if (e != KVM_EXIT_SHUTDOWN)
		printf("  exit reason %d\n", e);
	check(e == KVM_EXIT_SHUTDOWN, "triple fault -> KVM_EXIT_SHUTDOWN");
	vm_close(&v);
}

/* x87 instructions; KVM's instruction emulator lacks them, hardware (or TCG) runs them */
static void test_x87(void)
{
	struct vm v;
	/* mov eax,cr0; and al,0xf3 (clear EM, TS); mov cr0,eax; fninit; fld1; fistp word [0x2000];
	 * fwait; mov al,[0x2000]; add al,'0'; mov dx,0x3f8; out dx,al; hlt */
	static const uint8_t code[] = { 0x0f, 0x20, 0xc0, 0x24, 0xf3, 0x0f, 0x22, 0xc0,
					0xdb, 0xe3, 0xd9, 0xe8, 0xdf, 0x1e, 0x00, 0x20, 0x9b,
					0xa0, 0x00, 0x20, 0x04, '0', 0xba, 0xf8, 0x03, 0xee, 0xf4 };
	int ok = vm_open(&v, 0) == 0 && vm_load(&v, code, sizeof(code), 0, 0) == 0;
	int e = ok ? vm_run(&v) : -1;
	if (e == KVM_EXIT_INTERNAL_ERROR)
		printf("  KVM_EXIT_INTERNAL_ERROR suberror %u\n", v.run->internal.suberror);
	check(e == KVM_EXIT_IO && io_is(&v, 0x3f8, '1'), "x87 fninit/fld1/fistp -> prints '1'");
	vm_close(&v);
}

static void test_speed(uint32_t iters)
{
	struct vm v;
	/* mov ecx,iters; l: dec ecx; jnz l; mov al,'Z'; mov dx,0x3f8; out dx,al; hlt */
	uint8_t code[] = { 0x66, 0xb9, 0, 0, 0, 0, 0x66, 0x49, 0x75, 0xfc,
			   0xb0, 'Z', 0xba, 0xf8, 0x03, 0xee, 0xf4 };
	memcpy(code + 2, &iters, 4);
	int ok = vm_open(&v, 0) == 0 && vm_load(&v, code, sizeof(code), 0, 0) == 0;
	double t0 = now();
	ok = ok && vm_run(&v) == KVM_EXIT_IO && io_is(&v, 0x3f8, 'Z');
	double t = now() - t0;
	check(ok, "dec/jnz loop finished");
	if (ok)
		printf("SPEED: %u iterations (%u instructions) in %.3f s = %.1f M instr/s\n", iters,
		       2 * iters, t, 2.0 * iters / t / 1e6);
	vm_close(&v);
}

static void show_cap(const char *name, int cap)
{
	printf("CAP %s = %d\n", name, ioctl(g_kvm, KVM_CHECK_EXTENSION, cap));
}

int main(int argc, char **argv)
{
	uint32_t iters = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1000000;

	g_kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	check(g_kvm >= 0, "open /dev/kvm");
	if (g_kvm < 0) {
		printf("open /dev/kvm: %s\n", strerror(errno));
		printf("%d passed, %d failed\n", g_pass, g_fail);
		return 1;
	}
	check(ioctl(g_kvm, KVM_GET_API_VERSION, 0) == KVM_API_VERSION, "KVM_GET_API_VERSION == 12");
	g_run_size = ioctl(g_kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	check(g_run_size > 0, "KVM_GET_VCPU_MMAP_SIZE");
	show_cap("IRQCHIP", KVM_CAP_IRQCHIP);
	show_cap("PIT2", KVM_CAP_PIT2);
	show_cap("READONLY_MEM", KVM_CAP_READONLY_MEM);
	show_cap("IOEVENTFD", KVM_CAP_IOEVENTFD);
	show_cap("IRQFD", KVM_CAP_IRQFD);
	show_cap("SPLIT_IRQCHIP", KVM_CAP_SPLIT_IRQCHIP);
	show_cap("NR_VCPUS", KVM_CAP_NR_VCPUS);
	show_cap("NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS);
	show_cap("EXIT_HYPERCALL", 201); /* KVM_CAP_EXIT_HYPERCALL, linux/kvm.h (5.17+) */
	/* linux/kvm.h (6.8+); not in Debian 12's 6.1 headers */
	show_cap("USER_MEMORY2", 231);      /* KVM_CAP_USER_MEMORY2 */
	show_cap("MEMORY_ATTRIBUTES", 233); /* KVM_CAP_MEMORY_ATTRIBUTES */
	show_cap("GUEST_MEMFD", 234);       /* KVM_CAP_GUEST_MEMFD */
	show_cap("VM_TYPES", 235);          /* KVM_CAP_VM_TYPES: bit n = VM type n */
	if (g_run_size > 0) {
		test_basic_io(0);
		test_basic_io(1);
		test_readonly();
		test_triple_fault();
		test_x87();
		test_speed(iters);
	}
	printf("%d passed, %d failed\n", g_pass, g_fail);
	return g_fail ? 1 : 0;
}
