/* vmm/base/guestmem.h: the guest-physical address space as the VMM sees it.
 * Owns: the list of RAM and ROM regions, their host mappings, and which are
 * kept across a rebuild (shared) and which are discarded (private).  Device
 * models reach guest memory only through gm_read/gm_write/gm_ptr; nothing
 * else does arithmetic on guest addresses.  Knows nothing of KVM. */
#ifndef FUKI_GUESTMEM_H
#define FUKI_GUESTMEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 16
#define GM_PAGE_SIZE 4096ULL

enum gm_flags {
	GM_RAM = 1u << 0,      /* guest RAM: listed in e820, DMA-able */
	GM_ROM = 1u << 1,      /* read-only for the guest and for device writes */
	GM_PRIVATE = 1u << 2,  /* confidential private memory: no host view,
	                          discarded on rebuild */
};

struct gm_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;         /* host mapping; NULL when not host-accessible */
	unsigned flags;        /* enum gm_flags */
	const char *name;
};

struct guestmem {
	struct gm_region r[GM_MAX_REGIONS];
	unsigned n;
	/* Readers (every gm_* lookup) and writers (gm_add, gm_remove*) may be
	 * on different threads: a guest remaps the BIOS area (PAM) from a vCPU
	 * while a device completes DMA elsewhere.  Never copy a struct
	 * guestmem; host pointers handed out stay valid (they point into
	 * memory that lives as long as the VM or the current build); for a
	 * scratch copy use gm_copy(). */
	pthread_rwlock_t lock;
};

void gm_init(struct guestmem *gm);
/* Destroy a map's lock (the regions' host memory is not the map's). */
void gm_fini(struct guestmem *gm);
/* True when @a and @b list the same regions (address, size, host memory,
 * flags), in the same order. */
bool gm_same(const struct guestmem *a, const struct guestmem *b);
/* Add a region.  -EINVAL for a zero/unaligned/overflowing range, -EEXIST if
 * it overlaps an existing region, -ENOSPC when the table is full. */
int gm_add(struct guestmem *gm, uint64_t gpa, uint64_t size, void *host,
	   unsigned flags, const char *name);
/* What gm_add() would return for [gpa, gpa+size), without adding or
 * logging; for -EEXIST, *@clash (may be NULL) is the region it overlaps. */
int gm_check_add(const struct guestmem *gm, uint64_t gpa, uint64_t size,
		 const struct gm_region **clash);
/* @dst becomes a scratch copy of @src's table (gm_init'ed here; destroy
 * nothing: it holds no resources but its lock).  The host pointers are
 * shared, not copied: a dry run lays a plan out on @dst. */
void gm_copy(struct guestmem *dst, const struct guestmem *src);
/* Remove every region whose flags intersect @mask (e.g. the firmware ROM
 * before a rebuild with another image). Host memory is not freed. */
void gm_remove(struct guestmem *gm, unsigned mask);
/* Remove every region whose start lies in [lo, hi). */
void gm_remove_range(struct guestmem *gm, uint64_t lo, uint64_t hi);
/* The region containing @gpa, or NULL. */
const struct gm_region *gm_find(const struct guestmem *gm, uint64_t gpa);
/* Host pointer for [gpa, gpa+len) if the whole range lies inside one
 * host-accessible region whose flags include every bit of @need and none of
 * GM_PRIVATE; NULL otherwise (also on 64-bit overflow or len == 0). */
void *gm_ptr(const struct guestmem *gm, uint64_t gpa, uint64_t len,
	     unsigned need);
/* True if [gpa, gpa+len) lies wholly in RAM (GM_RAM, not GM_ROM), possibly
 * across adjacent RAM regions, with no hole and no overflow. */
bool gm_range_is_ram(const struct guestmem *gm, uint64_t gpa, uint64_t len);
/* Copy guest memory (RAM or ROM) to @dst; -EFAULT if any byte is not
 * backed.  Ranges may span adjacent regions. */
int gm_read(const struct guestmem *gm, uint64_t gpa, void *dst, size_t len);
/* Copy @src into guest RAM; -EFAULT if any byte is not writable RAM. */
int gm_write(const struct guestmem *gm, uint64_t gpa, const void *src,
	     size_t len);

#endif
