/* vmm/config/config.c: guest.toml -> struct vm_config, validated.
 * Owns: the schema (every table and key fukivmm accepts), defaults, range
 * checks and path resolution.  Every error is one line naming the file, the
 * line and column, and the key.  Must not touch devices or KVM. */
#include "vmm/config/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/igvm.h"
#include "vmm/config/toml.h"

struct cfg_ctx {
	const char *name;       /* file name for messages */
	const char *dir;        /* base for relative paths */
	bool check_files;
	char *err;
	size_t errlen;
	int failed;
};

__attribute__((format(printf, 4, 5)))
static int cfg_fail(struct cfg_ctx *c, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->failed)
		return -1;
	c->failed = 1;
	n = snprintf(c->err, c->errlen, "%s:%u:%u: ", c->name, line, col);
	if (n < 0 || (size_t)n >= c->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	/* the message quotes the file's values: keep it one printable line
	 * (a string value may hold newlines and control characters) */
	for (char *q = c->err + n; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
	return -1;
}

int config_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mul = 1ULL << 10; break;
		case 'M': mul = 1ULL << 20; break;
		case 'G': mul = 1ULL << 30; break;
		case 'T': mul = 1ULL << 40; break;
		default: return -EINVAL;
		}
		end++;
		/* accept "256M", "256MiB", "256MB" */
		if ((end[0] == 'i' || end[0] == 'I') && (end[1] == 'B' || end[1] == 'b'))
			end += 2;
		else if (end[0] == 'B' || end[0] == 'b')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = (uint64_t)v * mul;
	return 0;
}

int config_parse_duration(const char *s, uint64_t *out_ns)
{
	char *end;
	unsigned long long v;
	uint64_t mul;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (!strcmp(end, "s"))
		mul = 1000000000ULL;
	else if (!strcmp(end, "ms"))
		mul = 1000000ULL;
	else if (!strcmp(end, "us"))
		mul = 1000ULL;
	else if (!strcmp(end, "ns"))
		mul = 1;
	else if (!*end && v == 0)
		mul = 1;
	else
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out_ns = (uint64_t)v * mul;
	return 0;
}

/* ---- typed accessors; each reports "key 'table.key': ..." ---- */

static const struct toml_value *cfg_get(const struct toml_table *t, const char *key)
{
	return t ? toml_get(t, key) : NULL;
}

static int cfg_type(struct cfg_ctx *c, const char *tab, const char *key,
		    const struct toml_value *v, enum toml_type want)
{
	if (v->type == want)
		return 0;
	return cfg_fail(c, v->line, v->col, "key '%s.%s': expected %s, found %s",
			tab, key, toml_type_name(want), toml_type_name(v->type));
}

static int cfg_string(struct cfg_ctx *c, const struct toml_table *t, const char *tab,
		      const char *key, const char **out)
{
	const struct toml_value *v = cfg_get(t, key);

	if (!v)
		return 0;
	if (cfg_type(c, tab, key, v, TOML_STRING))
		return -1;
	if (strlen(v->u.s.ptr) != v->u.s.len)
		return cfg_fail(c, v->line, v->col, "key '%s.%s': string contains a NUL byte",
				tab, key);
	*out = v->u.s.ptr;
	return 1;
}

static int cfg_bool(struct cfg_ctx *c, const struct toml_table *t, const char *tab,
		    const char *key, bool *out)
{
	const struct toml_value *v = cfg_get(t, key);

	if (!v)
		return 0;
	if (cfg_type(c, tab, key, v, TOML_BOOL))
		return -1;
	*out = v->u.b;
	return 1;
}

static int cfg_int(struct cfg_ctx *c, const struct toml_table *t, const char *tab,
		   const char *key, int64_t min, int64_t max, int64_t *out)
{
	const struct toml_value *v = cfg_get(t, key);

	if (!v)
		return 0;
	if (cfg_type(c, tab, key, v, TOML_INTEGER))
		return -1;
	if (v->u.i < min || v->u.i > max)
		return cfg_fail(c, v->line, v->col,
				"key '%s.%s': %lld is out of range (%lld to %lld)", tab, key,
				(long long)v->u.i, (long long)min, (long long)max);
	*out = v->u.i;
	return 1;
}

/* An integer, or a string holding a number in any C base (for 64-bit
 * values such as policies and feature masks that exceed INT64_MAX). */
static int cfg_u64(struct cfg_ctx *c, const struct toml_table *t, const char *tab,
		   const char *key, uint64_t *out)
{
	const struct toml_value *v = cfg_get(t, key);
	char *end;
	unsigned long long u;

	if (!v)
		return 0;
	if (v->type == TOML_INTEGER) {
		if (v->u.i < 0)
			return cfg_fail(c, v->line, v->col, "key '%s.%s': must not be negative",
					tab, key);
		*out = (uint64_t)v->u.i;
		return 1;
	}
	if (v->type != TOML_STRING)
		return cfg_fail(c, v->line, v->col, "key '%s.%s': expected integer, found %s",
				tab, key, toml_type_name(v->type));
	errno = 0;
	u = strtoull(v->u.s.ptr, &end, 0);
	if (errno || end == v->u.s.ptr || *end || v->u.s.ptr[0] == '-')
		return cfg_fail(c, v->line, v->col, "key '%s.%s': '%s' is not a 64-bit number",
				tab, key, v->u.s.ptr);
	*out = u;
	return 1;
}

/* Byte sizes: an integer count of bytes or a string with a K/M/G/T suffix. */
static int cfg_size(struct cfg_ctx *c, const struct toml_table *t, const char *tab,
		    const char *key, uint64_t *out)
{
	const struct toml_value *v = cfg_get(t, key);

	if (!v)
		return 0;
	if (v->type == TOML_INTEGER) {
		if (v->u.i < 0)
			return cfg_fail(c, v->line, v->col, "key '%s.%s': size must not be negative",
					tab, key);
		*out = (uint64_t)v->u.i;
		return 1;
	}
	if (v->type != TOML_STRING)
		return cfg_fail(c, v->line, v->col,
				"key '%s.%s': expected a size (integer bytes or \"256M\"), found %s",
				tab, key, toml_type_name(v->type));
	if (config_parse_size(v->u.s.ptr, out))
		return cfg_fail(c, v->line, v->col,
				"key '%s.%s': '%s' is not a size (bytes, or a number with K, M, G or T)",
				tab, key, v->u.s.ptr);
	return 1;
}

static int cfg_hex_bytes(struct cfg_ctx *c, const struct toml_table *t, const char *tab,
			 const char *key, uint8_t *out, size_t n)
{
	const char *s;
	const struct toml_value *v;
	int r = cfg_string(c, t, tab, key, &s);

	if (r <= 0)
		return r;
	v = cfg_get(t, key);
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (strlen(s) != 2 * n)
		return cfg_fail(c, v->line, v->col, "key '%s.%s': expected %zu hex digits",
				tab, key, 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned hi, lo;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]))
			return cfg_fail(c, v->line, v->col, "key '%s.%s': not a hex string", tab, key);
		sscanf(s + 2 * i, "%1x%1x", &hi, &lo);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 1;
}

static char *cfg_resolve(const char *dir, const char *path)
{
	char *out;

	if (path[0] == '/' || !dir || !*dir)
		return strdup(path);
	if (asprintf(&out, "%s/%s", dir, path) < 0)
		return NULL;
	return out;
}

/* Resolve a path key; when check_files, it must name a readable regular file.
 * Returns 1 and sets *out when present, 0 when absent, -1 on error. */
static int cfg_path(struct cfg_ctx *c, const struct toml_table *t, const char *tab,
		    const char *key, char **out, uint64_t *size_out)
{
	const char *s;
	const struct toml_value *v;
	struct stat st;
	int r = cfg_string(c, t, tab, key, &s);

	if (r <= 0)
		return r;
	v = cfg_get(t, key);
	if (!*s)
		return cfg_fail(c, v->line, v->col, "key '%s.%s': empty path", tab, key);
	*out = cfg_resolve(c->dir, s);
	if (!*out)
		return cfg_fail(c, v->line, v->col, "key '%s.%s': out of memory", tab, key);
	if (!c->check_files)
		return 1;
	if (stat(*out, &st) < 0)
		return cfg_fail(c, v->line, v->col, "key '%s.%s': %s: %s", tab, key, *out,
				strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cfg_fail(c, v->line, v->col, "key '%s.%s': %s: not a regular file",
				tab, key, *out);
	if (access(*out, R_OK) < 0)
		return cfg_fail(c, v->line, v->col, "key '%s.%s': %s: %s", tab, key, *out,
				strerror(errno));
	if (size_out)
		*size_out = (uint64_t)st.st_size;
	return 1;
}

/* Reject keys a table does not define. @allowed is NULL-terminated. */
static int cfg_only(struct cfg_ctx *c, const struct toml_table *t, const char *tab,
		    const char *const *allowed)
{
	for (size_t i = 0; t && i < t->n; i++) {
		const struct toml_kv *kv = &t->kv[i];
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			if (strlen(*a) == kv->keylen && !memcmp(*a, kv->key, kv->keylen))
				ok = true;
		if (!ok)
			return cfg_fail(c, kv->line, kv->col, "unknown key '%s.%s'", tab, kv->key);
	}
	return 0;
}

static int cfg_table(struct cfg_ctx *c, const struct toml_table *root, const char *name,
		     const struct toml_table **out)
{
	const struct toml_value *v = toml_get(root, name);

	*out = NULL;
	if (!v)
		return 0;
	if (v->type != TOML_TABLE)
		return cfg_fail(c, v->line, v->col, "'%s' must be a table, found %s", name,
				toml_type_name(v->type));
	*out = v->u.tab;
	return 1;
}

/* ---- the schema ---- */

static int cfg_vm(struct cfg_ctx *c, const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = { "name", "memory", "vcpus", "irqchip", NULL };
	const char *name = NULL, *irqchip = NULL;
	int64_t vcpus;
	int r;

	if (cfg_only(c, t, "vm", keys))
		return -1;
	if (cfg_string(c, t, "vm", "name", &name) < 0)
		return -1;
	cfg->name = strdup(name ? name : "fukivmm");
	r = cfg_size(c, t, "vm", "memory", &cfg->memory);
	if (r < 0)
		return -1;
	if (r > 0) {
		const struct toml_value *v = toml_get(t, "memory");

		if (cfg->memory % 4096)
			return cfg_fail(c, v->line, v->col,
					"key 'vm.memory': %llu bytes is not a multiple of 4 KiB",
					(unsigned long long)cfg->memory);
		if (cfg->memory < CFG_MIN_MEMORY)
			return cfg_fail(c, v->line, v->col,
					"key 'vm.memory': %llu bytes is too small for the memory layout (minimum %llu)",
					(unsigned long long)cfg->memory,
					(unsigned long long)CFG_MIN_MEMORY);
		if (cfg->memory > CFG_MAX_MEMORY)
			return cfg_fail(c, v->line, v->col,
					"key 'vm.memory': %llu bytes is more than the maximum %llu",
					(unsigned long long)cfg->memory,
					(unsigned long long)CFG_MAX_MEMORY);
	}
	r = cfg_int(c, t, "vm", "vcpus", 1, CFG_MAX_VCPUS, &vcpus);
	if (r < 0)
		return -1;
	if (r > 0)
		cfg->vcpus = (unsigned)vcpus;
	if (cfg_string(c, t, "vm", "irqchip", &irqchip) < 0)
		return -1;
	if (!irqchip || !strcmp(irqchip, "kernel")) {
		cfg->irqchip = IRQCHIP_KERNEL;
	} else if (!strcmp(irqchip, "split")) {
		cfg->irqchip = IRQCHIP_SPLIT;
	} else {
		const struct toml_value *v = toml_get(t, "irqchip");

		return cfg_fail(c, v->line, v->col,
				"key 'vm.irqchip': '%s' is not \"kernel\" or \"split\"", irqchip);
	}
	return 0;
}

static int cfg_firmware(struct cfg_ctx *c, const struct toml_table *root,
			const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = { "path", "code", "vars", NULL };
	const char *key;
	uint64_t size = 0, vsize = 0;
	int r;

	if (!t)
		return cfg_fail(c, root->line ? root->line : 1, 1,
				"missing table [firmware] (key 'firmware.path' is required)");
	key = toml_get(t, "code") ? "code" : "path";
	if (cfg_only(c, t, "firmware", keys))
		return -1;
	if (toml_get(t, "path") && toml_get(t, "code")) {
		const struct toml_value *v = toml_get(t, "code");

		return cfg_fail(c, v->line, v->col,
				"key 'firmware.code': give either 'path' (one image) or 'code' (with 'vars'), not both");
	}
	r = cfg_path(c, t, "firmware", key, &cfg->firmware_path, &size);
	if (r < 0)
		return -1;
	if (r == 0)
		return cfg_fail(c, t->line, t->col,
				"key 'firmware.path' is required (or 'code', with 'vars' for a variable store)");
	r = cfg_path(c, t, "firmware", "vars", &cfg->firmware_vars_path, &vsize);
	if (r < 0)
		return -1;
	if (r > 0 && strcmp(key, "code")) {
		const struct toml_value *v = toml_get(t, "vars");

		return cfg_fail(c, v->line, v->col,
				"key 'firmware.vars': goes with 'code' (the read-only image), not 'path'");
	}
	if (r > 0 && c->check_files) {
		const struct toml_value *v = toml_get(t, "vars");

		if (access(cfg->firmware_vars_path, W_OK) < 0)
			return cfg_fail(c, v->line, v->col, "key 'firmware.vars': %s: %s",
					cfg->firmware_vars_path, strerror(errno));
		if (vsize == 0 || vsize % 4096)
			return cfg_fail(c, v->line, v->col,
					"key 'firmware.vars': %s: size %llu is not a non-zero multiple of 4 KiB",
					cfg->firmware_vars_path, (unsigned long long)vsize);
		if (size > CFG_FW_MAX || vsize > CFG_FW_MAX - size)
			return cfg_fail(c, v->line, v->col,
					"key 'firmware.vars': code and vars together are larger than 16 MiB");
	}
	if (c->check_files) {
		const struct toml_value *v = toml_get(t, key);
		uint8_t magic[4] = { 0 };
		bool igvm = false;
		int fd = open(cfg->firmware_path, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			igvm = read(fd, magic, 4) == 4 && igvm_has_magic(magic, 4);
			close(fd);
		}
		/* an IGVM file has any size; a raw image is whole pages */
		if (size == 0 || (!igvm && size % 4096))
			return cfg_fail(c, v->line, v->col,
					"key 'firmware.%s': %s: size %llu is not a non-zero multiple of 4 KiB",
					key, cfg->firmware_path, (unsigned long long)size);
		if (size > CFG_FW_MAX)
			return cfg_fail(c, v->line, v->col,
					"key 'firmware.%s': %s: size %llu is larger than 16 MiB",
					key, cfg->firmware_path, (unsigned long long)size);
	}
	return 0;
}

static int cfg_serial(struct cfg_ctx *c, const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = { "output", "max_size", NULL };
	const char *out = NULL;
	const struct toml_value *v;
	int r;

	if (cfg_only(c, t, "serial", keys))
		return -1;
	r = cfg_string(c, t, "serial", "output", &out);
	if (r < 0)
		return -1;
	if (r > 0) {
		v = toml_get(t, "output");
		if (!strcmp(out, "stdout")) {
			cfg->serial = SERIAL_STDOUT;
		} else if (!strcmp(out, "none")) {
			cfg->serial = SERIAL_NONE;
		} else if (!strncmp(out, "file:", 5) && out[5]) {
			cfg->serial = SERIAL_FILE;
			cfg->serial_path = cfg_resolve(c->dir, out + 5);
			if (!cfg->serial_path)
				return cfg_fail(c, v->line, v->col, "key 'serial.output': out of memory");
		} else {
			return cfg_fail(c, v->line, v->col,
					"key 'serial.output': '%s' is not \"stdout\", \"none\" or \"file:PATH\"",
					out);
		}
	}
	r = cfg_size(c, t, "serial", "max_size", &cfg->serial_max_size);
	if (r < 0)
		return -1;
	if (r > 0) {
		v = toml_get(t, "max_size");
		if (cfg->serial != SERIAL_FILE)
			return cfg_fail(c, v->line, v->col,
					"key 'serial.max_size': only with output = \"file:PATH\"");
		if (cfg->serial_max_size == 0)
			return cfg_fail(c, v->line, v->col,
					"key 'serial.max_size': must be at least 1 byte (leave it out for no limit)");
	}
	return 0;
}

static int cfg_debug_exit(struct cfg_ctx *c, const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = { "port", NULL };
	int64_t port;
	int r;

	if (cfg_only(c, t, "debug_exit", keys))
		return -1;
	r = cfg_int(c, t, "debug_exit", "port", 0, 0xfffc, &port);
	if (r < 0)
		return -1;
	if (r == 0)
		return cfg_fail(c, t->line, t->col, "key 'debug_exit.port' is required");
	cfg->debug_exit = true;
	cfg->debug_exit_port = (uint16_t)port;
	return 0;
}

static int cfg_log(struct cfg_ctx *c, const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = { "file", "reset_rate", NULL };
	const char *f = NULL;
	int64_t rate;
	int r;

	if (cfg_only(c, t, "log", keys))
		return -1;
	if (cfg_string(c, t, "log", "file", &f) < 0)
		return -1;
	if (f)
		cfg->log_path = cfg_resolve(c->dir, f);
	r = cfg_int(c, t, "log", "reset_rate", 0, 1000000, &rate);
	if (r < 0)
		return -1;
	if (r > 0)
		cfg->log_reset_rate = (uint32_t)rate;
	return 0;
}

static int cfg_doorbell(struct cfg_ctx *c, const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = { "enabled", "max_image_size", "max_opaque_size",
					    "min_reset_interval", NULL };
	const char *iv = NULL;
	int r;

	if (cfg_only(c, t, "doorbell", keys))
		return -1;
	if (cfg_bool(c, t, "doorbell", "enabled", &cfg->doorbell.enabled) < 0 ||
	    cfg_size(c, t, "doorbell", "max_image_size", &cfg->doorbell.max_image_size) < 0 ||
	    cfg_size(c, t, "doorbell", "max_opaque_size", &cfg->doorbell.max_opaque_size) < 0)
		return -1;
	if (cfg->doorbell.max_image_size > CFG_FW_MAX || cfg->doorbell.max_image_size % 4096) {
		const struct toml_value *v = toml_get(t, "max_image_size");

		return cfg_fail(c, v->line, v->col,
				"key 'doorbell.max_image_size': must be a multiple of 4 KiB and at most 16 MiB");
	}
	if (cfg->doorbell.max_opaque_size > (1ULL << 20)) {
		const struct toml_value *v = toml_get(t, "max_opaque_size");

		return cfg_fail(c, v->line, v->col,
				"key 'doorbell.max_opaque_size': at most 1 MiB");
	}
	r = cfg_string(c, t, "doorbell", "min_reset_interval", &iv);
	if (r < 0)
		return -1;
	if (r > 0 && config_parse_duration(iv, &cfg->doorbell.min_reset_interval_ns)) {
		const struct toml_value *v = toml_get(t, "min_reset_interval");

		return cfg_fail(c, v->line, v->col,
				"key 'doorbell.min_reset_interval': '%s' is not a duration (e.g. \"1s\", \"500ms\")",
				iv);
	}
	return 0;
}

static int cfg_confidential(struct cfg_ctx *c, const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = {
		"type", "vcpu_type", "vcpu_family", "vcpu_model", "vcpu_stepping", "vmm_type",
		"guest_features", "policy", "host_data", "id_block", "id_auth",
		"attributes", "xfam", "mrconfigid", "mrowner", "mrownerconfig", "mrtd_order",
		"quote_socket", "snp_certs", NULL };
	struct cfg_confidential *cc = &cfg->cc;
	const char *s = NULL;
	const struct toml_value *v;
	int64_t fam = -1, model = -1, step = -1;
	int r;

	if (cfg_only(c, t, "confidential", keys))
		return -1;
	if (cfg_string(c, t, "confidential", "type", &s) < 0)
		return -1;
	v = toml_get(t, "type");
	if (!s || !strcmp(s, "none")) {
		cc->type = CC_NONE;
	} else if (!strcmp(s, "sev-snp")) {
		cc->type = CC_SNP;
	} else if (!strcmp(s, "tdx")) {
		cc->type = CC_TDX;
	} else {
		return cfg_fail(c, v->line, v->col,
				"key 'confidential.type': '%s' is not \"none\", \"sev-snp\" or \"tdx\"", s);
	}

	s = NULL;
	if (cfg_string(c, t, "confidential", "vcpu_type", &s) < 0)
		return -1;
	if (s)
		cc->vcpu_type = strdup(s);
	if (cfg_int(c, t, "confidential", "vcpu_family", 0, 0xff + 0xf, &fam) < 0 ||
	    cfg_int(c, t, "confidential", "vcpu_model", 0, 0xff, &model) < 0 ||
	    cfg_int(c, t, "confidential", "vcpu_stepping", 0, 0xf, &step) < 0)
		return -1;
	if (fam >= 0 || model >= 0 || step >= 0) {
		if (fam < 0 || model < 0 || step < 0 || s)
			return cfg_fail(c, t->line, t->col,
					"table 'confidential': give vcpu_type, or all of vcpu_family, vcpu_model and vcpu_stepping");
		/* CPUID(1).EAX: AMD APM vol. 3, CPUID Fn0000_0001_EAX */
		uint32_t famlo = fam > 0xf ? 0xf : (uint32_t)fam;
		uint32_t famhi = fam > 0xf ? (uint32_t)fam - 0xf : 0;

		cc->vcpu_sig = famhi << 20 | ((uint32_t)model >> 4) << 16 | famlo << 8 |
			       ((uint32_t)model & 0xf) << 4 | (uint32_t)step;
		cc->vcpu_sig_set = true;
	}

	s = NULL;
	if (cfg_string(c, t, "confidential", "vmm_type", &s) < 0)
		return -1;
	if (s) {
		v = toml_get(t, "vmm_type");
		if (!strcmp(s, "qemu"))
			cc->vmm_type = SNP_VMM_QEMU;
		else if (!strcmp(s, "ec2"))
			cc->vmm_type = SNP_VMM_EC2;
		else if (!strcmp(s, "gce"))
			cc->vmm_type = SNP_VMM_GCE;
		else
			return cfg_fail(c, v->line, v->col,
					"key 'confidential.vmm_type': '%s' is not \"qemu\", \"ec2\" or \"gce\"", s);
	}
	if (cfg_u64(c, t, "confidential", "guest_features", &cc->guest_features) < 0 ||
	    cfg_u64(c, t, "confidential", "policy", &cc->policy) < 0 ||
	    cfg_hex_bytes(c, t, "confidential", "host_data", cc->host_data, 32) < 0 ||
	    cfg_path(c, t, "confidential", "id_block", &cc->id_block_path, NULL) < 0 ||
	    cfg_path(c, t, "confidential", "id_auth", &cc->id_auth_path, NULL) < 0 ||
	    cfg_u64(c, t, "confidential", "attributes", &cc->tdx_attributes) < 0 ||
	    cfg_u64(c, t, "confidential", "xfam", &cc->tdx_xfam) < 0 ||
	    cfg_hex_bytes(c, t, "confidential", "mrconfigid", cc->mrconfigid, 48) < 0 ||
	    cfg_hex_bytes(c, t, "confidential", "mrowner", cc->mrowner, 48) < 0 ||
	    cfg_hex_bytes(c, t, "confidential", "mrownerconfig", cc->mrownerconfig, 48) < 0)
		return -1;
	s = NULL;
	if (cfg_string(c, t, "confidential", "quote_socket", &s) < 0)
		return -1;
	if (s)
		cc->quote_socket = cfg_resolve(c->dir, s);
	if (cfg_path(c, t, "confidential", "snp_certs", &cc->snp_certs, NULL) < 0)
		return -1;
	if (!(cc->policy & (1ULL << 17)) && toml_get(t, "policy")) {
		v = toml_get(t, "policy");
		return cfg_fail(c, v->line, v->col,
				"key 'confidential.policy': bit 17 (reserved, must be one) is clear");
	}
	if (!!cc->id_block_path != !!cc->id_auth_path)
		return cfg_fail(c, t->line, t->col,
				"table 'confidential': id_block and id_auth go together");
	s = NULL;
	r = cfg_string(c, t, "confidential", "mrtd_order", &s);
	if (r < 0)
		return -1;
	if (r > 0) {
		v = toml_get(t, "mrtd_order");
		if (!strcmp(s, "single"))
			cc->tdx_two_pass = false;
		else if (!strcmp(s, "two-pass"))
			cc->tdx_two_pass = true;
		else
			return cfg_fail(c, v->line, v->col,
					"key 'confidential.mrtd_order': '%s' is not \"single\" or \"two-pass\"", s);
	}
	return 0;
}

static int cfg_kernel(struct cfg_ctx *c, const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = { "path", "initrd", "cmdline", "boot_rom", NULL };
	const char *s = NULL, *rom = NULL;
	int r;

	if (cfg_only(c, t, "kernel", keys))
		return -1;
	r = cfg_string(c, t, "kernel", "boot_rom", &rom);
	if (r < 0 || (r > 0 && *rom && cfg_path(c, t, "kernel", "boot_rom", &cfg->boot_rom_path, NULL) < 0))
		return -1;
	if (cfg_path(c, t, "kernel", "path", &cfg->kernel_path, NULL) < 0 ||
	    cfg_path(c, t, "kernel", "initrd", &cfg->initrd_path, NULL) < 0 ||
	    cfg_string(c, t, "kernel", "cmdline", &s) < 0)
		return -1;
	if (s)
		cfg->cmdline = strdup(s);
	if (!cfg->kernel_path && (cfg->initrd_path || cfg->cmdline || cfg->boot_rom_path))
		return cfg_fail(c, t->line, t->col,
				"table 'kernel': initrd, cmdline and boot_rom need key 'kernel.path'");
	/* SeaBIOS boots a [kernel] only through QEMU's linuxboot option ROM:
	 * take Debian's (package qemu-system-data) unless boot_rom says "" */
	if (cfg->kernel_path && r == 0 && c->check_files && !access(CFG_DEFAULT_BOOT_ROM, R_OK))
		cfg->boot_rom_path = strdup(CFG_DEFAULT_BOOT_ROM);
	return 0;
}

static int cfg_smbios(struct cfg_ctx *c, const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = {
		"bios_vendor", "bios_version", "bios_date", "bios_release",
		"manufacturer", "product", "version", "serial", "uuid", "sku", "family",
		"board_manufacturer", "board_product", "board_version", "board_serial", "board_asset",
		"chassis_manufacturer", "chassis_version", "chassis_serial", "chassis_asset",
		"chassis_type", NULL };
	struct smbios_ids *sm = &cfg->smbios;
	struct { const char *key; char **dst; } strs[] = {
		{ "bios_vendor", &sm->bios_vendor }, { "bios_version", &sm->bios_version },
		{ "bios_date", &sm->bios_date }, { "manufacturer", &sm->manufacturer },
		{ "product", &sm->product }, { "version", &sm->version },
		{ "serial", &sm->serial }, { "sku", &sm->sku }, { "family", &sm->family },
		{ "board_manufacturer", &sm->board_manufacturer },
		{ "board_product", &sm->board_product }, { "board_version", &sm->board_version },
		{ "board_serial", &sm->board_serial }, { "board_asset", &sm->board_asset },
		{ "chassis_manufacturer", &sm->chassis_manufacturer },
		{ "chassis_version", &sm->chassis_version },
		{ "chassis_serial", &sm->chassis_serial }, { "chassis_asset", &sm->chassis_asset },
	};
	const char *s;
	int64_t ct;
	int r;

	if (cfg_only(c, t, "smbios", keys))
		return -1;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		s = NULL;
		r = cfg_string(c, t, "smbios", strs[i].key, &s);
		if (r < 0)
			return -1;
		if (r > 0) {
			const struct toml_value *v = toml_get(t, strs[i].key);

			/* SMBIOS strings are at most 64 bytes in practice; keep them sane */
			if (strlen(s) > 255)
				return cfg_fail(c, v->line, v->col,
						"key 'smbios.%s': longer than 255 bytes", strs[i].key);
			free(*strs[i].dst);
			*strs[i].dst = strdup(s);
		}
	}
	s = NULL;
	r = cfg_string(c, t, "smbios", "bios_release", &s);
	if (r < 0)
		return -1;
	if (r > 0) {
		const struct toml_value *v = toml_get(t, "bios_release");
		unsigned maj, min;
		char tail;

		if (sscanf(s, "%u.%u%c", &maj, &min, &tail) != 2 || maj > 255 || min > 255)
			return cfg_fail(c, v->line, v->col,
					"key 'smbios.bios_release': '%s' is not \"MAJOR.MINOR\" (0-255 each)", s);
		sm->bios_major = (uint8_t)maj;
		sm->bios_minor = (uint8_t)min;
	}
	s = NULL;
	r = cfg_string(c, t, "smbios", "uuid", &s);
	if (r < 0)
		return -1;
	if (r > 0) {
		const struct toml_value *v = toml_get(t, "uuid");
		unsigned n = 0;

		for (const char *p = s; *p; p++) {
			unsigned hi, lo;

			if (*p == '-' && (p - s == 8 || p - s == 13 || p - s == 18 || p - s == 23))
				continue;
			if (n == 16 || !isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
				return cfg_fail(c, v->line, v->col,
						"key 'smbios.uuid': '%s' is not a UUID", s);
			sscanf(p, "%1x%1x", &hi, &lo);
			sm->uuid[n++] = (uint8_t)(hi << 4 | lo);
			p++;
		}
		if (n != 16 || strlen(s) != 36)
			return cfg_fail(c, v->line, v->col, "key 'smbios.uuid': '%s' is not a UUID", s);
		sm->uuid_set = true;
	}
	r = cfg_int(c, t, "smbios", "chassis_type", 1, 0x7f, &ct);
	if (r < 0)
		return -1;
	if (r > 0)
		sm->chassis_type = (uint8_t)ct;
	return 0;
}

static int cfg_api(struct cfg_ctx *c, const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = { "socket", "allowed_uids", NULL };
	const struct toml_value *v;
	const char *s = NULL;

	if (cfg_only(c, t, "api", keys))
		return -1;
	if (cfg_string(c, t, "api", "socket", &s) < 0)
		return -1;
	if (s) {
		v = toml_get(t, "socket");
		if (!*s)
			return cfg_fail(c, v->line, v->col, "key 'api.socket': empty path");
		cfg->api.socket = cfg_resolve(c->dir, s);
		if (strlen(cfg->api.socket) >= 108)
			return cfg_fail(c, v->line, v->col,
					"key 'api.socket': path longer than a Unix socket address allows (107 bytes)");
	}
	v = t ? toml_get(t, "allowed_uids") : NULL;
	if (v) {
		if (v->type != TOML_ARRAY)
			return cfg_fail(c, v->line, v->col,
					"key 'api.allowed_uids': expected array, found %s",
					toml_type_name(v->type));
		if (v->u.arr.n > CFG_MAX_API_UIDS)
			return cfg_fail(c, v->line, v->col,
					"key 'api.allowed_uids': at most %d uids", CFG_MAX_API_UIDS);
		for (size_t i = 0; i < v->u.arr.n; i++) {
			const struct toml_value *e = v->u.arr.items[i];

			if (e->type != TOML_INTEGER || e->u.i < 0 || e->u.i > 0xfffffffeLL)
				return cfg_fail(c, e->line, e->col,
						"key 'api.allowed_uids': each entry must be a uid (0 to 4294967294)");
			cfg->api.uids[cfg->api.nuids++] = (uint32_t)e->u.i;
		}
	}
	return 0;
}

/* One [[disk]] table: path (required), readonly (default false).  With
 * check_files the path must be a regular file or block device, accessible
 * for reading (and writing unless read-only); a regular file's size must
 * be a nonzero multiple of 512 bytes (virtio-blk capacity is in sectors). */
static int cfg_disk_one(struct cfg_ctx *c, const struct toml_value *tv, unsigned idx,
			struct cfg_disk *d)
{
	static const char *const keys[] = { "path", "readonly", "bootindex", NULL };
	const struct toml_table *t;
	const struct toml_value *v;
	const char *s = NULL;
	int64_t bootindex = -1;
	struct stat st;
	char tab[16];
	int r;

	snprintf(tab, sizeof(tab), "disk[%u]", idx);
	if (tv->type != TOML_TABLE)
		return cfg_fail(c, tv->line, tv->col, "'disk' must be an array of tables ([[disk]]), found %s",
				toml_type_name(tv->type));
	t = tv->u.tab;
	if (cfg_only(c, t, tab, keys))
		return -1;
	r = cfg_string(c, t, tab, "path", &s);
	if (r < 0)
		return -1;
	if (r == 0)
		return cfg_fail(c, t->line, t->col, "table '%s': key 'path' is required", tab);
	v = toml_get(t, "path");
	if (!*s)
		return cfg_fail(c, v->line, v->col, "key '%s.path': empty path", tab);
	if (cfg_bool(c, t, tab, "readonly", &d->readonly) < 0)
		return -1;
	if (cfg_int(c, t, tab, "bootindex", 0, 0xffff, &bootindex) < 0)
		return -1;
	d->bootindex = (int)bootindex;
	d->path = cfg_resolve(c->dir, s);
	if (!d->path)
		return cfg_fail(c, v->line, v->col, "key '%s.path': out of memory", tab);
	if (!c->check_files)
		return 0;
	if (stat(d->path, &st) < 0)
		return cfg_fail(c, v->line, v->col, "key '%s.path': %s: %s", tab, d->path,
				strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return cfg_fail(c, v->line, v->col, "key '%s.path': %s: not a regular file or block device",
				tab, d->path);
	if (access(d->path, d->readonly ? R_OK : R_OK | W_OK) < 0)
		return cfg_fail(c, v->line, v->col, "key '%s.path': %s: %s%s", tab, d->path,
				strerror(errno), d->readonly ? "" : " (set readonly = true for a read-only disk)");
	if (S_ISREG(st.st_mode) && (st.st_size == 0 || st.st_size % 512))
		return cfg_fail(c, v->line, v->col,
				"key '%s.path': %s: size %lld is not a nonzero multiple of 512 bytes",
				tab, d->path, (long long)st.st_size);
	return 0;
}

static int cfg_disks(struct cfg_ctx *c, const struct toml_table *root, struct vm_config *cfg)
{
	const struct toml_value *v = toml_get(root, "disk");

	if (!v)
		return 0;
	if (v->type != TOML_ARRAY)
		return cfg_fail(c, v->line, v->col, "'disk' must be an array of tables ([[disk]]), found %s",
				toml_type_name(v->type));
	if (v->u.arr.n > CFG_MAX_DISKS)
		return cfg_fail(c, v->line, v->col, "at most %d [[disk]] tables", CFG_MAX_DISKS);
	for (size_t i = 0; i < v->u.arr.n; i++) {
		if (cfg_disk_one(c, v->u.arr.items[i], (unsigned)i, &cfg->disks[i]) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (cfg->disks[i].bootindex >= 0 &&
			    cfg->disks[j].bootindex == cfg->disks[i].bootindex) {
				const struct toml_value *b =
					toml_get(v->u.arr.items[i]->u.tab, "bootindex");

				return cfg_fail(c, b->line, b->col,
						"key 'disk[%zu].bootindex': %d is already disk[%zu]'s",
						i, cfg->disks[i].bootindex, j);
			}
		cfg->ndisks = (unsigned)i + 1;
	}
	return 0;
}

static int cfg_uki(struct cfg_ctx *c, const struct toml_table *t, struct vm_config *cfg)
{
	static const char *const keys[] = { "path", NULL };

	if (cfg_only(c, t, "uki", keys))
		return -1;
	return cfg_path(c, t, "uki", "path", &cfg->uki_path, NULL) < 0 ? -1 : 0;
}

static void cfg_smbios_defaults(struct smbios_ids *sm)
{
	/* Fixed, documented defaults: the guest's CHIDs must not change
	 * between hosts or releases unless the config says so. */
	sm->bios_vendor = strdup("fukivmm");
	sm->bios_version = strdup("1.0");
	sm->bios_date = strdup("01/01/2026");
	sm->bios_major = 0;
	sm->bios_minor = 1;
	sm->manufacturer = strdup("fukivmm");
	sm->product = strdup("fukivmm virtual machine");
	sm->version = strdup("1.0");
	sm->family = strdup("fukivmm");
	sm->board_manufacturer = strdup("fukivmm");
	sm->board_product = strdup("fukivmm virtual machine");
	sm->chassis_manufacturer = strdup("fukivmm");
	sm->chassis_type = 1;
}

static void cfg_smbios_free(struct smbios_ids *sm)
{
	char **all[] = { &sm->bios_vendor, &sm->bios_version, &sm->bios_date, &sm->manufacturer,
			 &sm->product, &sm->version, &sm->serial, &sm->sku, &sm->family,
			 &sm->board_manufacturer, &sm->board_product, &sm->board_version,
			 &sm->board_serial, &sm->board_asset, &sm->chassis_manufacturer,
			 &sm->chassis_version, &sm->chassis_serial, &sm->chassis_asset };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		free(*all[i]);
		*all[i] = NULL;
	}
}

static void config_defaults(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory = 256ULL << 20;
	cfg->vcpus = 1;
	cfg->serial = SERIAL_STDOUT;
	cfg->doorbell.enabled = true;
	cfg->log_reset_rate = CFG_LOG_RESET_RATE_DEFAULT;
	cfg->doorbell.max_image_size = 16ULL << 20;
	cfg->doorbell.max_opaque_size = 4096;
	cfg->doorbell.min_reset_interval_ns = 1000000000ULL;
	cfg->cc.guest_features = 0x1;
	cfg->cc.policy = 0x30000;
	cfg->cc.vmm_type = SNP_VMM_QEMU;
	cfg->cc.tdx_attributes = 1ULL << 28;   /* SEPT_VE_DISABLE, QEMU's default */
	cfg->cc.tdx_xfam = 0x3;                /* x87 | SSE: the architectural minimum */
	cfg_smbios_defaults(&cfg->smbios);
}

int config_parse(const char *src, size_t len, const char *name, const char *dir,
		 bool check_files, struct vm_config *cfg, char *err, size_t errlen)
{
	static const char *const tables[] = { "vm", "firmware", "serial", "debug_exit", "log",
					      "doorbell", "confidential", "kernel", "smbios", "api", "uki", "disk",
					      NULL };
	struct cfg_ctx c = { .name = name, .dir = dir, .check_files = check_files,
			     .err = err, .errlen = errlen };
	const struct toml_table *root, *t;
	int ret = -1;

	config_defaults(cfg);
	if (errlen)
		err[0] = '\0';
	root = toml_parse(src, len, name, err, errlen);
	if (!root) {
		/* the defaults hold allocated strings too */
		config_free(cfg);
		return -1;
	}
	/* top level: only known tables */
	for (size_t i = 0; i < root->n; i++) {
		const struct toml_kv *kv = &root->kv[i];
		bool known = false;

		for (const char *const *tn = tables; *tn; tn++)
			if (strlen(*tn) == kv->keylen && !memcmp(*tn, kv->key, kv->keylen))
				known = true;
		if (!known) {
			cfg_fail(&c, kv->line, kv->col,
				 kv->val->type == TOML_TABLE ? "unknown table '%s'" : "unknown key '%s'",
				 kv->key);
			goto out;
		}
	}
	if (cfg_table(&c, root, "vm", &t) < 0 || cfg_vm(&c, t, cfg) < 0)
		goto out;
	if (cfg_table(&c, root, "firmware", &t) < 0 || cfg_firmware(&c, root, t, cfg) < 0)
		goto out;
	if (cfg_table(&c, root, "serial", &t) < 0 || cfg_serial(&c, t, cfg) < 0)
		goto out;
	if (cfg_table(&c, root, "debug_exit", &t) < 0 || (t && cfg_debug_exit(&c, t, cfg) < 0))
		goto out;
	if (cfg_table(&c, root, "log", &t) < 0 || cfg_log(&c, t, cfg) < 0)
		goto out;
	if (cfg_table(&c, root, "doorbell", &t) < 0 || cfg_doorbell(&c, t, cfg) < 0)
		goto out;
	if (cfg_table(&c, root, "confidential", &t) < 0 || cfg_confidential(&c, t, cfg) < 0)
		goto out;
	if (cfg->firmware_vars_path && cfg->cc.type != CC_NONE) {
		const struct toml_value *v = NULL;

		if (cfg_table(&c, root, "firmware", &t) > 0 && t)
			v = toml_get(t, "vars");
		cfg_fail(&c, v ? v->line : 1, v ? v->col : 1,
			 "key 'firmware.vars': a confidential guest has no flash variable store "
			 "(SEV-SNP and TDX launch one measured image, whose variables live in memory)");
		goto out;
	}
	if (cfg_table(&c, root, "kernel", &t) < 0 || cfg_kernel(&c, t, cfg) < 0)
		goto out;
	if (cfg_table(&c, root, "smbios", &t) < 0 || cfg_smbios(&c, t, cfg) < 0)
		goto out;
	if (cfg_table(&c, root, "api", &t) < 0 || cfg_api(&c, t, cfg) < 0)
		goto out;
	if (cfg_table(&c, root, "uki", &t) < 0 || cfg_uki(&c, t, cfg) < 0)
		goto out;
	if (cfg_disks(&c, root, cfg) < 0)
		goto out;
	ret = 0;
out:
	toml_free((struct toml_table *)root);
	if (ret)
		config_free(cfg);
	return ret;
}

int config_load(const char *path, struct vm_config *cfg, char *err, size_t errlen)
{
	char *buf = NULL, *dir, *slash;
	size_t len = 0, cap = 0;
	int fd, ret;
	ssize_t n;

	memset(cfg, 0, sizeof(*cfg));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			char *nb;

			if (cap >= (1u << 20)) {
				snprintf(err, errlen, "%s: larger than 1 MiB", path);
				free(buf);
				close(fd);
				return -1;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				close(fd);
				snprintf(err, errlen, "%s: out of memory", path);
				return -1;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	dir = strdup(path);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (slash)
		*slash = '\0';
	else if (dir)
		strcpy(dir, ".");
	ret = config_parse(buf ? buf : "", len, path, dir, true, cfg, err, errlen);
	free(buf);
	if (ret) {
		free(dir);
		return ret;
	}
	cfg->path = strdup(path);
	cfg->dir = dir;
	return 0;
}

void config_free(struct vm_config *cfg)
{
	free(cfg->path);
	free(cfg->dir);
	free(cfg->name);
	free(cfg->firmware_path);
	free(cfg->firmware_vars_path);
	free(cfg->serial_path);
	free(cfg->log_path);
	free(cfg->cc.vcpu_type);
	free(cfg->cc.id_block_path);
	free(cfg->cc.id_auth_path);
	free(cfg->cc.quote_socket);
	free(cfg->cc.snp_certs);
	free(cfg->kernel_path);
	free(cfg->initrd_path);
	free(cfg->boot_rom_path);
	free(cfg->cmdline);
	cfg_smbios_free(&cfg->smbios);
	free(cfg->api.socket);
	free(cfg->uki_path);
	for (unsigned i = 0; i < CFG_MAX_DISKS; i++)
		free(cfg->disks[i].path);
	memset(cfg, 0, sizeof(*cfg));
}
