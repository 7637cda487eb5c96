/* tests/unit/test_irqroute.c: the MSI route table and the rest of the
 * interrupt routing, over a fake hypervisor that records routes, irqfds and
 * ioeventfds: first use allocates a GSI, the same address/data reuses it, a
 * full table re-points the oldest, a new VM starts empty, a failure falls
 * back to KVM_SIGNAL_MSI.  Owns: only these tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/vm/irqroute.h"

#define MAXR (LAYOUT_IOAPIC_PINS + IRQROUTE_MSI_ROUTES)

static struct {
	unsigned n_routes_calls;
	unsigned nroutes;           /* of the last call */
	unsigned gsi[MAXR];
	uint64_t addr[MAXR];
	uint32_t data[MAXR];
	int routes_rc;
	unsigned n_irqfd;
	unsigned irqfd_gsi[64];
	int irqfd_rc;
	unsigned n_signal;
	uint64_t signal_addr;
	unsigned n_ioev_on, n_ioev_off;
	unsigned n_line;
} F;

static int hvvm_storage[2];
#define VM_A ((struct hv_vm *)&hvvm_storage[0])
#define VM_B ((struct hv_vm *)&hvvm_storage[1])

static int fake_routes(struct hv_vm *vm, unsigned n, const unsigned *gsi, const uint64_t *addr,
		       const uint32_t *data)
{
	cr_assert_leq(n, MAXR);
	F.n_routes_calls++;
	F.nroutes = n;
	memcpy(F.gsi, gsi, n * sizeof(*gsi));
	memcpy(F.addr, addr, n * sizeof(*addr));
	memcpy(F.data, data, n * sizeof(*data));
	return F.routes_rc;
}

static int fake_irqfd(struct hv_vm *vm, unsigned gsi, int fd, bool assign)
{
	cr_assert(assign);
	cr_assert_geq(fd, 0);
	if (F.n_irqfd < 64)
		F.irqfd_gsi[F.n_irqfd] = gsi;
	F.n_irqfd++;
	return F.irqfd_rc;
}

static int fake_signal(struct hv_vm *vm, uint64_t addr, uint32_t data)
{
	F.n_signal++;
	F.signal_addr = addr;
	return 0;
}

static int fake_ioeventfd(struct hv_vm *vm, uint64_t gpa, unsigned len, int fd, bool assign)
{
	if (assign)
		F.n_ioev_on++;
	else
		F.n_ioev_off++;
	return 0;
}

static int fake_line(struct hv_vm *vm, unsigned gsi, int level)
{
	F.n_line++;
	return 0;
}

static const struct hv_ops fake_ops = {
	.name = "fake",
	.vm_set_msi_routes = fake_routes,
	.vm_irqfd = fake_irqfd,
	.vm_signal_msi = fake_signal,
	.vm_ioeventfd = fake_ioeventfd,
	.vm_irq_line = fake_line,
};

static struct irqroute ir;

static void setup(void)
{
	log_set_level(LOG_ERR);
	memset(&F, 0, sizeof(F));
	irqroute_init(&ir, &fake_ops, false);
}

static void teardown(void)
{
	irqroute_destroy(&ir);
}

TestSuite(irqroute, .init = setup, .fini = teardown);

/* The route the last push gave GSI @gsi, or -1. */
static int route_of(unsigned gsi)
{
	for (unsigned i = 0; i < F.nroutes; i++)
		if (F.gsi[i] == gsi)
			return (int)i;
	return -1;
}

static uint64_t drain(int fd)
{
	uint64_t v = 0;

	cr_assert_eq(read(fd, &v, sizeof(v)), sizeof(v));
	return v;
}

Test(irqroute, nothing_without_a_vm)
{
	cr_assert_eq(irqroute_msi(&ir, 0xfee00000, 0x30), 0);
	cr_assert_eq(F.n_routes_calls + F.n_irqfd + F.n_signal, 0);
}

Test(irqroute, first_use_allocates_a_gsi_and_an_irqfd)
{
	irqroute_on_new_vm(&ir, VM_A);
	cr_assert_eq(irqroute_msi(&ir, 0xfee00000, 0x30), 0);
	cr_assert_eq(F.n_routes_calls, 1);
	cr_assert_eq(F.nroutes, 1);
	cr_assert_eq(F.gsi[0], IRQROUTE_MSI_GSI_BASE);
	cr_assert_eq(F.addr[0], 0xfee00000);
	cr_assert_eq(F.data[0], 0x30);
	cr_assert_eq(F.n_irqfd, 1);
	cr_assert_eq(F.irqfd_gsi[0], IRQROUTE_MSI_GSI_BASE);
	cr_assert(ir.msi[0].used && ir.msi[0].irqfd);
	cr_assert_eq(drain(ir.msi[0].fd), 1);
	cr_assert_eq(ir.msi_irqfd, 1);
	cr_assert_eq(F.n_signal, 0);
}

Test(irqroute, same_address_and_data_reuse_the_route)
{
	irqroute_on_new_vm(&ir, VM_A);
	irqroute_msi(&ir, 0xfee00000, 0x30);
	irqroute_msi(&ir, 0xfee00000, 0x30);
	irqroute_msi(&ir, 0xfee00000, 0x30);
	cr_assert_eq(F.n_routes_calls, 1);
	cr_assert_eq(F.n_irqfd, 1);
	cr_assert_eq(drain(ir.msi[0].fd), 3);
	/* a different data word is another route */
	irqroute_msi(&ir, 0xfee00000, 0x31);
	cr_assert_eq(F.n_routes_calls, 2);
	cr_assert_eq(F.nroutes, 2);
	cr_assert_eq(F.gsi[1], IRQROUTE_MSI_GSI_BASE + 1);
	cr_assert_eq(F.data[1], 0x31);
	cr_assert_eq(F.n_irqfd, 2);
	cr_assert_eq(ir.msi_irqfd, 4);
}

Test(irqroute, full_table_repoints_the_oldest)
{
	irqroute_on_new_vm(&ir, VM_A);
	for (uint32_t v = 0; v < IRQROUTE_MSI_ROUTES; v++)
		cr_assert_eq(irqroute_msi(&ir, 0xfee00000, 0x40 + v), 0);
	cr_assert_eq(F.nroutes, IRQROUTE_MSI_ROUTES);
	cr_assert_eq(F.n_irqfd, IRQROUTE_MSI_ROUTES);

	/* the 33rd takes GSI base + 0 over, keeping its attached irqfd */
	cr_assert_eq(irqroute_msi(&ir, 0xfee01000, 0x99), 0);
	cr_assert_eq(F.nroutes, IRQROUTE_MSI_ROUTES);
	cr_assert_eq(F.n_irqfd, IRQROUTE_MSI_ROUTES);
	int k = route_of(IRQROUTE_MSI_GSI_BASE);

	cr_assert_geq(k, 0);
	cr_assert_eq(F.addr[k], 0xfee01000);
	cr_assert_eq(F.data[k], 0x99);
	/* the next new one takes base + 1; the old 0x40 is gone */
	cr_assert_eq(irqroute_msi(&ir, 0xfee02000, 0x9a), 0);
	k = route_of(IRQROUTE_MSI_GSI_BASE + 1);
	cr_assert_eq(F.data[k], 0x9a);
	unsigned calls = F.n_routes_calls;

	irqroute_msi(&ir, 0xfee00000, 0x40);    /* evicted: routed again, on base + 2 */
	cr_assert_eq(F.n_routes_calls, calls + 1);
	cr_assert_eq(F.data[route_of(IRQROUTE_MSI_GSI_BASE + 2)], 0x40);
}

Test(irqroute, a_new_vm_starts_with_an_empty_table)
{
	irqroute_on_new_vm(&ir, VM_A);
	irqroute_msi(&ir, 0xfee00000, 0x30);
	irqroute_msi(&ir, 0xfee00000, 0x31);
	int fd0 = ir.msi[0].fd;

	irqroute_on_retire(&ir);
	cr_assert_eq(irqroute_msi(&ir, 0xfee00000, 0x30), 0);    /* no VM: dropped */
	cr_assert_eq(F.n_irqfd, 2);
	irqroute_on_new_vm(&ir, VM_B);
	cr_assert(!ir.msi[0].used && !ir.msi[1].used);
	irqroute_msi(&ir, 0xfee00000, 0x31);
	/* allocated from the start again, the eventfd kept, the irqfd attached anew */
	cr_assert_eq(F.nroutes, 1);
	cr_assert_eq(F.gsi[0], IRQROUTE_MSI_GSI_BASE);
	cr_assert_eq(F.data[0], 0x31);
	cr_assert_eq(ir.msi[0].fd, fd0);
	cr_assert_eq(F.n_irqfd, 3);
}

Test(irqroute, failed_route_falls_back_to_signal_msi)
{
	irqroute_on_new_vm(&ir, VM_A);
	F.routes_rc = -EINVAL;
	cr_assert_eq(irqroute_msi(&ir, 0xfee00000, 0x30), 0);
	cr_assert(ir.irqfd_off);
	cr_assert_eq(F.n_signal, 1);
	cr_assert_eq(F.signal_addr, 0xfee00000);
	cr_assert_eq(ir.msi_signal, 1);
	F.routes_rc = 0;
	irqroute_msi(&ir, 0xfee00000, 0x30);
	cr_assert_eq(F.n_signal, 2);                /* off for this VM */
	cr_assert_eq(F.n_irqfd, 0);
	irqroute_on_new_vm(&ir, VM_B);               /* and on again for the next */
	irqroute_msi(&ir, 0xfee00000, 0x30);
	cr_assert_eq(F.n_irqfd, 1);
	uint64_t irqfd, sig;

	irqroute_stats(&ir, &irqfd, &sig);
	cr_assert_eq(irqfd, 1);
	cr_assert_eq(sig, 2);
}

Test(irqroute, failed_irqfd_falls_back_to_signal_msi)
{
	irqroute_on_new_vm(&ir, VM_A);
	F.irqfd_rc = -ENOSYS;
	irqroute_msi(&ir, 0xfee00000, 0x30);
	cr_assert(ir.irqfd_off);
	cr_assert(!ir.msi[0].used);
	cr_assert_eq(F.n_signal, 1);
}

Test(irqroute, ioeventfds_move_to_the_new_vm)
{
	struct virtio_ioevent_sink s = irqroute_ioevent_sink(&ir);
	int fd = eventfd(0, EFD_CLOEXEC);

	s.set(s.opaque, fd, 0xfe000000, 2, true);      /* before any VM: remembered */
	cr_assert_eq(F.n_ioev_on, 0);
	irqroute_on_new_vm(&ir, VM_A);
	cr_assert_eq(F.n_ioev_on, 1);
	cr_assert(ir.ioev[0].registered);
	s.set(s.opaque, fd, 0xfe000000, 2, false);     /* the driver turned it off */
	cr_assert_eq(F.n_ioev_off, 1);
	cr_assert(!ir.ioev[0].registered);
	irqroute_on_new_vm(&ir, VM_B);
	cr_assert_eq(F.n_ioev_on, 1);
	close(fd);
}

Test(irqroute, split_irqchip_pushes_ioapic_routes_with_the_msis)
{
	struct ioapic_sink s;

	irqroute_destroy(&ir);
	irqroute_init(&ir, &fake_ops, true);
	s = irqroute_ioapic_sink(&ir);
	s.route(s.opaque, 4, 0xfee00000, 0x8024, false);   /* before any VM: kept */
	s.route(s.opaque, 5, 0xfee00000, 0x8025, true);    /* masked: not routed */
	cr_assert_eq(F.n_routes_calls, 0);
	irqroute_on_new_vm(&ir, VM_A);
	cr_assert_eq(F.n_routes_calls, 1);
	cr_assert_eq(F.nroutes, 1);
	cr_assert_eq(F.gsi[0], 4);
	irqroute_msi(&ir, 0xfee00000, 0x30);
	cr_assert_eq(F.nroutes, 2);
	cr_assert_eq(F.gsi[0], 4);
	cr_assert_eq(F.gsi[1], IRQROUTE_MSI_GSI_BASE);
	s.route(s.opaque, 4, 0xfee00000, 0x8024, false);   /* unchanged: no push */
	cr_assert_eq(F.n_routes_calls, 2);
}

Test(irqroute, lines_go_to_the_vm_without_an_ioapic)
{
	struct irq_chip c = irqroute_irq_chip(&ir);

	cr_assert_eq(irq_set_level(&c, 4, 1), 0);
	cr_assert_eq(F.n_line, 0);
	irqroute_on_new_vm(&ir, VM_A);
	irq_set_level(&c, 4, 1);
	cr_assert_eq(F.n_line, 1);
}
