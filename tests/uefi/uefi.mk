# tests/uefi/uefi.mk: builds the UEFI F-UKI client, build/uefi/fuki-client.efi
# (included by the top-level Makefile; target `uefi`).  Owns only UEFI_*
# variables and build/uefi/.  Needs Debian's gnu-efi (make deps); without
# it `make uefi` says so and builds nothing, and the client's tests skip.

UEFI_DIR      := tests/uefi
UEFI_OUT      := $(BUILD)/uefi
UEFI_EFI_INC  := /usr/include/efi
UEFI_CRT0     := /usr/lib/crt0-efi-x86_64.o
UEFI_LDS      := /usr/lib/elf_x86_64_efi.lds
UEFI_LIBDIR   := /usr/lib
UEFI_CC       ?= gcc
UEFI_LD       ?= ld
UEFI_OBJCOPY  ?= objcopy
UEFI_CFLAGS   := -std=gnu11 -ffreestanding -fpic -fshort-wchar -mno-red-zone -mno-sse -mno-mmx \
		 -fno-stack-protector -fno-strict-aliasing -fno-asynchronous-unwind-tables \
		 -fcf-protection=none -maccumulate-outgoing-args -Os -g \
		 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter \
		 -I. -isystem $(UEFI_EFI_INC) -isystem $(UEFI_EFI_INC)/x86_64
UEFI_SRCS     := $(UEFI_DIR)/client.c $(UEFI_DIR)/fukisel.c $(UEFI_DIR)/sha1.c
UEFI_OBJS     := $(UEFI_SRCS:$(UEFI_DIR)/%.c=$(UEFI_OUT)/obj/%.o)
UEFI_HDRS     := $(wildcard $(UEFI_DIR)/*.h) $(UEFI_DIR)/uefi.mk
UEFI_HAVE     := $(and $(wildcard $(UEFI_EFI_INC)/efi.h),$(wildcard $(UEFI_CRT0)),$(wildcard $(UEFI_LDS)),$(wildcard $(UEFI_LIBDIR)/libgnuefi.a))

.PHONY: uefi
ifneq ($(UEFI_HAVE),)
uefi: $(UEFI_OUT)/fuki-client.efi

$(UEFI_OUT)/obj/%.o: $(UEFI_DIR)/%.c $(UEFI_HDRS)
	@mkdir -p $(dir $@)
	$(UEFI_CC) $(UEFI_CFLAGS) -c -o $@ $<

$(UEFI_OUT)/fuki-client.so: $(UEFI_OBJS)
	$(UEFI_LD) -nostdlib -znocombreloc -shared -Bsymbolic -T $(UEFI_LDS) -L$(UEFI_LIBDIR) \
		$(UEFI_CRT0) $(UEFI_OBJS) -o $@ -lefi -lgnuefi

# a PE32+ EFI application (subsystem 10) from the ELF shared object
$(UEFI_OUT)/fuki-client.efi: $(UEFI_OUT)/fuki-client.so
	$(UEFI_OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@.tmp
	@mv $@.tmp $@
else
uefi:
	@echo "uefi: gnu-efi is not installed (make deps): build/uefi/fuki-client.efi not built"
endif
