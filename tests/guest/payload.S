/* tests/guest/payload.S: embeds a tenant firmware image (PAYLOAD_FILE, a
 * built .rom) in a provider image, optionally preceded by PAYLOAD_PAD bytes
 * of zeros (provider-big: a 64 KiB tenant padded to 2 MiB at the front, so
 * its code stays top-aligned).  Symbols: tenant_image_start (start of the
 * whole image), tenant_image_data (first byte after the zero padding),
 * tenant_image_end.  Owns nothing else. */
	.section .note.GNU-stack, "", @progbits
	.section .payload, "a"
	.balign 4096
	.globl tenant_image_start, tenant_image_data, tenant_image_end
tenant_image_start:
#ifdef PAYLOAD_PAD
	.skip	PAYLOAD_PAD, 0
#endif
tenant_image_data:
	.incbin PAYLOAD_FILE
tenant_image_end:
