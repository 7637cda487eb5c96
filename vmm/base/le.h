/* vmm/base/le.h: little-endian loads and stores on byte buffers, for the
 * format parsers and builders (OVMF, IGVM, PE/UKI, bzImage, VMSA, ACPI,
 * SMBIOS, PCI config space, fw_cfg).  The one copy in the tree; callers
 * check bounds. */
#ifndef FUKI_LE_H
#define FUKI_LE_H

#include <stdint.h>

static inline uint16_t le_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le_rd32(const uint8_t *p)
{
	return (uint32_t)le_rd16(p) | (uint32_t)le_rd16(p + 2) << 16;
}

static inline uint64_t le_rd64(const uint8_t *p)
{
	return (uint64_t)le_rd32(p) | (uint64_t)le_rd32(p + 4) << 32;
}

static inline void le_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void le_wr32(uint8_t *p, uint32_t v)
{
	le_wr16(p, (uint16_t)v);
	le_wr16(p + 2, (uint16_t)(v >> 16));
}

static inline void le_wr64(uint8_t *p, uint64_t v)
{
	le_wr32(p, (uint32_t)v);
	le_wr32(p + 4, (uint32_t)(v >> 32));
}

/* The low @n bytes (n <= 8) of a register-sized access: PCI and virtio
 * configuration space, ACPI fields of 1, 2, 4 or 8 bytes. */
static inline uint64_t le_rdn(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static inline void le_wrn(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
