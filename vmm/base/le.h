/* vmm/base/le.h: little-endian loads from byte buffers, for the format
 * parsers (OVMF, IGVM, PE/UKI, bzImage, VMSA).  Callers check bounds. */
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

#endif
