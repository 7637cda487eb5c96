/* tests/bench/kvmfloor.c: the physical floor of a start-up or a rebuild:
 * what the KVM calls themselves cost on this host, with nothing of fukivmm
 * around them.  Each round builds a VM the way fukivmm does for a one-byte
 * firmware (RAM and ROM memslots, then the in-kernel irqchip and PIT, one
 * vCPU), runs it to its first I/O exit (`out 0xf4, al`), and closes it.
 * Prints one line per step: "STEP MEDIAN_MS P90_MS" over ROUNDS rounds,
 * and "total" for the sum per round.  Then "io_exit": one more round trip
 * of a running vCPU, KVM_RUN to the next `out` of the guest's loop and back
 * (the mean of IO_EXITS of them per round): what each port I/O of a guest
 * costs at the least, whichever VMM serves it; not part of "total".
 *
 *   kvmfloor [ROUNDS] [RAM_MIB]          (defaults: 50, 64)
 *
 * Built by tests/bench/bench_floor.sh and bench_reset.sh.  Needs /dev/kvm. */
#define _GNU_SOURCE
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

enum { S_CREATE_VM, S_MEMSLOTS, S_IRQCHIP_PIT, S_CREATE_VCPU, S_FIRST_RUN, S_CLOSE, S_TOTAL,
       S_IO_EXIT, NSTEPS };
static const char *const step_name[NSTEPS] = {
	"create_vm", "memslots", "irqchip_pit", "create_vcpu", "first_run", "close", "total",
	"io_exit",
};
#define IO_EXITS 50

static void die(const char *what)
{
	fprintf(stderr, "kvmfloor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void run_to_io(int cpu, struct kvm_run *run)
{
	do {
		if (ioctl(cpu, KVM_RUN, 0) && errno != EINTR)
			die("KVM_RUN");
	} while (run->exit_reason == KVM_EXIT_INTR);
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0xf4) {
		fprintf(stderr, "kvmfloor: exit %u, not the I/O write\n", run->exit_reason);
		exit(1);
	}
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}


int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 50;
	size_t ram = (size_t)(argc > 2 ? atoi(argv[2]) : 64) << 20, rom = 64 << 10;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	double *t[NSTEPS];
	long run_size;

	if (rounds < 1 || ram == 0)
		return 2;
	if (kvm < 0)
		die("/dev/kvm");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	for (int s = 0; s < NSTEPS; s++)
		if (!(t[s] = calloc((size_t)rounds, sizeof(double))))
			return 1;
	/* guest memory is set up once: its cost is not KVM's */
	uint8_t *mem = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *fw = mmap(NULL, rom, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED || fw == MAP_FAILED)
		die("mmap");
	/* at the reset vector (0xfffffff0, the top of the ROM): mov al, 0x41;
	 * 1: out 0xf4, al; jmp 1b */
	static const uint8_t code[] = { 0xb0, 0x41, 0xe6, 0xf4, 0xeb, 0xfc };

	memset(fw, 0xf4, rom);
	memcpy(fw + rom - 16, code, sizeof(code));
	for (int i = 0; i < rounds; i++) {
		double a = now_ms(), b;
		int vm = ioctl(kvm, KVM_CREATE_VM, 0), cpu;

		if (vm < 0)
			die("KVM_CREATE_VM");
		b = now_ms();
		t[S_CREATE_VM][i] = b - a;
		a = b;
		struct kvm_userspace_memory_region r0 = {
			.slot = 0, .guest_phys_addr = 0, .memory_size = ram,
			.userspace_addr = (unsigned long)mem,
		};
		struct kvm_userspace_memory_region r1 = {
			.slot = 1, .flags = KVM_MEM_READONLY, .guest_phys_addr = (1ULL << 32) - rom,
			.memory_size = rom, .userspace_addr = (unsigned long)fw,
		};
		if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r0) || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r1))
			die("KVM_SET_USER_MEMORY_REGION");
		b = now_ms();
		t[S_MEMSLOTS][i] = b - a;
		a = b;
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

		if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) || ioctl(vm, KVM_CREATE_IRQCHIP, 0) ||
		    ioctl(vm, KVM_CREATE_PIT2, &pit))
			die("irqchip/PIT");
		b = now_ms();
		t[S_IRQCHIP_PIT][i] = b - a;
		a = b;
		cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
		if (cpu < 0)
			die("KVM_CREATE_VCPU");
		struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);

		if (run == MAP_FAILED)
			die("mmap kvm_run");
		b = now_ms();
		t[S_CREATE_VCPU][i] = b - a;
		a = b;
		/* the vCPU starts at the reset vector: CS base 0xffff0000, IP 0xfff0 */
		run_to_io(cpu, run);
		b = now_ms();
		t[S_FIRST_RUN][i] = b - a;
		for (int k = 0; k < IO_EXITS; k++)
			run_to_io(cpu, run);
		a = now_ms();
		t[S_IO_EXIT][i] = (a - b) / IO_EXITS;
		munmap(run, (size_t)run_size);
		close(cpu);
		close(vm);
		b = now_ms();
		t[S_CLOSE][i] = b - a;
		t[S_TOTAL][i] = 0;
		for (int s = 0; s < S_TOTAL; s++)
			t[S_TOTAL][i] += t[s][i];
	}
	for (int s = 0; s < NSTEPS; s++) {
		int k = (9 * rounds + 9) / 10;

		qsort(t[s], (size_t)rounds, sizeof(double), cmp);
		printf("%s %.3f %.3f\n", step_name[s],
		       rounds % 2 ? t[s][rounds / 2] : (t[s][rounds / 2 - 1] + t[s][rounds / 2]) / 2,
		       t[s][k - 1]);
	}
	return 0;
}
