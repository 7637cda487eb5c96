# tests/guest/guest.mk: builds the freestanding test firmware images into
# build/guest/*.rom (included by the top-level Makefile; target `guests`).
# Owns only GUEST_* variables and build/guest/; see tests/guest/README.md.

GUEST_DIR     := tests/guest
GUEST_OUT     := $(BUILD)/guest
GUEST_OBJ     := $(GUEST_OUT)/obj
GUEST_CC      ?= gcc
GUEST_LD      ?= ld
GUEST_OBJCOPY ?= objcopy
GUEST_CFLAGS  := -m32 -std=gnu11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
		 -nostdlib -mno-sse -mno-mmx -mno-80387 -msoft-float -Os \
		 -fno-asynchronous-unwind-tables -fcf-protection=none \
		 --param=min-pagesize=0 -Wall -Wextra -Werror -Wno-unused-parameter \
		 -I$(GUEST_DIR)
GUEST_ASFLAGS := -m32 -fno-pic -I$(GUEST_DIR)
GUEST_LDFLAGS := -m elf_i386 -nostdlib -z noexecstack --no-warn-rwx-segments
GUEST_HDRS    := $(wildcard $(GUEST_DIR)/*.h) $(GUEST_DIR)/guest.mk
GUEST_RT      := $(GUEST_OBJ)/entry.o $(GUEST_OBJ)/rt.o

GUEST_IMAGES  := hello basic smp reset reset100 triple tenant tenant-reset \
		 provider provider-oneshot provider-big provider-cycle provider-toctou \
		 provider-wait tenant-cycle tenant-wait doorbell-hostile igvm-hostile idle irq vblk probe \
		 flash
GUEST_ROMS    := $(GUEST_IMAGES:%=$(GUEST_OUT)/%.rom)

.PHONY: guests
guests: $(GUEST_ROMS) $(GUEST_OUT)/bootsect.img $(GUEST_OUT)/bootsect-reboot.img

# ---- objects: one source may give several variants (GUEST_DEFS) ----
$(GUEST_OBJ)/%.o: $(GUEST_DIR)/%.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_DEFS) -c -o $@ $<

$(GUEST_OBJ)/%.o: $(GUEST_DIR)/%.S $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) $(GUEST_DEFS) -c -o $@ $<

$(GUEST_OBJ)/reset100.o: GUEST_DEFS := -DRESET_COUNT=100
$(GUEST_OBJ)/reset100.o: $(GUEST_DIR)/reset.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_DEFS) -c -o $@ $<

$(GUEST_OBJ)/tenant-reset.o: GUEST_DEFS := -DTENANT_RESET=1
$(GUEST_OBJ)/tenant-reset.o: $(GUEST_DIR)/tenant.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_DEFS) -c -o $@ $<

$(GUEST_OBJ)/tenant-cycle.o: GUEST_DEFS := -DTENANT_CYCLE=1
$(GUEST_OBJ)/tenant-cycle.o: $(GUEST_DIR)/tenant.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_DEFS) -c -o $@ $<

$(GUEST_OBJ)/tenant-wait.o: GUEST_DEFS := -DTENANT_WAIT_S=2
$(GUEST_OBJ)/tenant-wait.o: $(GUEST_DIR)/tenant.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_DEFS) -c -o $@ $<

$(GUEST_OBJ)/provider-oneshot.o: GUEST_DEFS := -DPROVIDER_ONESHOT=1
$(GUEST_OBJ)/provider-cycle.o: GUEST_DEFS := -DPROVIDER_CYCLE=50
$(GUEST_OBJ)/provider-toctou.o: GUEST_DEFS := -DPROVIDER_TOCTOU=1
$(GUEST_OBJ)/provider-wait.o: GUEST_DEFS := -DPROVIDER_WAIT_S=3
$(GUEST_OBJ)/provider-oneshot.o $(GUEST_OBJ)/provider-big.o $(GUEST_OBJ)/provider-cycle.o \
$(GUEST_OBJ)/provider-toctou.o $(GUEST_OBJ)/provider-wait.o: $(GUEST_DIR)/provider.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_DEFS) -c -o $@ $<

# payloads: provider images carry a tenant image (incbin, built first)
$(GUEST_OBJ)/payload-%.o: $(GUEST_DIR)/payload.S $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) $(GUEST_DEFS) -DPAYLOAD_FILE='"$(filter %.rom,$^)"' -c -o $@ $<
$(GUEST_OBJ)/payload-tenant.o: $(GUEST_OUT)/tenant.rom
$(GUEST_OBJ)/payload-tenant-reset.o: $(GUEST_OUT)/tenant-reset.rom
$(GUEST_OBJ)/payload-tenant-cycle.o: $(GUEST_OUT)/tenant-cycle.rom
# a 2 MiB tenant: 0x1F0000 zero bytes, then tenant.rom (code stays top-aligned)
$(GUEST_OBJ)/payload-tenant-2m.o: GUEST_DEFS := -DPAYLOAD_PAD=0x1F0000
$(GUEST_OBJ)/payload-tenant-2m.o: $(GUEST_OUT)/tenant.rom

# igvm-hostile: the IGVM images it hands over come from mkigvm, a host tool
# over tests/unit/igvm_build.h (build/guest/igvm/*.igvm and sizes.h)
$(GUEST_OUT)/mkigvm: $(GUEST_DIR)/mkigvm.c tests/unit/igvm_build.h $(BUILD)/libfuki.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libfuki.a $(LDLIBS)
$(GUEST_OUT)/igvm/sizes.h: $(GUEST_OUT)/mkigvm $(GUEST_OUT)/tenant-wait.rom
	@mkdir -p $(dir $@)
	$(GUEST_OUT)/mkigvm $(GUEST_OUT)/igvm $(GUEST_OUT)/tenant-wait.rom > $@.tmp
	@mv $@.tmp $@
$(GUEST_OBJ)/igvm-payloads.o: $(GUEST_DIR)/igvm-payloads.S $(GUEST_OUT)/igvm/sizes.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -Wa,-I$(GUEST_OUT)/igvm -c -o $@ $<
$(GUEST_OBJ)/igvm-hostile.o: $(GUEST_DIR)/igvm-hostile.c $(GUEST_HDRS) $(GUEST_OUT)/igvm/sizes.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -I$(GUEST_OUT)/igvm -c -o $@ $<

# ---- images: name, objects, size in bytes (a multiple of 4 KiB) ----
define GUEST_IMAGE
$(GUEST_OUT)/$(1).rom: $(2) $(GUEST_DIR)/guest.ld
	@mkdir -p $(GUEST_OUT)
	$(GUEST_LD) $(GUEST_LDFLAGS) -T $(GUEST_DIR)/guest.ld --defsym=ROM_SIZE=$(3) \
		-Map=$(GUEST_OUT)/$(1).map -o $(GUEST_OUT)/$(1).elf $(2)
	$(GUEST_OBJCOPY) -O binary $(GUEST_OUT)/$(1).elf $$@.tmp
	@test "$$$$(stat -c %s $$@.tmp)" = "$$$$(($(3)))" || \
		{ echo "$$@: image is not $(3) bytes"; rm -f $$@.tmp; exit 1; }
	@mv $$@.tmp $$@
endef

$(eval $(call GUEST_IMAGE,hello,$(GUEST_OBJ)/hello.o,0x10000))
$(eval $(call GUEST_IMAGE,basic,$(GUEST_RT) $(GUEST_OBJ)/basic.o,0x10000))
$(eval $(call GUEST_IMAGE,smp,$(GUEST_RT) $(GUEST_OBJ)/smp.o,0x10000))
$(eval $(call GUEST_IMAGE,reset,$(GUEST_RT) $(GUEST_OBJ)/reset.o,0x10000))
$(eval $(call GUEST_IMAGE,reset100,$(GUEST_RT) $(GUEST_OBJ)/reset100.o,0x10000))
$(eval $(call GUEST_IMAGE,triple,$(GUEST_RT) $(GUEST_OBJ)/triple.o,0x10000))
$(eval $(call GUEST_IMAGE,tenant,$(GUEST_RT) $(GUEST_OBJ)/tenant.o,0x10000))
$(eval $(call GUEST_IMAGE,tenant-reset,$(GUEST_RT) $(GUEST_OBJ)/tenant-reset.o,0x10000))
$(eval $(call GUEST_IMAGE,provider,$(GUEST_RT) $(GUEST_OBJ)/provider.o $(GUEST_OBJ)/payload-tenant.o,0x20000))
$(eval $(call GUEST_IMAGE,provider-oneshot,$(GUEST_RT) $(GUEST_OBJ)/provider-oneshot.o $(GUEST_OBJ)/payload-tenant-reset.o,0x20000))
$(eval $(call GUEST_IMAGE,provider-big,$(GUEST_RT) $(GUEST_OBJ)/provider-big.o $(GUEST_OBJ)/payload-tenant-2m.o,0x210000))
$(eval $(call GUEST_IMAGE,tenant-cycle,$(GUEST_RT) $(GUEST_OBJ)/tenant-cycle.o,0x10000))
$(eval $(call GUEST_IMAGE,tenant-wait,$(GUEST_RT) $(GUEST_OBJ)/tenant-wait.o,0x10000))
$(eval $(call GUEST_IMAGE,provider-cycle,$(GUEST_RT) $(GUEST_OBJ)/provider-cycle.o $(GUEST_OBJ)/payload-tenant-cycle.o,0x20000))
$(eval $(call GUEST_IMAGE,provider-toctou,$(GUEST_RT) $(GUEST_OBJ)/provider-toctou.o $(GUEST_OBJ)/payload-tenant.o,0x20000))
$(eval $(call GUEST_IMAGE,provider-wait,$(GUEST_RT) $(GUEST_OBJ)/provider-wait.o $(GUEST_OBJ)/payload-tenant.o,0x20000))
$(eval $(call GUEST_IMAGE,idle,$(GUEST_RT) $(GUEST_OBJ)/idle.o,0x10000))
$(eval $(call GUEST_IMAGE,doorbell-hostile,$(GUEST_RT) $(GUEST_OBJ)/doorbell-hostile.o,0x10000))
$(eval $(call GUEST_IMAGE,igvm-hostile,$(GUEST_RT) $(GUEST_OBJ)/igvm-hostile.o $(GUEST_OBJ)/igvm-payloads.o,0x80000))
$(eval $(call GUEST_IMAGE,irq,$(GUEST_RT) $(GUEST_OBJ)/irq.o,0x10000))
$(eval $(call GUEST_IMAGE,vblk,$(GUEST_RT) $(GUEST_OBJ)/vblk.o,0x10000))
$(eval $(call GUEST_IMAGE,probe,$(GUEST_RT) $(GUEST_OBJ)/probe.o,0x10000))
$(eval $(call GUEST_IMAGE,flash,$(GUEST_RT) $(GUEST_OBJ)/flash.o,0x10000))

# a 512-byte MBR boot sector (real mode, linked at 0x7C00) for the BIOS
# boot tests: the test appends zeros to make a disk image
# (bootsect-reboot.img: resets once first, BOOTSECT_REBOOT)
$(GUEST_OBJ)/bootsect-reboot.o: GUEST_DEFS := -DBOOTSECT_REBOOT=1
$(GUEST_OBJ)/bootsect-reboot.o: $(GUEST_DIR)/bootsect.S $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) $(GUEST_DEFS) -c -o $@ $<
$(GUEST_OUT)/bootsect.img $(GUEST_OUT)/bootsect-reboot.img: $(GUEST_OUT)/%.img: $(GUEST_OBJ)/%.o
	$(GUEST_LD) $(GUEST_LDFLAGS) -Ttext=0x7c00 -e _start -o $(GUEST_OUT)/$*.elf $<
	$(GUEST_OBJCOPY) -O binary -j .text $(GUEST_OUT)/$*.elf $@.tmp
	@test "$$(stat -c %s $@.tmp)" = 512 || { echo "$@: not 512 bytes"; rm -f $@.tmp; exit 1; }
	@mv $@.tmp $@

# provider-seabios.rom: provider.c handing over Debian's SeaBIOS (package
# seabios) as a raw ROM; built only where that file exists
GUEST_SEABIOS := /usr/share/seabios/bios-256k.bin
ifneq ($(wildcard $(GUEST_SEABIOS)),)
guests: $(GUEST_OUT)/provider-seabios.rom
$(GUEST_OBJ)/payload-seabios.o: $(GUEST_DIR)/payload.S $(GUEST_HDRS) $(GUEST_SEABIOS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -DPAYLOAD_FILE='"$(GUEST_SEABIOS)"' -c -o $@ $<
$(eval $(call GUEST_IMAGE,provider-seabios,$(GUEST_RT) $(GUEST_OBJ)/provider.o $(GUEST_OBJ)/payload-seabios.o,0x50000))
endif

# ---- linux-init: /init of the Linux guest test (tests/linuxguest/init.c),
# a static x86-64 Linux program; prepare.sh puts it in an initramfs ----
guests: $(GUEST_OUT)/linux-init
$(GUEST_OUT)/linux-init: tests/linuxguest/init.c
	@mkdir -p $(GUEST_OUT)
	$(CC) -static -Os -Wall -Wextra -Werror -o $@ $<

# ---- testkernel.bin: a Linux boot-protocol image for direct boot ----
# (real-mode setup + 32-bit part at 0x100000; see testkernel-entry.S, docs/boot.md)
guests: $(GUEST_OUT)/testkernel.bin
$(GUEST_OUT)/testkernel.bin: $(GUEST_OBJ)/testkernel-entry.o $(GUEST_OBJ)/testkernel.o \
			     $(GUEST_DIR)/testkernel.ld
	@mkdir -p $(GUEST_OUT)
	$(GUEST_LD) $(GUEST_LDFLAGS) -T $(GUEST_DIR)/testkernel.ld -Map=$(GUEST_OUT)/testkernel.map \
		-o $(GUEST_OUT)/testkernel.elf $(GUEST_OBJ)/testkernel-entry.o $(GUEST_OBJ)/testkernel.o
	$(GUEST_OBJCOPY) -O binary $(GUEST_OUT)/testkernel.elf $@.tmp
	@mv $@.tmp $@

# ---- flood and stop guests of test_hostile.sh: tests/guest/flood.c, one
# image per FLOOD_KIND (1 doorbell, 2 virtio, 3 uart, 4 spin, 5 reset) ----
GUEST_FLOOD := flood-doorbell flood-virtio flood-uart spin-cli flood-reset
guests: $(GUEST_FLOOD:%=$(GUEST_OUT)/%.rom)
$(GUEST_OBJ)/flood-doorbell.o: GUEST_DEFS := -DFLOOD_KIND=1
$(GUEST_OBJ)/flood-virtio.o: GUEST_DEFS := -DFLOOD_KIND=2
$(GUEST_OBJ)/flood-uart.o: GUEST_DEFS := -DFLOOD_KIND=3
$(GUEST_OBJ)/spin-cli.o: GUEST_DEFS := -DFLOOD_KIND=4
$(GUEST_OBJ)/flood-reset.o: GUEST_DEFS := -DFLOOD_KIND=5
$(GUEST_FLOOD:%=$(GUEST_OBJ)/%.o): $(GUEST_DIR)/flood.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_DEFS) -c -o $@ $<
$(foreach g,$(GUEST_FLOOD),$(eval $(call GUEST_IMAGE,$(g),$(GUEST_RT) $(GUEST_OBJ)/$(g).o,0x10000)))
