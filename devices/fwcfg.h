/* devices/fwcfg.h: QEMU-compatible fw_cfg device (selector 0x510, data
 * 0x511, DMA 0x514), docs/specs/fw_cfg.rst in QEMU.
 * Owns: the item table (numbered keys and the named-file directory), the
 * PIO protocol and the DMA engine.  Every DMA descriptor and guest address is
 * validated through vmm/guestmem; a bad one sets the ERROR bit, never
 * crashes.  Knows nothing of KVM. */
#ifndef FUKI_FWCFG_H
#define FUKI_FWCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus;
struct guestmem;

/* Port numbers (x86) and keys: QEMU include/standard-headers/linux/qemu_fw_cfg.h */
#define FWCFG_PORT_SEL     0x510
#define FWCFG_PORT_DATA    0x511
#define FWCFG_PORT_DMA     0x514   /* 8 bytes: 0x514..0x51b, big-endian */

#define FW_CFG_SIGNATURE   0x00
#define FW_CFG_ID          0x01
#define FW_CFG_UUID        0x02
#define FW_CFG_RAM_SIZE    0x03
#define FW_CFG_NOGRAPHIC   0x04
#define FW_CFG_NB_CPUS     0x05
#define FW_CFG_MACHINE_ID  0x06
#define FW_CFG_KERNEL_ADDR 0x07
#define FW_CFG_KERNEL_SIZE 0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR 0x0a
#define FW_CFG_INITRD_SIZE 0x0b
#define FW_CFG_BOOT_DEVICE 0x0c
#define FW_CFG_NUMA        0x0d
#define FW_CFG_BOOT_MENU   0x0e
#define FW_CFG_MAX_CPUS    0x0f
#define FW_CFG_KERNEL_ENTRY 0x10
#define FW_CFG_KERNEL_DATA 0x11
#define FW_CFG_INITRD_DATA 0x12
#define FW_CFG_CMDLINE_ADDR 0x13
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_SETUP_ADDR  0x16
#define FW_CFG_SETUP_SIZE  0x17
#define FW_CFG_SETUP_DATA  0x18
#define FW_CFG_FILE_DIR    0x19
#define FW_CFG_FILE_FIRST  0x20
#define FW_CFG_FILE_SLOTS  0x40        /* files 0x20..0x5f */
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL  0x8000
#define FW_CFG_INVALID     0xffff
#define FW_CFG_MAX_FILE_PATH 56

#define FW_CFG_VERSION      0x01
#define FW_CFG_VERSION_DMA  0x02

#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10
#define FW_CFG_DMA_SIGNATURE  0x51454d5520434647ULL  /* "QEMU CFG" */

/* Called when the guest selects the item (before any data moves). */
typedef void (*fwcfg_select_fn)(void *opaque);
/* Called after a successful DMA write of [offset, offset+len) into the
 * item's buffer. */
typedef void (*fwcfg_write_fn)(void *opaque, uint64_t offset, uint64_t len);

struct fwcfg;

/* @gm is the guest memory the DMA engine reads and writes; it must outlive
 * the device (it survives VM rebuilds). */
struct fwcfg *fwcfg_create(const struct guestmem *gm);
void fwcfg_destroy(struct fwcfg *fw);
/* Register the port ranges on @pio: 0x510-0x511 (selector and data, one
 * range so a 16-bit selector write is dispatched whole) and 0x514-0x51b. */
int fwcfg_attach(struct fwcfg *fw, struct bus *pio);
/* Back to the power-on state: selector 0, offset 0 (fw_cfg device reset). */
void fwcfg_reset(struct fwcfg *fw);

/* Numbered items: the data is copied. -EINVAL for a key in the file range or
 * out of range, -EEXIST if already set (use fwcfg_set_* to replace). */
int fwcfg_add_bytes(struct fwcfg *fw, uint16_t key, const void *data, size_t len);
int fwcfg_add_u16(struct fwcfg *fw, uint16_t key, uint16_t v);   /* LE */
int fwcfg_add_u32(struct fwcfg *fw, uint16_t key, uint32_t v);   /* LE */
int fwcfg_add_u64(struct fwcfg *fw, uint16_t key, uint64_t v);   /* LE */
/* Replace an item's contents (copied). */
int fwcfg_set_bytes(struct fwcfg *fw, uint16_t key, const void *data, size_t len);

/* Named files, read-only, data copied.  The directory is kept sorted by name
 * and the keys are assigned in that order (as QEMU does).  -EEXIST for a
 * duplicate name, -ENAMETOOLONG past 55 characters, -ENOSPC when full. */
int fwcfg_add_file(struct fwcfg *fw, const char *name, const void *data, size_t len);
/* A file whose buffer belongs to the caller (like QEMU's
 * fw_cfg_add_file_callback): @data must stay valid; when @writable the guest
 * may DMA-write into it and @write_cb runs after each accepted write. */
int fwcfg_add_file_cb(struct fwcfg *fw, const char *name, void *data, size_t len,
		      bool writable, fwcfg_select_fn select_cb,
		      fwcfg_write_fn write_cb, void *opaque);
/* Replace a read-only file's contents (copied); -ENOENT if no such file. */
int fwcfg_set_file(struct fwcfg *fw, const char *name, const void *data, size_t len);

/* Access entry points the bus callbacks use; exposed for unit tests and the
 * fuzzer.  fwcfg_dma_kick() runs one DMA descriptor at guest address @gpa. */
void fwcfg_select(struct fwcfg *fw, uint16_t key);
uint8_t fwcfg_read_data(struct fwcfg *fw);
void fwcfg_dma_kick(struct fwcfg *fw, uint64_t gpa);

/* Completing a DMA write later, from another thread.  fw_cfg.rst lets a
 * transfer stay "in progress": the guest polls the descriptor's control
 * word until the device clears it (or sets the error bit), as OVMF,
 * SeaBIOS and Linux do.  A write callback that hands its work to another
 * thread calls fwcfg_dma_defer(): true, with the descriptor's address in
 * *@desc, when the write came from a DMA transfer (not for a callback
 * called directly); the transfer then returns without touching the control
 * word, and exactly one fwcfg_dma_finish(@desc) must follow, from any
 * thread, before guest memory goes away or the machine resets.  The
 * guest's buffer has been copied into the item by then. */
bool fwcfg_dma_defer(struct fwcfg *fw, uint64_t *desc);
void fwcfg_dma_finish(struct fwcfg *fw, uint64_t desc, bool error);

#endif
