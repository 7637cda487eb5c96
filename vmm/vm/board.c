/* vmm/vm/board.c: the device set and its table (see board.h). */
#include "vmm/vm/board.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/events.h"
#include "vmm/base/log.h"
#include "vmm/base/layout.h"
#include "vmm/launch/plain.h"
#include "vmm/vm/acpitables.h"
#include "vmm/vm/fwcfg_content.h"
#include "vmm/vm/vm_internal.h"

/* void * adapters for the table */
#define BOARD_OPS(type, fn) \
	static void fn##_reset_dev(void *p) { fn##_reset((struct type *)p); } \
	static void fn##_destroy_dev(void *p) { fn##_destroy((struct type *)p); }
BOARD_OPS(serial, serial)
BOARD_OPS(i8042, i8042)
BOARD_OPS(resetreg, resetreg)
BOARD_OPS(cmos, cmos)
BOARD_OPS(ioapic, ioapic)
BOARD_OPS(pflash, pflash)

/* fw_cfg with the ACPI files it serves (vmm/vm/acpitables.c): they go
 * after the device that serves them */
static void board_fwcfg_reset(void *p)
{
	fwcfg_reset(((struct board *)p)->fwcfg);
}

static void board_fwcfg_destroy(void *p)
{
	struct board *b = p;

	fwcfg_destroy(b->fwcfg);
	vm_acpi_destroy(b->acpi);
}

static void debugexit_destroy_dev(void *p)
{
	debugexit_destroy(p);
}

static void doorbell_destroy_dev(void *p)
{
	doorbell_destroy(p);
}

/* The PCI bus with the disks plugged into it: children first.  A disk's
 * reset waits for its in-flight I/O. */
static void board_pci_reset(void *p)
{
	struct board *b = p;

	for (unsigned i = 0; i < b->ndisks; i++)
		virtio_blk_reset(b->disk[i]);
	pci_reset(b->pci);
}

static void board_pci_destroy(void *p)
{
	struct board *b = p;

	for (unsigned i = 0; i < b->ndisks; i++)
		virtio_blk_destroy(b->disk[i]);
	pci_destroy(b->pci);
}

static void board_add(struct board *b, const char *name, void *dev, void (*reset)(void *),
		      void (*destroy)(void *))
{
	if (b->ndevs < BOARD_MAX_DEVS)
		b->devs[b->ndevs++] = (struct board_dev){ name, dev, reset, destroy };
}

void board_reset(struct board *b)
{
	for (unsigned i = 0; i < b->ndevs; i++)
		if (b->devs[i].reset)
			b->devs[i].reset(b->devs[i].dev);
}

void board_destroy(struct board *b)
{
	if (!b)
		return;
	for (unsigned i = b->ndevs; i-- > 0;)
		b->devs[i].destroy(b->devs[i].dev);
	if (b->serial_fd >= 0)
		close(b->serial_fd);
	if (b->serial_wake_fd >= 0)
		close(b->serial_wake_fd);
	free(b);
}

/* The sink callback, for output = "none" only: nothing is written, the
 * first byte of each build is still reported. */
static void board_first_output(struct board *b, uint64_t byte)
{
	bool was = events_log_quiet(atomic_load(&b->first_output_quiet));

	EVENTS_EMIT("first-output", EVF_U64("byte", byte));
	events_log_quiet(was);
}

/* On a vCPU thread: report the build's first byte, or hold it for the
 * release while the build's events are still being written. */
static void board_serial_out(void *opaque, const uint8_t *buf, size_t n)
{
	struct board *b = opaque;
	int s = atomic_load(&b->first_output);

	while (n && (s == FO_ARMED || s == FO_HELD)) {
		if (s == FO_ARMED) {
			if (atomic_compare_exchange_weak(&b->first_output, &s, FO_OFF)) {
				board_first_output(b, buf[0]);
				return;
			}
		} else {
			b->first_byte = buf[0];   /* published by the exchange */
			if (atomic_compare_exchange_weak(&b->first_output, &s, FO_PENDING))
				return;
		}
	}
}

/* The ring's notify: on a vCPU thread with the UART's lock held, so only
 * an eventfd write (which never blocks: a saturated counter is EAGAIN and
 * the main loop wakes anyway). */
static void board_serial_wake(void *opaque)
{
	struct board *b = opaque;
	uint64_t one = 1;
	ssize_t w = write(b->serial_wake_fd, &one, sizeof(one));

	(void)w;
}

void board_first_output_arm(struct board *b)
{
	if (b->serial_fd >= 0)
		b->first_seq = serial_accepted(b->serial);
	atomic_store(&b->first_output_quiet, events_log_is_quiet());
	atomic_store(&b->first_output, FO_HELD);
}

void board_first_output_release(struct board *b)
{
	int s = FO_HELD;

	if (atomic_compare_exchange_strong(&b->first_output, &s, FO_ARMED) || s != FO_PENDING)
		return;
	atomic_store(&b->first_output, FO_OFF);
	board_first_output(b, b->first_byte);
}

long board_serial_drain(struct board *b)
{
	uint64_t cnt;
	ssize_t rd;

	if (b->serial_fd < 0)
		return -EBADF;
	rd = read(b->serial_wake_fd, &cnt, sizeof(cnt));
	(void)rd;
	/* the first byte accepted since the build is still in the ring: only
	 * this thread drains it, and the release (this thread too) comes
	 * before the main loop drains again */
	if (atomic_load(&b->first_output) != FO_OFF && serial_accepted(b->serial) > b->first_seq) {
		int v = serial_peek_output(b->serial, b->first_seq);

		atomic_store(&b->first_output, FO_OFF);
		board_first_output(b, v < 0 ? 0 : (uint64_t)v);
	}
	return serial_drain(b->serial, b->serial_fd);
}

/* Delete or map one of the BIOS area's memory slots. */
static int board_pam_slot(void *opaque, const struct launch_slot *sl, bool add)
{
	struct vm *vm = opaque;

	return vm->ops->vm_set_memory(vm->hvvm, sl->slot, sl->gpa, add ? sl->size : 0, sl->host,
				      sl->readonly);
}

/* The host bridge's PAM hook: rewrite the BIOS area of vm->gm and replace
 * the memory slots whose run of chunks changed (pam_slots merges chunks with
 * the same view).  Runs on a vCPU thread with the PCI config lock held
 * (which serialises it).  Other vCPUs are not stopped: one touching a chunk
 * while its slot is re-added sees a brief hole, as on QEMU. */
static void board_pam_changed(void *opaque, const uint8_t regs[I440FX_PAM_REGS])
{
	struct vm *vm = opaque;
	struct launch_slot before[PAM_MAX_CHUNKS], after[PAM_MAX_CHUNKS];
	unsigned nb, na;

	if (!vm->hvvm || vm->plan.platform != PLAN_PLAIN)
		return;
	nb = pam_slots(&vm->dev->pam, before);
	if (!pam_update(&vm->dev->pam, &vm->gm, regs, NULL, NULL))
		return;
	na = pam_slots(&vm->dev->pam, after);
	pam_slots_apply(before, nb, after, na, board_pam_slot, vm);
}

/* The variable store leaves or re-enters read-array mode: its slot goes
 * away (every access traps to the device) or comes back.  On a vCPU thread
 * with the bus lock held; between builds (no VM) the next build maps it. */
static int board_pflash_map(void *opaque, bool array)
{
	struct vm *vm = opaque;
	struct pflash *pf = vm->dev->pflash;

	if (!vm->hvvm)
		return 0;
	return vm->ops->vm_set_memory(vm->hvvm, BOARD_PFLASH_SLOT, pflash_gpa(pf),
				      array ? pflash_size(pf) : 0, pflash_host(pf), true);
}

unsigned board_own_slots(const struct board *b, const struct pam *pam, bool host_fw,
			 struct launch_slot own[BOARD_OWN_SLOTS])
{
	unsigned n = pam_slots(pam, own);

	if (b->pflash && host_fw)
		own[n++] = (struct launch_slot){ .slot = BOARD_PFLASH_SLOT,
						 .gpa = pflash_gpa(b->pflash),
						 .size = pflash_size(b->pflash),
						 .host = pflash_host(b->pflash), .readonly = true };
	return n;
}

/* [firmware] vars: the store right below the code image, as QEMU's pc
 * machine maps its second flash unit (OVMF's variable-store addresses
 * assume it). */
static int board_pflash(struct vm *vm, struct board *b, char *err, size_t errlen)
{
	const char *path = vm->cfg->firmware_vars_path;
	uint64_t gpa;

	if (!path)
		return 0;
	b->pflash = pflash_open(path, err, errlen);
	if (!b->pflash)
		return -EINVAL;
	board_add(b, "pflash", b->pflash, pflash_reset_dev, pflash_destroy_dev);
	gpa = LAYOUT_4G - vm->swap.host_fw_len - pflash_size(b->pflash);
	if (vm->swap.host_fw_len + pflash_size(b->pflash) > PLAIN_ROM_MAX ||
	    pflash_attach(b->pflash, &vm->mmio, gpa)) {
		snprintf(err, errlen, "variable store %s: does not fit below the firmware", path);
		return -EINVAL;
	}
	pflash_set_map(b->pflash, board_pflash_map, vm);
	return 0;
}

/* The file description the UART's ring drains to; it is made
 * non-blocking, so it must be the VMM's own, not one shared with the
 * process that started it.  A pipe or terminal on stdout is reopened
 * through /proc (a new open file description); a regular file is shared
 * through dup() instead (reopening would lose its offset and O_APPEND, and
 * O_NONBLOCK changes nothing for a regular file).  Anything else (a socket)
 * is dup()ed and then shares O_NONBLOCK with the parent: said once. */
static int board_open_stdout(void)
{
	struct stat st;
	int fd;

	if (fstat(STDOUT_FILENO, &st) < 0)
		return -1;   /* stdout closed: the output goes nowhere */
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	/* O_NONBLOCK: opening a pipe whose reader is gone would wait for one */
	fd = open("/proc/self/fd/1", O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	log_info("serial: stdout cannot be reopened (%s): sharing it, now non-blocking",
		 strerror(errno));
	return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
}

static int board_serial_sink(struct board *b, const struct vm_config *cfg, char *err,
			     size_t errlen)
{
	if (cfg->serial == SERIAL_STDOUT) {
		b->serial_fd = board_open_stdout();
	} else if (cfg->serial == SERIAL_FILE) {
		b->serial_fd = open(cfg->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (b->serial_fd < 0) {
			snprintf(err, errlen, "serial output %s: %s", cfg->serial_path, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Switch the UART to its bounded ring: a vCPU never writes to the sink. */
static int board_serial_ring(struct board *b, const struct vm_config *cfg, char *err,
			     size_t errlen)
{
	int r;

	if (b->serial_fd < 0)
		return 0;
	b->serial_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->serial_wake_fd < 0) {
		snprintf(err, errlen, "serial: eventfd: %s", strerror(errno));
		return -errno;
	}
	r = serial_out_fd(b->serial, b->serial_fd,
			  cfg->serial == SERIAL_FILE ? cfg->serial_max_size : 0,
			  board_serial_wake, b);
	if (r) {
		snprintf(err, errlen, "serial output: %s", strerror(-r));
		return r;
	}
	return 0;
}

static int board_doorbell(struct vm *vm, struct board *b, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
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
		.fw_gpa = LAYOUT_4G - vm->swap.host_fw_len,
		.fw_size = vm->swap.host_fw_len,
		.validate = swap_doorbell_validate,
		.validate_opaque = &vm->swap,
		.event = swap_doorbell_event,
		.event_opaque = &vm->swap,
	};

	b->doorbell = doorbell_create(&dc);
	if (b->doorbell)
		board_add(b, "doorbell", b->doorbell, NULL, doorbell_destroy_dev);
	if (!b->doorbell || doorbell_attach(b->doorbell, b->fwcfg)) {
		snprintf(err, errlen, "doorbell setup failed");
		return -EINVAL;
	}
	return 0;
}

static int board_disks(struct vm *vm, struct board *b, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;

	b->msi = irqroute_msi_sink(&vm->irqr);
	b->ioevent = irqroute_ioevent_sink(&vm->irqr);
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		/* a confidential guest's memory is private: the device only sees
		 * what the guest shares, so its driver must use bounce buffers */
		struct virtio_blk_opts o = { .path = cfg->disks[i].path,
					     .readonly = cfg->disks[i].readonly,
					     .access_platform = cfg->cc.type != CC_NONE,
					     .ioevent = vm->ops->vm_ioeventfd ? &b->ioevent : NULL };
		int slot = pci_free_slot(b->pci);

		if (slot < 0) {
			snprintf(err, errlen, "disk %s: no free PCI slot", o.path);
			return -ENOSPC;
		}
		b->disk[i] = virtio_blk_create(&o, b->pci, (unsigned)slot, &vm->gm,
					       vm->ops->vm_signal_msi ? &b->msi : NULL, err, errlen);
		if (!b->disk[i])
			return -EINVAL;
		b->ndisks = i + 1;
		b->disk_slot[i] = (unsigned)slot;
	}
	return 0;
}

int board_create(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	struct board *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	vm->dev = b;
	b->serial_fd = -1;
	b->serial_wake_fd = -1;
	r = board_serial_sink(b, cfg, err, errlen);
	if (r)
		return r;
	b->serial = serial_create(SERIAL_COM1_BASE, &vm->irq, SERIAL_COM1_GSI, board_serial_out, b);
	if (b->serial) {
		board_add(b, "serial", b->serial, serial_reset_dev, serial_destroy_dev);
		r = board_serial_ring(b, cfg, err, errlen);
		if (r)
			return r;
	}
	b->i8042 = i8042_create(&vm->req);
	if (b->i8042)
		board_add(b, "i8042", b->i8042, i8042_reset_dev, i8042_destroy_dev);
	b->resetreg = resetreg_create(&vm->req);
	if (b->resetreg)
		board_add(b, "resetreg", b->resetreg, resetreg_reset_dev, resetreg_destroy_dev);
	if (!b->serial || !b->i8042 || !b->resetreg) {
		snprintf(err, errlen, "out of memory creating devices");
		return -ENOMEM;
	}
	/* PCI memory BARs go in the 32-bit hole: above low RAM, below the IOAPIC */
	b->pci = pci_create(&vm->irq, &vm->req, b->resetreg, vm->below_4g, LAYOUT_IOAPIC);
	if (!b->pci) {
		snprintf(err, errlen, "PCI host bridge setup failed");
		return -ENOMEM;
	}
	board_add(b, "pci", b, board_pci_reset, board_pci_destroy);
	pci_set_pam_hook(b->pci, board_pam_changed, vm);
	b->cmos = cmos_create(vm->below_4g, vm->above_4g, vm->nvcpus);
	if (b->cmos)
		board_add(b, "cmos", b->cmos, cmos_reset_dev, cmos_destroy_dev);
	b->fwcfg = fwcfg_create(&vm->gm);
	if (b->fwcfg)
		board_add(b, "fwcfg", b, board_fwcfg_reset, board_fwcfg_destroy);
	if (cfg->debug_exit) {
		b->debugexit = debugexit_create(cfg->debug_exit_port, &vm->req);
		if (b->debugexit)
			board_add(b, "debugexit", b->debugexit, NULL, debugexit_destroy_dev);
	}
	if (!b->cmos || !b->fwcfg || (cfg->debug_exit && !b->debugexit)) {
		snprintf(err, errlen, "out of memory creating devices");
		return -ENOMEM;
	}
	if (serial_attach(b->serial, &vm->pio) || i8042_attach(b->i8042, &vm->pio) ||
	    pci_attach(b->pci, &vm->pio, &vm->mmio) || cmos_attach(b->cmos, &vm->pio) ||
	    fwcfg_attach(b->fwcfg, &vm->pio) ||
	    (b->debugexit && debugexit_attach(b->debugexit, &vm->pio))) {
		snprintf(err, errlen, "device port conflict (is debug_exit.port 0x%x in use by another device?)",
			 cfg->debug_exit_port);
		return -EEXIST;
	}
	err[0] = '\0';
	{
		struct fwcfg_machine m = {
			.cfg = cfg, .ram_size = vm->ram_size, .below_4g = vm->below_4g,
			.above_4g = vm->above_4g, .nvcpus = vm->nvcpus,
			.split_irqchip = vm->split_irqchip,
		};

		struct acpi_config ac;

		if (fwcfg_content_setup(b->fwcfg, &m, &vm->swap.khash, err, errlen)) {
			if (!err[0])
				snprintf(err, errlen, "fw_cfg setup failed");
			return -EINVAL;
		}
		/* the ACPI files follow the PM block the firmware programs */
		fwcfg_content_acpi(&m, &ac);
		b->acpi = vm_acpi_create(b->fwcfg, b->pci, &ac);
		if (!b->acpi) {
			snprintf(err, errlen, "ACPI tables setup failed");
			return -EINVAL;
		}
		vm->swap.khash_ok = cfg->kernel_path != NULL;
	}
	r = board_doorbell(vm, b, err, errlen);
	if (!r)
		r = board_pflash(vm, b, err, errlen);
	if (!r)
		r = board_disks(vm, b, err, errlen);
	if (r)
		return r;
	if (vm->split_irqchip) {
		struct ioapic_sink sink = irqroute_ioapic_sink(&vm->irqr);

		b->ioapic = ioapic_create(&sink);
		if (b->ioapic)
			board_add(b, "ioapic", b->ioapic, ioapic_reset_dev, ioapic_destroy_dev);
		if (!b->ioapic || ioapic_attach(b->ioapic, &vm->mmio)) {
			snprintf(err, errlen, "IOAPIC setup failed");
			return -ENOMEM;
		}
		/* a TD's EOIs never reach KVM, let alone the VMM */
		ioapic_set_no_eoi(b->ioapic, cfg->cc.type == CC_TDX);
		irqroute_set_ioapic(&vm->irqr, b->ioapic);
	}
	return fwcfg_content_bootorder(b->fwcfg, cfg, b->disk_slot, err, errlen);
}
