/*
 * usp_path.c — the USP path parser (syntax in usp_path.h), condition
 * matching and the instance-path -> supported-DM-path transform.
 *
 * Owns: the grammar, its error codes/messages, and the memory layout of a
 * parsed struct usp_path. Pure: no I/O, no globals besides constant tables;
 * any thread may call it.
 *
 * How it works: one left-to-right pass over the text (no recursion, no
 * backtracking) records segments and conditions as offsets into a bounded
 * scratch struct on the stack (quoted values are decoded into its own
 * buffer, never longer than the input). Only when the whole text is valid
 * is ONE block allocated: segs[], then every cond[], then the strings.
 * usp_path_fini frees that block, so a failed parse allocates nothing and
 * the only allocation failure point is that single calloc.
 */
#include "usp_path.h"

#include <stdlib.h>
#include <string.h>

/* A cond needs at least 4 bytes ("a==1"), so this bounds the whole path. */
#define SCAN_MAX_CONDS (USP_PATH_MAX_LEN / 4)

struct scan_seg {
	enum usp_seg_kind kind;
	uint16_t off, len; /* name bytes in text (USP_SEG_NAME) */
	uint32_t instance;
	uint16_t cond0, ncond; /* range in scan.conds (USP_SEG_EXPR) */
};

struct scan_cond {
	uint16_t poff, plen; /* relative param path in text */
	enum usp_cmp_op op;
	uint16_t voff, vlen; /* decoded value in scan.vbuf */
};

struct scan {
	const char *text;
	size_t len, pos;
	enum usp_path_kind kind;
	int is_search;
	size_t n_segs, n_conds, vused;
	struct scan_seg segs[USP_PATH_MAX_SEGS];
	struct scan_cond conds[SCAN_MAX_CONDS];
	char vbuf[USP_PATH_MAX_LEN];
	struct uspc_err *err;
};

static const char *const path_error_texts[] = {
#define USP_PATH_TEXT_(ident, name, text) text,
	USP_PATH_ERRORS(USP_PATH_TEXT_)
#undef USP_PATH_TEXT_
};

const char *usp_path_error_text(int code)
{
	if (code <= USP_PATH_E_BASE_ || code >= USP_PATH_E_END_)
		return "unknown path error";
	return path_error_texts[code - USP_PATH_E_BASE_ - 1];
}

/* ---- character classes ------------------------------------------------ */

static int is_alpha_(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_name_char(char c)
{
	return is_alpha_(c) || is_digit(c) || c == '-';
}

static int is_op_start(char c)
{
	return c == '=' || c == '!' || c == '<' || c == '>';
}

/* Printable rendering of one byte for messages: 'x' or \xHH. */
static const char *show_char(char c, char out[8])
{
	unsigned char u = (unsigned char)c;
	static const char hex[] = "0123456789abcdef";
	if (u >= 0x20 && u < 0x7f) {
		out[0] = '\'';
		out[1] = c;
		out[2] = '\'';
		out[3] = '\0';
	} else {
		memcpy(out, "\\x", 2);
		out[2] = hex[u >> 4];
		out[3] = hex[u & 15];
		out[4] = '\0';
	}
	return out;
}

/* Current byte, or NUL at the end of the text. */
static char cur(const struct scan *s)
{
	return s->pos < s->len ? s->text[s->pos] : '\0';
}

static int at_end(const struct scan *s)
{
	return s->pos >= s->len;
}

static int fail_char(struct scan *s, int code, const char *what)
{
	char buf[8];
	if (at_end(s))
		return uspc_err_set(s->err, code, "%s: path ends at byte %zu", what, s->pos);
	return uspc_err_set(s->err, code, "%s: unexpected %s at byte %zu", what,
			    show_char(cur(s), buf), s->pos);
}

/* ---- names and instance selectors -------------------------------------- */

/* A TR-106 name at s->pos; leaves s->pos after it. 0, or code if the
 * first byte cannot start a name. */
static int scan_name(struct scan *s, int code, const char *what)
{
	if (!is_alpha_(cur(s)))
		return fail_char(s, code, what);
	while (!at_end(s) && is_name_char(cur(s)))
		s->pos++;
	return 0;
}

static int add_seg(struct scan *s, enum usp_seg_kind kind, size_t off, size_t len)
{
	if (s->n_segs >= USP_PATH_MAX_SEGS)
		return uspc_err_set(s->err, USP_PATH_E_TOO_MANY_SEGMENTS,
				    "path has more than %d segments (at byte %zu)",
				    USP_PATH_MAX_SEGS, off);
	struct scan_seg *g = &s->segs[s->n_segs++];
	memset(g, 0, sizeof(*g));
	g->kind = kind;
	g->off = (uint16_t)off;
	g->len = (uint16_t)len;
	if (kind == USP_SEG_WILDCARD || kind == USP_SEG_EXPR)
		s->is_search = 1;
	return 0;
}

/* posnum = [1-9][0-9]* <= UINT32_MAX, at s->pos. */
static int scan_instance(struct scan *s)
{
	size_t start = s->pos;
	uint64_t v = 0;
	if (cur(s) == '0')
		return uspc_err_set(s->err, USP_PATH_E_BAD_INSTANCE,
				    "instance number at byte %zu is zero or has a leading zero",
				    start);
	while (!at_end(s) && is_digit(cur(s))) {
		v = v * 10 + (uint64_t)(cur(s) - '0');
		if (v > UINT32_MAX)
			return uspc_err_set(s->err, USP_PATH_E_BAD_INSTANCE,
					    "instance number at byte %zu exceeds %u", start,
					    (unsigned)UINT32_MAX);
		s->pos++;
	}
	if (!at_end(s) && is_name_char(cur(s)))
		return fail_char(s, USP_PATH_E_BAD_INSTANCE, "instance number is not all digits");
	int rc = add_seg(s, USP_SEG_INSTANCE, start, 0);
	if (rc == 0)
		s->segs[s->n_segs - 1].instance = (uint32_t)v;
	return rc;
}

/* ---- search / unique-key expressions ----------------------------------- */

/* relpath = name { "." name }, then an operator must follow. */
static int scan_relpath(struct scan *s, struct scan_cond *c)
{
	size_t start = s->pos;
	for (;;) {
		if (at_end(s))
			return fail_char(s, USP_PATH_E_UNTERMINATED_EXPR,
					 "search expression lacks ']'");
		int rc = scan_name(s, USP_PATH_E_BAD_EXPR_PARAM,
				   "search expression needs a parameter name");
		if (rc < 0)
			return rc;
		if (cur(s) != '.')
			break;
		s->pos++;
	}
	c->poff = (uint16_t)start;
	c->plen = (uint16_t)(s->pos - start);
	if (at_end(s))
		return fail_char(s, USP_PATH_E_UNTERMINATED_EXPR, "search expression lacks ']'");
	char ch = cur(s);
	if (!is_op_start(ch) && ch != ']' && ch != '&' && ch != '"')
		return fail_char(s, USP_PATH_E_BAD_EXPR_PARAM, "invalid parameter name character");
	return 0;
}

static int scan_op(struct scan *s, struct scan_cond *c)
{
	char a = cur(s);
	char b = s->pos + 1 < s->len ? s->text[s->pos + 1] : '\0';
	size_t n = 2;
	if (a == '=' && b == '=')
		c->op = USP_CMP_EQ;
	else if (a == '!' && b == '=')
		c->op = USP_CMP_NE;
	else if (a == '<' && b == '=')
		c->op = USP_CMP_LE;
	else if (a == '>' && b == '=')
		c->op = USP_CMP_GE;
	else if (a == '<' || a == '>') {
		c->op = a == '<' ? USP_CMP_LT : USP_CMP_GT;
		n = 1;
	} else if (at_end(s))
		return fail_char(s, USP_PATH_E_UNTERMINATED_EXPR, "search expression lacks ']'");
	else
		return fail_char(s, USP_PATH_E_BAD_OPERATOR,
				 "expected one of == != < > <= >= after the parameter name");
	s->pos += n;
	return 0;
}

/* One escape or percent sequence inside quotes at s->pos; writes one byte. */
static int scan_quoted_special(struct scan *s, char *out)
{
	const char *t = s->text + s->pos;
	size_t left = s->len - s->pos;
	if (t[0] == '\\') {
		if (left < 2)
			return uspc_err_set(s->err, USP_PATH_E_UNTERMINATED_EXPR,
					    "search expression lacks ']': path ends at byte %zu",
					    s->len);
		if (t[1] != '"' && t[1] != '\\') {
			char buf[8];
			return uspc_err_set(
				s->err, USP_PATH_E_BAD_VALUE,
				"unknown escape '\\' %s at byte %zu (only \\\" and \\\\)",
				show_char(t[1], buf), s->pos);
		}
		*out = t[1];
		s->pos += 2;
		return 0;
	}
	/* '%': TR-369 percent-escapes %22 ('"') and %25 ('%'); any other '%'
	 * is kept literally. */
	if (left >= 3 && t[1] == '2' && (t[2] == '2' || t[2] == '5')) {
		*out = t[2] == '2' ? '"' : '%';
		s->pos += 3;
	} else {
		*out = '%';
		s->pos += 1;
	}
	return 0;
}

static int scan_quoted(struct scan *s, struct scan_cond *c)
{
	s->pos++; /* opening quote */
	c->voff = (uint16_t)s->vused;
	for (;;) {
		if (at_end(s))
			return fail_char(s, USP_PATH_E_UNTERMINATED_EXPR,
					 "quoted value lacks its closing '\"'");
		char ch = cur(s);
		if (ch == '"')
			break;
		if (ch == '\\' || ch == '%') {
			int rc = scan_quoted_special(s, &s->vbuf[s->vused]);
			if (rc < 0)
				return rc;
		} else {
			s->vbuf[s->vused] = ch;
			s->pos++;
		}
		s->vused++; /* decoded <= raw, raw < USP_PATH_MAX_LEN */
	}
	s->pos++; /* closing quote */
	c->vlen = (uint16_t)(s->vused - c->voff);
	return 0;
}

/* ["-"] ("0" | [1-9][0-9]*) ["." [0-9]+], exactly n bytes. */
static int is_strict_number(const char *v, size_t n)
{
	size_t i = 0;
	if (i < n && v[i] == '-')
		i++;
	if (i >= n || !is_digit(v[i]))
		return 0;
	if (v[i] == '0' && i + 1 < n && is_digit(v[i + 1]))
		return 0;
	while (i < n && is_digit(v[i]))
		i++;
	if (i < n && v[i] == '.') {
		size_t f = ++i;
		while (i < n && is_digit(v[i]))
			i++;
		if (i == f)
			return 0;
	}
	return i == n;
}

static int scan_unquoted(struct scan *s, struct scan_cond *c)
{
	size_t start = s->pos;
	while (!at_end(s) && cur(s) != '&' && cur(s) != ']')
		s->pos++;
	if (at_end(s))
		return fail_char(s, USP_PATH_E_UNTERMINATED_EXPR, "search expression lacks ']'");
	const char *v = s->text + start;
	size_t n = s->pos - start;
	int is_bool =
		(n == 4 && memcmp(v, "true", 4) == 0) || (n == 5 && memcmp(v, "false", 5) == 0);
	if (n == 0)
		return uspc_err_set(s->err, USP_PATH_E_BAD_VALUE, "missing value at byte %zu",
				    start);
	if (!is_bool && !is_strict_number(v, n))
		return uspc_err_set(s->err, USP_PATH_E_BAD_VALUE,
				    "value at byte %zu is not a number, true, false or a "
				    "double-quoted string",
				    start);
	if (is_bool && c->op != USP_CMP_EQ && c->op != USP_CMP_NE)
		return uspc_err_set(s->err, USP_PATH_E_BAD_OPERATOR,
				    "boolean value at byte %zu only takes == or !=", start);
	c->voff = (uint16_t)s->vused;
	c->vlen = (uint16_t)n;
	memcpy(&s->vbuf[s->vused], v, n);
	s->vused += n;
	return 0;
}

static int scan_cond(struct scan *s, struct scan_cond *c)
{
	int rc = scan_relpath(s, c);
	if (rc == 0)
		rc = scan_op(s, c);
	if (rc < 0)
		return rc;
	if (at_end(s))
		return fail_char(s, USP_PATH_E_UNTERMINATED_EXPR, "search expression lacks ']'");
	return cur(s) == '"' ? scan_quoted(s, c) : scan_unquoted(s, c);
}

/* "[" cond { "&&" cond } "]" at s->pos. */
static int scan_expr(struct scan *s)
{
	size_t open = s->pos;
	int rc = add_seg(s, USP_SEG_EXPR, open, 0);
	if (rc < 0)
		return rc;
	struct scan_seg *g = &s->segs[s->n_segs - 1];
	g->cond0 = (uint16_t)s->n_conds;
	s->pos++;
	if (cur(s) == ']')
		return uspc_err_set(s->err, USP_PATH_E_EMPTY_EXPR,
				    "search expression at byte %zu is empty", open);
	for (;;) {
		if (g->ncond >= USP_PATH_MAX_CONDS || s->n_conds >= SCAN_MAX_CONDS)
			return uspc_err_set(s->err, USP_PATH_E_TOO_MANY_CONDS,
					    "search expression at byte %zu has more than %d "
					    "conditions",
					    open, USP_PATH_MAX_CONDS);
		rc = scan_cond(s, &s->conds[s->n_conds]);
		if (rc < 0)
			return rc;
		s->n_conds++;
		g->ncond++;
		if (cur(s) == ']')
			break;
		if (cur(s) == '&' && s->pos + 1 < s->len && s->text[s->pos + 1] == '&') {
			s->pos += 2;
			continue;
		}
		if (at_end(s) || (cur(s) == '&' && s->pos + 1 >= s->len))
			return uspc_err_set(s->err, USP_PATH_E_UNTERMINATED_EXPR,
					    "search expression opened at byte %zu lacks ']'", open);
		return fail_char(s, USP_PATH_E_BAD_VALUE, "expected '&&' or ']' after the value");
	}
	s->pos++; /* ']' */
	return 0;
}

/* ---- segments ---------------------------------------------------------- */

/* '*', '[..]' or a number at s->pos, then the mandatory '.'. */
static int scan_selector(struct scan *s)
{
	size_t start = s->pos;
	const struct scan_seg *prev = &s->segs[s->n_segs - 1];
	if (s->n_segs < 2 || prev->kind != USP_SEG_NAME)
		return uspc_err_set(
			s->err, USP_PATH_E_MISPLACED_SELECTOR,
			"instance selector at byte %zu must follow a table name, not %s", start,
			s->n_segs < 2 ? "'Device'" : "another selector");
	int rc;
	if (cur(s) == '*') {
		rc = add_seg(s, USP_SEG_WILDCARD, start, 0);
		s->pos++;
	} else if (cur(s) == '[') {
		rc = scan_expr(s);
	} else {
		rc = scan_instance(s);
	}
	if (rc < 0)
		return rc;
	if (cur(s) != '.')
		return uspc_err_set(
			s->err, USP_PATH_E_UNTERMINATED_SELECTOR,
			"instance selector at byte %zu must be followed by '.' (found %s "
			"at byte %zu)",
			start, at_end(s) ? "end of path" : "other text", s->pos);
	s->pos++;
	if (at_end(s))
		s->kind = USP_PATH_OBJECT;
	return 0;
}

/* The "()" or "!" after a last name at s->pos. */
static int scan_cmd_suffix(struct scan *s)
{
	if (cur(s) == '(') {
		if (s->pos + 1 >= s->len || s->text[s->pos + 1] != ')') {
			s->pos++;
			return fail_char(s, USP_PATH_E_BAD_COMMAND,
					 "command name must end in '()'");
		}
		s->pos += 2;
		s->kind = USP_PATH_COMMAND;
	} else {
		s->pos++;
		s->kind = USP_PATH_EVENT;
	}
	if (!at_end(s))
		return uspc_err_set(s->err, USP_PATH_E_TRAILING_TEXT,
				    "text follows the %s name at byte %zu",
				    s->kind == USP_PATH_COMMAND ? "command" : "event", s->pos);
	return 0;
}

/* A name segment at s->pos: object name + '.', or the last name. */
static int scan_name_seg(struct scan *s)
{
	size_t start = s->pos;
	char ch = cur(s);
	if (ch == '(' || ch == '!')
		return uspc_err_set(s->err, USP_PATH_E_BAD_COMMAND,
				    "command or event at byte %zu has no name", start);
	int rc = scan_name(s, USP_PATH_E_BAD_NAME, "a name must start with a letter or '_'");
	if (rc == 0)
		rc = add_seg(s, USP_SEG_NAME, start, s->pos - start);
	if (rc < 0)
		return rc;
	ch = cur(s);
	if (ch == '.') {
		s->pos++;
		if (at_end(s))
			s->kind = USP_PATH_OBJECT;
		return 0;
	}
	if (at_end(s)) {
		s->kind = USP_PATH_PARAM;
		return 0;
	}
	if (ch == '(' || ch == '!')
		return scan_cmd_suffix(s);
	return fail_char(s, USP_PATH_E_BAD_NAME, "invalid character in name");
}

static int scan_path(struct scan *s)
{
	if (s->len < 7 || memcmp(s->text, "Device.", 7) != 0)
		return uspc_err_set(s->err, USP_PATH_E_NOT_DEVICE_ROOT,
				    "path must start with 'Device.' (byte 0)");
	int rc = add_seg(s, USP_SEG_NAME, 0, 6);
	s->pos = 7;
	s->kind = USP_PATH_OBJECT;
	while (rc == 0 && !at_end(s)) {
		char ch = cur(s);
		if (ch == '.')
			return uspc_err_set(s->err, USP_PATH_E_EMPTY_SEGMENT,
					    "empty segment ('..') at byte %zu", s->pos);
		if (s->n_segs >= USP_PATH_MAX_SEGS)
			return uspc_err_set(s->err, USP_PATH_E_TOO_MANY_SEGMENTS,
					    "path has more than %d segments (at byte %zu)",
					    USP_PATH_MAX_SEGS, s->pos);
		if (ch == '*' || ch == '[' || is_digit(ch))
			rc = scan_selector(s);
		else
			rc = scan_name_seg(s);
	}
	return rc;
}

/* ---- building the result ----------------------------------------------- */

static char *put_str(char **cursor, const char *src, size_t n)
{
	char *dst = *cursor;
	memcpy(dst, src, n);
	dst[n] = '\0';
	*cursor += n + 1;
	return dst;
}

static int build(const struct scan *s, struct usp_path *out)
{
	size_t bytes =
		s->n_segs * sizeof(struct usp_path_seg) + s->n_conds * sizeof(struct usp_path_cond);
	for (size_t i = 0; i < s->n_segs; i++)
		bytes += s->segs[i].kind == USP_SEG_NAME ? s->segs[i].len + 1u : 0u;
	for (size_t i = 0; i < s->n_conds; i++)
		bytes += s->conds[i].plen + 1u + s->conds[i].vlen + 1u;
	struct usp_path_seg *segs = calloc(1, bytes);
	if (!segs)
		return uspc_err_set(s->err, USP_PATH_E_NO_MEMORY, "out of memory (%zu bytes)",
				    bytes);
	struct usp_path_cond *conds = (struct usp_path_cond *)(segs + s->n_segs);
	char *cursor = (char *)(conds + s->n_conds);
	for (size_t i = 0; i < s->n_conds; i++) {
		const struct scan_cond *c = &s->conds[i];
		conds[i].param = put_str(&cursor, s->text + c->poff, c->plen);
		conds[i].op = c->op;
		conds[i].value = put_str(&cursor, s->vbuf + c->voff, c->vlen);
	}
	for (size_t i = 0; i < s->n_segs; i++) {
		const struct scan_seg *g = &s->segs[i];
		segs[i].kind = g->kind;
		if (g->kind == USP_SEG_NAME)
			segs[i].name = put_str(&cursor, s->text + g->off, g->len);
		else if (g->kind == USP_SEG_INSTANCE)
			segs[i].instance = g->instance;
		else if (g->kind == USP_SEG_EXPR) {
			segs[i].conds = conds + g->cond0;
			segs[i].n_conds = g->ncond;
		}
	}
	out->kind = s->kind;
	out->segs = segs;
	out->n_segs = s->n_segs;
	out->is_search = s->is_search;
	return 0;
}

int usp_path_parse(const char *text, struct usp_path *out, struct uspc_err *err)
{
	memset(out, 0, sizeof(*out));
	uspc_err_clear(err);
	size_t len = text ? strnlen(text, USP_PATH_MAX_LEN + 1) : 0;
	if (len == 0)
		return uspc_err_set(err, USP_PATH_E_EMPTY, "path is empty");
	if (len > USP_PATH_MAX_LEN)
		return uspc_err_set(err, USP_PATH_E_TOO_LONG, "path is longer than %d bytes",
				    USP_PATH_MAX_LEN);
	struct scan s; /* ~6 KiB, bounded by the limits in usp_path.h */
	s.text = text;
	s.len = len;
	s.pos = 0;
	s.kind = USP_PATH_OBJECT;
	s.is_search = 0;
	s.n_segs = s.n_conds = s.vused = 0;
	s.err = err;
	int rc = scan_path(&s);
	if (rc == 0)
		rc = build(&s, out);
	return rc;
}

void usp_path_fini(struct usp_path *p)
{
	if (!p)
		return;
	free(p->segs); /* one block: segs, conds and strings */
	memset(p, 0, sizeof(*p));
}

/* ---- condition matching ------------------------------------------------ */

/* A decimal number ["-"]digits["."digits], split for exact comparison:
 * integer digits without leading zeros, fraction without trailing zeros. */
struct dec {
	int neg;
	const char *ip, *fp;
	size_t ilen, flen;
};

static int dec_parse(const char *v, struct dec *d)
{
	const char *p = v;
	d->neg = 0;
	if (*p == '-') {
		d->neg = 1;
		p++;
	}
	const char *i0 = p;
	while (is_digit(*p))
		p++;
	if (p == i0)
		return 0;
	d->ip = i0;
	d->ilen = (size_t)(p - i0);
	d->fp = p;
	d->flen = 0;
	if (*p == '.') {
		const char *f0 = ++p;
		while (is_digit(*p))
			p++;
		if (p == f0)
			return 0;
		d->fp = f0;
		d->flen = (size_t)(p - f0);
	}
	if (*p != '\0')
		return 0;
	while (d->ilen > 0 && d->ip[0] == '0') {
		d->ip++;
		d->ilen--;
	}
	while (d->flen > 0 && d->fp[d->flen - 1] == '0')
		d->flen--;
	if (d->ilen == 0 && d->flen == 0)
		d->neg = 0; /* -0 == 0 */
	return 1;
}

static int dec_cmp_mag(const struct dec *a, const struct dec *b)
{
	if (a->ilen != b->ilen)
		return a->ilen < b->ilen ? -1 : 1;
	int c = memcmp(a->ip, b->ip, a->ilen);
	if (c != 0)
		return c < 0 ? -1 : 1;
	size_t n = a->flen > b->flen ? a->flen : b->flen;
	for (size_t i = 0; i < n; i++) {
		char x = i < a->flen ? a->fp[i] : '0';
		char y = i < b->flen ? b->fp[i] : '0';
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static int dec_cmp(const struct dec *a, const struct dec *b)
{
	if (a->neg != b->neg)
		return a->neg ? -1 : 1;
	int m = dec_cmp_mag(a, b);
	return a->neg ? -m : m;
}

/* 1 true, 0 false, -1 not a boolean literal. */
static int bool_value(const char *v)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		return 1;
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	return -1;
}

static int cmp_result(enum usp_cmp_op op, int c)
{
	switch (op) {
	case USP_CMP_EQ:
		return c == 0;
	case USP_CMP_NE:
		return c != 0;
	case USP_CMP_LT:
		return c < 0;
	case USP_CMP_GT:
		return c > 0;
	case USP_CMP_LE:
		return c <= 0;
	case USP_CMP_GE:
		return c >= 0;
	}
	return 0;
}

int usp_path_cond_match(const struct usp_path_cond *cond, const char *actual)
{
	if (!cond || !cond->value || !actual)
		return 0;
	struct dec a, b;
	if (dec_parse(actual, &a) && dec_parse(cond->value, &b))
		return cmp_result(cond->op, dec_cmp(&a, &b));
	if (cond->op == USP_CMP_EQ || cond->op == USP_CMP_NE) {
		int x = bool_value(actual), y = bool_value(cond->value);
		if (x >= 0 && y >= 0)
			return cmp_result(cond->op, x == y ? 0 : 1);
	}
	return cmp_result(cond->op, strcmp(actual, cond->value));
}

/* ---- supported-DM form ------------------------------------------------- */

/* Length of the segment at p: up to the next '.' outside [..] and quotes
 * (a backslash inside quotes skips the next byte). */
static size_t seg_span(const char *p)
{
	size_t i = 0;
	int depth = 0, quoted = 0;
	for (; p[i]; i++) {
		char c = p[i];
		if (quoted) {
			if (c == '\\' && p[i + 1])
				i++;
			else if (c == '"')
				quoted = 0;
		} else if (c == '"' && depth > 0) {
			quoted = 1;
		} else if (c == '[') {
			depth++;
		} else if (c == ']' && depth > 0) {
			depth--;
		} else if (c == '.' && depth == 0) {
			break;
		}
	}
	return i;
}

static int is_selector_text(const char *p, size_t n)
{
	if (n == 1 && p[0] == '*')
		return 1;
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']')
		return 1;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(p[i]))
			return 0;
	return 1;
}

int usp_path_to_schema(const char *path, char *buf, size_t cap)
{
	if (!buf || cap == 0)
		return USPC_E_INVAL;
	buf[0] = '\0';
	if (!path)
		return USPC_E_INVAL;
	size_t used = 0;
	const char *p = path;
	for (;;) {
		size_t n = seg_span(p);
		const char *src = is_selector_text(p, n) ? "{i}" : p;
		size_t w = src == p ? n : 3;
		int dot = p[n] == '.';
		if (used + w + (size_t)dot >= cap) {
			buf[0] = '\0';
			return USPC_E_TOOLONG;
		}
		memcpy(buf + used, src, w);
		used += w;
		if (!dot)
			break;
		buf[used++] = '.';
		p += n + 1;
	}
	buf[used] = '\0';
	return 0;
}
