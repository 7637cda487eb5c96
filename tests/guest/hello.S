/* tests/guest/hello.S: the start-up benchmark guest.  Prints one byte 'H' on
 * the 16550 at 0x3f8 and writes PASS (0x20) to the debug-exit port: five
 * instructions from the reset vector, still in real mode.
 * Owns nothing else; it does not use the C runtime. */
#include "glayout.h"

	.section .note.GNU-stack, "", @progbits

	.section .head, "a"
	.ascii "fukivmm test guest: hello\0"

	.section .reset, "ax"
	.code16
	.globl reset_vector
reset_vector:
	movw	$0x3f8, %dx
	movb	$'H', %al
	outb	%al, %dx
	movb	$GUEST_PASS_CODE, %al
	outb	%al, $DEBUG_EXIT_PORT
1:	hlt
	jmp	1b
	.org	16, 0xf4
