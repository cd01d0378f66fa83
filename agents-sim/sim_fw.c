/*
 * sim_fw.c — firmware image naming from a download URL, and the seeded
 * choice of agents for each firmware fault (see sim_fw.h). Pure functions.
 */
#include "sim_fw.h"

#include <string.h>

#include "sim_dm.h"

/* The last path segment of url: *start and its length. */
static size_t last_segment(const char *url, const char **start)
{
	size_t n = url ? strcspn(url, "?#") : 0;
	const char *s = url ? url : "";
	const char *auth = n ? strstr(s, "://") : NULL;
	if (auth && (size_t)(auth - s) < n && memchr(s, '/', (size_t)(auth - s)) == NULL) {
		/* scheme://authority[/path]: the authority is no path segment */
		const char *path = auth + 3;
		const char *slash = memchr(path, '/', n - (size_t)(path - s));
		n = slash ? n - (size_t)(slash - s) : 0;
		s = slash ? slash : s;
	}
	while (n && s[n - 1] == '/')
		n--;
	size_t b = n;
	while (b && s[b - 1] != '/')
		b--;
	*start = s + b;
	return n - b;
}

static size_t put(const char *src, size_t len, char *out, size_t cap)
{
	if (cap) {
		size_t k = len < cap - 1 ? len : cap - 1;
		memcpy(out, src, k);
		out[k] = '\0';
	}
	return len;
}

size_t sim_fw_name_from_url(const char *url, char *name, size_t cap)
{
	const char *seg;
	size_t len = last_segment(url, &seg);
	return put(seg, len, name, cap);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_sep(char c)
{
	return c == '-' || c == '_';
}

size_t sim_fw_version_from_url(const char *url, char *ver, size_t cap)
{
	const char *seg;
	size_t len = last_segment(url, &seg);
	/* one trailing extension that is not all digits */
	for (size_t d = len; d > 1; d--) {
		if (seg[d - 1] != '.')
			continue;
		int digits = 1;
		for (size_t k = d; k < len; k++)
			digits &= is_digit(seg[k]);
		if (d < len && !digits)
			len = d - 1;
		break;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(seg[i]))
			continue;
		int ok = i == 0 || is_sep(seg[i - 1]);
		if (!ok && i >= 1 && (seg[i - 1] == 'v' || seg[i - 1] == 'V'))
			ok = i == 1 || is_sep(seg[i - 2]);
		if (ok)
			return put(seg + i, len - i, ver, cap);
	}
	return put(seg, len, ver, cap);
}

const char *sim_fw_fault_name(enum sim_fw_fault f)
{
	static const char *const names[SIM_FWF_COUNT] = {
		[SIM_FWF_DOWNLOAD_FAIL] = "download-fail",
		[SIM_FWF_ACTIVATE_FAIL] = "activate-fail",
		[SIM_FWF_BOOT_FAIL] = "boot-fail",
		[SIM_FWF_NO_RETURN] = "no-return",
		[SIM_FWF_WRONG_VERSION] = "wrong-version",
		[SIM_FWF_LOSE_BOOT] = "lose-boot",
		[SIM_FWF_SINGLE_BANK] = "single-bank",
		[SIM_FWF_NO_ACTIVATE] = "no-activate",
	};
	return (unsigned)f < SIM_FWF_COUNT ? names[f] : "?";
}

int sim_fw_fault_chosen(uint64_t seed, uint32_t index, enum sim_fw_fault f, double fraction)
{
	if (!(fraction > 0))
		return 0;
	if (fraction >= 1)
		return 1;
	/* 0xF1F1 is the download failures' salt since before the others existed */
	uint64_t h = sim_dm_hash(seed, index, 0xF1F1 + (uint64_t)f * 0x1000, 0);
	return (double)(h >> 11) / 9007199254740992.0 < fraction;
}
