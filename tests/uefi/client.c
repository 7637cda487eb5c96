/* tests/uefi/client.c: the UEFI F-UKI client (fuki-client.efi), built with
 * Debian's gnu-efi.  It does what the F-UKI design gives the UKI's stub to
 * do: pick the UKI's firmware for this machine, hand it to the host through
 * the fw_cfg doorbell "etc/vmlaunchupdate" (docs/doorbell.md) and reset, or,
 * when that firmware already runs, start the UKI.  Every error boots on:
 * the UKI is started with the firmware that runs now, and the console says
 * why.  Design and console lines: docs/uki.md, "The UEFI client".
 *
 * Owns: the UEFI glue (load options, the UKI file, the SMBIOS table, the
 * hash protocol, fw_cfg ports and DMA, shared buffers, reset, chain-load).
 * The choice itself lives in fukisel.c, tested on the host. */
#include <efi.h>
#include <efilib.h>
#include <stdarg.h>

#include "tests/uefi/fukisel.h"
#include "tests/uefi/sha1.h"

#define DEFAULT_UKI L"\\EFI\\Linux\\fuki.efi"
/* the options of a client started without any (docs/uki.md) */
#define OPTIONS_FILE_A "\\EFI\\fuki\\client.options"
#define WIDE_(s) L##s
#define WIDE(s) WIDE_(s)
#define OPTIONS_FILE WIDE(OPTIONS_FILE_A)
#define OPTIONS_MAX 255
#define OPTIONS_FILE_MAX 4096             /* a longer options file is not read */
#define UKI_MAX (1024ULL << 20)          /* refuse to read a larger file */
#define SMBIOS_MAX (16U << 20)
#define DMA_TIMEOUT_US 5000000

/* ---- doorbell ABI (docs/doorbell.md) ---- */
#define DB_FILE "etc/vmlaunchupdate"
#define DB_SIZE 56
#define DB_CTL_DISABLE (1ULL << 0)
#define DB_CTL_HOST_IGVM (1ULL << 1)
#define DB_FORMAT_IGVM (1ULL << 32)
#define DB_FORMAT_RAW_ROM (1ULL << 33)
#define DB_RAW_ROM_MAX (16ULL << 20)     /* the ABI's raw ROM limit */
#define DB_IMAGE_MAX (16ULL << 20)       /* fukivmm's largest max_image_size */

/* ---- fw_cfg (QEMU docs/specs/fw_cfg.rst) ---- */
#define FW_PORT_SEL 0x510
#define FW_PORT_DATA 0x511
#define FW_PORT_DMA_HI 0x514
#define FW_PORT_DMA_LO 0x518
#define FW_KEY_SIGNATURE 0x0000
#define FW_KEY_ID 0x0001
#define FW_KEY_FILE_DIR 0x0019
#define FW_ID_DMA 0x2
#define FW_DMA_ERROR 0x01
#define FW_DMA_READ 0x02
#define FW_DMA_SELECT 0x08
#define FW_DMA_WRITE 0x10

/* Layout of the one shared control page. */
#define SH_DESC 0
#define SH_DOORBELL 64
#define SH_RECORD 128
/* Plain guests: the control page is taken below this address, where OVMF
 * leaves memory alone until the OS loads, so the hand-over record is still
 * there when the next firmware's client looks (docs/uki.md). */
#define SH_LOW_MAX 0x7fffffULL

/* ---- protocols this file defines itself (edk2 MdeModulePkg IoMmu.h,
 * MdePkg Hash2.h, UEFI 2.10 sections 11.1 and 37.2) ---- */
static EFI_GUID iommu_guid = { 0x4e939de9, 0xd948, 0x4b0f,
			       { 0x88, 0xed, 0xe6, 0xe1, 0xce, 0x51, 0x7c, 0x1e } };
static EFI_GUID hash2_sb_guid = { 0xda836f8d, 0x217f, 0x4ca0,
				  { 0x99, 0xc2, 0x1c, 0xa4, 0xe1, 0x60, 0x77, 0xea } };
static EFI_GUID hash2_guid = { 0x55b1d734, 0xc5e1, 0x49db,
			       { 0x96, 0x47, 0xb1, 0x6a, 0xfb, 0x0e, 0x30, 0x5b } };
static EFI_GUID sha1_guid = { 0x2ae9d80f, 0x3fb2, 0x4095,
			      { 0xb7, 0xb1, 0xe9, 0x31, 0x57, 0xb9, 0x46, 0xb6 } };
static EFI_GUID smbios3_guid = { 0xf2fd1544, 0x9794, 0x4a2c,
				 { 0x99, 0x2e, 0xe5, 0xbb, 0xcf, 0x20, 0xe3, 0x94 } };
static EFI_GUID smbios_guid = { 0xeb9d2d31, 0x2d88, 0x11d3,
				{ 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d } };
/* ours: installed while the client starts a UKI, so a client started by a
 * client (a UKI path naming the client itself) stops instead of nesting */
static EFI_GUID nested_guid = { 0x97ef4fa2, 0xeb76, 0x49f9,
				{ 0x84, 0x24, 0x97, 0xfb, 0x4d, 0x08, 0xa5, 0x6f } };

enum { IOMMU_OP_COMMON_BUFFER64 = 5 };
#define IOMMU_ATTR_DUAL_ADDRESS_CYCLE 0x8000

struct iommu_protocol {
	UINT64 Revision;
	EFI_STATUS (EFIAPI *SetAttribute)(struct iommu_protocol *This, EFI_HANDLE Dev, VOID *Mapping,
					  UINT64 Access);
	EFI_STATUS (EFIAPI *Map)(struct iommu_protocol *This, UINTN Operation, VOID *HostAddress,
				 UINTN *NumberOfBytes, EFI_PHYSICAL_ADDRESS *DeviceAddress,
				 VOID **Mapping);
	EFI_STATUS (EFIAPI *Unmap)(struct iommu_protocol *This, VOID *Mapping);
	EFI_STATUS (EFIAPI *AllocateBuffer)(struct iommu_protocol *This, EFI_ALLOCATE_TYPE Type,
					    EFI_MEMORY_TYPE MemoryType, UINTN Pages, VOID **HostAddress,
					    UINT64 Attributes);
	EFI_STATUS (EFIAPI *FreeBuffer)(struct iommu_protocol *This, UINTN Pages, VOID *HostAddress);
};

struct service_binding {
	EFI_STATUS (EFIAPI *CreateChild)(struct service_binding *This, EFI_HANDLE *Child);
	EFI_STATUS (EFIAPI *DestroyChild)(struct service_binding *This, EFI_HANDLE Child);
};

struct hash2_protocol {
	EFI_STATUS (EFIAPI *GetHashSize)(const struct hash2_protocol *This, const EFI_GUID *Alg,
					 UINTN *Size);
	EFI_STATUS (EFIAPI *Hash)(const struct hash2_protocol *This, const EFI_GUID *Alg,
				  const UINT8 *Msg, UINTN Len, UINT8 *Out);
	VOID *HashInit, *HashUpdate, *HashFinal;
};

static EFI_HANDLE self;
static EFI_LOADED_IMAGE *self_li;
static struct iommu_protocol *iommu;
static struct hash2_protocol *hash2;

/* ---- console: "fuki-client: ..." lines ---- */

static void put_u64(char *buf, size_t cap, size_t *n, uint64_t v, unsigned base)
{
	char tmp[24];
	unsigned k = 0;

	do {
		tmp[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && k < sizeof(tmp));
	while (k && *n + 1 < cap)
		buf[(*n)++] = tmp[--k];
}

/* A tiny printf: %s (ASCII), %u %x (unsigned), %lu %lx (64-bit), %%. */
static void say(const char *fmt, ...)
{
	static const char prefix[] = "fuki-client: ";
	char line[400];
	CHAR16 wide[400];
	size_t n = 0;
	va_list ap;

	for (const char *p = prefix; *p; p++)
		line[n++] = *p;
	va_start(ap, fmt);
	for (const char *f = fmt; *f && n + 3 < sizeof(line); f++) {
		bool is_long = false;

		if (*f != '%') {
			line[n++] = *f;
			continue;
		}
		f++;
		if (*f == 'l') {
			is_long = true;
			f++;
		}
		switch (*f) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			for (s = s ? s : "(null)"; *s && n + 3 < sizeof(line); s++)
				line[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
			break;
		}
		case 'u':
		case 'x':
			put_u64(line, sizeof(line) - 2, &n,
				is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int),
				*f == 'u' ? 10 : 16);
			break;
		case '%':
			line[n++] = '%';
			break;
		default:
			line[n++] = '?';
			break;
		}
	}
	va_end(ap);
	line[n++] = '\r';
	line[n++] = '\n';
	for (size_t i = 0; i < n; i++)
		wide[i] = (CHAR16)(unsigned char)line[i];
	wide[n] = 0;
	uefi_call_wrapper(ST->ConOut->OutputString, 2, ST->ConOut, wide);
}

static void hex_str(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = "0123456789abcdef"[b[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void chid_str(const uint8_t c[16], char out[37])
{
	size_t n = 0;

	for (unsigned i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		out[n++] = "0123456789abcdef"[c[i] >> 4];
		out[n++] = "0123456789abcdef"[c[i] & 15];
	}
	out[n] = '\0';
}

static void boot_on(const char *why)
{
	say("%s: booting on with the current firmware", why);
}

/* ---- SHA-1: the firmware's EFI_HASH2_PROTOCOL, else our own ---- */

static void sha1_setup(void)
{
	struct service_binding *sb = NULL;
	EFI_HANDLE child = NULL;
	struct hash2_protocol *h = NULL;
	uint8_t out[64], want[FK_SHA1_LEN];
	UINTN size = 0;

	if (uefi_call_wrapper(BS->LocateProtocol, 3, &hash2_sb_guid, NULL, (VOID **)&sb) != EFI_SUCCESS ||
	    uefi_call_wrapper(sb->CreateChild, 2, sb, &child) != EFI_SUCCESS ||
	    uefi_call_wrapper(BS->HandleProtocol, 3, child, &hash2_guid, (VOID **)&h) != EFI_SUCCESS ||
	    uefi_call_wrapper(h->GetHashSize, 3, h, &sha1_guid, &size) != EFI_SUCCESS ||
	    size != FK_SHA1_LEN) {
		say("SHA-1: the firmware has no EFI_HASH2_PROTOCOL with SHA-1; using the client's own");
		return;
	}
	/* one known answer before trusting it with the CHIDs */
	fk_sha1("fuki", 4, want);
	if (uefi_call_wrapper(h->Hash, 5, h, &sha1_guid, (const UINT8 *)"fuki", 4, out) != EFI_SUCCESS ||
	    fk_memcmp(out, want, FK_SHA1_LEN)) {
		say("SHA-1: the firmware's EFI_HASH2_PROTOCOL gives a wrong answer; using the client's own");
		return;
	}
	hash2 = h;
	say("SHA-1: the firmware's EFI_HASH2_PROTOCOL");
}

static void sha1(const void *p, UINTN len, uint8_t out[FK_SHA1_LEN])
{
	uint8_t o[64];

	if (hash2 && uefi_call_wrapper(hash2->Hash, 5, hash2, &sha1_guid, p, len, o) == EFI_SUCCESS) {
		fk_memcpy(out, o, FK_SHA1_LEN);
		return;
	}
	fk_sha1(p, len, out);
}

/* ---- load options: "uki=\PATH", "one-shot", then "--" and the UKI's own ---- */

struct options {
	CHAR16 uki[256];
	bool one_shot;
	CHAR16 *pass;            /* after "--": handed to the UKI (pool), or NULL */
};

static bool tok_is(const CHAR16 *t, UINTN n, const char *s)
{
	UINTN i;

	for (i = 0; i < n && s[i]; i++)
		if (t[i] != (CHAR16)s[i])
			return false;
	return i == n && !s[i];
}

/* The tokens of @p[0..n) into @o; returns how many it took (0: none). */
static unsigned parse_tokens(const CHAR16 *p, UINTN n, struct options *o)
{
	unsigned taken = 0;
	UINTN i = 0;

	while (i < n && p[i]) {
		UINTN s, len;

		while (i < n && p[i] == L' ')
			i++;
		s = i;
		while (i < n && p[i] && p[i] != L' ')
			i++;
		len = i - s;
		if (!len)
			continue;
		if (tok_is(p + s, len, "one-shot")) {
			o->one_shot = true;
			taken++;
		} else if (len > 5 && len - 4 < 255 && tok_is(p + s, 4, "uki=") && p[s + 4] == L'\\') {
			for (UINTN k = 0; k < len - 4; k++)
				o->uki[k] = p[s + 4 + k];
			o->uki[len - 4] = 0;
			taken++;
		} else if (tok_is(p + s, len, "--")) {
			UINTN rest;

			taken++;
			while (i < n && p[i] == L' ')
				i++;
			for (rest = 0; i + rest < n && p[i + rest]; rest++)
				;
			if (rest) {
				o->pass = AllocateZeroPool((rest + 1) * sizeof(CHAR16));
				if (o->pass)
					CopyMem(o->pass, p + i, rest * sizeof(CHAR16));
			}
			return taken;
		}
	}
	return taken;
}

static EFI_STATUS read_esp_file(const CHAR16 *path, UINT64 max, uint8_t **buf, UINTN *len);

/* The load options; when they carry none of ours (the removable-media path
 * \EFI\BOOT\BOOTX64.EFI is started with none), the first line of the
 * ESP's OPTIONS_FILE (ASCII, the same syntax), if there is one. */
static void parse_options(struct options *o)
{
	const CHAR16 *p = self_li->LoadOptions;
	UINTN n = self_li->LoadOptionsSize / sizeof(CHAR16);
	uint8_t *file = NULL;
	UINTN flen = 0;
	CHAR16 line[OPTIONS_MAX + 1];
	UINTN k;

	StrCpy(o->uki, DEFAULT_UKI);
	o->one_shot = false;
	o->pass = NULL;
	if (p && !(self_li->LoadOptionsSize % 2) && parse_tokens(p, n, o))
		return;
	if (read_esp_file(OPTIONS_FILE, OPTIONS_FILE_MAX, &file, &flen) != EFI_SUCCESS)
		return;
	for (k = 0; k < flen && k < OPTIONS_MAX && file[k] != '\n' && file[k] != '\r'; k++)
		line[k] = file[k] >= 0x20 && file[k] < 0x7f ? (CHAR16)file[k] : L' ';
	line[k] = 0;
	FreePool(file);
	say("options from " OPTIONS_FILE_A ": %s", k ? "read" : "empty");
	parse_tokens(line, k, o);
}

static void path_ascii(const CHAR16 *w, char *out, size_t cap)
{
	size_t i;

	for (i = 0; w[i] && i + 1 < cap; i++)
		out[i] = w[i] < 0x7f ? (char)w[i] : '?';
	out[i] = '\0';
}

/* ---- files (the UKI, the options) on the ESP the client was loaded from ---- */

static EFI_STATUS read_esp_file(const CHAR16 *path, UINT64 max, uint8_t **buf, UINTN *len)
{
	EFI_FILE_IO_INTERFACE *fs = NULL;
	EFI_FILE_HANDLE root = NULL, f = NULL;
	EFI_FILE_INFO *info;
	EFI_STATUS r;
	UINT64 size;
	UINTN got = 0;

	*buf = NULL;
	r = uefi_call_wrapper(BS->HandleProtocol, 3, self_li->DeviceHandle, &FileSystemProtocol,
			      (VOID **)&fs);
	if (r == EFI_SUCCESS)
		r = uefi_call_wrapper(fs->OpenVolume, 2, fs, &root);
	if (r == EFI_SUCCESS)
		r = uefi_call_wrapper(root->Open, 5, root, &f, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);
	if (r != EFI_SUCCESS)
		goto out;
	info = LibFileInfo(f);
	if (!info) {
		r = EFI_DEVICE_ERROR;
		goto out;
	}
	size = info->FileSize;
	FreePool(info);
	if (size == 0 || size > max) {
		r = EFI_BAD_BUFFER_SIZE;
		goto out;
	}
	*buf = AllocatePool(size);
	if (!*buf) {
		r = EFI_OUT_OF_RESOURCES;
		goto out;
	}
	while (got < size) {
		UINTN chunk = size - got;

		r = uefi_call_wrapper(f->Read, 3, f, &chunk, *buf + got);
		if (r != EFI_SUCCESS || chunk == 0) {
			r = r != EFI_SUCCESS ? r : EFI_END_OF_FILE;
			break;
		}
		got += chunk;
	}
	*len = got;
out:
	if (r != EFI_SUCCESS && *buf) {
		FreePool(*buf);
		*buf = NULL;
	}
	if (f)
		uefi_call_wrapper(f->Close, 1, f);
	if (root)
		uefi_call_wrapper(root->Close, 1, root);
	return r;
}

/* Start the UKI from the bytes already read (LoadImage verifies them as it
 * would the file: Secure Boot applies).  Returns when the UKI returns. */
static EFI_STATUS start_uki(const CHAR16 *path, uint8_t *buf, UINTN len, CHAR16 *pass)
{
	EFI_DEVICE_PATH *dp = FileDevicePath(self_li->DeviceHandle, (CHAR16 *)path);
	EFI_HANDLE img = NULL, mark = NULL;
	EFI_LOADED_IMAGE *li;
	EFI_STATUS r;
	char p[256];

	path_ascii(path, p, sizeof(p));
	r = uefi_call_wrapper(BS->LoadImage, 6, FALSE, self, dp, buf, len, &img);
	if (dp)
		FreePool(dp);
	if (r != EFI_SUCCESS) {
		say("cannot load the UKI %s (EFI status 0x%lx)", p, (uint64_t)r);
		if (img)
			uefi_call_wrapper(BS->UnloadImage, 1, img);
		return r;
	}
	if (pass && uefi_call_wrapper(BS->HandleProtocol, 3, img, &LoadedImageProtocol,
				      (VOID **)&li) == EFI_SUCCESS) {
		li->LoadOptions = pass;
		li->LoadOptionsSize = (StrLen(pass) + 1) * sizeof(CHAR16);
	}
	say("starting the UKI %s", p);
	uefi_call_wrapper(BS->InstallProtocolInterface, 4, &mark, &nested_guid, EFI_NATIVE_INTERFACE,
			  NULL);
	r = uefi_call_wrapper(BS->StartImage, 3, img, NULL, NULL);
	if (mark)
		uefi_call_wrapper(BS->UninstallProtocolInterface, 3, mark, &nested_guid, NULL);
	say("the UKI returned (EFI status 0x%lx)", (uint64_t)r);
	return r;
}

/* ---- SMBIOS: the configuration table, SMBIOS 3 first (as sd-stub) ---- */

static const uint8_t *find_smbios(size_t *len, const char **which)
{
	const uint8_t *ep;

	for (int pass = 0; pass < 2; pass++) {
		for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
			EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

			if (CompareGuid(&t->VendorGuid, pass ? &smbios_guid : &smbios3_guid))
				continue;
			ep = t->VendorTable;
			if (!pass && !fk_memcmp(ep, "_SM3_", 5) && ep[6] <= 24) {
				*len = fk_le32(ep + 12);
				*which = "SMBIOS 3 entry point";
				return (const uint8_t *)(UINTN)fk_le64(ep + 16);
			}
			if (pass && !fk_memcmp(ep, "_SM_", 4) && ep[5] <= 31) {
				*len = fk_le16(ep + 22);
				*which = "SMBIOS 2 entry point";
				return (const uint8_t *)(UINTN)fk_le32(ep + 24);
			}
		}
	}
	return NULL;
}

static bool compute_chids(uint8_t chids[FK_CHID_TYPES][16])
{
	const uint8_t *tab;
	struct fk_smbios sm;
	const char *which = "";
	size_t len = 0;
	char id[37];

	fk_memset(chids, 0, FK_CHID_TYPES * 16);
	tab = find_smbios(&len, &which);
	if (!tab || !len) {
		say("no SMBIOS table in the UEFI configuration tables: no CHIDs");
		return false;
	}
	if (len > SMBIOS_MAX) {
		say("the SMBIOS table claims %lu bytes: refused", (uint64_t)len);
		return false;
	}
	if (!fk_smbios_parse(tab, len, &sm))
		say("the SMBIOS table is malformed after the structures read so far");
	say("SMBIOS: %s, %lu bytes; manufacturer \"%s\", product \"%s\", family \"%s\", sku \"%s\"",
	    which, (uint64_t)len, sm.manufacturer ? sm.manufacturer : "",
	    sm.product ? sm.product : "", sm.family ? sm.family : "", sm.sku ? sm.sku : "");
	for (unsigned t = 0; t < FK_CHID_TYPES; t++) {
		size_t n = fk_chid_message(&sm, t, NULL, 0);
		uint8_t *msg, h[FK_SHA1_LEN];

		if (!n)
			continue;
		msg = AllocatePool(n);
		if (!msg) {
			say("out of memory computing the CHIDs");
			return false;
		}
		fk_chid_message(&sm, t, msg, n);
		sha1(msg, n, h);
		FreePool(msg);
		fk_chid_from_sha1(h, chids[t]);
		chid_str(chids[t], id);
		say("CHID %u {%s}", t, id);
	}
	return true;
}

/* ---- fw_cfg ---- */

static inline void outw(UINT16 port, UINT16 v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(UINT16 port, UINT32 v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline UINT8 inb(UINT16 port)
{
	UINT8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static UINT32 bswap32(UINT32 v)
{
	return __builtin_bswap32(v);
}

static UINT32 rd_be32(const uint8_t *p)
{
	return (UINT32)p[0] << 24 | (UINT32)p[1] << 16 | (UINT32)p[2] << 8 | p[3];
}

/* byte by byte: string I/O is not emulated under SEV-ES and SNP */
static void fw_read(UINT16 key, bool select, void *buf, UINTN n)
{
	uint8_t *b = buf;

	if (select)
		outw(FW_PORT_SEL, key);
	for (UINTN i = 0; i < n; i++)
		b[i] = inb(FW_PORT_DATA);
}

/* 0 found; -1 no fw_cfg; -2 no DMA; -3 no such file; -4 wrong size */
static int fw_find(const char *name, UINT16 *sel, UINT32 *count_out)
{
	uint8_t sig[4], id[4], cnt[4], ent[64];
	UINT32 count;

	fw_read(FW_KEY_SIGNATURE, true, sig, 4);
	if (fk_memcmp(sig, "QEMU", 4))
		return -1;
	fw_read(FW_KEY_ID, true, id, 4);
	if (!(fk_le32(id) & FW_ID_DMA))
		return -2;
	fw_read(FW_KEY_FILE_DIR, true, cnt, 4);
	count = rd_be32(cnt);
	*count_out = count;
	if (count > 0x4000)
		return -3;
	for (UINT32 i = 0; i < count; i++) {
		size_t k;

		fw_read(0, false, ent, sizeof(ent));
		for (k = 0; k < 56 && name[k] && ent[8 + k] == (uint8_t)name[k]; k++)
			;
		if (name[k] || (k < 56 && ent[8 + k]))
			continue;
		*sel = (UINT16)(ent[4] << 8 | ent[5]);
		return rd_be32(ent) == DB_SIZE ? 0 : -4;
	}
	return -3;
}

/* Memory the host can read: on SEV/TDX guests (an EDKII IOMMU protocol is
 * installed) a common buffer from it, as OVMF's own fw_cfg DMA does; on
 * plain guests boot-services pages. */
struct shmem {
	uint8_t *host;
	EFI_PHYSICAL_ADDRESS dev;
	UINTN pages;
	VOID *mapping;
};

static EFI_STATUS sh_alloc(struct shmem *m, UINT64 bytes, bool low)
{
	EFI_STATUS r;
	UINTN n;

	fk_memset(m, 0, sizeof(*m));
	m->pages = EFI_SIZE_TO_PAGES(bytes);
	if (iommu) {
		VOID *h = NULL;

		r = uefi_call_wrapper(iommu->AllocateBuffer, 6, iommu, AllocateAnyPages,
				      EfiBootServicesData, m->pages, &h, IOMMU_ATTR_DUAL_ADDRESS_CYCLE);
		if (r != EFI_SUCCESS)
			return r;
		fk_memset(h, 0, m->pages * EFI_PAGE_SIZE);
		n = m->pages * EFI_PAGE_SIZE;
		r = uefi_call_wrapper(iommu->Map, 6, iommu, IOMMU_OP_COMMON_BUFFER64, h, &n, &m->dev,
				      &m->mapping);
		if (r == EFI_SUCCESS && n < bytes) {
			uefi_call_wrapper(iommu->Unmap, 2, iommu, m->mapping);
			r = EFI_OUT_OF_RESOURCES;
		}
		if (r != EFI_SUCCESS) {
			uefi_call_wrapper(iommu->FreeBuffer, 3, iommu, m->pages, h);
			return r;
		}
		m->host = h;
		return EFI_SUCCESS;
	}
	m->dev = SH_LOW_MAX;
	r = EFI_NOT_FOUND;
	if (low)
		r = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiBootServicesData,
				      m->pages, &m->dev);
	if (r != EFI_SUCCESS)
		r = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiBootServicesData,
				      m->pages, &m->dev);
	if (r != EFI_SUCCESS)
		return r;
	m->host = (uint8_t *)(UINTN)m->dev;
	fk_memset(m->host, 0, m->pages * EFI_PAGE_SIZE);
	return EFI_SUCCESS;
}

static void sh_free(struct shmem *m)
{
	if (!m->host)
		return;
	if (iommu) {
		uefi_call_wrapper(iommu->Unmap, 2, iommu, m->mapping);
		uefi_call_wrapper(iommu->FreeBuffer, 3, iommu, m->pages, m->host);
	} else {
		uefi_call_wrapper(BS->FreePages, 2, m->dev, m->pages);
	}
	m->host = NULL;
}

/* One DMA transfer of the 56-byte structure at SH_DOORBELL.  0, -1 the
 * host set the error bit, -2 no answer in time (the page is then never
 * freed: the host may still write it). */
static int fw_dma(struct shmem *ctl, UINT16 sel, UINT32 op)
{
	volatile uint8_t *d = ctl->host + SH_DESC;
	UINT64 desc = ctl->dev + SH_DESC, data = ctl->dev + SH_DOORBELL;
	UINT32 c = ((UINT32)sel << 16) | FW_DMA_SELECT | op;

	for (unsigned i = 0; i < 4; i++) {
		d[i] = (uint8_t)(c >> (24 - 8 * i));
		d[4 + i] = (uint8_t)(DB_SIZE >> (24 - 8 * i));
	}
	for (unsigned i = 0; i < 8; i++)
		d[8 + i] = (uint8_t)(data >> (56 - 8 * i));
	__asm__ volatile("mfence" : : : "memory");
	outl(FW_PORT_DMA_HI, bswap32((UINT32)(desc >> 32)));
	outl(FW_PORT_DMA_LO, bswap32((UINT32)desc));
	for (UINTN t = 0;; t += 10) {
		__asm__ volatile("" : : : "memory");
		c = (UINT32)d[0] << 24 | (UINT32)d[1] << 16 | (UINT32)d[2] << 8 | d[3];
		if (!(c & ~(UINT32)FW_DMA_ERROR))
			break;
		if (t >= DMA_TIMEOUT_US)
			return -2;
		uefi_call_wrapper(BS->Stall, 1, 10);
	}
	__asm__ volatile("mfence" : : : "memory");
	return (c & FW_DMA_ERROR) ? -1 : 0;
}

struct doorbell {
	UINT16 version, status;
	UINT64 caps, control, image_addr, image_size, opaque_addr, opaque_size;
};

static void db_decode(const uint8_t *b, struct doorbell *d)
{
	d->version = fk_le16(b);
	d->status = fk_le16(b + 2);
	d->caps = fk_le64(b + 8);
	d->control = fk_le64(b + 16);
	d->image_addr = fk_le64(b + 24);
	d->image_size = fk_le64(b + 32);
	d->opaque_addr = fk_le64(b + 40);
	d->opaque_size = fk_le64(b + 48);
}

static const char *status_name(unsigned s)
{
	static const char *const n[] = { "SUCCESS", "LOAD_FAIL", "NOT_IGVM_INIT", "TOO_LARGE",
					 "BAD_RANGE", "RATE_LIMITED", "DENIED", "BAD_FORMAT",
					 "MALFORMED" };

	return s < sizeof(n) / sizeof(n[0]) ? n[s] : "UNKNOWN";
}

/* ---- reading the hand-over region the previous firmware's client left ---- */

static bool is_ram_type(UINT32 t)
{
	return t == EfiLoaderCode || t == EfiLoaderData || t == EfiBootServicesCode ||
	       t == EfiBootServicesData || t == EfiConventionalMemory;
}

/* Is [addr, addr+size) inside one RAM descriptor of the memory map? */
static bool in_ram(UINT64 addr, UINT64 size)
{
	EFI_MEMORY_DESCRIPTOR *map, *d;
	UINTN n = 0, key, dsz;
	UINT32 ver;
	bool ok = false;

	if (!size || addr + size < addr)
		return false;
	map = LibMemoryMap(&n, &key, &dsz, &ver);
	if (!map)
		return false;
	d = map;
	for (UINTN i = 0; i < n; i++, d = (EFI_MEMORY_DESCRIPTOR *)((uint8_t *)d + dsz)) {
		UINT64 end = d->PhysicalStart + d->NumberOfPages * EFI_PAGE_SIZE;

		if (addr >= d->PhysicalStart && addr + size <= end) {
			ok = is_ram_type(d->Type);
			break;
		}
	}
	FreePool(map);
	return ok;
}

/* Keep the record's page out of the OS's hands, so the next boot under this
 * firmware (or the provider's, after a one-shot) still finds it. */
static bool reserve_record(UINT64 addr)
{
	EFI_PHYSICAL_ADDRESS a = addr & ~(UINT64)(EFI_PAGE_SIZE - 1);
	UINTN pages = EFI_SIZE_TO_PAGES(addr + FK_HANDOVER_SIZE - a);

	return uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress, EfiReservedMemoryType,
				 pages, &a) == EFI_SUCCESS;
}

/* ---- the decision ---- */

enum verdict { V_BOOT, V_RESET };

static enum verdict decide(const struct fk_choice *c, const struct options *o)
{
	const struct fk_efifw *fw = &c->fw;
	bool igvm = fk_payload_is_igvm(fw->payload, fw->payload_len);
	UINT64 fmt = igvm ? DB_FORMAT_IGVM : DB_FORMAT_RAW_ROM;
	const char *fmt_name = igvm ? "IGVM" : "raw ROM";
	uint8_t fw_sha1[FK_SHA1_LEN];
	struct shmem ctl, img;
	struct doorbell db;
	uint8_t now[DB_SIZE];
	UINT16 sel = 0;
	UINT32 nfiles = 0;
	UINT64 control;
	char hex[41];
	int r;

	/* 1. the doorbell */
	r = fw_find(DB_FILE, &sel, &nfiles);
	if (r == -1) {
		boot_on("no fw_cfg device (signature is not \"QEMU\"): no doorbell");
		return V_BOOT;
	}
	if (r == -2) {
		boot_on("fw_cfg has no DMA interface, which doorbell writes need");
		return V_BOOT;
	}
	if (r == -3) {
		boot_on("no doorbell: fw_cfg has no file " DB_FILE " (the host offers no firmware swap)");
		return V_BOOT;
	}
	if (r == -4) {
		boot_on("fw_cfg file " DB_FILE " is not 56 bytes");
		return V_BOOT;
	}
	say("doorbell: fw_cfg file " DB_FILE " at selector 0x%x (%u files)", sel, nfiles);
	/* Read it by PIO first: nothing is allocated before the hand-over
	 * record a previous swap left is copied (it may lie just where the
	 * control page would go). */
	fw_read(sel, true, now, DB_SIZE);
	db_decode(now, &db);
	say("doorbell: version %u, status %u %s, capabilities 0x%lx, control 0x%lx, opaque 0x%lx+0x%lx",
	    db.version, db.status, status_name(db.status), db.caps, db.control, db.opaque_addr,
	    db.opaque_size);
	if (db.version != 1) {
		boot_on("unknown doorbell version");
		goto keep;
	}

	/* 2. does the chosen firmware already run? */
	sha1(fw->payload, fw->payload_len, fw_sha1);
	hex_str(fw_sha1, FK_SHA1_LEN, hex);
	say("firmware \"%s\": %u bytes, %s, sha1 %s", fw->fwid, fw->payload_len, fmt_name, hex);
	if (db.status != 0) {
		say("the host answered an earlier request with %u %s%s", db.status, status_name(db.status),
		    db.status == 1 ? " (a swapped-in firmware that failed to build reads LOAD_FAIL)" : "");
		boot_on("not asking again in this VM's life");
		goto keep;
	}
	if (db.opaque_size) {
		uint8_t rec[FK_HANDOVER_SIZE];
		enum fk_handover_state hs = FK_HO_INVALID;
		char fwid[32];

		if (iommu) {
			say("a previous swap left a hand-over region, which a confidential guest cannot read back after the relaunch");
			say("firmware \"%s\" is taken to run (not swapping twice)", fw->fwid);
			goto keep;
		}
		if (db.opaque_size == FK_HANDOVER_SIZE && in_ram(db.opaque_addr, db.opaque_size)) {
			fk_memcpy(rec, (const void *)(UINTN)db.opaque_addr, FK_HANDOVER_SIZE);
			hs = fk_handover_check(rec, db.opaque_size);
		}
		if (hs == FK_HO_INVALID) {
			say("a previous swap left a hand-over region at 0x%lx (%lu bytes) without a valid record",
			    db.opaque_addr, db.opaque_size);
			boot_on("not swapping twice");
			goto keep;
		}
		fk_handover_fwid(rec, fwid);
		if (hs == FK_HO_LIVE && fk_handover_names(rec, fw->payload_len, fw_sha1)) {
			bool oneshot = fk_handover_control(rec) & DB_CTL_HOST_IGVM;

			say("firmware \"%s\" already runs: the hand-over record of the previous swap names it%s",
			    fw->fwid, oneshot ? " (one-shot)" : "");
			if (reserve_record(db.opaque_addr)) {
				volatile uint8_t *live = (uint8_t *)(UINTN)db.opaque_addr;

				if (oneshot) {
					fk_handover_mark_used(rec);
					for (unsigned i = 0; i < 8; i++)
						live[i] = rec[i];
				}
			} else {
				say("(the record's page is in use: the next boot may not find the record)");
			}
			goto keep;
		}
		if (hs == FK_HO_USED)
			say("the one-shot swap of firmware \"%s\" has ended: swapping again", fwid);
		else
			say("the previous swap installed firmware \"%s\", not this one: swapping", fwid);
	}
	if (db.caps == 0) {
		boot_on("the host has the doorbell turned off (capabilities 0)");
		goto keep;
	}
	if (db.control & DB_CTL_DISABLE) {
		boot_on("the doorbell is locked (CTL_DISABLE)");
		goto keep;
	}
	if (!(db.caps & fmt)) {
		say("the firmware is %s, the host accepts only 0x%lx", fmt_name, db.caps);
		boot_on("format not offered");
		goto keep;
	}
	if (fw->payload_len == 0 || fw->payload_len > (igvm ? DB_IMAGE_MAX : DB_RAW_ROM_MAX)) {
		say("firmware \"%s\" is %u bytes: over the doorbell's %lu-byte image limit", fw->fwid,
		    fw->payload_len, igvm ? DB_IMAGE_MAX : DB_RAW_ROM_MAX);
		boot_on("image too large");
		goto keep;
	}
	if (!igvm && fw->payload_len % 4096) {
		boot_on("a raw ROM must be a multiple of 4 KiB");
		goto keep;
	}

	/* 3. hand it over */
	if (sh_alloc(&ctl, EFI_PAGE_SIZE, true) != EFI_SUCCESS) {
		boot_on("no memory for the doorbell buffers");
		goto keep;
	}
	say("doorbell buffers: %s memory at 0x%lx", iommu ? "shared (IOMMU protocol)" : "plain",
	    (uint64_t)ctl.dev);
	if (sh_alloc(&img, fw->payload_len, false) != EFI_SUCCESS) {
		sh_free(&ctl);
		boot_on("no memory for the image");
		goto keep;
	}
	fk_memcpy(img.host, fw->payload, fw->payload_len);
	control = fmt | (o->one_shot ? DB_CTL_HOST_IGVM : 0);
	fk_handover_build(ctl.host + SH_RECORD, control, fw->payload_len, fw_sha1, fw->fwid);
	{
		uint8_t *s = ctl.host + SH_DOORBELL;

		fk_memset(s, 0, DB_SIZE);
		fk_put_le16(s, 1);
		fk_put_le64(s + 16, control);
		fk_put_le64(s + 24, img.dev);
		fk_put_le64(s + 32, fw->payload_len);
		fk_put_le64(s + 40, ctl.dev + SH_RECORD);
		fk_put_le64(s + 48, FK_HANDOVER_SIZE);
	}
	say("asking the host to boot firmware \"%s\" (%s%s, image at 0x%lx)", fw->fwid, fmt_name,
	    o->one_shot ? ", one-shot" : "", (uint64_t)img.dev);
	r = fw_dma(&ctl, sel, FW_DMA_WRITE);
	if (r == -2) {
		boot_on("the doorbell write got no answer");
		return V_BOOT;      /* keep both buffers: the host may still read them */
	}
	if (r == -1) {
		say("the fw_cfg DMA write of " DB_FILE " failed (error bit): the host did not take it"
		    " (a read-only file: no vm-launch-update device?)");
		boot_on("request refused");
		sh_free(&img);
		sh_free(&ctl);
		goto keep;
	}
	r = fw_dma(&ctl, sel, FW_DMA_READ);
	if (r) {
		boot_on("cannot read the doorbell's answer");
		return V_BOOT;
	}
	db_decode(ctl.host + SH_DOORBELL, &db);
	if (db.status != 0) {
		say("the host refused firmware \"%s\": status %u %s", fw->fwid, db.status,
		    status_name(db.status));
		boot_on("request refused");
		sh_free(&img);
		sh_free(&ctl);
		goto keep;
	}
	if (db.image_addr || db.image_size) {
		/* a locked doorbell answers 0 and leaves the addresses */
		boot_on("the host ignored the request (doorbell locked)");
		goto keep;
	}
	say("the host accepted firmware \"%s\": resetting into it", fw->fwid);
	return V_RESET;
keep:
	return V_BOOT;
}

static EFI_STATUS run(void)
{
	struct options o;
	uint8_t *uki = NULL;
	UINTN len = 0;
	struct fk_uki u;
	struct fk_choice c;
	uint8_t chids[FK_CHID_TYPES][16];
	const char *why = NULL;
	char path[256], id[37];
	EFI_STATUS r;

	parse_options(&o);
	path_ascii(o.uki, path, sizeof(path));
	say("F-UKI client: UKI %s%s", path, o.one_shot ? ", one-shot swaps" : "");
	r = read_esp_file(o.uki, UKI_MAX, &uki, &len);
	if (r != EFI_SUCCESS) {
		say("cannot read the UKI %s (EFI status 0x%lx): nothing to boot", path, (uint64_t)r);
		return r;
	}
	if (fk_uki_parse(uki, len, &u, &why)) {
		say("the UKI is not a PE image systemd-stub would load (%s)", why);
		boot_on("no firmware choice");
		goto boot;
	}
	say("UKI: %lu bytes, %u sections, %u .efifw, .hwids %s", (uint64_t)len, u.nsec, u.nefifw,
	    u.hwids >= 0 ? "present" : "absent");
	if (u.nefifw == 0) {
		boot_on("the UKI has no .efifw section: no firmware to hand over");
		goto boot;
	}
	for (unsigned k = 0; k < u.nefifw; k++) {
		struct fk_efifw f;

		if (fk_efifw_nth(&u, k, &f) && !f.valid)
			say(".efifw [%u] (section %u) is invalid and skipped: %s", k, f.section, f.why);
	}
	sha1_setup();
	if (!compute_chids(chids)) {
		boot_on("no CHIDs, no firmware choice");
		goto boot;
	}
	fk_select(&u, (const uint8_t (*)[16])chids, &c);
	switch (c.result) {
	case FK_CHOSEN:
		break;
	case FK_BAD_HWIDS:
		say("malformed .hwids: %s (systemd-stub rejects the table)", c.why);
		boot_on("no firmware choice");
		goto boot;
	case FK_NO_FWID:
		say(".hwids record %u matches (CHID type %u) and names fwid \"%s\", but no valid .efifw carries it",
		    (unsigned)c.hwid, c.chid_type, c.rec.str ? c.rec.str : "");
		boot_on("no matching firmware");
		goto boot;
	case FK_NO_MATCH:
		say("no matching firmware: %s", c.why);
		boot_on("no matching firmware");
		goto boot;
	default:
		boot_on(c.why);
		goto boot;
	}
	chid_str(chids[c.chid_type], id);
	say("chose firmware \"%s\" (.efifw [%u], section %u, %u bytes): CHID type %u {%s} matches .hwids record %u (name \"%s\")",
	    c.fw.fwid, (unsigned)c.efifw, c.fw.section, c.fw.payload_len, c.chid_type, id,
	    (unsigned)c.hwid, c.rec.name ? c.rec.name : "");
	if (decide(&c, &o) == V_RESET) {
		uefi_call_wrapper(RT->ResetSystem, 4, EfiResetCold, EFI_SUCCESS, 0, NULL);
		say("ResetSystem returned: the new firmware comes with the next reset");
	}
boot:
	r = start_uki(o.uki, uki, len, o.pass);
	FreePool(uki);
	return r;
}

EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	VOID *p = NULL;

	InitializeLib(image, systab);
	self = image;
	if (uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (VOID **)&self_li) !=
	    EFI_SUCCESS) {
		say("no loaded-image protocol on the client's own handle");
		return EFI_LOAD_ERROR;
	}
	if (uefi_call_wrapper(BS->LocateProtocol, 3, &nested_guid, NULL, &p) == EFI_SUCCESS) {
		say("started by another fuki-client (the UKI path names the client itself?): stopping");
		return EFI_ALREADY_STARTED;
	}
	if (uefi_call_wrapper(BS->LocateProtocol, 3, &iommu_guid, NULL, (VOID **)&iommu) != EFI_SUCCESS)
		iommu = NULL;
	return run();
}
