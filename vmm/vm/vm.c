/* vmm/vm/vm.c: VM lifecycle: create, build from a launch plan, run, rebuild on
 * reset, tear down.
 * Owns: guest RAM and its memslots, the device set, the main event loop
 * (requests, signals, serial input) and the order of every build step.
 * Devices and RAM outlive hypervisor VMs; a reset builds a new hypervisor VM
 * from a plan and destroys the old one on a reaper thread. */
#include "vmm/vm/vm.h"
#include "vmm/vm/acpitables.h"

#include <errno.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <dirent.h>
#include <malloc.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "devices/acpi.h"
#include "devices/cmos.h"
#include "devices/debugexit.h"
#include "devices/doorbell.h"
#include "devices/fwcfg.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/pci.h"
#include "devices/resetreg.h"
#include "devices/serial.h"
#include "loader/smbios.h"
#include "vmm/launch/linuxboot.h"
#include "loader/uki.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "vmm/api/api.h"
#include "vmm/base/events.h"
#include "vmm/base/layout.h"
#include "vmm/base/log.h"
#include "vmm/launch/planbuild.h"

struct vm_ioev {
	int fd;
	uint64_t gpa;
	unsigned len;
	bool on;                    /* asked for by the device */
	bool registered;            /* registered with the current VM */
};

#define VM_MSI_ROUTES   32
#define VM_MSI_GSI_BASE LAYOUT_IOAPIC_PINS   /* GSIs above the IOAPIC's */

struct vm_msi_route {
	uint64_t addr;
	uint32_t data;
	int fd;                     /* eventfd, kept for the process lifetime */
	bool used;                  /* routed in the current VM */
	bool irqfd;                 /* fd attached as irqfd in the current VM */
};

struct vm_devices {
	struct serial *serial;
	struct i8042 *i8042;
	struct resetreg *resetreg;
	struct cmos *cmos;
	struct debugexit *debugexit;
	struct fwcfg *fwcfg;
	struct doorbell *doorbell;
	struct pci_bus *pci;        /* owns 0xCF8-0xCFF (0xCF9 goes to resetreg) */
	struct ioapic *ioapic;      /* split irqchip only */
	struct virtio_msi_sink msi;
	struct virtio_ioevent_sink ioevent;
	/* under vm->irq_lock: the notify eventfds the devices asked for, as
	 * registered with the current VM (re-registered on every rebuild) */
	struct vm_ioev ioev[CFG_MAX_DISKS];
	/* under vm->irq_lock: MSIs the devices sent, each on its own GSI with
	 * an irqfd (VM_MSI_GSI_BASE + index); emptied on every rebuild */
	struct vm_msi_route msi_rt[VM_MSI_ROUTES];
	unsigned msi_next;          /* round-robin victim when the table is full */
	bool irqfd_off;             /* a route or irqfd failed: KVM_SIGNAL_MSI only */
	/* how interrupts and notifications travelled (the shutdown event) */
	uint64_t msi_irqfd, msi_signal;     /* under irq_lock */
	uint64_t notify_eventfd;            /* main loop only */
	struct virtio_blk *disk[CFG_MAX_DISKS];
	unsigned disk_slot[CFG_MAX_DISKS];   /* PCI slot (device number) */
	unsigned ndisks;
	int serial_fd;              /* output sink, -1 for none */
	atomic_bool first_output;   /* armed at every build: report the first byte */
	bool serial_close;
	struct vm_pam *pam;
	struct vm_acpi *acpi;       /* the ACPI fw_cfg files */
};

/* The BIOS area [0xC0000, 1 MiB) of a plain guest, remapped by the i440FX
 * PAM registers (devices/pci.h).  It is cut into fixed chunks: the 13 PAM
 * segments (12 x 16 KiB, then 64 KiB at 0xF0000), one of them split where
 * the firmware's low alias starts.  Chunk k always uses KVM slot
 * VM_PAM_SLOT0 + k; vm->gm holds the chunks merged where they agree. */
#define VM_PAM_START     LAYOUT_VGA_END
#define VM_PAM_F_SEG     0xF0000ULL
#define VM_PAM_PIECE     0x4000ULL
#define VM_PAM_MAX_CHUNKS 14
#define VM_PAM_SLOT0     GM_MAX_REGIONS     /* slots below go to the rest of vm->gm */

struct vm_pam_chunk {
	uint64_t gpa, size;
	uint8_t *host;          /* guest RAM or the plan's ROM alias */
	bool readonly;
	bool rom;               /* showing the ROM alias */
};

struct vm_pam {
	bool active;            /* a plain guest's map is laid out */
	uint64_t alias_gpa;     /* 1 MiB when the plan has no alias */
	uint8_t *alias_host;
	unsigned n;
	struct vm_pam_chunk c[VM_PAM_MAX_CHUNKS];
};

/* A hypervisor VM whose teardown was deferred to the reaper thread, with the
 * plan whose buffers its memslots pointed at. */
struct vm_reap {
	struct vm_reap *next;
	struct hv_vm *hvvm;
	struct coco_vm *coco;
	struct hv_vcpu *vcpu[CFG_MAX_VCPUS];
	unsigned nvcpus;
	struct launch_plan plan;
};

/* e820 entry as QEMU's fw_cfg "etc/e820": {u64 addr, u64 len, u32 type}, LE, packed */
struct e820_entry {
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));
#define E820_RAM 1
#define E820_RESERVED 2

/* ---------------- requests ---------------- */

void vm_post(struct vm *vm, enum vm_pending what, int status)
{
	uint64_t one = 1;
	ssize_t n;

	if (what == VM_PENDING_RESET)
		atomic_store(&vm->reset_reason, status);
	if (what == VM_PENDING_EXIT) {
		int expected = -1;

		/* the first exit status wins */
		atomic_compare_exchange_strong(&vm->exit_status, &expected, status);
	}
	atomic_fetch_or(&vm->pending, what);
	atomic_store(&vm->stop, true);
	n = write(vm->req_fd, &one, sizeof(one));
	(void)n;
}

static void vm_req_cb(void *opaque, enum vm_req req, int status)
{
	struct vm *vm = opaque;

	switch (req) {
	case VM_REQ_RESET:
		vm_post(vm, VM_PENDING_RESET, VM_RESET_GUEST);
		break;
	case VM_REQ_POWEROFF:
		vm_post(vm, VM_PENDING_EXIT, VM_EXIT_POWEROFF);
		break;
	case VM_REQ_EXIT:
		vm_post(vm, VM_PENDING_EXIT, status);
		break;
	}
}

static int vm_irq_cb(void *opaque, unsigned gsi, int level)
{
	struct vm *vm = opaque;
	struct ioapic *io = vm->dev ? vm->dev->ioapic : NULL;
	int r = 0;

	if (io) {
		/* split irqchip: the pin goes to our IOAPIC, which takes
		 * irq_lock itself when it delivers (lock order: IOAPIC, irq_lock) */
		ioapic_set_level(io, gsi, level);
		return 0;
	}
	pthread_mutex_lock(&vm->irq_lock);
	if (vm->hvvm)
		r = vm->ops->vm_irq_line(vm->hvvm, gsi, level);
	pthread_mutex_unlock(&vm->irq_lock);
	return r;
}

/* Push every MSI route to the hypervisor: the split IOAPIC's unmasked
 * entries on GSIs 0-23 (KVM computes the EOI-exit vectors from them) and
 * the devices' MSIs from VM_MSI_GSI_BASE.  irq_lock held. */
static int vm_push_routes(struct vm *vm)
{
	enum { MAXR = LAYOUT_IOAPIC_PINS + VM_MSI_ROUTES };
	unsigned gsi[MAXR], n = 0;
	uint64_t addr[MAXR];
	uint32_t data[MAXR];

	if (!vm->hvvm || !vm->ops->vm_set_msi_routes)
		return 0;
	for (unsigned i = 0; vm->split_irqchip && i < LAYOUT_IOAPIC_PINS; i++) {
		if (!vm->route_on[i])
			continue;
		gsi[n] = i;
		addr[n] = vm->route_addr[i];
		data[n] = vm->route_data[i];
		n++;
	}
	for (unsigned i = 0; vm->dev && i < VM_MSI_ROUTES; i++) {
		if (!vm->dev->msi_rt[i].used)
			continue;
		gsi[n] = VM_MSI_GSI_BASE + i;
		addr[n] = vm->dev->msi_rt[i].addr;
		data[n] = vm->dev->msi_rt[i].data;
		n++;
	}
	return vm->ops->vm_set_msi_routes(vm->hvvm, n, gsi, addr, data);
}

static int vm_ioapic_deliver(void *opaque, unsigned pin, uint64_t addr, uint32_t data)
{
	struct vm *vm = opaque;
	int r = 0;

	pthread_mutex_lock(&vm->irq_lock);
	if (vm->hvvm && vm->ops->vm_signal_msi)
		r = vm->ops->vm_signal_msi(vm->hvvm, addr, data);
	pthread_mutex_unlock(&vm->irq_lock);
	if (r < 0)
		log_debug("ioapic: pin %u MSI 0x%llx/0x%x not delivered: %s", pin,
			  (unsigned long long)addr, data, strerror(-r));
	return r;
}

void vm_ioapic_eoi(struct vm *vm, uint8_t vector)
{
	if (vm->dev && vm->dev->ioapic)
		ioapic_eoi(vm->dev->ioapic, vector);
}

static void vm_ioapic_route(void *opaque, unsigned pin, uint64_t addr, uint32_t data,
			    bool masked)
{
	struct vm *vm = opaque;

	if (pin >= LAYOUT_IOAPIC_PINS)
		return;
	pthread_mutex_lock(&vm->irq_lock);
	if (vm->route_on[pin] != !masked || vm->route_addr[pin] != addr ||
	    vm->route_data[pin] != data) {
		vm->route_on[pin] = !masked;
		vm->route_addr[pin] = addr;
		vm->route_data[pin] = data;
		vm_push_routes(vm);
	}
	pthread_mutex_unlock(&vm->irq_lock);
}

/* ---------------- memory ---------------- */

static int vm_map_ram(struct vm *vm)
{
	uint64_t b = vm->below_4g;
	int r;

	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		return -errno;
	}
	/* guest RAM is not needed by any child process */
	madvise(vm->ram, vm->ram_size, MADV_DONTFORK);

	gm_init(&vm->gm);
	/* [0, 640K) and [768K, 1M) minus the BIOS alias; [1M, below_4g); [4G, ...)
	 * The BIOS alias regions are added per plan (they change with the image). */
	r = gm_add(&vm->gm, 0, LAYOUT_VGA_START, vm->ram, GM_RAM, "ram-low");
	if (!r)
		r = gm_add(&vm->gm, LAYOUT_1M, b - LAYOUT_1M, vm->ram + LAYOUT_1M, GM_RAM, "ram");
	if (!r && vm->above_4g)
		r = gm_add(&vm->gm, LAYOUT_4G, vm->above_4g, vm->ram + b, GM_RAM, "ram-high");
	return r;
}

/* The plan's BIOS alias region (the firmware's top mapped below 1 MiB), or
 * NULL when the plan has none. */
static const struct plan_region *vm_plan_alias(const struct launch_plan *p)
{
	for (size_t i = 0; i < p->nregions; i++)
		if (p->regions[i].flags & PLAN_F_ALIAS)
			return &p->regions[i];
	return NULL;
}

static bool vm_in_pam(uint64_t gpa)
{
	return gpa >= VM_PAM_START && gpa < LAYOUT_1M;
}

/* What chunk @c shows for the PAM nibble @attr (QEMU hw/pci-host/pam.c
 * behaves the same: RE only is read-only RAM, WE only is treated as RAM,
 * neither is "PCI", which here is the firmware's ROM alias where there is
 * one and RAM below it, as before PAM was modelled). */
static void vm_pam_chunk_set(struct vm *vm, struct vm_pam_chunk *c, unsigned attr)
{
	struct vm_pam *pam = vm->dev->pam;

	attr &= I440FX_PAM_RE | I440FX_PAM_WE;
	c->rom = attr == 0 && c->gpa >= pam->alias_gpa;
	c->readonly = c->rom || attr == I440FX_PAM_RE;
	c->host = c->rom ? pam->alias_host + (c->gpa - pam->alias_gpa) : vm->ram + c->gpa;
}

/* The PAM nibble that covers @gpa (inside the BIOS area). */
static unsigned vm_pam_attr(const uint8_t pam[I440FX_PAM_REGS], uint64_t gpa)
{
	unsigned piece;

	if (gpa >= VM_PAM_F_SEG)
		return pam[0] >> 4;
	piece = (unsigned)((gpa - VM_PAM_START) / VM_PAM_PIECE);
	return piece & 1 ? pam[1 + piece / 2] >> 4 : pam[1 + piece / 2] & 0xf;
}

/* Replace the BIOS-area entries of vm->gm with the merged chunks.  With
 * @coarse, read-only RAM is listed as RAM, which halves the worst case
 * (guest-memory table full). */
static int vm_pam_gm_fill(struct vm *vm, bool coarse)
{
	struct vm_pam *pam = vm->dev->pam;
	int r = 0;

	gm_remove_range(&vm->gm, VM_PAM_START, LAYOUT_1M);
	for (unsigned k = 0; !r && k < pam->n;) {
		const struct vm_pam_chunk *c = &pam->c[k];
		unsigned flags = c->rom || (c->readonly && !coarse) ? GM_ROM : GM_RAM;
		uint64_t size = c->size;
		unsigned j = k + 1;

		for (; j < pam->n; j++) {
			const struct vm_pam_chunk *d = &pam->c[j];
			unsigned dflags = d->rom || (d->readonly && !coarse) ? GM_ROM : GM_RAM;

			if (dflags != flags || d->host != c->host + size)
				break;
			size += d->size;
		}
		r = gm_add(&vm->gm, c->gpa, size, c->host, flags,
			   c->rom ? "bios-alias" : flags & GM_ROM ? "ram-bios-ro" : "ram-bios");
		k = j;
	}
	return r;
}

static int vm_pam_gm_update(struct vm *vm)
{
	int r = vm_pam_gm_fill(vm, false);

	if (r == -ENOSPC) {
		log_debug("pam: guest-memory table full, listing read-only BIOS RAM as RAM");
		r = vm_pam_gm_fill(vm, true);
	}
	return r;
}

/* Power-on layout of the BIOS area for plan @p (all PAM registers 0). */
static int vm_pam_layout(struct vm *vm, const struct launch_plan *p)
{
	struct vm_pam *pam = vm->dev->pam;
	static const uint8_t zero[I440FX_PAM_REGS];
	uint64_t gpa = VM_PAM_START;

	const struct plan_region *alias = vm_plan_alias(p);

	pam->alias_gpa = alias ? alias->gpa : LAYOUT_1M;
	pam->alias_host = alias ? (uint8_t *)alias->data : NULL;
	if (pam->alias_gpa < VM_PAM_START || pam->alias_gpa % GM_PAGE_SIZE ||
	    (pam->alias_gpa < LAYOUT_1M && !pam->alias_host)) {
		log_err("pam: BIOS alias at 0x%llx does not fit the BIOS area",
			(unsigned long long)pam->alias_gpa);
		return -EINVAL;
	}
	pam->n = 0;
	while (gpa < LAYOUT_1M) {
		uint64_t end = gpa < VM_PAM_F_SEG ? gpa + VM_PAM_PIECE : LAYOUT_1M;
		struct vm_pam_chunk *c = &pam->c[pam->n++];

		if (gpa < pam->alias_gpa && pam->alias_gpa < end)
			end = pam->alias_gpa;
		c->gpa = gpa;
		c->size = end - gpa;
		vm_pam_chunk_set(vm, c, vm_pam_attr(zero, gpa));
		gpa = end;
	}
	pam->active = true;
	return vm_pam_gm_update(vm);
}

/* The host bridge's PAM hook: remap the chunks whose view changed (delete
 * and re-add their KVM slots) and rewrite the BIOS area of vm->gm.  Runs on
 * a vCPU thread with the PCI config lock held (which serialises it).
 * Other vCPUs are not stopped: one touching a chunk while its slot is
 * re-added sees a brief hole, as on QEMU. */
static void vm_pam_changed(void *opaque, const uint8_t regs[I440FX_PAM_REGS])
{
	struct vm *vm = opaque;
	struct vm_pam *pam = vm->dev->pam;
	struct hv_vm *hvvm = vm->hvvm;
	unsigned changed = 0;

	if (!pam->active || !hvvm || vm->plan.platform != PLAN_PLAIN)
		return;
	for (unsigned k = 0; k < pam->n; k++) {
		struct vm_pam_chunk *c = &pam->c[k];
		struct vm_pam_chunk old = *c;
		int r;

		vm_pam_chunk_set(vm, c, vm_pam_attr(regs, c->gpa));
		if (c->host == old.host && c->readonly == old.readonly)
			continue;
		changed++;
		r = vm->ops->vm_set_memory(hvvm, VM_PAM_SLOT0 + k, c->gpa, 0, c->host, false);
		if (!r)
			r = vm->ops->vm_set_memory(hvvm, VM_PAM_SLOT0 + k, c->gpa, c->size, c->host,
						   c->readonly);
		if (r) {
			/* the guest sees a hole there; nothing else to do */
			log_err("pam: remapping 0x%llx-0x%llx failed: %s",
				(unsigned long long)c->gpa, (unsigned long long)(c->gpa + c->size),
				strerror(-r));
		}
	}
	if (changed && vm_pam_gm_update(vm))
		log_err("pam: guest-memory map of the BIOS area not updated");
	if (changed)
		log_debug("pam: %u chunk(s) remapped", changed);
}

/* Lay the plan's regions into the guest-memory map of a plain guest:
 * read-only regions (the firmware ROM and its alias) become ROM mappings of
 * the plan's buffers; data regions (an IGVM file's pages) are copied into
 * RAM, or mapped read-only when they lie outside RAM. */
static int vm_gm_apply_plan(struct vm *vm, struct launch_plan *p)
{
	const struct plan_region *ar = vm_plan_alias(p);
	uint64_t alias = ar ? ar->gpa : LAYOUT_1M;
	int r = 0;

	/* the ROM regions and the [768K, alias) RAM piece depend on the image */
	gm_remove(&vm->gm, GM_ROM);
	vm->dev->pam->active = false;
	gm_remove_range(&vm->gm, VM_PAM_START, LAYOUT_1M);
	if (p->platform == PLAN_PLAIN) {
		/* the BIOS area [768K, 1M) follows the PAM registers, at
		 * power-on state after a build */
		r = vm_pam_layout(vm, p);
		alias = VM_PAM_START;
	}
	if (!r && alias > LAYOUT_VGA_END)
		r = gm_add(&vm->gm, LAYOUT_VGA_END, alias - LAYOUT_VGA_END,
			   vm->ram + LAYOUT_VGA_END, GM_RAM, "ram-c0000");
	/* a confidential plan's regions go to private memory through the
	 * platform launch (vmm/launch/coco.c), never through the shared view */
	for (size_t i = 0; !r && p->platform == PLAN_PLAIN && i < p->nregions; i++) {
		struct plan_region *pr = &p->regions[i];

		if (pr->flags & PLAN_F_ALIAS) {
			continue;   /* part of the PAM-managed BIOS area */
		} else if (pr->flags & PLAN_F_READONLY) {
			r = gm_add(&vm->gm, pr->gpa, pr->size, (void *)pr->data, GM_ROM, pr->what);
		} else if (gm_range_is_ram(&vm->gm, pr->gpa, pr->size)) {
			uint8_t *dst = gm_ptr(&vm->gm, pr->gpa, pr->size, GM_RAM);

			if (!dst) {
				r = -EINVAL;   /* spans two RAM regions: not for a plain guest */
				break;
			}
			if (pr->data_len)
				memcpy(dst, pr->data, pr->data_len);
			memset(dst + pr->data_len, 0, pr->size - pr->data_len);
		} else {
			/* outside RAM (e.g. below 4 GiB): a page-aligned buffer of its own */
			uint8_t *buf = plan_alloc(p, pr->size);

			if (!buf) {
				r = -ENOMEM;
				break;
			}
			if (pr->data_len)
				memcpy(buf, pr->data, pr->data_len);
			pr->data = buf;
			pr->data_len = pr->size;
			r = gm_add(&vm->gm, pr->gpa, pr->size, buf, GM_ROM, pr->what);
		}
	}
	if (r)
		log_err("plan region does not fit the memory map: %s", strerror(-r));
	return r;
}

static int vm_set_slots(struct vm *vm, struct hv_vm *hvvm)
{
	struct vm_pam *pam = vm->dev->pam;
	unsigned slot = 0;
	int r = 0;

	for (unsigned i = 0; !r && i < vm->gm.n; i++) {
		const struct gm_region *g = &vm->gm.r[i];

		if (pam->active && vm_in_pam(g->gpa))
			continue;   /* the BIOS area has slots per PAM chunk */
		r = vm->ops->vm_set_memory(hvvm, slot++, g->gpa, g->size, g->host,
					   (g->flags & GM_ROM) != 0);
	}
	for (unsigned k = 0; !r && pam->active && k < pam->n; k++) {
		const struct vm_pam_chunk *c = &pam->c[k];

		r = vm->ops->vm_set_memory(hvvm, VM_PAM_SLOT0 + k, c->gpa, c->size, c->host,
					   c->readonly);
	}
	return r;
}

/* ---------------- fw_cfg content ---------------- */

static int vm_fwcfg_setup(struct vm *vm, char *err, size_t errlen)
{
	struct fwcfg *fw = vm->dev->fwcfg;
	struct e820_entry e[4];
	unsigned n = 0;
	static const uint8_t uuid[16];
	int r = 0;

	e[n++] = (struct e820_entry){ 0, vm->below_4g, E820_RAM };
	e[n++] = (struct e820_entry){ LAYOUT_IDENT_MAP, 0x4000, E820_RESERVED };
	if (vm->above_4g)
		e[n++] = (struct e820_entry){ LAYOUT_4G, vm->above_4g, E820_RAM };

	r |= fwcfg_add_u64(fw, FW_CFG_RAM_SIZE, vm->ram_size);
	r |= fwcfg_add_u16(fw, FW_CFG_NB_CPUS, (uint16_t)vm->nvcpus);
	r |= fwcfg_add_u16(fw, FW_CFG_MAX_CPUS, (uint16_t)vm->nvcpus);
	r |= fwcfg_add_u16(fw, FW_CFG_NOGRAPHIC, 1);
	r |= fwcfg_add_u16(fw, FW_CFG_BOOT_MENU, 0);
	r |= fwcfg_add_bytes(fw, FW_CFG_UUID, uuid, sizeof(uuid));
	r |= fwcfg_add_file(fw, "etc/e820", e, n * sizeof(e[0]));
	{
		/* Linux direct boot ([kernel]): the items qboot and SeaBIOS's
		 * linuxboot option ROM read, as QEMU sets them */
		if (bootfw_setup(fw, vm->cfg, vm->below_4g, &vm->khash, err, errlen))
			return -EINVAL;   /* @err says which file and why */
		vm->khash_ok = vm->cfg->kernel_path != NULL;
	}
	{
		/* SeaBIOS (src/sercon.c, romfile "etc/sercon-port"): mirror the
		 * text console to this UART, as QEMU asks with -nographic; the
		 * VMM is always headless.  A u16, little-endian. */
		uint8_t port[2] = { SERIAL_COM1_BASE & 0xff, SERIAL_COM1_BASE >> 8 };

		r |= fwcfg_add_file(fw, "etc/sercon-port", port, sizeof(port));
	}
	{
		struct smbios_blob sb;

		if (smbios_build(&vm->cfg->smbios, vm->ram_size, vm->nvcpus, &sb) == 0) {
			r |= fwcfg_add_file(fw, SMBIOS_FWCFG_ANCHOR, sb.anchor, sizeof(sb.anchor));
			r |= fwcfg_add_file(fw, SMBIOS_FWCFG_TABLES, sb.tables, sb.tables_len);
			smbios_blob_free(&sb);
		} else {
			r = -1;
		}
	}
	{
		/* ACPI (devices/acpi.c): RSDP, RSDT/XSDT, FADT, FACS, MADT, DSDT
		 * through QEMU's linker/loader, which SeaBIOS, qboot and OVMF run;
		 * the FADT follows the PM block (vmm/vm/acpitables.h). */
		struct acpi_config ac = {
			.ncpus = vm->nvcpus,
			.pci_mem_start = vm->below_4g,
			.pci_mem_end = LAYOUT_IOAPIC,
			.pci_io_start = PCI_IO_WINDOW_BASE,
			.pci_io_end = PCI_IO_WINDOW_END,
			.legacy_pic = !vm->split_irqchip,
		};

		vm->dev->acpi = vm_acpi_create(fw, vm->dev->pci, &ac);
		if (!vm->dev->acpi)
			r = -1;
	}
	return r ? -EINVAL : 0;
}

/* ---------------- devices ---------------- */

static void vm_serial_out(void *opaque, const uint8_t *buf, size_t n)
{
	struct vm_devices *d = opaque;

	if (n && atomic_exchange(&d->first_output, false))
		EVENTS_EMIT("first-output", EVF_U64("byte", buf[0]));

	while (d->serial_fd >= 0 && n) {
		ssize_t w = write(d->serial_fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* a closed pipe must not stop the guest */
		buf += w;
		n -= (size_t)w;
	}
}

static const char *vm_format_name(uint64_t format)
{
	if (format == DOORBELL_FORMAT_RAW_ROM)
		return "raw-rom";
	if (format == DOORBELL_FORMAT_IGVM)
		return "igvm";
	return "host";
}

/* The doorbell's check of an image copy: is it what its format bit says,
 * and can a launch plan be built from it for this VM? */
static int vm_doorbell_validate(void *opaque, uint64_t format, const uint8_t *img,
				size_t len, char *why, size_t whylen)
{
	struct vm *vm = opaque;
	struct launch_plan p;
	bool igvm = planbuild_is_igvm(img, len);
	int r;

	if (format == DOORBELL_FORMAT_IGVM && !igvm) {
		snprintf(why, whylen, "not an IGVM file (no IGVM magic)");
		return -EINVAL;
	}
	if (format == DOORBELL_FORMAT_RAW_ROM && igvm) {
		snprintf(why, whylen, "a raw ROM image that starts with the IGVM magic");
		return -EINVAL;
	}
	memset(&p, 0, sizeof(p));
	r = planbuild_from_config(&p, vm->cfg, img, len, vm->khash_ok ? &vm->khash : NULL,
				  why, whylen);
	plan_free(&p);
	return r;
}

/* The fwid of the [uki] firmware image with this digest, or "". */
static const char *vm_uki_fwid(const struct vm *vm, const uint8_t sha384[48])
{
	for (unsigned i = 0; sha384 && i < vm->n_uki_fw; i++)
		if (!memcmp(vm->uki_fw[i].sha384, sha384, 48))
			return vm->uki_fw[i].fwid;
	return "";
}

static void vm_doorbell_event(void *opaque, const struct doorbell_event *ev)
{
	static const char *const names[] = {
		[DOORBELL_EV_REQUESTED] = "swap-requested",
		[DOORBELL_EV_ACCEPTED] = "swap-accepted",
		[DOORBELL_EV_REJECTED] = "swap-rejected",
		[DOORBELL_EV_DISABLED] = "doorbell-disabled",
		[DOORBELL_EV_HOST_ARMED] = "doorbell-host-armed",
		[DOORBELL_EV_APPLIED] = "swap-applied",
		[DOORBELL_EV_DROPPED] = "swap-dropped",
	};
	const char *name = (unsigned)ev->kind < sizeof(names) / sizeof(names[0]) &&
			   names[ev->kind] ? names[ev->kind] : "doorbell";

	EVENTS_EMIT(name,
		    EVF_STR("format", vm_format_name(ev->format)),
		    EVF_U64("addr", ev->addr),
		    EVF_U64("size", ev->size),
		    EVF_BYTES("sha384", ev->has_digest ? ev->sha384 : NULL, ev->has_digest ? 48 : 0),
		    EVF_U64("status", ev->status),
		    EVF_STR("status_name", doorbell_status_name(ev->status)),
		    EVF_STR("reason", ev->reason ? ev->reason : ""),
		    EVF_STR("fwid", vm_uki_fwid(opaque, ev->has_digest ? ev->sha384 : NULL)));
}

/* The irqfd for MSI @addr/@data in the current VM, routing it on first
 * use (irq_lock held): -1 when irqfds are unavailable or failed.  A full
 * table re-points its oldest-allocated GSI: KVM follows a route change for
 * an attached irqfd. */
static int vm_msi_irqfd(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct vm_devices *d = vm->dev;
	struct vm_msi_route *e = NULL;
	unsigned i;

	if (d->irqfd_off || !vm->ops->vm_irqfd || !vm->ops->vm_set_msi_routes)
		return -1;
	for (i = 0; i < VM_MSI_ROUTES; i++)
		if (d->msi_rt[i].used && d->msi_rt[i].addr == addr && d->msi_rt[i].data == data)
			return d->msi_rt[i].fd;
	for (i = 0; i < VM_MSI_ROUTES && d->msi_rt[i].used; i++)
		;
	if (i == VM_MSI_ROUTES)
		i = d->msi_next++ % VM_MSI_ROUTES;
	e = &d->msi_rt[i];
	if (e->fd < 0 && (e->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		goto off;
	e->addr = addr;
	e->data = data;
	e->used = true;
	if (vm_push_routes(vm) < 0)
		goto off;
	if (!e->irqfd) {
		if (vm->ops->vm_irqfd(vm->hvvm, VM_MSI_GSI_BASE + i, e->fd, true) < 0)
			goto off;
		e->irqfd = true;
	}
	return e->fd;
off:
	log_warn("msi: irqfd for 0x%llx/0x%x unavailable: KVM_SIGNAL_MSI from now on",
		 (unsigned long long)addr, data);
	e->used = false;
	d->irqfd_off = true;
	return -1;
}

/* MSI delivery for PCI devices, to whichever VM is current: through the
 * vector's irqfd (KVM_IRQFD), else KVM_SIGNAL_MSI. */
static int vm_msi_cb(void *opaque, uint64_t addr, uint32_t data)
{
	struct vm *vm = opaque;
	int r = 0, fd;

	pthread_mutex_lock(&vm->irq_lock);
	if (vm->hvvm) {
		fd = vm_msi_irqfd(vm, addr, data);
		if (fd >= 0) {
			uint64_t one = 1;

			r = write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
			vm->dev->msi_irqfd++;
		} else if (vm->ops->vm_signal_msi) {
			r = vm->ops->vm_signal_msi(vm->hvvm, addr, data);
			vm->dev->msi_signal++;
		}
	}
	pthread_mutex_unlock(&vm->irq_lock);
	return r;
}

/* A virtio queue's notify register, for KVM_IOEVENTFD (PCI config lock and
 * the transport lock held by the caller). */
static void vm_ioevent_cb(void *opaque, int fd, uint64_t gpa, unsigned len, bool on)
{
	struct vm *vm = opaque;
	struct vm_ioev *e = NULL;

	pthread_mutex_lock(&vm->irq_lock);
	for (unsigned i = 0; i < CFG_MAX_DISKS && !e; i++)
		if (vm->dev->ioev[i].fd == fd || vm->dev->ioev[i].fd < 0)
			e = &vm->dev->ioev[i];
	if (e && e->registered && vm->hvvm)
		vm->ops->vm_ioeventfd(vm->hvvm, e->gpa, e->len, e->fd, false);
	if (e) {
		*e = (struct vm_ioev){ .fd = fd, .gpa = gpa, .len = len, .on = on };
		/* on failure the writes keep exiting to the MMIO handler */
		e->registered = on && vm->hvvm &&
				vm->ops->vm_ioeventfd(vm->hvvm, gpa, len, fd, true) == 0;
	}
	pthread_mutex_unlock(&vm->irq_lock);
}

/* fw_cfg "bootorder" (QEMU docs/specs/fw_cfg.rst; the OpenFirmware paths
 * SeaBIOS matches in src/boot.c and OVMF's QemuBootOrderLib parses), one
 * path per line, NUL-terminated: the [kernel]'s linuxboot option ROM first
 * (QEMU gives it bootindex 0, so a direct boot wins over a bootable disk),
 * then the disks with a bootindex, lowest first.  No file when there is
 * neither: firmware keeps its own order. */
static int vm_bootorder(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	char buf[CFG_MAX_DISKS * 40 + FW_CFG_MAX_FILE_PATH + 16];
	size_t len = 0;
	int last = -1;

	if (cfg->kernel_path && cfg->boot_rom_path) {
		const char *base = strrchr(cfg->boot_rom_path, '/');

		len = (size_t)snprintf(buf, sizeof(buf), "/rom@genroms/%s",
				       base ? base + 1 : cfg->boot_rom_path);
	}

	for (;;) {
		int best = -1;

		for (unsigned i = 0; i < cfg->ndisks; i++)
			if (cfg->disks[i].bootindex > last &&
			    (best < 0 || cfg->disks[i].bootindex < cfg->disks[best].bootindex))
				best = (int)i;
		if (best < 0)
			break;
		last = cfg->disks[best].bootindex;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s/pci@i0cf8/scsi@%x/disk@0,0",
					len ? "\n" : "", vm->dev->disk_slot[best]);
	}
	if (!len)
		return 0;
	if (fwcfg_add_file(vm->dev->fwcfg, "bootorder", buf, len + 1)) {
		snprintf(err, errlen, "fw_cfg bootorder: cannot add");
		return -ENOSPC;
	}
	return 0;
}

static int vm_devices_create(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	struct vm_devices *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	vm->dev = d;
	d->serial_fd = -1;
	if (vm->split_irqchip) {
		struct ioapic_sink sink = { .deliver = vm_ioapic_deliver, .route = vm_ioapic_route,
					    .opaque = vm };

		d->ioapic = ioapic_create(&sink);
		if (!d->ioapic || ioapic_attach(d->ioapic, &vm->mmio)) {
			snprintf(err, errlen, "IOAPIC setup failed");
			return -ENOMEM;
		}
		/* a TD's EOIs never reach KVM, let alone the VMM */
		ioapic_set_no_eoi(d->ioapic, cfg->cc.type == CC_TDX);
	}
	if (cfg->serial == SERIAL_STDOUT) {
		d->serial_fd = STDOUT_FILENO;
	} else if (cfg->serial == SERIAL_FILE) {
		d->serial_fd = open(cfg->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (d->serial_fd < 0) {
			snprintf(err, errlen, "serial output %s: %s", cfg->serial_path, strerror(errno));
			return -errno;
		}
		d->serial_close = true;
	}
	d->serial = serial_create(SERIAL_COM1_BASE, &vm->irq, SERIAL_COM1_GSI, vm_serial_out, d);
	d->i8042 = i8042_create(&vm->req);
	d->resetreg = resetreg_create(&vm->req);
	d->cmos = cmos_create(vm->below_4g, vm->above_4g, vm->nvcpus);
	d->fwcfg = fwcfg_create(&vm->gm);
	if (cfg->debug_exit)
		d->debugexit = debugexit_create(cfg->debug_exit_port, &vm->req);
	if (!d->serial || !d->i8042 || !d->resetreg || !d->cmos || !d->fwcfg ||
	    (cfg->debug_exit && !d->debugexit)) {
		snprintf(err, errlen, "out of memory creating devices");
		return -ENOMEM;
	}
	/* PCI memory BARs go in the 32-bit hole: above low RAM, below the IOAPIC */
	d->pci = pci_create(&vm->irq, &vm->req, d->resetreg, vm->below_4g, LAYOUT_IOAPIC);
	d->pam = calloc(1, sizeof(*d->pam));
	if (!d->pci || !d->pam) {
		snprintf(err, errlen, "PCI host bridge setup failed");
		return -ENOMEM;
	}
	pci_set_pam_hook(d->pci, vm_pam_changed, vm);
	if (serial_attach(d->serial, &vm->pio) || i8042_attach(d->i8042, &vm->pio) ||
	    pci_attach(d->pci, &vm->pio, &vm->mmio) || cmos_attach(d->cmos, &vm->pio) ||
	    fwcfg_attach(d->fwcfg, &vm->pio) ||
	    (d->debugexit && debugexit_attach(d->debugexit, &vm->pio))) {
		snprintf(err, errlen, "device port conflict (is debug_exit.port 0x%x in use by another device?)",
			 cfg->debug_exit_port);
		return -EEXIST;
	}
	err[0] = '\0';
	if (vm_fwcfg_setup(vm, err, errlen)) {
		if (!err[0])
			snprintf(err, errlen, "fw_cfg setup failed");
		return -EINVAL;
	}
	{
		struct doorbell_config dc = {
			.gm = &vm->gm,
			.policy = {
				.enabled = cfg->doorbell.enabled,
				.max_image_size = cfg->doorbell.max_image_size,
				.max_opaque_size = cfg->doorbell.max_opaque_size,
				.min_reset_interval_ns = cfg->doorbell.min_reset_interval_ns,
			},
			.raw_rom = true,
			.igvm = true,
			.fw_gpa = LAYOUT_4G - vm->host_fw_len,
			.fw_size = vm->host_fw_len,
			.validate = vm_doorbell_validate,
			.validate_opaque = vm,
			.event = vm_doorbell_event,
			.event_opaque = vm,
		};

		d->doorbell = doorbell_create(&dc);
		if (!d->doorbell || doorbell_attach(d->doorbell, d->fwcfg)) {
			snprintf(err, errlen, "doorbell setup failed");
			return -EINVAL;
		}
	}
	d->msi = (struct virtio_msi_sink){ .signal = vm_msi_cb, .opaque = vm };
	d->ioevent = (struct virtio_ioevent_sink){ .set = vm_ioevent_cb, .opaque = vm };
	for (unsigned i = 0; i < CFG_MAX_DISKS; i++)
		d->ioev[i].fd = -1;
	for (unsigned i = 0; i < VM_MSI_ROUTES; i++)
		d->msi_rt[i].fd = -1;
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		/* a confidential guest's memory is private: the device only sees
		 * what the guest shares, so its driver must use bounce buffers */
		struct virtio_blk_opts o = { .path = cfg->disks[i].path,
					     .readonly = cfg->disks[i].readonly,
					     .access_platform = cfg->cc.type != CC_NONE,
					     .ioevent = vm->ops->vm_ioeventfd ? &d->ioevent : NULL };
		int slot = pci_free_slot(d->pci);

		if (slot < 0) {
			snprintf(err, errlen, "disk %s: no free PCI slot", o.path);
			return -ENOSPC;
		}
		d->disk[i] = virtio_blk_create(&o, d->pci, (unsigned)slot, &vm->gm,
					       vm->ops->vm_signal_msi ? &d->msi : NULL, err, errlen);
		if (!d->disk[i])
			return -EINVAL;
		d->ndisks = i + 1;
		d->disk_slot[i] = (unsigned)slot;
	}
	return vm_bootorder(vm, err, errlen);
}

static void vm_devices_reset(struct vm *vm)
{
	struct vm_devices *d = vm->dev;

	serial_reset(d->serial);
	i8042_reset(d->i8042);
	resetreg_reset(d->resetreg);
	for (unsigned i = 0; i < d->ndisks; i++)
		virtio_blk_reset(d->disk[i]);   /* waits for in-flight I/O */
	pci_reset(d->pci);
	cmos_reset(d->cmos);
	fwcfg_reset(d->fwcfg);
	if (d->ioapic)
		ioapic_reset(d->ioapic);    /* every entry masked: routes withdrawn */
}

static void vm_devices_destroy(struct vm *vm)
{
	struct vm_devices *d = vm->dev;

	if (!d)
		return;
	if (d->debugexit)
		debugexit_destroy(d->debugexit);
	if (d->ioapic)
		ioapic_destroy(d->ioapic);
	for (unsigned i = 0; i < VM_MSI_ROUTES; i++)
		if (d->msi_rt[i].fd >= 0)
			close(d->msi_rt[i].fd);
	if (d->fwcfg)
		fwcfg_destroy(d->fwcfg);
	vm_acpi_destroy(d->acpi);
	if (d->doorbell)
		doorbell_destroy(d->doorbell);
	if (d->cmos)
		cmos_destroy(d->cmos);
	for (unsigned i = 0; i < d->ndisks; i++)
		virtio_blk_destroy(d->disk[i]);
	if (d->pci)
		pci_destroy(d->pci);
	free(d->pam);
	if (d->resetreg)
		resetreg_destroy(d->resetreg);
	if (d->i8042)
		i8042_destroy(d->i8042);
	if (d->serial)
		serial_destroy(d->serial);
	if (d->serial_close)
		close(d->serial_fd);
	free(d);
	vm->dev = NULL;
}

/* ---------------- reaper ---------------- */

static void vm_reap_now(const struct hv_ops *ops, struct vm_reap *r)
{
	for (unsigned i = 0; i < r->nvcpus; i++)
		if (r->vcpu[i])
			ops->vcpu_destroy(r->vcpu[i]);
	if (r->hvvm)
		ops->vm_destroy(r->hvvm);
	coco_vm_destroy(r->coco);   /* after the VM: it closed the guest_memfds */
	plan_free(&r->plan);
	free(r);
}

static void *vm_reaper_main(void *arg)
{
	struct vm *vm = arg;

	pthread_mutex_lock(&vm->reap_lock);
	for (;;) {
		while (!vm->reap_head && !vm->reaper_quit)
			pthread_cond_wait(&vm->reap_cond, &vm->reap_lock);
		if (!vm->reap_head && vm->reaper_quit)
			break;
		struct vm_reap *r = vm->reap_head;

		vm->reap_head = r->next;
		pthread_mutex_unlock(&vm->reap_lock);
		vm_reap_now(vm->ops, r);
		/* give the freed plan and image buffers back to the system: a VM
		 * that rebuilds thousands of times must not creep */
		malloc_trim(0);
		pthread_mutex_lock(&vm->reap_lock);
		vm->reap_pending--;
		pthread_cond_broadcast(&vm->reap_done);
	}
	pthread_mutex_unlock(&vm->reap_lock);
	return NULL;
}

/* Hand the current hypervisor VM (and the plan its slots use) to the reaper. */
static void vm_retire_current(struct vm *vm, bool async)
{
	struct vm_reap *r = calloc(1, sizeof(*r));

	pthread_mutex_lock(&vm->irq_lock);
	if (!r) {
		/* no memory for the queue entry: destroy synchronously */
		for (unsigned i = 0; i < vm->nvcpus; i++) {
			if (vm->vcpu[i])
				vm->ops->vcpu_destroy(vm->vcpu[i]);
			vm->vcpu[i] = NULL;
		}
		if (vm->hvvm)
			vm->ops->vm_destroy(vm->hvvm);
		vm->hvvm = NULL;
		coco_vm_destroy(vm->coco);
		vm->coco = NULL;
		pthread_mutex_unlock(&vm->irq_lock);
		plan_free(&vm->plan);
		return;
	}
	r->hvvm = vm->hvvm;
	r->coco = vm->coco;
	vm->coco = NULL;
	r->nvcpus = vm->nvcpus;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		r->vcpu[i] = vm->vcpu[i];
		vm->vcpu[i] = NULL;
	}
	vm->hvvm = NULL;
	pthread_mutex_unlock(&vm->irq_lock);
	r->plan = vm->plan;
	memset(&vm->plan, 0, sizeof(vm->plan));

	if (!async || !vm->nreapers) {
		vm_reap_now(vm->ops, r);
		return;
	}
	pthread_mutex_lock(&vm->reap_lock);
	/* backpressure: never more than VM_REAP_MAX dead VMs in flight */
	while (vm->reap_pending >= VM_REAP_MAX)
		pthread_cond_wait(&vm->reap_done, &vm->reap_lock);
	r->next = vm->reap_head;
	vm->reap_head = r;
	vm->reap_pending++;
	pthread_cond_signal(&vm->reap_cond);
	pthread_mutex_unlock(&vm->reap_lock);
}

/* Wait until every retired VM is destroyed. */
static void vm_reaper_drain(struct vm *vm)
{
	pthread_mutex_lock(&vm->reap_lock);
	while (vm->nreapers && vm->reap_pending)
		pthread_cond_wait(&vm->reap_done, &vm->reap_lock);
	pthread_mutex_unlock(&vm->reap_lock);
}

/* ---------------- build ---------------- */

/* Build a hypervisor VM for @plan: memslots first (cheap before the
 * irqchip), then irqchip and PIT, then vCPUs.  On success the VM is
 * installed as current; the plan is moved into vm->plan. */
static int vm_build(struct vm *vm, struct launch_plan *plan)
{
	struct hv_vm_params hp = { .platform = plan->platform, .nvcpus = vm->nvcpus };
	struct hv_vm *hvvm = NULL;
	struct hv_vcpu *vcpu[CFG_MAX_VCPUS] = { 0 };
	struct coco_vm *cv = NULL;
	uint64_t t0 = vm_now_ns();
	int r;

	r = vm_gm_apply_plan(vm, plan);
	if (r) {
		log_err("memory map for the plan: %s", strerror(-r));
		return r;
	}
	if (plan->platform != PLAN_PLAIN) {
		struct coco_build_args a = {
			.ops = vm->ops, .hv = vm->hv, .plan = plan, .gm = &vm->gm,
			.nvcpus = vm->nvcpus, .cfg = &vm->coco_cfg,
			.split_irqchip = vm->split_irqchip,
		};

		/* memory as guest_memfd, the platform launch, vCPUs; on failure
		 * coco_build has destroyed what it made */
		r = coco_build(&a, &cv, &hvvm, vcpu);
		if (r)
			return r;
		goto install;
	}
	r = vm->ops->vm_create(vm->hv, &hp, &hvvm);
	if (r)
		return r;
	r = vm_set_slots(vm, hvvm);
	if (!r && vm->split_irqchip)
		r = vm->ops->vm_create_split_irqchip ?
		    vm->ops->vm_create_split_irqchip(hvvm, LAYOUT_IOAPIC_PINS) : -EOPNOTSUPP;
	else if (!r)
		r = vm->ops->vm_create_irqchip(hvvm);
	for (unsigned i = 0; !r && i < vm->nvcpus; i++)
		r = vm->ops->vcpu_create(hvvm, i, &vcpu[i]);
	if (r) {
		for (unsigned i = 0; i < vm->nvcpus; i++)
			if (vcpu[i])
				vm->ops->vcpu_destroy(vcpu[i]);
		vm->ops->vm_destroy(hvvm);
		return r;
	}
install:
	pthread_mutex_lock(&vm->irq_lock);
	vm->hvvm = hvvm;
	vm->coco = cv;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->vcpu[i] = vcpu[i];
	if (vm->dev) {
		struct vm_devices *d = vm->dev;

		/* a new VM has no irqfds, routes or ioeventfds: MSIs are routed
		 * again on first use; the notify eventfds move over now */
		for (unsigned i = 0; i < VM_MSI_ROUTES; i++)
			d->msi_rt[i].used = d->msi_rt[i].irqfd = false;
		d->irqfd_off = false;
		for (unsigned i = 0; i < CFG_MAX_DISKS; i++)
			d->ioev[i].registered = d->ioev[i].on && vm->ops->vm_ioeventfd &&
				vm->ops->vm_ioeventfd(hvvm, d->ioev[i].gpa, d->ioev[i].len,
						      d->ioev[i].fd, true) == 0;
	}
	if (vm->split_irqchip)
		vm_push_routes(vm);    /* what the guest programmed so far */
	pthread_mutex_unlock(&vm->irq_lock);
	vm->plan = *plan;
	memset(plan, 0, sizeof(*plan));
	vm->last_build_ns = vm_now_ns() - t0;
	return 0;
}

static int vm_make_plan(struct vm *vm, const uint8_t *fw, size_t fw_len, struct launch_plan *p)
{
	char err[256];
	int r = planbuild_from_config(p, vm->cfg, fw, fw_len, vm->khash_ok ? &vm->khash : NULL,
				      err, sizeof(err));

	if (r)
		log_err("launch plan: %s", err);
	return r;
}

/* Let the vCPU threads run the current VM. */
static void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	atomic_store(&vm->stop, false);
	vm->nstopped = 0;
	vm->gen++;
	vm->state = VM_RUNNING;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

/* Stop every vCPU thread and wait until they are all out of the run loop. */
static void vm_pause(struct vm *vm)
{
	atomic_store(&vm->stop, true);
	vcpu_kick_all(vm);
	pthread_mutex_lock(&vm->lock);
	while (vm->state == VM_RUNNING && vm->nstopped < vm->nvcpus) {
		struct timespec ts;

		/* re-kick periodically: a kick can race with a thread entering KVM_RUN */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 2000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_cond_timedwait(&vm->cond, &vm->lock, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&vm->lock);
			vcpu_kick_all(vm);
			pthread_mutex_lock(&vm->lock);
		}
	}
	vm->state = VM_STOPPED;
	pthread_mutex_unlock(&vm->lock);
}

static void vm_sha384(const uint8_t *data, size_t len, uint8_t md[48])
{
	unsigned mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha384(), NULL) || mdlen != 48)
		memset(md, 0, 48);
}

/* Open descriptors and resident memory of this process, for the rebuilt
 * event: an operator (and the tests) can see that swaps do not leak. */
static void vm_process_usage(uint64_t *fds, uint64_t *rss_kib, uint64_t *heap_kib)
{
	struct mallinfo2 mi = mallinfo2();
	DIR *d = opendir("/proc/self/fd");
	FILE *f;
	unsigned long long pages = 0, resident = 0;

	*fds = 0;
	*rss_kib = 0;
	*heap_kib = (mi.uordblks + mi.hblkhd) / 1024;   /* bytes in use, all arenas */
	if (d) {
		for (struct dirent *e; (e = readdir(d));)
			if (e->d_name[0] != '.')
				(*fds)++;
		closedir(d);
		(*fds)--;    /* the directory stream itself */
	}
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%llu %llu", &pages, &resident) == 2)
			*rss_kib = resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
		fclose(f);
	}
}

static const char *const vm_reset_reasons[] = {
	[VM_RESET_GUEST] = "guest",
	[VM_RESET_TRIPLE_FAULT] = "triple-fault",
	[VM_RESET_HYPERVISOR] = "hypervisor",
	[VM_RESET_HOST] = "host",
};

/* The one reset path: stop, choose the firmware (the doorbell's pending
 * image, the host's, or the current one), build a new VM from its plan, run
 * it, retire the old one off the critical path. */
static int vm_rebuild(struct vm *vm)
{
	struct launch_plan plan;
	const struct doorbell_image *img = NULL;
	const uint8_t *fw;
	size_t fw_len;
	uint8_t fw_sha[48];
	uint64_t fw_format;
	bool guest_fw;
	uint64_t t0 = vm_now_ns(), t_stop, t_plan, t_retire;
	int reason = atomic_exchange(&vm->reset_reason, VM_RESET_GUEST);
	int r;

	atomic_store(&vm->run_state, VM_RS_RESETTING);
	vm_pause(vm);
	t_stop = vm_now_ns();
	atomic_fetch_add(&vm->resets, 1);
	EVENTS_EMIT("reset", EVF_U64("n", vm->resets),
		    EVF_STR("reason", vm_reset_reasons[reason >= 0 && reason <= VM_RESET_HOST ? reason : 0]));
	doorbell_take_pending(vm->dev->doorbell, &img);
	fw = img ? img->data : vm->host_fw;
	fw_len = img ? img->len : vm->host_fw_len;
	/* @img is the device's: valid only until doorbell_on_rebuilt() */
	memcpy(fw_sha, img ? img->sha384 : vm->host_fw_sha384, sizeof(fw_sha));
	fw_format = img ? img->format : 0;

	memset(&plan, 0, sizeof(plan));
	r = vm_make_plan(vm, fw, fw_len, &plan);
	if (r && img) {
		/* the guest image was accepted but does not build: host firmware */
		log_err("firmware from the doorbell cannot be launched: falling back to the host firmware");
		doorbell_on_rebuilt(vm->dev->doorbell, r);
		img = NULL;
		fw = vm->host_fw;
		fw_len = vm->host_fw_len;
		memcpy(fw_sha, vm->host_fw_sha384, sizeof(fw_sha));
		fw_format = 0;
		plan_free(&plan);
		r = vm_make_plan(vm, fw, fw_len, &plan);
	}
	if (r)
		return r;
	t_plan = vm_now_ns();
	vm_retire_current(vm, true);
	t_retire = vm_now_ns();
	vm_devices_reset(vm);
	r = vm_build(vm, &plan);
	if (r) {
		plan_free(&plan);
		log_err("rebuild after reset failed: %s", strerror(-r));
		return r;
	}
	guest_fw = img != NULL;
	img = NULL;
	doorbell_set_fw_region(vm->dev->doorbell, vm->plan.fw_gpa, vm->plan.fw_size);
	doorbell_on_rebuilt(vm->dev->doorbell, 0);
	atomic_store(&vm->dev->first_output, true);
	pthread_mutex_lock(&vm->info_lock);
	memcpy(vm->cur_fw_sha384, fw_sha, 48);
	pthread_mutex_unlock(&vm->info_lock);
	/* the events go out before the vCPUs run, so "booted" precedes
	 * anything the new firmware does */
	{
		uint64_t dt = vm_now_ns() - t0, fds, rss, heap;

		vm_process_usage(&fds, &rss, &heap);
		EVENTS_EMIT("rebuilt", EVF_U64("n", vm->resets), EVF_F64("ms", dt / 1e6),
			    EVF_F64("vm_ms", vm->last_build_ns / 1e6),
			    EVF_F64("stop_ms", (t_stop - t0) / 1e6),
			    EVF_F64("plan_ms", (t_plan - t_stop) / 1e6),
			    EVF_F64("retire_ms", (t_retire - t_plan) / 1e6),
			    EVF_STR("firmware", guest_fw ? "guest" : "host"),
			    EVF_STR("format", vm_format_name(fw_format)),
			    EVF_U64("size", fw_len),
			    EVF_BYTES("sha384", fw_sha, 48),
			    EVF_STR("fwid", guest_fw ? vm_uki_fwid(vm, fw_sha) : ""),
			    EVF_BYTES("measurement", NULL, 0),
			    EVF_U64("fds", fds), EVF_U64("rss_kib", rss), EVF_U64("heap_kib", heap));
		EVENTS_EMIT("booted", EVF_U64("vcpus", vm->nvcpus), EVF_U64("memory", vm->ram_size),
			    EVF_STR("firmware", guest_fw ? "guest" : "host"), EVF_U64("size", fw_len),
			    EVF_BYTES("sha384", fw_sha, 48),
			    EVF_F64("build_ms", vm->last_build_ns / 1e6));
		atomic_store(&vm->run_state, VM_RS_RUNNING);
		vm_resume(vm);
		log_debug("reset %llu: rebuilt in %.3f ms (hypervisor VM %.3f ms)",
			  (unsigned long long)vm->resets, dt / 1e6, vm->last_build_ns / 1e6);
	}
	return 0;
}

/* ---------------- the control socket ---------------- */

static int vm_api_status(void *opaque, struct api_status *st)
{
	static const char *const states[] = {
		[VM_RS_STARTING] = "starting", [VM_RS_RUNNING] = "running",
		[VM_RS_RESETTING] = "resetting", [VM_RS_STOPPED] = "stopped",
	};
	static const char *const platforms[] = {
		[CC_NONE] = "none", [CC_SNP] = "snp", [CC_TDX] = "tdx",
	};
	struct vm *vm = opaque;
	struct doorbell_stats ds;
	int rs = atomic_load(&vm->run_state);

	memset(st, 0, sizeof(*st));
	st->state = states[rs >= 0 && rs <= VM_RS_STOPPED ? rs : VM_RS_STOPPED];
	st->platform = platforms[vm->cfg->cc.type];
	st->name = vm->cfg->name;
	st->vcpus = vm->nvcpus;
	st->memory = vm->ram_size;
	st->uptime_s = (vm_now_ns() - vm->start_ns) / 1e9;
	pthread_mutex_lock(&vm->info_lock);
	memcpy(st->fw_sha384, vm->cur_fw_sha384, 48);
	pthread_mutex_unlock(&vm->info_lock);
	st->has_measurement = false;   /* plain guests have no launch measurement */
	doorbell_get_stats(vm->dev->doorbell, &ds);
	st->swaps_accepted = ds.accepted;
	st->swaps_rejected = ds.rejected;
	st->resets = atomic_load(&vm->resets);
	doorbell_get_policy(vm->dev->doorbell, &st->policy);
	return 0;
}

static int vm_api_policy_get(void *opaque, struct doorbell_policy *p)
{
	struct vm *vm = opaque;

	doorbell_get_policy(vm->dev->doorbell, p);
	return 0;
}

static int vm_api_policy_set(void *opaque, const struct doorbell_policy *p)
{
	struct vm *vm = opaque;
	int r = doorbell_set_policy(vm->dev->doorbell, p);

	if (!r)
		EVENTS_EMIT("policy", EVF_BOOL("enabled", p->enabled), EVF_BOOL("locked", p->locked),
			    EVF_U64("max_image_size", p->max_image_size),
			    EVF_U64("max_opaque_size", p->max_opaque_size),
			    EVF_U64("min_reset_interval_ns", p->min_reset_interval_ns));
	return r;
}

static int vm_api_reset(void *opaque)
{
	vm_post(opaque, VM_PENDING_RESET, VM_RESET_HOST);
	return 0;
}

static int vm_api_shutdown(void *opaque)
{
	vm_post(opaque, VM_PENDING_EXIT, VM_EXIT_POWEROFF);
	return 0;
}

static int vm_api_measure_pending(void *opaque, uint8_t out[48], bool *has)
{
	struct vm *vm = opaque;
	uint8_t digest[48];

	if (!doorbell_pending_digest(vm->dev->doorbell, digest))
		return -ENOENT;
	/* a plain guest's launch is not measured by hardware */
	*has = false;
	memset(out, 0, 48);
	return 0;
}

static const struct api_ops vm_api_ops = {
	.status = vm_api_status,
	.policy_get = vm_api_policy_get,
	.policy_set = vm_api_policy_set,
	.reset = vm_api_reset,
	.shutdown = vm_api_shutdown,
	.measure_pending = vm_api_measure_pending,
};

/* ---------------- create / run / destroy ---------------- */

struct vm *vm_create(const struct vm_config *cfg, const struct hv_ops *ops,
		     char *err, size_t errlen)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	vm->cfg = cfg;
	vm->ops = ops;
	vm->nvcpus = cfg->vcpus;
	vm->ram_size = cfg->memory;
	vm->split_irqchip = cfg->irqchip == IRQCHIP_SPLIT || cfg->cc.type == CC_TDX;
	vm->below_4g = layout_below_4g(cfg->memory);
	vm->above_4g = layout_above_4g(cfg->memory);
	vm->req_fd = -1;
	atomic_init(&vm->exit_status, -1);
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	pthread_mutex_init(&vm->irq_lock, NULL);
	pthread_mutex_init(&vm->info_lock, NULL);
	pthread_mutex_init(&vm->reap_lock, NULL);
	pthread_cond_init(&vm->reap_cond, NULL);
	pthread_cond_init(&vm->reap_done, NULL);
	bus_init(&vm->pio);
	bus_init(&vm->mmio);
	vm->irq = (struct irq_chip){ .set_level = vm_irq_cb, .opaque = vm };
	vm->req = (struct vm_req_sink){ .request = vm_req_cb, .opaque = vm };

	r = ops->open(&vm->hv, err, errlen);
	if (r)
		goto fail;
	vm->coco_cfg.quote_socket = cfg->cc.quote_socket;
	vm->coco_cfg.snp_certs = cfg->cc.snp_certs;
	if (cfg->cc.type != CC_NONE) {
		struct hv_coco_caps caps;
		enum plan_platform pf = cfg->cc.type == CC_SNP ? PLAN_SNP : PLAN_TDX;

		/* the host must have the platform: say which piece is missing */
		if (!ops->coco) {
			snprintf(err, errlen, "the %s backend has no confidential-VM support", ops->name);
			goto fail;
		}
		if (ops->coco->probe(vm->hv, pf, &caps, err, errlen))
			goto fail;
	}
	r = file_map(cfg->firmware_path, CFG_FW_MAX, &vm->host_fw_map, err, errlen);
	if (r)
		goto fail;
	vm->host_fw = vm->host_fw_map.buf;
	vm->host_fw_len = vm->host_fw_map.len;
	vm_sha384(vm->host_fw, vm->host_fw_len, vm->host_fw_sha384);
	if (cfg->uki_path) {
		struct file_map um;
		struct uki u;
		char uerr[256];

		r = file_map(cfg->uki_path, 1ULL << 30, &um, err, errlen);
		if (r)
			goto fail;
		if (uki_parse(um.buf, um.len, &u, uerr, sizeof(uerr))) {
			snprintf(err, errlen, "uki %s: %s", cfg->uki_path, uerr);
			file_unmap(&um);
			goto fail;
		}
		vm->uki_fw = calloc(u.nfw ? u.nfw : 1, sizeof(*vm->uki_fw));
		for (unsigned i = 0; vm->uki_fw && i < u.nfw; i++) {
			if (!u.fw[i].valid)
				continue;
			vm->uki_fw[vm->n_uki_fw].fwid = strdup(u.fw[i].fwid);
			vm_sha384(u.fw[i].payload, u.fw[i].payload_len,
				  vm->uki_fw[vm->n_uki_fw].sha384);
			vm->n_uki_fw++;
		}
		uki_free(&u);
		file_unmap(&um);
	}
	vm->req_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->req_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	r = vm_map_ram(vm);
	if (r) {
		snprintf(err, errlen, "guest memory (%llu bytes): %s",
			 (unsigned long long)vm->ram_size, strerror(-r));
		goto fail;
	}
	r = vm_devices_create(vm, err, errlen);
	if (r)
		goto fail;
	return vm;
fail:
	vm_destroy(vm);
	return NULL;
}

static int vm_start_threads(struct vm *vm)
{
	sigset_t all, old;
	int r = 0;

	/* threads start with every signal blocked; they unblock the kick */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < vm->nvcpus && !r; i++) {
		struct vcpu_arg *a = malloc(sizeof(*a));

		if (!a) {
			r = -ENOMEM;
			break;
		}
		a->vm = vm;
		a->index = i;
		r = -pthread_create(&vm->thread[i], NULL, vcpu_thread_main, a);
		if (r)
			free(a);
		else
			vm->thread_started[i] = true;
	}
	for (unsigned i = 0; !r && i < VM_REAPERS; i++) {
		r = -pthread_create(&vm->reaper[i], NULL, vm_reaper_main, vm);
		if (!r)
			vm->nreapers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static void vm_stop_threads(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->state = VM_QUIT;
	atomic_store(&vm->stop, true);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	vcpu_kick_all(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->thread_started[i]) {
			pthread_join(vm->thread[i], NULL);
			vm->thread_started[i] = false;
		}
	if (vm->nreapers) {
		pthread_mutex_lock(&vm->reap_lock);
		vm->reaper_quit = true;
		pthread_cond_broadcast(&vm->reap_cond);
		pthread_mutex_unlock(&vm->reap_lock);
		for (unsigned i = 0; i < vm->nreapers; i++)
			pthread_join(vm->reaper[i], NULL);
		vm->nreapers = 0;
	}
}

/* ---- the main loop: requests, signals, serial input ---- */

struct vm_tty {
	bool raw;
	struct termios saved;
	bool escape;            /* saw Ctrl-A */
	uint8_t pend[4096];     /* host input the UART's FIFO has not taken yet */
	size_t npend;
	bool watching;          /* stdin is in the epoll set */
};

static void vm_tty_restore(struct vm_tty *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	t->raw = false;
}

/* Hand pending input to the UART as far as its FIFO takes it. */
static void vm_tty_flush(struct vm *vm, struct vm_tty *t)
{
	size_t n = t->npend ? serial_push_input(vm->dev->serial, t->pend, t->npend) : 0;

	if (n) {
		memmove(t->pend, t->pend + n, t->npend - n);
		t->npend -= n;
	}
}

/* Read stdin into the pending buffer; false on EOF or error. */
static bool vm_stdin_input(struct vm *vm, struct vm_tty *t)
{
	uint8_t buf[256];
	size_t room = sizeof(t->pend) - t->npend;
	ssize_t got = read(STDIN_FILENO, buf, room < sizeof(buf) ? room : sizeof(buf));

	if (got <= 0)
		return false;
	for (ssize_t i = 0; i < got; i++) {
		if (t->escape) {
			t->escape = false;
			if (buf[i] == 'x' || buf[i] == 'X') {
				log_info("Ctrl-A x: stopping the VM");
				vm_post(vm, VM_PENDING_EXIT, VM_EXIT_POWEROFF);
				return true;
			}
			if (buf[i] != 0x01)
				continue;
		} else if (buf[i] == 0x01) {
			t->escape = true;
			continue;
		}
		t->pend[t->npend++] = buf[i];
	}
	vm_tty_flush(vm, t);
	return true;
}

int vm_run(struct vm *vm)
{
	struct launch_plan plan;
	struct vm_tty tty = { 0 };
	sigset_t sigs;
	int sfd = -1, efd = -1, status = VM_EXIT_FAILURE;
	bool watch_stdin;
	struct epoll_event ev;

	vm->start_ns = vm_now_ns();
	if (vcpu_signals_init() < 0) {
		log_err("cannot install the vCPU kick handler");
		return VM_EXIT_FAILURE;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	efd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || efd < 0) {
		log_err("signalfd/epoll: %s", strerror(errno));
		goto out;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = 0 };
	epoll_ctl(efd, EPOLL_CTL_ADD, vm->req_fd, &ev);
	ev.data.u32 = 1;
	epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev);
	/* virtio-blk completions: io_uring signals an eventfd per disk; the
	 * guest's notifications arrive on another (KVM_IOEVENTFD) */
	for (unsigned i = 0; i < vm->dev->ndisks; i++) {
		int nfd = virtio_blk_notify_fd(vm->dev->disk[i]);

		ev.data.u32 = 100 + i;
		if (epoll_ctl(efd, EPOLL_CTL_ADD, virtio_blk_event_fd(vm->dev->disk[i]), &ev) < 0) {
			log_err("disk %u: cannot watch its completions: %s", i, strerror(errno));
			goto out;
		}
		ev.data.u32 = 200 + i;
		if (nfd >= 0 && epoll_ctl(efd, EPOLL_CTL_ADD, nfd, &ev) < 0) {
			log_err("disk %u: cannot watch its notifications: %s", i, strerror(errno));
			goto out;
		}
	}
	watch_stdin = vm->cfg->serial != SERIAL_NONE && isatty(STDIN_FILENO);
	if (watch_stdin) {
		struct termios raw;

		if (tcgetattr(STDIN_FILENO, &tty.saved) == 0) {
			raw = tty.saved;
			cfmakeraw(&raw);
			raw.c_oflag |= OPOST | ONLCR;
			if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
				tty.raw = true;
		}
		ev.data.u32 = 2;
		if (epoll_ctl(efd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) < 0)
			watch_stdin = false;
		tty.watching = watch_stdin;
	}

	if (vm->cfg->api.socket) {
		char err[256];

		vm->api = api_start(vm->cfg->api.socket, vm->cfg->api.uids, vm->cfg->api.nuids,
				    &vm_api_ops, vm, err, sizeof(err));
		if (!vm->api) {
			log_err("control socket: %s", err);
			status = VM_EXIT_STARTUP;
			goto out;
		}
	}
	memset(&plan, 0, sizeof(plan));
	if (vm_make_plan(vm, vm->host_fw, vm->host_fw_len, &plan))
		goto out;
	if (vm_build(vm, &plan)) {
		plan_free(&plan);
		log_err("could not build the VM");
		goto out;
	}
	if (vm_start_threads(vm)) {
		log_err("could not start vCPU threads");
		goto out;
	}
	doorbell_set_fw_region(vm->dev->doorbell, vm->plan.fw_gpa, vm->plan.fw_size);
	atomic_store(&vm->dev->first_output, true);
	pthread_mutex_lock(&vm->info_lock);
	memcpy(vm->cur_fw_sha384, vm->host_fw_sha384, 48);
	pthread_mutex_unlock(&vm->info_lock);
	atomic_store(&vm->run_state, VM_RS_RUNNING);
	vm_resume(vm);
	{
		uint64_t fds, rss, heap;

		vm_process_usage(&fds, &rss, &heap);
		EVENTS_EMIT("booted", EVF_U64("vcpus", vm->nvcpus), EVF_U64("memory", vm->ram_size),
			    EVF_STR("firmware", "host"), EVF_U64("size", vm->host_fw_len),
			    EVF_BYTES("sha384", vm->host_fw_sha384, 48),
			    EVF_F64("build_ms", vm->last_build_ns / 1e6),
			    EVF_U64("fds", fds), EVF_U64("rss_kib", rss), EVF_U64("heap_kib", heap));
	}

	for (;;) {
		struct epoll_event evs[4];
		/* while input waits for room in the UART FIFO, poll for it */
		int n = epoll_wait(efd, evs, 4, tty.npend ? 2 : -1);

		if (tty.npend) {
			vm_tty_flush(vm, &tty);
			if (tty.watching && tty.npend == sizeof(tty.pend)) {
				epoll_ctl(efd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
				tty.watching = false;
			} else if (!tty.watching && watch_stdin && tty.npend < sizeof(tty.pend)) {
				struct epoll_event in = { .events = EPOLLIN, .data.u32 = 2 };

				tty.watching = epoll_ctl(efd, EPOLL_CTL_ADD, STDIN_FILENO, &in) == 0;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == 1) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					log_info("signal %u: stopping the VM", si.ssi_signo);
					vm_post(vm, VM_PENDING_EXIT, VM_EXIT_POWEROFF);
				}
			} else if (evs[i].data.u32 >= 100 &&
				   evs[i].data.u32 < 100 + vm->dev->ndisks) {
				virtio_blk_process(vm->dev->disk[evs[i].data.u32 - 100]);
			} else if (evs[i].data.u32 >= 200 &&
				   evs[i].data.u32 < 200 + vm->dev->ndisks) {
				virtio_blk_notify_event(vm->dev->disk[evs[i].data.u32 - 200]);
				vm->dev->notify_eventfd++;
			} else if (evs[i].data.u32 == 2) {
				if (!vm_stdin_input(vm, &tty)) {
					epoll_ctl(efd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
					tty.watching = watch_stdin = false;
				}
			} else {
				uint64_t cnt;

				if (read(vm->req_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
					log_warn("request eventfd: %s", strerror(errno));
			}
		}
		unsigned pend = atomic_exchange(&vm->pending, 0);

		if (pend & VM_PENDING_EXIT) {
			status = atomic_load(&vm->exit_status);
			break;
		}
		if (pend & VM_PENDING_RESET) {
			if (vm_rebuild(vm)) {
				status = VM_EXIT_FAILURE;
				break;
			}
			/* a request posted while rebuilding is still in pending */
			if (atomic_load(&vm->pending)) {
				uint64_t one = 1;
				ssize_t w = write(vm->req_fd, &one, sizeof(one));

				(void)w;
			}
		}
	}
out:
	vm_tty_restore(&tty);
	atomic_store(&vm->run_state, VM_RS_STOPPED);
	vm_pause(vm);
	vm_reaper_drain(vm);
	{
		uint64_t fds, rss, heap;
		uint64_t msi_irqfd = 0, msi_signal = 0, notify_eventfd = 0;

		vm_process_usage(&fds, &rss, &heap);
		if (vm->dev) {
			pthread_mutex_lock(&vm->irq_lock);
			msi_irqfd = vm->dev->msi_irqfd;
			msi_signal = vm->dev->msi_signal;
			pthread_mutex_unlock(&vm->irq_lock);
			notify_eventfd = vm->dev->notify_eventfd;
		}
		EVENTS_EMIT("shutdown", EVF_I64("status", status < 0 ? VM_EXIT_FAILURE : status),
			    EVF_U64("resets", vm->resets), EVF_U64("fds", fds),
			    EVF_U64("rss_kib", rss), EVF_U64("heap_kib", heap),
			    EVF_U64("notify_eventfd", notify_eventfd),
			    EVF_U64("msi_irqfd", msi_irqfd), EVF_U64("msi_signal", msi_signal));
	}
	if (vm->api) {
		api_stop(vm->api);   /* closes clients, removes the socket file */
		vm->api = NULL;
	}
	if (sfd >= 0)
		close(sfd);
	if (efd >= 0)
		close(efd);
	return status < 0 ? VM_EXIT_FAILURE : status;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	vm_stop_threads(vm);
	vm_retire_current(vm, false);
	vm_devices_destroy(vm);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->req_fd >= 0)
		close(vm->req_fd);
	if (vm->hv)
		vm->ops->close(vm->hv);
	file_unmap(&vm->host_fw_map);
	for (unsigned i = 0; i < vm->n_uki_fw; i++)
		free(vm->uki_fw[i].fwid);
	free(vm->uki_fw);
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->irq_lock);
	pthread_mutex_destroy(&vm->info_lock);
	pthread_mutex_destroy(&vm->reap_lock);
	pthread_cond_destroy(&vm->reap_cond);
	pthread_cond_destroy(&vm->reap_done);
	free(vm);
}
