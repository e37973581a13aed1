/*
 * Matching a foreign tool's history rows to a schema set's files, and the
 * report of it (schema_adopt_match.h). Pure: rows, files and the set's
 * history in; outcomes, the versions to record and the note out.
 */
#include "schema_adopt_match.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "schema_history.h"

/* One matching: what it reads and what it fills. */
struct match {
	const struct adopt_match_in *in;
	struct adopt_report *out;
};

/* Names compared by their letters and digits only, case folded. */
static bool
same_name(const char *x, const char *y)
{
	for (;;) {
		while (*x != '\0' && !isalnum((unsigned char)*x))
			x++;
		while (*y != '\0' && !isalnum((unsigned char)*y))
			y++;
		if (*x == '\0' || *y == '\0')
			return *x == *y;
		if (tolower((unsigned char)*x) != tolower((unsigned char)*y))
			return false;
		x++;
		y++;
	}
}

/* name starts with prefix (an Alembic revision in "NNN_rev_slug"). */
static bool
name_starts(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return n > 0 && strncasecmp(name, prefix, n) == 0 &&
	       (name[n] == '\0' || !isalnum((unsigned char)name[n]));
}

static const struct schema_file *
find_by_name(const struct match *m, const char *name)
{
	for (size_t i = 0; i < m->in->dir->n; i++)
		if (same_name(m->in->dir->files[i].name, name) ||
		    (m->in->tool->match == MATCH_UP_TO &&
		     name_starts(m->in->dir->files[i].name, name)))
			return &m->in->dir->files[i];
	return NULL;
}

static const struct schema_file *
find_by_hash(const struct match *m, const char *hash)
{
	for (size_t i = 0; i < m->in->dir->n; i++)
		if (strcasecmp(m->in->raw[i].hex, hash) == 0 ||
		    strcasecmp(m->in->dir->files[i].checksum, hash) == 0)
			return &m->in->dir->files[i];
	return NULL;
}

static const struct adopt_recorded *
find_recorded(const struct adopt_recorded *rec, size_t n, long long version)
{
	for (size_t i = 0; i < n; i++)
		if (rec[i].version == version)
			return &rec[i];
	return NULL;
}

static void
add_row(struct match *m, const char *foreign, const struct schema_file *f,
        long long version, const char *outcome, const char *message)
{
	json_t *row = json_pack("{s:s, s:o, s:s, s:s?}", "foreign", foreign,
	                        "version",
	                        f != NULL      ? json_integer(f->version)
	                        : version >= 0 ? json_integer(version)
	                                       : json_null(),
	                        "outcome", outcome, "message", message);

	if (row != NULL)
		json_array_append_new(m->out->rows, row);
	if (strcmp(outcome, "conflict") == 0 ||
	    strcmp(outcome, "unmatched") == 0 ||
	    strcmp(outcome, "dirty") == 0 || strcmp(outcome, "failed") == 0)
		m->out->blocked++;
}

static bool
scheduled(const struct match *m, long long version)
{
	size_t i;
	json_t *v;

	json_array_foreach(m->out->insert, i, v)
	{
		if (json_integer_value(json_object_get(v, "version")) ==
		    version)
			return true;
	}
	return false;
}

/* Local file f is applied, says the foreign row: what the history says. */
static void
check_file(struct match *m, const char *foreign, const struct schema_file *f,
           const struct adopt_recorded *rec, size_t nrec, const char *why)
{
	const struct adopt_recorded *r = find_recorded(rec, nrec, f->version);
	char msg[768];

	if (r != NULL && schema_history_kind_applied(r->kind)) {
		if (r->checksum == NULL ||
		    strcmp(r->checksum, f->checksum) == 0) {
			snprintf(msg, sizeof(msg), "recorded before (%s)%s%s",
			         r->kind, why != NULL ? "; " : "",
			         why != NULL ? why : "");
			add_row(m, foreign, f, -1, "already", msg);
			m->out->already++;
			return;
		}
		snprintf(
		        msg, sizeof(msg),
		        "recorded as %s with checksum %.12s, but %s has %.12s: "
		        "the file changed since; restore it, or accept it with "
		        "schema repair",
		        r->kind, r->checksum, f->path, f->checksum);
		add_row(m, foreign, f, -1, "conflict", msg);
		return;
	}
	if (r != NULL && r->kind != NULL) {
		snprintf(
		        msg, sizeof(msg),
		        "migrated recorded it as %s since: %s's table is older "
		        "than the set's history; leave it out (it is not applied)",
		        r->kind, m->in->tool->label);
		add_row(m, foreign, f, -1, "conflict", msg);
		return;
	}
	if (r != NULL && r->failed) {
		snprintf(msg, sizeof(msg),
		         "migrated's last apply of it failed: check what the "
		         "database holds, then apply it or record it with "
		         "schema baseline");
		add_row(m, foreign, f, -1, "conflict", msg);
		return;
	}
	if (!scheduled(m, f->version)) {
		json_t *ins = json_pack("{s:I, s:s, s:s}", "version",
		                        (json_int_t)f->version, "name", f->name,
		                        "checksum", f->checksum);
		if (ins != NULL)
			json_array_append_new(m->out->insert, ins);
	}
	add_row(m, foreign, f, -1, "adopted", why);
}

static bool
parse_version(const char *text, long long *out)
{
	char *end;

	if (text == NULL || *text == '\0')
		return false;
	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno == 0 && *end == '\0' && *out >= 0;
}

/* One row of the tool's history. */
static void
match_row(struct match *m, const struct adopt_foreign *row,
          const struct adopt_recorded *rec, size_t nrec)
{
	const char *foreign = row->foreign;
	const char *vtext = row->version;
	const char *name = row->name;
	const char *hash = row->hash;
	const char *state = row->state;
	const char *message = row->message;
	const struct schema_file *f = NULL;
	long long version = -1;
	char msg[768];

	if (name != NULL && *name == '\0')
		name = NULL;
	if (vtext != NULL && !parse_version(vtext, &version)) {
		snprintf(msg, sizeof(msg), "version %s is out of range", vtext);
		add_row(m, foreign, NULL, -1, "unmatched", msg);
		return;
	}
	if (strcmp(state, "ok") != 0) {
		add_row(m, foreign, NULL, version, state, message);
		return;
	}
	if (m->in->tool->match == MATCH_HASH) {
		f = hash != NULL ? find_by_hash(m, hash) : NULL;
		if (f == NULL) {
			snprintf(msg, sizeof(msg),
			         "no file in %s has sha256 %s (edited after %s "
			         "ran it, or not copied into the set)",
			         m->in->dir->dir,
			         hash != NULL ? hash : "(none)",
			         m->in->tool->label);
			add_row(m, foreign, NULL, -1, "unmatched", msg);
			return;
		}
	} else if (version >= 0) {
		f = schema_dir_find(m->in->dir, version);
		if (f == NULL) {
			snprintf(
			        msg, sizeof(msg),
			        "no file %lld_*.sql in %s: add the file %s ran, "
			        "or the set is missing it",
			        version, m->in->dir->dir, m->in->tool->label);
			add_row(m, foreign, NULL, version, "unmatched", msg);
			return;
		}
		if (name != NULL && m->in->tool->match != MATCH_UP_TO &&
		    !same_name(name, f->name)) {
			snprintf(
			        msg, sizeof(msg),
			        "%s names it \"%s\", but the file is %s: is it "
			        "the same migration? rename one of them",
			        m->in->tool->label, name, f->path);
			add_row(m, foreign, f, -1, "conflict", msg);
			return;
		}
	} else if (name != NULL) {
		f = find_by_name(m, name);
		if (f == NULL) {
			snprintf(
			        msg, sizeof(msg),
			        "no file NNN_%s.sql in %s: add the file %s ran",
			        name, m->in->dir->dir, m->in->tool->label);
			add_row(m, foreign, NULL, -1, "unmatched", msg);
			return;
		}
	} else {
		add_row(m, foreign, NULL, -1, "unmatched",
		        "the row names neither a version nor a name");
		return;
	}
	if (m->in->tool->match != MATCH_UP_TO) {
		check_file(m, foreign, f, rec, nrec, NULL);
		return;
	}
	/* a current version: every file up to it counts as applied */
	for (size_t k = 0;
	     k < m->in->dir->n && m->in->dir->files[k].version <= f->version;
	     k++) {
		const struct schema_file *g = &m->in->dir->files[k];
		snprintf(
		        msg, sizeof(msg),
		        "%s keeps only its current version (%s): every file up "
		        "to %lld counts as applied",
		        m->in->tool->label, foreign, f->version);
		check_file(m, foreign, g, rec, nrec, msg);
	}
}

static const char *
plural(int n)
{
	return n == 1 ? "" : "s";
}

/* A row adopted or already recorded names version. */
static bool
matched(const struct adopt_report *r, long long version)
{
	size_t i;
	json_t *row;

	json_array_foreach(r->rows, i, row)
	{
		const char *o =
		        json_string_value(json_object_get(row, "outcome"));
		if (json_integer_value(json_object_get(row, "version")) ==
		            version &&
		    json_is_integer(json_object_get(row, "version")) &&
		    (strcmp(o, "adopted") == 0 || strcmp(o, "already") == 0))
			return true;
	}
	return false;
}

/*
 * Local files older than the newest matched version that the tool's table
 * does not name: they stay pending, out of order. "" when none.
 */
static void
gaps(const struct adopt_match_in *in, const struct adopt_report *r, char *buf,
     size_t len)
{
	long long newest = -1;
	size_t i, n = 0, used = 0;
	json_t *row;

	buf[0] = '\0';
	json_array_foreach(r->rows, i, row)
	{
		long long v =
		        json_integer_value(json_object_get(row, "version"));
		if (matched(r, v) && v > newest)
			newest = v;
	}
	for (i = 0; i < in->dir->n && in->dir->files[i].version < newest; i++) {
		const struct schema_file *f = &in->dir->files[i];
		int w;

		if (matched(r, f->version))
			continue;
		w = snprintf(buf + used, len - used, "%s%s", n == 0 ? "" : ", ",
		             f->path);
		n++;
		if (w < 0 || (size_t)w >= len - used) {
			buf[used] = '\0';
			break;
		}
		used += (size_t)w;
	}
	if (n > 0) {
		char list[1024];

		/* buf is at most len bytes; list holds what it says */
		memcpy(list, buf,
		       used + 1 < sizeof(list) ? used + 1 : sizeof(list));
		list[sizeof(list) - 1] = '\0';
		/* a note cut short is still a note */
		if (snprintf(
		            buf, len,
		            ". Not in %s, though older than the newest adopted "
		            "version: %s; they stay pending (status shows them out "
		            "of order): apply them, or record them with schema "
		            "baseline if the database already has them",
		            in->label, list) >= (int)len)
			buf[len - 1] = '\0';
	}
}

char *
schema_adopt_note(const struct adopt_match_in *in,
                  const struct adopt_report *rep, size_t nforeign)
{
	char *note = NULL;
	int adopted = (int)json_array_size(rep->insert);
	char older[1024];
	int r;

	if (nforeign == 0)
		r = asprintf(&note, "%s is empty: nothing to adopt", in->label);
	else if (rep->blocked > 0)
		r = asprintf(
		        &note,
		        "nothing recorded: %d row%s of %s did not match (see "
		        "rows: conflict, unmatched, dirty or failed); fix "
		        "them and adopt again. Until then %s stays the only "
		        "record of those versions",
		        rep->blocked, plural(rep->blocked), in->label,
		        in->label);
	else {
		gaps(in, rep, older, sizeof(older));
		r = asprintf(
		        &note,
		        "%d version%s adopted, %d already recorded: every "
		        "row of %s is in migrated.schema_history of set %s. "
		        "That table is no longer needed by migrated; drop it "
		        "once %s no longer runs%s%s",
		        adopted, plural(adopted), rep->already, in->label,
		        in->set,
		        in->tool->table != NULL ? in->tool->label
		                                : "the runner that writes it",
		        in->tool->match == MATCH_UP_TO
		                ? " (it kept only a current version: the "
		                  "files up to it were taken as applied)"
		                : "",
		        older);
	}
	return r < 0 ? NULL : note;
}

void
schema_adopt_match(const struct adopt_match_in *in,
                   const struct adopt_foreign *rows, size_t n,
                   struct adopt_report *out)
{
	struct match m = {in, out};

	for (size_t k = 0; k < n; k++)
		match_row(&m, &rows[k], in->rec, in->nrec);
}

struct adopt_sha256 *
schema_adopt_raw_checksums(const struct schema_dir *dir)
{
	struct adopt_sha256 *raw = calloc(dir->n + 1, sizeof(*raw));

	if (raw == NULL)
		return NULL;
	for (size_t i = 0; i < dir->n; i++) {
		const char *sql = dir->files[i].sql;
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned len = 0;

		if (EVP_Digest(sql, strlen(sql), md, &len, EVP_sha256(),
		               NULL) != 1) {
			free(raw);
			return NULL;
		}
		for (size_t k = 0; k < len && k < 32; k++)
			snprintf(raw[i].hex + 2 * k, 3, "%02x", md[k]);
	}
	return raw;
}
