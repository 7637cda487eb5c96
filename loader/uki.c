/* loader/uki.c: PE/COFF reader for UKIs and the .efifw/.hwids formats,
 * following systemd-stub (src/boot/pe.c, efi-firmware.c, chid.c).
 * Owns parsing and the firmware choice only: no file I/O, no hashing of
 * payloads, no launch plans.  Every read is bounds-checked. */
#include "loader/uki.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/err.h"
#include "vmm/base/le.h"
#include "vmm/base/log.h"


const char *uki_known_name(enum uki_known k)
{
	static const char *const n[UKI_KNOWN_MAX] = { ".linux", ".initrd", ".cmdline", ".osrel",
						      ".uname", ".sbat", ".hwids" };

	return (unsigned)k < UKI_KNOWN_MAX ? n[k] : "?";
}

int uki_efifw_parse(const uint8_t *blob, size_t len, struct uki_efifw *out)
{
	uint64_t total;

	out->valid = false;
	out->why = NULL;
	out->fwid = NULL;
	out->payload = NULL;
	out->has_chid = false;
	memset(&out->chid, 0, sizeof(out->chid));
	if (len < UKI_EFIFW_HDR_MIN) {
		out->why = "shorter than the 16-byte header";
		return -EINVAL;
	}
	if (le_rd32(blob) != UKI_EFIFW_MAGIC) {
		out->why = "bad magic (expected 0xfeeddead)";
		return -EINVAL;
	}
	out->header_len = le_rd32(blob + 4);
	out->fwid_len = le_rd32(blob + 8);
	out->payload_len = le_rd32(blob + 12);
	if (out->header_len < UKI_EFIFW_HDR_MIN) {
		out->why = "header_len below 16";
		return -EINVAL;
	}
	total = (uint64_t)out->header_len + out->fwid_len + out->payload_len;
	if (total > len) {
		out->why = "header_len + fwid_len + payload_len runs past the section";
		return -EINVAL;
	}
	/* the only NUL of the fwid is its last byte */
	if (out->fwid_len == 0 ||
	    memchr(blob + out->header_len, 0, out->fwid_len) !=
		    blob + out->header_len + out->fwid_len - 1) {
		out->why = "fwid is not a NUL-terminated string of fwid_len bytes";
		return -EINVAL;
	}
	out->fwid = (const char *)blob + out->header_len;
	out->payload = blob + out->header_len + out->fwid_len;
	if (out->header_len >= UKI_EFIFW_HDR_CHID) {
		chid_from_efi_guid(blob + 16, &out->chid);
		out->has_chid = !chid_is_zero(&out->chid);
	}
	out->valid = true;
	return 0;
}

int uki_hwids_parse(const uint8_t *buf, size_t len, struct uki_hwid **out, unsigned *n,
		    const char **why)
{
	size_t cap = len / UKI_HWID_LEN, i;
	struct uki_hwid *hw;
	int ret = 0;

	*out = NULL;
	*n = 0;
	*why = NULL;
	hw = calloc(cap ? cap : 1, sizeof(*hw));
	if (!hw) {
		*why = "out of memory";
		return -ENOMEM;
	}
	/* sd-stub: for (; (n + 1) * sizeof(Device) < hwid_length;) */
	for (i = 0; (i + 1) * UKI_HWID_LEN < len; i++) {
		const uint8_t *d = buf + i * UKI_HWID_LEN;
		struct uki_hwid *h = &hw[i];

		h->descriptor = le_rd32(d);
		if (h->descriptor == 0)
			break;
		h->type = h->descriptor >> 28;
		if (h->type != UKI_HWID_TYPE_DEVICETREE && h->type != UKI_HWID_TYPE_UEFI_FW) {
			*why = "record of unknown type";
			ret = -EOPNOTSUPP;
			break;
		}
		chid_from_efi_guid(d + 4, &h->chid);
		h->name_off = le_rd32(d + 20);
		h->str_off = le_rd32(d + 24);
		if (h->str_off >= len || h->name_off >= len) {
			*why = "string offset past the end of the section";
			ret = -EINVAL;
			break;
		}
		if ((h->str_off && !memchr(buf + h->str_off, 0, len - h->str_off)) ||
		    (h->name_off && !memchr(buf + h->name_off, 0, len - h->name_off))) {
			*why = "string not NUL-terminated inside the section";
			ret = -EINVAL;
			break;
		}
		h->name = h->name_off ? (const char *)buf + h->name_off : NULL;
		h->str = h->str_off ? (const char *)buf + h->str_off : NULL;
	}
	*out = hw;
	*n = (unsigned)i;
	if (!ret && i == 0) {
		*why = "no records";
		ret = -ENOENT;
	}
	return ret;
}

static bool name_eq(const char *a, const char *b)
{
	return strncmp(a, b, 8) == 0;
}

static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

int uki_parse(const uint8_t *buf, size_t len, struct uki *u, char *err, size_t errlen)
{
	uint32_t lfanew, nsec, optlen, tab;
	const uint8_t *coff;
	int hw = -1;

	memset(u, 0, sizeof(*u));
	for (unsigned k = 0; k < UKI_KNOWN_MAX; k++)
		u->known[k] = -1;
	u->buf = buf;
	u->len = len;
	if (!buf || len < UKI_DOS_HDR_LEN || buf[0] != 'M' || buf[1] != 'Z')
		return err_set(err, errlen, -EINVAL, "not a PE file: no MZ header");
	lfanew = le_rd32(buf + 0x3C);
	if (lfanew < UKI_DOS_HDR_LEN || (uint64_t)lfanew + 4 + UKI_COFF_HDR_LEN + 2 > len)
		return err_set(err, errlen, -EINVAL, "PE header offset 0x%x outside the file (%zu bytes)", lfanew,
			    len);
	if (memcmp(buf + lfanew, "PE\0\0", 4))
		return err_set(err, errlen, -EINVAL, "no PE signature at 0x%x", lfanew);
	coff = buf + lfanew + 4;
	u->machine = le_rd16(coff);
	nsec = le_rd16(coff + 2);
	optlen = le_rd16(coff + 16);
	u->opt_magic = le_rd16(coff + UKI_COFF_HDR_LEN);
	if (nsec == 0)
		return err_set(err, errlen, -EINVAL, "PE file has no sections");
	if (u->opt_magic != UKI_OPT_MAGIC_PE32P && u->opt_magic != UKI_OPT_MAGIC_PE32)
		return err_set(err, errlen, -EINVAL, "optional header magic 0x%x is not PE32+ (0x20b) or PE32",
			    u->opt_magic);
	if (u->machine != UKI_MACHINE_X64)
		return err_set(err, errlen, -EINVAL, "machine 0x%x is not x86-64 (0x8664)", u->machine);
	tab = lfanew + 4 + UKI_COFF_HDR_LEN + optlen;
	if (nsec > UKI_MAX_SECTIONS)
		return err_set(err, errlen, -EINVAL, "%u sections: more than the %u this reader accepts", nsec,
			    UKI_MAX_SECTIONS);
	if ((uint64_t)nsec * UKI_SECTION_HDR_LEN > UKI_SECTION_TABLE_MAX ||
	    (uint64_t)tab + (uint64_t)nsec * UKI_SECTION_HDR_LEN > len)
		return err_set(err, errlen, -EINVAL, "section table (%u entries at 0x%x) runs past the file",
			    nsec, tab);
	u->sec = calloc(nsec, sizeof(*u->sec));
	if (!u->sec)
		return err_set(err, errlen, -EINVAL, "out of memory");
	u->nsec = nsec;
	u->nbase = nsec;
	for (unsigned i = 0; i < nsec; i++) {
		const uint8_t *h = buf + tab + (size_t)i * UKI_SECTION_HDR_LEN;
		struct uki_section *s = &u->sec[i];

		memcpy(s->name, h, 8);
		s->name[8] = '\0';
		s->vsize = le_rd32(h + 8);
		s->vaddr = le_rd32(h + 12);
		s->raw_size = le_rd32(h + 16);
		s->raw_off = le_rd32(h + 20);
		s->size = s->raw_size < s->vsize ? s->raw_size : s->vsize;
		if ((uint64_t)s->raw_off + s->size > len) {
			err_set(err, errlen, -EINVAL,
				"section %u '%s': data 0x%x+0x%zx runs past the end of the file (%zu bytes)",
				i, s->name, s->raw_off, s->size, len);
			uki_free(u);
			return -EINVAL;
		}
		s->data = buf + s->raw_off;
		for (unsigned j = 0; j < i; j++) {
			const struct uki_section *o = &u->sec[j];

			if (ranges_overlap(s->raw_off, s->size, o->raw_off, o->size) ||
			    ranges_overlap(s->vaddr, s->vsize, o->vaddr, o->vsize)) {
				err_set(err, errlen, -EINVAL, "sections %u '%s' and %u '%s' overlap", j, o->name,
				     i, s->name);
				uki_free(u);
				return -EINVAL;
			}
		}
		if (name_eq(s->name, ".profile")) {
			if (!u->nprofiles)
				u->nbase = i;
			u->nprofiles++;
		}
	}
	/* Base profile: first section of each name wins (sd-stub
	 * pe_locate_sections_internal). */
	for (unsigned i = 0; i < u->nbase; i++) {
		for (unsigned k = 0; k < UKI_KNOWN_MAX; k++)
			if (u->known[k] < 0 && name_eq(u->sec[i].name, uki_known_name(k)))
				u->known[k] = (int)i;
		if (name_eq(u->sec[i].name, ".efifw"))
			u->nfw++;
	}
	u->fw = calloc(u->nfw ? u->nfw : 1, sizeof(*u->fw));
	if (!u->fw) {
		uki_free(u);
		return err_set(err, errlen, -EINVAL, "out of memory");
	}
	u->nfw = 0;
	for (unsigned i = 0; i < u->nbase; i++) {
		const struct uki_section *s = &u->sec[i];
		struct uki_efifw *f;

		if (!name_eq(s->name, ".efifw"))
			continue;
		f = &u->fw[u->nfw++];
		f->section = i;
		if (s->vaddr % UKI_EFIFW_ALIGN) {
			f->why = "section address not 8-byte aligned";
			continue;
		}
		(void)uki_efifw_parse(s->data, s->size, f);
	}
	hw = u->known[UKI_HWIDS];
	if (hw >= 0) {
		const struct uki_section *s = &u->sec[hw];

		if (s->vaddr % UKI_HWID_ALIGN) {
			u->hwids_err = -EINVAL;
			u->hwids_why = "section address not 4-byte aligned";
		} else {
			u->hwids_err = uki_hwids_parse(s->data, s->size, &u->hw, &u->nhw,
						       &u->hwids_why);
			if (u->hwids_err == -ENOMEM) {
				uki_free(u);
				return err_set(err, errlen, -EINVAL, "out of memory");
			}
		}
	}
	return 0;
}

void uki_free(struct uki *u)
{
	free(u->sec);
	free(u->fw);
	free(u->hw);
	u->sec = NULL;
	u->fw = NULL;
	u->hw = NULL;
	u->nsec = u->nfw = u->nhw = 0;
}

int uki_find_fwid(const struct uki *u, const char *fwid)
{
	if (!fwid)
		return -1;
	for (unsigned i = 0; i < u->nfw; i++)
		if (u->fw[i].valid && !strcmp(u->fw[i].fwid, fwid))
			return (int)i;
	return -1;
}

int uki_select(const struct uki *u, const struct chid_set *chids, struct uki_choice *c)
{
	c->hwid = -1;
	c->efifw = -1;
	c->chid_type = 0;
	if (u->known[UKI_HWIDS] < 0 || u->hwids_err)
		return -EINVAL;
	for (unsigned p = 0; p < CHID_PRIORITY_LEN; p++) {
		unsigned t = chid_priority[p];

		/* sd-stub compares even all-zero CHIDs (types it could not
		 * compute): a zero record would match them. */
		for (unsigned i = 0; i < u->nhw; i++) {
			const struct uki_hwid *h = &u->hw[i];

			if (h->type != UKI_HWID_TYPE_UEFI_FW ||
			    memcmp(h->chid.b, chids->id[t].b, 16))
				continue;
			c->hwid = (int)i;
			c->chid_type = t;
			c->efifw = uki_find_fwid(u, h->str);
			return c->efifw >= 0 ? 1 : 0;
		}
	}
	return 0;
}
