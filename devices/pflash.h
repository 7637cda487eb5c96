/* devices/pflash.h: the UEFI variable store as a CFI parallel flash with
 * the Intel/Sharp command set (the "pflash_cfi01" QEMU gives the `pc`
 * machine: 8-bit bank, 4 KiB sectors, zero manufacturer and device IDs).
 * Owns: the flash array (a host buffer the size of the backing file), the
 * command state machine and status register, the write-back of changed
 * bytes to the backing file, and the CFI query table.
 *
 * In read-array mode the array is a read-only memory slot: reads run at
 * memory speed and only writes reach the device.  The first command write
 * leaves read-array mode: the @map callback then takes the slot away, so
 * reads come here too (status, IDs, the query table), and gives it back
 * when the guest returns to read-array mode (0xFF, 0x50, 0x00, 0xF0, or an
 * unknown sequence).  Changed bytes are written to the file when the guest
 * returns to read-array mode and at pflash_flush/pflash_destroy.
 *
 * Programming stores the byte as QEMU does (real NOR flash could only
 * clear bits); a block is erased (all 0xFF) at the erase confirm (0xD0).
 * The device is "inactive" while the VM runs firmware other than the one
 * the store belongs to (a guest-supplied image): it then ignores writes and
 * reads as 0xFF, and the caller maps no slot. */
#ifndef FUKI_PFLASH_H
#define FUKI_PFLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus;
struct pflash;

#define PFLASH_SECTOR 4096u

/* The array is mapped as a memory slot (@array true) or taken away so
 * that every access traps to the device (@array false).  Called with the
 * bus lock held, on the thread of the access; 0 or a negative errno. */
typedef int pflash_map_fn(void *opaque, bool array);

/* A store over @size bytes at @buf (a multiple of PFLASH_SECTOR, page
 * aligned: it becomes a memory slot), written back to @fd (-1: none) at
 * offset 0.  The device takes neither; NULL on bad arguments or ENOMEM. */
struct pflash *pflash_create(uint8_t *buf, uint64_t size, int fd);
/* Open @path as a store: O_RDWR, an exclusive lock (two VMs on one store
 * would corrupt it), its bytes read into a page-aligned buffer the device
 * owns.  NULL with one line in @err. */
struct pflash *pflash_open(const char *path, char *err, size_t errlen);
/* Register the MMIO window [@gpa, @gpa + size) on @mmio. */
int pflash_attach(struct pflash *pf, struct bus *mmio, uint64_t gpa);
void pflash_set_map(struct pflash *pf, pflash_map_fn *fn, void *opaque);
/* While inactive the array is not the guest's (see above). */
void pflash_set_active(struct pflash *pf, bool active);
/* True in read-array mode (the slot should be mapped). */
bool pflash_array_mode(const struct pflash *pf);
uint8_t *pflash_host(const struct pflash *pf);
uint64_t pflash_size(const struct pflash *pf);
uint64_t pflash_gpa(const struct pflash *pf);
uint8_t pflash_status(const struct pflash *pf);
/* System reset: read-array mode, status "ready"; the array is kept.  Does
 * not call @map (the next build maps the slot). */
void pflash_reset(struct pflash *pf);
/* Write changed bytes back to the file.  0 or a negative errno; a failed
 * write-back keeps them marked as changed. */
int pflash_flush(struct pflash *pf);
/* pflash_flush, then fsync the file: at the VMM's exit. */
int pflash_sync(struct pflash *pf);
/* Bus callback (exposed for tests and fuzzing). */
void pflash_access(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write);
/* Flushes (and fsyncs) the store; frees the buffer pflash_open made. */
void pflash_destroy(struct pflash *pf);

#endif
