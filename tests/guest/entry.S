/* tests/guest/entry.S: reset vector, 16-bit start-up, 32-bit C runtime entry,
 * the AP trampoline and the triple-fault helper shared by every C guest.
 * Owns: CPU mode switches only; everything else is in rt.c.
 * Descriptor tables are built in RAM (GDT_ADDR), never used from the ROM. */
#include "glayout.h"

	.section .note.GNU-stack, "", @progbits

	.section .head, "a"
	.ascii "fukivmm test guest\0"

/* ---- reset vector: the last 16 bytes of the image (CS base 0xFFFF0000) */
	.section .reset, "ax"
	.code16
	.globl reset_vector
reset_vector:
	cli
	jmp	entry16
	.org	16, 0xf4

/* ---- 16-bit entry, in the last page of the image */
	.section .text16, "ax"
	.code16
entry16:
	cld
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	/* flat 4 GiB code and data descriptors, written into RAM */
	movl	$0, GDT_ADDR
	movl	$0, GDT_ADDR + 4
	movl	$0x0000ffff, GDT_ADDR + 8
	movl	$0x00cf9b00, GDT_ADDR + 12
	movl	$0x0000ffff, GDT_ADDR + 16
	movl	$0x00cf9300, GDT_ADDR + 20
	movw	$23, GDTR_ADDR
	movl	$GDT_ADDR, GDTR_ADDR + 2
	lgdtl	GDTR_ADDR
	movl	%cr0, %eax
	orb	$1, %al
	movl	%eax, %cr0
	ljmpl	$SEL_CODE32, $start32

/* ---- 32-bit flat protected mode: segments, stack, .data, .bss, C */
	.section .text.start32, "ax"
	.code32
start32:
	movw	$SEL_DATA32, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$STACK_TOP, %esp
	movl	$__data_lma, %esi
	movl	$__data_start, %edi
	movl	$__data_end, %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	rep movsl
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep stosl
	call	guest_main
	call	rt_main_returned
1:	cli
	hlt
	jmp	1b

/* ---- triple fault: empty IDT, then an exception (#UD -> #GP -> #DF -> shutdown) */
	.globl rt_triple_fault
rt_triple_fault:
	cli
	subl	$8, %esp
	movl	$0, (%esp)
	movl	$0, 4(%esp)
	lidt	(%esp)
	ud2
	jmp	rt_triple_fault

/* ---- AP trampoline: copied to AP_TRAMP_ADDR, entered by SIPI at CS=0x0800 IP=0.
 * Position independent: its only jump target is absolute (in the ROM). */
	.section .text.tramp, "ax"
	.code16
	.globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	lgdtl	GDTR_ADDR
	movl	%cr0, %eax
	orb	$1, %al
	movl	%eax, %cr0
	ljmpl	$SEL_CODE32, $ap_start32
ap_tramp_end:

	.code32
ap_start32:
	movw	$SEL_DATA32, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$1, %eax
	lock xaddl %eax, SMP_NEXT_INDEX		/* eax = this AP's unique index */
	cmpl	$SMP_MAX_IDS, %eax
	jae	2f
	movl	LAPIC_BASE + 0x20, %edx		/* LAPIC ID register, id in 31:24 */
	shrl	$24, %edx
	movl	%edx, SMP_APIC_IDS(, %eax, 4)
2:	lock incl SMP_COUNT
3:	cli
	hlt
	jmp	3b
