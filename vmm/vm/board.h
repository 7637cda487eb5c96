/* vmm/vm/board.h: the machine's device set (an i440FX/PIIX-like PC): the
 * UART, i8042, reset register, PCI host bridge with its virtio-blk disks,
 * CMOS, fw_cfg, debug-exit port, doorbell and, for a split irqchip, the
 * IOAPIC.
 * Owns: creating the devices in a fixed order, and one table, in that
 * order, that drives every reset (walked forward) and the teardown (walked
 * backward).  A device that others plug into resets and is destroyed after
 * its children (the disks before the PCI bus that holds their functions).
 * The devices outlive every hypervisor VM. */
#ifndef FUKI_BOARD_H
#define FUKI_BOARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/cmos.h"
#include "devices/debugexit.h"
#include "devices/doorbell.h"
#include "devices/fwcfg.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/pci.h"
#include "devices/pflash.h"
#include "devices/resetreg.h"
#include "devices/serial.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "vmm/config/config.h"
#include "vmm/vm/pam.h"

struct board_dev {
	const char *name;
	void *dev;
	void (*reset)(void *dev);      /* NULL: nothing to reset */
	void (*destroy)(void *dev);
};

#define BOARD_MAX_DEVS 13
/* the variable store's memory slot, after the BIOS area's */
#define BOARD_PFLASH_SLOT (PAM_SLOT0 + PAM_MAX_CHUNKS)
/* the most slots a build adds to the memory map's (launch_build's own) */
#define BOARD_OWN_SLOTS (PAM_MAX_CHUNKS + 1)

struct board {
	struct serial *serial;
	struct i8042 *i8042;
	struct resetreg *resetreg;
	struct cmos *cmos;
	struct debugexit *debugexit;
	struct fwcfg *fwcfg;
	struct vm_acpi *acpi;       /* the ACPI files fwcfg serves (acpitables.c) */
	struct doorbell *doorbell;
	struct pci_bus *pci;        /* owns 0xCF8-0xCFF (0xCF9 goes to resetreg) */
	struct ioapic *ioapic;      /* split irqchip only */
	struct pflash *pflash;      /* [firmware] vars: below the code image */
	struct pam pam;             /* the BIOS area the host bridge maps */
	struct virtio_msi_sink msi;
	struct virtio_ioevent_sink ioevent;
	struct virtio_blk *disk[CFG_MAX_DISKS];   /* on the PCI bus */
	unsigned disk_slot[CFG_MAX_DISKS];        /* PCI slot (device number) */
	unsigned ndisks;
	/* how notifications travelled (the shutdown event; main loop only) */
	uint64_t notify_eventfd;
	/* serial output: the UART's ring, drained by the main loop to
	 * serial_fd (the VMM's own descriptor, non-blocking) */
	int serial_fd;              /* -1: output = "none" (or stdout closed) */
	int serial_wake_fd;         /* eventfd: the ring went non-empty */
	/* the first byte of every build: enum board_first_output */
	atomic_int first_output;
	uint8_t first_byte;         /* FO_PENDING: the byte held back */
	atomic_bool first_output_quiet;   /* the build's events stay out of the log */
	uint64_t first_seq;         /* serial_accepted() when it was armed */

	struct board_dev devs[BOARD_MAX_DEVS];   /* in creation order */
	unsigned ndevs;
};

/* The first-output event of a build: armed before its vCPUs run, held
 * until the build's own events (rebuilt, booted) are out, which the main
 * thread writes once the vCPUs already run: a byte the guest writes
 * before that waits in FO_PENDING and is reported on the release. */
enum board_first_output { FO_OFF, FO_HELD, FO_PENDING, FO_ARMED };

struct vm;

/* Create @vm's devices (vm->dev): 0, or a negative errno code with a line in
 * @err; what was made is then in vm->dev for board_destroy. */
int board_create(struct vm *vm, char *err, size_t errlen);
/* System reset of every device (between two hypervisor VMs). */
void board_reset(struct board *b);
/* Destroy every device, last created first.  NULL is fine. */
void board_destroy(struct board *b);
/* Report the first serial byte of the next build (main thread, before the
 * vCPUs run it); kept out of the log as the build's other events are
 * (events_log_is_quiet() on the calling thread).  Held until
 * board_first_output_release(), after the build's events. */
void board_first_output_arm(struct board *b);
void board_first_output_release(struct board *b);
/* Main loop: consume the serial wake-up, report the first output of the
 * build, move what the ring holds to serial_fd without blocking.  The
 * serial_drain() result: bytes written, 0 (nothing, or the sink is full),
 * or -errno (the sink failed: stop watching it).  -EBADF without a sink. */
long board_serial_drain(struct board *b);

/* The memory slots a build adds to the memory map's (launch_build's own):
 * the BIOS-area slots of @pam, then, for a build of the host firmware
 * (@host_fw; a guest-supplied image has no store, and a confidential VM
 * none at all), the variable store's in read-array mode, as every build
 * starts.  Returns how many it wrote. */
unsigned board_own_slots(const struct board *b, const struct pam *pam, bool host_fw,
			 struct launch_slot own[BOARD_OWN_SLOTS]);

#endif
