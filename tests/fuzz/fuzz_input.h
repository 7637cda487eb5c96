/* tests/fuzz/fuzz_input.h: reading a libFuzzer input as a stream of
 * little-endian values; past the end every value reads as zero.  Shared by
 * the fuzz targets that interpret their input as a sequence of operations. */
#ifndef FUKI_FUZZ_INPUT_H
#define FUKI_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t take8(struct in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint64_t take_le(struct in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)take8(in) << (8 * i);
	return v;
}

static inline uint32_t take32(struct in *in)
{
	return (uint32_t)take_le(in, 4);
}

static inline uint64_t take64(struct in *in)
{
	return take_le(in, 8);
}

#endif
