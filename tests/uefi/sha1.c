/* tests/uefi/sha1.c: SHA-1 as FIPS 180-4 section 6.1 describes it (80-word
 * message schedule, four rounds of 20 steps, big-endian length padding). */
#include "tests/uefi/sha1.h"

static uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void sha1_block(struct fk_sha1 *c, const uint8_t *p)
{
	uint32_t w[80], a, b, d, e, f, k, t, cc;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = be32_at(p + 4 * i);
	for (; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0];
	b = c->h[1];
	cc = c->h[2];
	d = c->h[3];
	e = c->h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & cc) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ cc ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ cc ^ d;
			k = 0xca62c1d6;
		}
		t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = cc;
		cc = rol32(b, 30);
		b = a;
		a = t;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
}

void fk_sha1_init(struct fk_sha1 *c)
{
	c->h[0] = 0x67452301;
	c->h[1] = 0xefcdab89;
	c->h[2] = 0x98badcfe;
	c->h[3] = 0x10325476;
	c->h[4] = 0xc3d2e1f0;
	c->bytes = 0;
	c->fill = 0;
}

void fk_sha1_update(struct fk_sha1 *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	c->bytes += len;
	if (c->fill) {
		while (len && c->fill < 64) {
			c->buf[c->fill++] = *p++;
			len--;
		}
		if (c->fill < 64)
			return;
		sha1_block(c, c->buf);
		c->fill = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha1_block(c, p);
	while (len--)
		c->buf[c->fill++] = *p++;
}

void fk_sha1_final(struct fk_sha1 *c, uint8_t out[FK_SHA1_LEN])
{
	uint64_t bits = c->bytes * 8;
	unsigned i;

	c->buf[c->fill++] = 0x80;
	if (c->fill > 56) {
		while (c->fill < 64)
			c->buf[c->fill++] = 0;
		sha1_block(c, c->buf);
		c->fill = 0;
	}
	while (c->fill < 56)
		c->buf[c->fill++] = 0;
	for (i = 0; i < 8; i++)
		c->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_block(c, c->buf);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

void fk_sha1(const void *data, size_t len, uint8_t out[FK_SHA1_LEN])
{
	struct fk_sha1 c;

	fk_sha1_init(&c);
	fk_sha1_update(&c, data, len);
	fk_sha1_final(&c, out);
}
