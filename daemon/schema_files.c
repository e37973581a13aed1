#include "schema_files.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "schema_sums.h"

/* Longest file a set may hold: a schema file, not a data dump. */
#define SCHEMA_FILE_MAX (64L * 1024 * 1024)

void
schema_checksum(const char *text, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t start = 0;

	out[0] = '\0';
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return;
	}
	/* runs of text without CR as they are; each CRLF or lone CR as LF */
	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\r')
			continue;
		EVP_DigestUpdate(ctx, text + start, i - start);
		EVP_DigestUpdate(ctx, "\n", 1);
		if (i + 1 < len && text[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	EVP_DigestUpdate(ctx, text + start, len - start);
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 &&
	    mdlen * 2 == SCHEMA_CHECKSUM_LEN) {
		for (unsigned int i = 0; i < mdlen; i++) {
			out[(size_t)2 * i] = hex[md[i] >> 4];
			out[(size_t)2 * i + 1] = hex[md[i] & 0xf];
		}
		out[SCHEMA_CHECKSUM_LEN] = '\0';
	}
	EVP_MD_CTX_free(ctx);
}

/* The whole file, NUL-terminated, in *text; -1 with "path: message". */
static int
read_text(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *more;

			if (cap > (size_t)SCHEMA_FILE_MAX) {
				snprintf(
				        err, errlen,
				        "%s: larger than %ld MiB; a schema file "
				        "holds statements, not data",
				        path, SCHEMA_FILE_MAX / (1024L * 1024));
				goto fail;
			}
			more = realloc(buf, cap * 2 + 8192);
			if (more == NULL) {
				snprintf(err, errlen, "%s: out of memory",
				         path);
				goto fail;
			}
			buf = more;
			cap = cap * 2 + 8192;
		}
		got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		         strerror(errno));
		goto fail;
	}
	if (memchr(buf, '\0', n) != NULL) {
		snprintf(err, errlen, "%s: holds NUL bytes; not a SQL file",
		         path);
		goto fail;
	}
	fclose(fp);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
fail:
	fclose(fp);
	free(buf);
	return -1;
}

/* First line "-- migrated: no-transaction" (any case, spaces tolerated). */
static bool
says_no_transaction(const char *sql)
{
	const char *p = sql;
	static const char word[] = "no-transaction";

	if (strncmp(p, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
		p += 3;
	p += strspn(p, " \t");
	if (strncmp(p, "--", 2) != 0)
		return false;
	p += 2;
	p += strspn(p, " \t");
	if (strncasecmp(p, "migrated", 8) != 0)
		return false;
	p += 8;
	p += strspn(p, " \t");
	if (*p != ':')
		return false;
	p++;
	p += strspn(p, " \t");
	if (strncasecmp(p, word, sizeof(word) - 1) != 0)
		return false;
	p += sizeof(word) - 1;
	p += strspn(p, " \t\r");
	return *p == '\n' || *p == '\0';
}

/*
 * Splits "NNN_name.sql" or "NNN_name.down.sql" into its version, name and
 * whether it is a down file. false when the name has another shape.
 */
static bool
parse_name(const char *file, long long *version, char *name, size_t size,
           bool *down)
{
	const char *p = file, *us, *end;
	size_t len = strlen(file);
	long long v = 0;

	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p)) {
		if (v > (9223372036854775807LL - 9) / 10)
			return false; /* too many digits for a version */
		v = v * 10 + (*p - '0');
		p++;
	}
	if (*p != '_')
		return false;
	us = p + 1;
	if (len > 9 && strcmp(file + len - 9, ".down.sql") == 0) {
		end = file + len - 9;
		*down = true;
	} else if (len > 4 && strcmp(file + len - 4, ".sql") == 0) {
		end = file + len - 4;
		*down = false;
	} else {
		return false;
	}
	if (end <= us || (size_t)(end - us) >= size)
		return false;
	for (const char *q = us; q < end; q++)
		if (!(isalnum((unsigned char)*q) || *q == '_' || *q == '-'))
			return false;
	memcpy(name, us, (size_t)(end - us));
	name[end - us] = '\0';
	*version = v;
	return true;
}

static void
file_clear(struct schema_file *f)
{
	free(f->name);
	free(f->path);
	free(f->sql);
	free(f->down_path);
	free(f->down_sql);
}

void
schema_dir_free(struct schema_dir *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		file_clear(&d->files[i]);
	free(d->files);
	free(d->dir);
	free(d);
}

static int
by_version(const void *a, const void *b)
{
	const struct schema_file *x = a, *y = b;

	if (x->version != y->version)
		return (x->version > y->version) - (x->version < y->version);
	return strcmp(x->path, y->path); /* duplicates: a stable message */
}

/* Sorts the up files by version; -1 with err for a duplicate version. */
static int
sort_up(struct schema_dir *d, char *err, size_t errlen)
{
	if (d->n > 0)
		qsort(d->files, d->n, sizeof(*d->files), by_version);
	for (size_t i = 1; i < d->n; i++) {
		const struct schema_file *a = &d->files[i - 1],
		                         *b = &d->files[i];
		const char *base = strrchr(b->path, '/');

		if (a->version != b->version)
			continue;
		snprintf(err, errlen,
		         "%s: version %lld is also %s; each version is one "
		         "file (rename one of them)",
		         a->path, a->version,
		         base != NULL ? base + 1 : b->path);
		return -1;
	}
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
join(const char *dir, const char *file)
{
	size_t len = strlen(dir) + strlen(file) + 2;
	char *path = malloc(len);

	if (path != NULL)
		snprintf(path, len, "%s/%s", dir, file);
	return path;
}

/* The names of dir's entries ending in .sql, sorted; -1 with err. */
static int
list_sql(const char *dir, char ***names, size_t *n, char *err, size_t errlen)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t count = 0;

	*names = NULL;
	*n = 0;
	if (dp == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(dp)) != NULL) {
		size_t len = strlen(e->d_name);
		char **more;

		if (len < 4 || strcmp(e->d_name + len - 4, ".sql") != 0)
			continue;
		more = realloc(v, (count + 1) * sizeof(*v));
		if (more == NULL || (more[count] = strdup(e->d_name)) == NULL) {
			if (more != NULL)
				v = more;
			snprintf(err, errlen, "%s: out of memory", dir);
			for (size_t i = 0; i < count; i++)
				free(v[i]);
			free(v);
			closedir(dp);
			return -1;
		}
		v = more;
		count++;
	}
	closedir(dp);
	if (count > 0)
		qsort(v, count, sizeof(*v), by_name);
	*names = v;
	*n = count;
	return 0;
}

/*
 * The checksum and no-transaction mark of path; its text in *text when
 * sums is NULL, else from sums when the file is unchanged since it was
 * read (*text NULL then; dfd is path's directory, open). -1 with "path:
 * message".
 */
static int
sum_file(const char *path, struct schema_sums *sums, int dfd, char **text,
         char *checksum, bool *no_tx, char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	struct schema_sum sum;
	const struct schema_sum *hit;
	struct timespec now;
	struct stat st;
	size_t len;

	*text = NULL;
	if (sums != NULL) {
		/* by name in the open directory: no walk of the whole path */
		if (fstatat(dfd, base != NULL ? base + 1 : path, &st, 0) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		hit = schema_sums_find(sums, path, &st);
		if (hit != NULL) {
			memcpy(checksum, hit->checksum, sizeof(hit->checksum));
			*no_tx = hit->no_transaction;
			return 0;
		}
		clock_gettime(CLOCK_REALTIME, &now);
	}
	if (read_text(path, text, &len, err, errlen) < 0)
		return -1;
	schema_checksum(*text, len, checksum);
	*no_tx = says_no_transaction(*text);
	if (sums != NULL) {
		/* stat before the read: a change in between is a miss later */
		memcpy(sum.checksum, checksum, sizeof(sum.checksum));
		sum.no_transaction = *no_tx;
		schema_sums_put(sums, path, &st, &sum, &now);
		free(*text);
		*text = NULL;
	}
	return 0;
}

/* d->files are sorted by version once every up file is in. */
static struct schema_file *
find_mut(struct schema_dir *d, long long version)
{
	return (struct schema_file *)schema_dir_find(d, version);
}

/* Adds the up file names[i] to d; -1 with err. */
static int
add_up(struct schema_dir *d, struct schema_sums *sums, int dfd,
       const char *file, long long version, const char *name, char *err,
       size_t errlen)
{
	struct schema_file *f, *files;

	/* room for 16, then doubled whenever n reaches a power of two */
	if ((d->n & (d->n - 1)) == 0) {
		size_t cap = d->n < 16 ? 16 : d->n * 2;
		files = realloc(d->files, cap * sizeof(*files));
		if (files == NULL)
			goto oom;
		d->files = files;
	}
	files = d->files;
	f = &files[d->n];
	memset(f, 0, sizeof(*f));
	d->n++;
	f->version = version;
	f->name = strdup(name);
	f->path = join(d->dir, file);
	if (f->name == NULL || f->path == NULL)
		goto oom;
	return sum_file(f->path, sums, dfd, &f->sql, f->checksum,
	                &f->no_transaction, err, errlen);
oom:
	snprintf(err, errlen, "%s/%s: out of memory", d->dir, file);
	return -1;
}

static int
add_down(struct schema_dir *d, struct schema_sums *sums, int dfd,
         const char *file, long long version, const char *name, char *err,
         size_t errlen)
{
	struct schema_file *f = find_mut(d, version);
	char *path = join(d->dir, file);
	bool no_tx;

	if (path == NULL) {
		snprintf(err, errlen, "%s/%s: out of memory", d->dir, file);
		return -1;
	}
	if (f == NULL || strcmp(f->name, name) != 0) {
		if (f == NULL)
			snprintf(err, errlen,
			         "%s: a down file without its up file "
			         "%lld_%s.sql",
			         path, version, name);
		else
			snprintf(err, errlen,
			         "%s: a down file without its up file (version "
			         "%lld is %s; name them alike)",
			         path, version, f->path);
		free(path);
		return -1;
	}
	if (f->down_path != NULL) {
		snprintf(err, errlen,
		         "%s: version %lld already has the down file %s", path,
		         version, f->down_path);
		free(path);
		return -1;
	}
	f->down_path = path;
	return sum_file(path, sums, dfd, &f->down_sql, f->down_checksum, &no_tx,
	                err, errlen);
}

static struct schema_dir *
load(const char *dir, struct schema_sums *sums, char *err, size_t errlen)
{
	struct schema_dir *d = calloc(1, sizeof(*d));
	char **names = NULL;
	size_t n = 0;
	int rc = 0, dfd = -1;

	if (d == NULL || (d->dir = strdup(dir)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		free(d);
		return NULL;
	}
	if (list_sql(dir, &names, &n, err, errlen) < 0) {
		schema_dir_free(d);
		return NULL;
	}
	if (sums != NULL &&
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		rc = -1;
	}
	/* up files first, so that each down file finds its own */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		if (pass == 1 && (rc = sort_up(d, err, errlen)) < 0)
			break;
		for (size_t i = 0; i < n && rc == 0; i++) {
			char name[256];
			long long version;
			bool down;

			if (!parse_name(names[i], &version, name, sizeof(name),
			                &down)) {
				if (pass == 0) {
					snprintf(
					        err, errlen,
					        "%s/%s: expected NNN_name.sql "
					        "(or NNN_name.down.sql): digits, "
					        "'_', then letters, digits, '_' "
					        "or '-'",
					        dir, names[i]);
					rc = -1;
				}
				continue;
			}
			if (down != (pass == 1))
				continue;
			rc = down ? add_down(d, sums, dfd, names[i], version,
			                     name, err, errlen)
			          : add_up(d, sums, dfd, names[i], version,
			                   name, err, errlen);
		}
	}
	if (dfd >= 0)
		close(dfd);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc < 0) {
		schema_dir_free(d);
		return NULL;
	}
	return d;
}

struct schema_dir *
schema_dir_load(const char *dir, char *err, size_t errlen)
{
	return load(dir, NULL, err, errlen);
}

struct schema_dir *
schema_dir_scan(const char *dir, struct schema_sums *sums, char *err,
                size_t errlen)
{
	return load(dir, sums, err, errlen);
}

const struct schema_file *
schema_dir_find(const struct schema_dir *d, long long version)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->files[mid].version == version)
			return &d->files[mid];
		if (d->files[mid].version < version)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
