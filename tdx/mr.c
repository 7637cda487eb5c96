/* tdx/mr.c: TDX measurement predictions: MRTD folded from a launch plan,
 * RTMR event digests and RTMR values for the documented direct boot.
 * Owns: the hash rules only (OpenSSL EVP); must not build plans or touch KVM.
 * RTMR values depend on the firmware build: see tdx/tdx.h. */
#include "tdx/tdx.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "vmm/base/digest.h"
#include "vmm/base/guid.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"

#define MR_BLOCK   128      /* TDX module: MRTD is updated in 128-byte blocks */
#define MR_CHUNK   256      /* TDH.MR.EXTEND granularity (KVM TDX_EXTENDMR_CHUNKSIZE) */

/* SHA-384 fetched once for the process (EVP_sha384() with
 * EVP_DigestInit_ex fetches it by name on every init).  Never freed. */
static EVP_MD *sha384_md;
static pthread_once_t sha384_once = PTHREAD_ONCE_INIT;

static void sha384_fetch(void)
{
	sha384_md = EVP_MD_fetch(NULL, "SHA384", NULL);
}

/* Intel TDX module base architecture spec #344425, TDH.MEM.PAGE.ADD and
 * TDH.MR.EXTEND: the operation name in ASCII, zero-padded to 16 bytes, the
 * GPA as u64 at offset 16, zero up to 128 bytes. */
static int mr_op(EVP_MD_CTX *c, const char *name, uint64_t gpa)
{
	uint8_t b[MR_BLOCK];

	memset(b, 0, sizeof(b));
	memcpy(b, name, strlen(name));
	le_wr64(b + 16, gpa);
	return EVP_DigestUpdate(c, b, sizeof(b)) ? 0 : -EIO;
}

/* Contents of @len bytes at offset @off of a region: data then zeros. */
static int mr_content(EVP_MD_CTX *c, const struct plan_region *r, uint64_t off, size_t len)
{
	static const uint8_t zero[MR_CHUNK];
	size_t have = 0;

	if (r->data && off < r->data_len) {
		have = r->data_len - off < len ? (size_t)(r->data_len - off) : len;
		if (!EVP_DigestUpdate(c, r->data + off, have))
			return -EIO;
	}
	if (len > have && !EVP_DigestUpdate(c, zero, len - have))
		return -EIO;
	return 0;
}

static int mr_extend_page(EVP_MD_CTX *c, const struct plan_region *r, uint64_t off)
{
	for (uint64_t k = 0; k < PLAN_PAGE; k += MR_CHUNK) {
		int ret = mr_op(c, "MR.EXTEND", r->gpa + off + k);

		if (!ret)
			ret = mr_content(c, r, off + k, MR_CHUNK);
		if (ret)
			return ret;
	}
	return 0;
}

static int mr_region(EVP_MD_CTX *c, const struct plan_region *r, bool two_pass)
{
	bool measure = r->flags & PLAN_F_MEASURE;
	int ret;

	if (r->flags & PLAN_F_PAGE_AUG)
		return 0;        /* TDH.MEM.PAGE.AUG pages are not in MRTD */
	for (uint64_t off = 0; off < r->size; off += PLAN_PAGE) {
		ret = mr_op(c, "MEM.PAGE.ADD", r->gpa + off);
		if (!ret && measure && !two_pass)
			ret = mr_extend_page(c, r, off);
		if (ret)
			return ret;
	}
	if (measure && two_pass)
		for (uint64_t off = 0; off < r->size; off += PLAN_PAGE) {
			ret = mr_extend_page(c, r, off);
			if (ret)
				return ret;
		}
	return 0;
}

int tdx_measure_mrtd(const struct launch_plan *p, uint8_t mrtd[48])
{
	EVP_MD_CTX *c;
	unsigned int olen = 0;
	int ret = 0;

	if (p->platform != PLAN_TDX) {
		log_err("tdx: MRTD asked of a plan for platform %d", p->platform);
		return -EINVAL;
	}
	c = EVP_MD_CTX_new();
	pthread_once(&sha384_once, sha384_fetch);
	if (!c || !sha384_md || !EVP_DigestInit_ex2(c, sha384_md, NULL)) {
		EVP_MD_CTX_free(c);
		log_err("tdx: cannot start SHA-384");
		return -EIO;
	}
	for (size_t i = 0; i < p->nregions && !ret; i++)
		ret = mr_region(c, &p->regions[i], p->tdx.two_pass);
	if (!ret && (!EVP_DigestFinal_ex(c, mrtd, &olen) || olen != 48))
		ret = -EIO;
	EVP_MD_CTX_free(c);
	if (ret)
		log_err("tdx: MRTD hashing failed (%d)", ret);
	return ret;
}

/* ---- RTMR side (edk2 OvmfPkg/Tcg/TdTcg2Dxe, see tdx/tdx.h) ---- */

int tdx_hob_digest(const uint8_t *hob, size_t measured_len, uint8_t out[48])
{
	return digest_sha384(hob, measured_len, out);
}

int tdx_cfv_digest(const struct launch_plan *p, uint8_t out[48])
{
	for (size_t i = 0; i < p->nregions; i++) {
		const struct plan_region *r = &p->regions[i];

		if (r->tdx_type == OVMF_TDVF_CFV && r->data)
			return digest_sha384(r->data, r->data_len, out);
	}
	log_err("tdx: plan has no CFV region to digest");
	return -ENOENT;
}

int tdx_rtmr_extend(uint8_t rtmr[48], const uint8_t digest[48])
{
	uint8_t buf[96];

	memcpy(buf, rtmr, 48);
	memcpy(buf + 48, digest, 48);
	return digest_sha384(buf, sizeof(buf), rtmr);
}

/* EFI_GLOBAL_VARIABLE and EFI_IMAGE_SECURITY_DATABASE_GUID (UEFI 2.10
 * sections 3.3 and 32.6.1), as they lie in memory. */
static const uint8_t guid_global[GUID_LEN] =
	UEFI_GUID(0x8be4df61, 0x93ca, 0x11d2, 0xaa0d, 0x00e098032b8c);
static const uint8_t guid_secdb[GUID_LEN] =
	UEFI_GUID(0xd719b2cb, 0x3d3a, 0x4596, 0xa3bc, 0xdad00e67656f);

/* UEFI_VARIABLE_DATA (TCG PC Client PFP 10.2.6) with no data:
 * GUID | u64 name chars | u64 data length (0) | UTF-16LE name. */
static int var_digest(const uint8_t guid[16], const char *name, uint8_t out[48])
{
	uint8_t b[64];
	size_t n = strlen(name);

	memset(b, 0, sizeof(b));
	memcpy(b, guid, 16);
	le_wr64(b + 16, n);
	for (size_t i = 0; i < n; i++)
		b[32 + 2 * i] = (uint8_t)name[i];
	return digest_sha384(b, 32 + 2 * n, out);
}

/* Boot0000 as OVMF's BDS creates it for the UiApp front page:
 * EFI_LOAD_OPTION {u32 Attributes = LOAD_OPTION_ACTIVE|LOAD_OPTION_HIDDEN
 * (0x109), u16 FilePathListLength = 0x2c, "UiApp" UTF-16 NUL-terminated,
 * device path: FV (MEDIA 4/7) of the DXE FV, FV file (MEDIA 4/6) UiApp, END}. */
static const uint8_t boot0000[] = {
	0x09, 0x01, 0x00, 0x00, 0x2c, 0x00,
	'U', 0, 'i', 0, 'A', 0, 'p', 0, 'p', 0, 0, 0,
	0x04, 0x07, 0x14, 0x00,
	/* 7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1 (OVMF DXEFV) */
	0xc9, 0xbd, 0xb8, 0x7c, 0xeb, 0xf8, 0x34, 0x4f,
	0xaa, 0xea, 0x3e, 0xe4, 0xaf, 0x65, 0x16, 0xa1,
	0x04, 0x06, 0x14, 0x00,
	/* 462caa21-7614-4503-836e-8ab6f4662331 (UiApp FILE_GUID) */
	0x21, 0xaa, 0x2c, 0x46, 0x14, 0x76, 0x03, 0x45,
	0x83, 0x6e, 0x8a, 0xb6, 0xf4, 0x66, 0x23, 0x31,
	0x7f, 0xff, 0x04, 0x00,
};

int tdx_const_event_digest(enum tdx_const_event ev, uint8_t out[48])
{
	static const uint8_t sep[4] = { 0, 0, 0, 0 };
	static const uint8_t bootorder[2] = { 0, 0 };
	const char *action;

	switch (ev) {
	case TDX_EV_SECUREBOOT: return var_digest(guid_global, "SecureBoot", out);
	case TDX_EV_PK: return var_digest(guid_global, "PK", out);
	case TDX_EV_KEK: return var_digest(guid_global, "KEK", out);
	case TDX_EV_DB: return var_digest(guid_secdb, "db", out);
	case TDX_EV_DBX: return var_digest(guid_secdb, "dbx", out);
	case TDX_EV_SEPARATOR: return digest_sha384(sep, sizeof(sep), out);
	/* EV_EFI_VARIABLE_BOOT: edk2 hashes only the variable data. */
	case TDX_EV_BOOTORDER: return digest_sha384(bootorder, sizeof(bootorder), out);
	case TDX_EV_BOOT0000: return digest_sha384(boot0000, sizeof(boot0000), out);
	/* EV_EFI_ACTION strings, TCG PC Client PFP 10.4.4, hashed without NUL */
	case TDX_EV_CALLING_EFI_APP: action = "Calling EFI Application from Boot Option"; break;
	case TDX_EV_EBS_INVOCATION: action = "Exit Boot Services Invocation"; break;
	case TDX_EV_EBS_SUCCESS: action = "Exit Boot Services Returned with Success"; break;
	default:
		log_err("tdx: unknown constant event %d", (int)ev);
		return -EINVAL;
	}
	return digest_sha384(action, strlen(action), out);
}

#define LOADOPTS_MAX 4096

int tdx_loadopts_digest(const char *cmdline, bool has_initrd, uint8_t out[48])
{
	static const char suffix[] = " initrd=initrd";
	uint8_t buf[2 * (LOADOPTS_MAX + sizeof(suffix))];
	size_t n = cmdline ? strlen(cmdline) : 0, k = 0;

	if (n > LOADOPTS_MAX) {
		log_err("tdx: command line of %zu bytes, at most %d", n, LOADOPTS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++, k += 2) {
		buf[k] = (uint8_t)cmdline[i];
		buf[k + 1] = 0;
	}
	if (has_initrd)
		for (size_t i = 0; i < sizeof(suffix) - 1; i++, k += 2) {
			buf[k] = (uint8_t)suffix[i];
			buf[k + 1] = 0;
		}
	buf[k++] = 0;
	buf[k++] = 0;
	return digest_sha384(buf, k, out);
}

static int ext_const(uint8_t rtmr[48], enum tdx_const_event ev)
{
	uint8_t d[48];
	int ret = tdx_const_event_digest(ev, d);

	return ret ? ret : tdx_rtmr_extend(rtmr, d);
}

int tdx_rtmr_predict(const struct tdx_boot_digests *d, uint8_t rtmr[4][48])
{
	static const enum tdx_const_event vars[] = {
		TDX_EV_SECUREBOOT, TDX_EV_PK, TDX_EV_KEK, TDX_EV_DB, TDX_EV_DBX,
		TDX_EV_SEPARATOR,
	};
	int ret = 0;

	memset(rtmr, 0, 4 * 48);
	/* RTMR[0]: PCR 0/1/7 events, in firmware order */
	ret |= tdx_rtmr_extend(rtmr[0], d->hob);
	ret |= tdx_rtmr_extend(rtmr[0], d->cfv);
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		ret |= ext_const(rtmr[0], vars[i]);
	ret |= tdx_rtmr_extend(rtmr[0], d->acpi_loader);
	ret |= tdx_rtmr_extend(rtmr[0], d->acpi_rsdp);
	ret |= tdx_rtmr_extend(rtmr[0], d->acpi_tables);
	ret |= ext_const(rtmr[0], TDX_EV_BOOTORDER);
	ret |= ext_const(rtmr[0], TDX_EV_BOOT0000);
	/* RTMR[1]: PCR 2-6 events; the ReadyToBoot separator goes here
	 * (edk2 OnReadyToBoot, CC_MR_INDEX_2_RTMR1) */
	ret |= tdx_rtmr_extend(rtmr[1], d->kernel_pe);
	ret |= ext_const(rtmr[1], TDX_EV_CALLING_EFI_APP);
	ret |= ext_const(rtmr[1], TDX_EV_SEPARATOR);
	ret |= ext_const(rtmr[1], TDX_EV_EBS_INVOCATION);
	ret |= ext_const(rtmr[1], TDX_EV_EBS_SUCCESS);
	/* RTMR[2]: the Linux EFI stub's tagged events (PCR 9) */
	if (d->has_stub_events) {
		ret |= tdx_rtmr_extend(rtmr[2], d->loadopts);
		if (d->has_initrd)
			ret |= tdx_rtmr_extend(rtmr[2], d->initrd);
	}
	return ret ? -EIO : 0;
}
