/* vmm/base/guid.h: GUIDs written once, in the fields of their text form.
 * UEFI stores a GUID "mixed-endian": the first three fields little-endian,
 * the last two as they read.  UEFI_GUID(0x96b582de, 0x1fb2, 0x45f7, 0xbaea,
 * 0xa366c55a082d) is 96b582de-1fb2-45f7-baea-a366c55a082d as its 16 bytes
 * lie in a firmware image or in memory, so the spelling in the source is
 * the one a spec or a log shows and the bytes cannot drift from it. */
#ifndef FUKI_GUID_H
#define FUKI_GUID_H

#include <stdint.h>

#define GUID_LEN 16

/* An initializer for uint8_t[GUID_LEN]. */
#define UEFI_GUID(a, b, c, d, e) { \
	(uint8_t)(a), (uint8_t)((a) >> 8), (uint8_t)((a) >> 16), (uint8_t)((a) >> 24), \
	(uint8_t)(b), (uint8_t)((b) >> 8), \
	(uint8_t)(c), (uint8_t)((c) >> 8), \
	(uint8_t)((d) >> 8), (uint8_t)(d), \
	(uint8_t)((uint64_t)(e) >> 40), (uint8_t)((uint64_t)(e) >> 32), \
	(uint8_t)((uint64_t)(e) >> 24), (uint8_t)((uint64_t)(e) >> 16), \
	(uint8_t)((uint64_t)(e) >> 8), (uint8_t)(e) }

#endif
