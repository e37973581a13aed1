/* Unit tests for daemon/plan.c: plan files, their errors, plan directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "plan_order.h"

static char tmpdir[] = "/tmp/test_plan.XXXXXX";
static char path[256];

/* A plan header (lines 1-2) and a minimal step (4 lines). */
#define HEAD "[plan]\ntenants = SELECT t FROM m\n"
#define STEP(name)                                                             \
	"[step " name "]\ntable = t_" name "\nkey = id\n"                      \
	"apply = UPDATE t SET x = 1 WHERE id > :lo AND id <= :hi\n"

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *
write_file(const char *name, const char *text, size_t len)
{
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static struct plan *
load_ok(const char *text)
{
	char err[1024];
	struct plan *plan;

	plan = plan_load(write_file("t.plan", text, strlen(text)), err,
	                 sizeof err);
	if (plan == NULL)
		fail_msg("plan_load: %s", err);
	return plan;
}

static void
expect_error_len(const char *text, size_t len, int line, const char *msg)
{
	char err[1024], want[1024];
	const char *p = write_file("t.plan", text, len);

	assert_null(plan_load(p, err, sizeof err));
	snprintf(want, sizeof want, "%s:%d: %s", p, line, msg);
	assert_string_equal(err, want);
}

static void
expect_error(const char *text, int line, const char *msg)
{
	expect_error_len(text, strlen(text), line, msg);
}

static void
expect_sql(const struct plan_sql *sql, unsigned line, const char *text,
           const char *names)
{
	char got[256] = "";

	assert_string_equal(sql->stmt.text, text);
	for (size_t i = 0; i < sql->stmt.nparams; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s",
		         i ? "," : "", sql->stmt.names[i]);
	assert_string_equal(got, names);
	assert_int_equal(sql->line, line);
}

static const char design_example[] =
        "[plan]\n"
        "description = Move legacy tenant_id rows under their organization\n"
        "tenants = SELECT tenant_id FROM tenant_org_mappings ORDER BY tenant_id\n"
        "params  = SELECT organization_id AS org FROM tenant_org_mappings WHERE "
        "tenant_id = :tenant\n"
        "\n"
        "[check mapped]\n"
        "sql = SELECT count(*) FROM tenant_org_mappings WHERE tenant_id = "
        ":tenant\n"
        "expect = 1\n"
        "\n"
        "[step profiles]\n"
        "table = profiles\n"
        "key = id\n"
        "where = tenant_id = :tenant\n"
        "apply = UPDATE profiles SET organization_id = :org\n"
        "        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi\n"
        "backup = yes\n"
        "\n"
        "[step claims]\n"
        "after = profiles\n"
        "table = claims\n"
        "key = id\n"
        "where = tenant_id = :tenant\n"
        "apply = UPDATE claims SET organization_id = :org\n"
        "        WHERE tenant_id = :tenant AND id > :lo AND id <= :hi\n"
        "\n"
        "[verify claims]\n"
        "sql = SELECT count(*) FROM claims\n"
        "      WHERE tenant_id = :tenant AND organization_id IS DISTINCT FROM "
        ":org\n"
        "expect = 0\n";

static void
test_design_example(void **state)
{
	struct plan *p = load_ok(design_example);
	const struct plan_step *s;

	(void)state;
	assert_string_equal(p->name, "t");
	assert_string_equal(p->file, path);
	assert_string_equal(
	        p->description,
	        "Move legacy tenant_id rows under their organization");
	expect_sql(
	        &p->tenants, 3,
	        "SELECT tenant_id FROM tenant_org_mappings ORDER BY tenant_id",
	        "");
	assert_true(p->has_params);
	expect_sql(
	        &p->params, 4,
	        "SELECT organization_id AS org FROM tenant_org_mappings WHERE "
	        "tenant_id = $1",
	        "tenant");
	assert_int_equal(p->nparam_names, 1);
	assert_string_equal(p->param_names[0], "org");

	assert_int_equal(p->nchecks, 1);
	assert_string_equal(p->checks[0].name, "mapped");
	assert_int_equal(p->checks[0].line, 6);
	expect_sql(
	        &p->checks[0].sql, 7,
	        "SELECT count(*) FROM tenant_org_mappings WHERE tenant_id = $1",
	        "tenant");
	assert_string_equal(p->checks[0].expect, "1");
	assert_int_equal(p->checks[0].severity, PLAN_SEVERITY_ERROR);

	assert_int_equal(p->nsteps, 2);
	s = &p->steps[0];
	assert_string_equal(s->name, "profiles");
	assert_int_equal(s->line, 10);
	assert_null(s->schema);
	assert_string_equal(s->table, "profiles");
	assert_string_equal(s->key, "id");
	expect_sql(&s->where, 13, "tenant_id = $1", "tenant");
	expect_sql(&s->apply, 14,
	           "UPDATE profiles SET organization_id = $1\n"
	           "WHERE tenant_id = $2 AND id > $3 AND id <= $4",
	           "org,tenant,lo,hi");
	assert_int_equal(s->batch, 0);
	assert_true(s->backup);
	assert_int_equal(s->nafter, 0);
	s = &p->steps[1];
	assert_string_equal(s->name, "claims");
	assert_int_equal(s->line, 18);
	assert_false(s->backup);
	assert_int_equal(s->nafter, 1);
	assert_string_equal(s->after[0], "profiles");
	assert_ptr_equal(plan_step_find(p, "claims"), s);
	assert_null(plan_step_find(p, "nope"));

	assert_int_equal(p->nverifies, 1);
	assert_string_equal(p->verifies[0].name, "claims");
	expect_sql(
	        &p->verifies[0].sql, 27,
	        "SELECT count(*) FROM claims\n"
	        "WHERE tenant_id = $1 AND organization_id IS DISTINCT FROM $2",
	        "tenant,org");
	assert_string_equal(p->verifies[0].expect, "0");
	plan_free(p);
}

/* The sample plan shipped in conf/plans, found from this file's path. */
static void
test_demo_plan(void **state)
{
	char file[PATH_MAX], err[1024];
	const char *self = __FILE__, *tail = strstr(self, "tests/unit/");
	struct plan *p;

	(void)state;
	assert_non_null(tail);
	snprintf(file, sizeof file, "%.*sconf/plans/tenant-to-org.plan",
	         (int)(tail - self), self);
	p = plan_load(file, err, sizeof err);
	if (p == NULL)
		fail_msg("%s", err);
	assert_string_equal(p->name, "tenant-to-org");
	assert_int_equal(p->nsteps, 3);
	assert_string_equal(p->steps[0].name, "profiles");
	assert_string_equal(p->steps[1].name, "claims");
	assert_string_equal(p->steps[2].name, "documents");
	assert_string_equal(p->steps[2].after[0], "claims");
	assert_int_equal(p->steps[2].batch, 500);
	for (size_t i = 0; i < p->nsteps; i++) {
		assert_true(p->steps[i].backup);
		assert_string_equal(p->steps[i].key, "id");
		assert_int_equal(p->steps[i].apply.stmt.nparams, 4);
	}
	assert_int_equal(p->nchecks, 1);
	assert_string_equal(p->checks[0].name, "mapped");
	assert_int_equal(p->nverifies, 3);
	assert_string_equal(p->param_names[0], "org");
	plan_free(p);
}

static void
test_multiline_values(void **state)
{
	struct plan *p;

	(void)state;
	p = load_ok("[plan]\n"
	            "description = first line\n"
	            "    second line ; a comment\n"
	            "\n"
	            "    ; an indented comment line\n"
	            "    third line\n"
	            "tenants =\n"
	            "    SELECT t\n"
	            "    FROM m\n"
	            "[step a]\n"
	            "table = ta\n"
	            "key = id\n"
	            "apply = UPDATE ta\n"
	            "  SET x = 'a;b' ; comment\n"
	            "\n"
	            "  WHERE id > :lo AND id <= :hi;\n");
	assert_string_equal(p->description,
	                    "first line\nsecond line\nthird line");
	expect_sql(&p->tenants, 8, "SELECT t\nFROM m", "");
	expect_sql(&p->steps[0].apply, 13,
	           "UPDATE ta\nSET x = 'a;b'\nWHERE id > $1 AND id <= $2;",
	           "lo,hi");
	/* "key = value ;comment" and "key = a;b" */
	p = (plan_free(p), load_ok("[plan]\ndescription = a;b\ntenants = "
	                           "SELECT 1 AS t ; comment\n" STEP("a")));
	assert_string_equal(p->description, "a;b");
	assert_string_equal(p->tenants.stmt.text, "SELECT 1 AS t");
	plan_free(p);
}

/* An error inside a multi-line SQL value names the file line it is on. */
static void
test_error_lines_in_values(void **state)
{
	(void)state;
	expect_error(HEAD "[step a]\ntable = ta\nkey = id\n"
	                  "apply = UPDATE ta\n"
	                  "  SET x = 1\n"
	                  "\n"
	                  "  ; comment\n"
	                  "  WHERE id > :lo AND id <= :hii\n",
	             10, "unknown parameter :hii (known: tenant, lo, hi)");
	expect_error(HEAD "[step a]\ntable = ta\nkey = id\n"
	                  "apply = UPDATE ta SET x = 'a\n"
	                  "  b' WHERE id > :lo AND id <= :hi) \n",
	             7, "unbalanced ')'");
	/* " ;" starts a comment even inside quotes: the value is cut. */
	expect_error(HEAD "[step a]\ntable = ta\nkey = id\n"
	                  "apply = UPDATE ta SET x = 'a ;b' WHERE id > :lo AND "
	                  "id <= :hi\n",
	             6, "unterminated quoted string (started at line 1)");
}

static void
test_section_errors(void **state)
{
	char text[256], msg[256];
	const char *longname =
	        "a123456789b123456789c123456789d123456789e123456789f1234567890x";

	(void)state;
	expect_error("[foo]\n", 1,
	             "unknown section [foo]; expected [plan], [step NAME], "
	             "[check NAME] or [verify NAME]");
	expect_error(
	        HEAD "[step a b]\n", 3,
	        "unknown section [step a b]; expected [plan], [step NAME], "
	        "[check NAME] or [verify NAME]");
	expect_error("[plan x]\n", 1, "[plan] takes no name");
	expect_error(HEAD "[step]\n", 3, "[step] needs a name: [step NAME]");
	expect_error(HEAD "[verify a.b]\n", 3,
	             "bad verify name \"a.b\": use 1 to 63 letters, digits, _ "
	             "or -");
	expect_error(HEAD "[step a] junk\n", 3, "unexpected text after ']'");
	expect_error(
	        HEAD "[step a\n", 3,
	        "section header without ']'; expected [plan], [step NAME], "
	        "[check NAME] or [verify NAME]");
	expect_error(HEAD STEP("a") "[step a]\n", 7,
	             "duplicate section [step a] (first at line 3)");
	expect_error(HEAD "[check a]\nsql = SELECT 1\nexpect = 1\n[plan]\n", 6,
	             "duplicate section [plan] (first at line 1)");
	expect_error("tenants = x\n[plan]\n", 1,
	             "key tenants outside a section; start with [plan]");
	/* 64 characters: one too many (inih alone would cut it to 49). */
	snprintf(text, sizeof text, HEAD "[step %syz]\n", longname);
	snprintf(msg, sizeof msg,
	         "bad step name \"%.60s...\": use 1 to 63 letters, digits, _ "
	         "or -",
	         longname);
	expect_error(text, 3, msg);
}

static void
test_long_step_name(void **state)
{
	char text[512];
	const char *name =
	        "a123456789b123456789c123456789d123456789e123456789f1234567890";
	struct plan *p;

	(void)state;
	snprintf(text, sizeof text, HEAD STEP("%s"), name, name);
	p = load_ok(text);
	assert_string_equal(p->steps[0].name, name);
	plan_free(p);
}

static void
test_key_errors(void **state)
{
	(void)state;
	expect_error(HEAD "[step a]\ntabel = x\n", 4,
	             "unknown key tabel in [step a] (known: table, key, where, "
	             "apply, batch, after, backup, source, select, into, "
	             "upsert, defaults, clear, rejects)");
	expect_error(
	        HEAD "[step a]\ntable = t\nkey = id\napply = UPDATE t\n"
	             "WHERE x = :lo AND y = :hi\n",
	        7,
	        "\"WHERE x\" is not a key; indent the continuation lines of "
	        "a value");
	expect_error("[plan]\ntenants = a\ntenants = b\n", 3,
	             "duplicate key tenants (first at line 2)");
	expect_error(HEAD "[step a]\ntable = ta\nkey = id\n", 3,
	             "missing key apply in [step a]");
	expect_error(HEAD "[step a]\nkey = id\n", 3,
	             "missing key table in [step a]");
	expect_error(HEAD STEP("a") "[check c]\nsql = SELECT 1\n", 7,
	             "missing key expect in [check c]");
	expect_error("[plan]\ndescription = x\n" STEP("a"), 1,
	             "missing key tenants in [plan]");
	expect_error(STEP("a"), 1, "missing [plan] section");
	expect_error(HEAD "[check c]\nsql = SELECT 1\nexpect = 1\n", 1,
	             "plan has no steps; add a [step NAME] section");
	expect_error(HEAD STEP("a") "where =\n", 7, "empty value for where");
	expect_error(HEAD STEP("a") "where = ; just a comment\n", 7,
	             "empty value for where");
}

static void
test_bad_values(void **state)
{
	static const char *const batches[] = {
	        "0", "1000001", "abc", "-5", "12x", "99999999999999", "1 2"};
	char text[512], msg[256];
	struct plan *p;

	(void)state;
	for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
		snprintf(text, sizeof text, HEAD STEP("a") "batch = %s\n",
		         batches[i]);
		snprintf(
		        msg, sizeof msg,
		        "bad batch \"%s\": expected a number from 1 to 1000000",
		        batches[i]);
		expect_error(text, 7, msg);
	}
	p = load_ok(HEAD STEP("a") "batch = 1000000\n" STEP("b") "batch = 1\n");
	assert_int_equal(p->steps[0].batch, 1000000);
	assert_int_equal(p->steps[1].batch, 1);
	plan_free(p);

	expect_error(HEAD STEP("a") "backup = maybe\n", 7,
	             "bad backup \"maybe\": expected no or yes");
	expect_error(HEAD STEP("a") "[check c]\nsql = SELECT 1\nexpect = 1\n"
	                            "severity = fatal\n",
	             10, "bad severity \"fatal\": expected error or warning");
	expect_error(
	        HEAD "[step a]\ntable = a.b.c\n", 4,
	        "bad table \"a.b.c\": expected name or schema.name (letters, "
	        "digits, _; at most 63 each)");
	expect_error(
	        HEAD "[step a]\ntable = 1abc\n", 4,
	        "bad table \"1abc\": expected name or schema.name (letters, "
	        "digits, _; at most 63 each)");
	expect_error(HEAD "[step a]\ntable = \"Quoted\"\n", 4,
	             "bad table \"\"Quoted\"\": expected name or schema.name "
	             "(letters, digits, _; at most 63 each)");
	expect_error(
	        HEAD "[step a]\ntable = t\nkey = a,b\n", 5,
	        "bad key \"a,b\": expected one column name (letters, digits, "
	        "_)");
	/* Control bytes in a value are not echoed. */
	expect_error(HEAD "[step a]\ntable = t\nkey = a\x1b[2Jb\n", 5,
	             "bad key \"a?[2Jb\": expected one column name (letters, "
	             "digits, _)");

	p = load_ok(HEAD "[step a]\ntable = Public.Profiles\nkey = ID\n"
	                 "apply = UPDATE t SET x = 1 WHERE id > :lo AND id <= "
	                 ":hi\n[check c]\nsql = SELECT 1\nexpect = 1\n"
	                 "severity = warning\n");
	assert_string_equal(p->steps[0].schema, "public");
	assert_string_equal(p->steps[0].table, "profiles");
	assert_string_equal(p->steps[0].key, "id");
	expect_sql(&p->steps[0].where, 3, "true", "");
	assert_int_equal(p->checks[0].severity, PLAN_SEVERITY_WARNING);
	plan_free(p);
}

#define PARAMS_HEAD                                                            \
	"[plan]\ntenants = SELECT t FROM m\n"                                  \
	"params = SELECT o AS org FROM m WHERE t = :tenant\n"

static void
test_parameter_errors(void **state)
{
	(void)state;
	expect_error(PARAMS_HEAD "[step a]\ntable = t\nkey = id\n"
	                         "apply = UPDATE t SET o = :orgg\n"
	                         "  WHERE id > :lo AND id <= :hi\n",
	             7, "unknown parameter :orgg (known: tenant, lo, hi, org)");
	expect_error(
	        "[plan]\ntenants = SELECT t FROM m WHERE x = :tenant\n", 2,
	        "unknown parameter :tenant (this SQL takes no parameters)");
	expect_error(PARAMS_HEAD STEP("a") "where = id > :lo\n", 8,
	             "unknown parameter :lo (known: tenant, org)");
	expect_error(PARAMS_HEAD STEP("a") "[verify v]\nsql = SELECT :hi\n", 9,
	             "unknown parameter :hi (known: tenant, org)");
	expect_error(
	        HEAD "[step a]\ntable = t\nkey = id\n"
	             "apply = UPDATE t SET x = 1 WHERE id > :lo\n",
	        6,
	        "apply must use :lo and :hi to stay within the batch's key "
	        "range (e.g. id > :lo AND id <= :hi)");
	expect_error(HEAD "[step a]\ntable = t\nkey = id\n"
	                  "apply = UPDATE t SET x = $1 WHERE id > :lo\n",
	             6,
	             "positional parameter $1 is not allowed; use named "
	             "parameters such as :tenant");
	expect_error(
	        "[plan]\ntenants = SELECT t FROM m\nparams = SELECT 1 AS lo\n",
	        3,
	        "params column lo hides the built-in parameter :lo; rename "
	        "it with AS");
	expect_error("[plan]\ntenants = SELECT t FROM m\nparams = SELECT a,\n"
	             "  count(*) FROM x\n",
	             4, "params: column 2 has no name; give it one with AS");
	expect_error("[plan]\ntenants = SELECT t FROM m\n"
	             "params = SELECT a AS x, b AS x\n",
	             3, "params column x appears twice");
	expect_error("[plan]\ntenants = SELECT t FROM m\n"
	             "params = SELECT 1 AS \"my col\"\n",
	             3,
	             "params column \"my col\" cannot be a parameter name; "
	             "rename it with AS (letters, digits, _)");
	expect_error("[plan]\ntenants = SELECT t FROM m\n"
	             "params = SELECT :lo AS x\n",
	             3, "unknown parameter :lo (known: tenant)");
}

static void
test_after_errors(void **state)
{
	(void)state;
	expect_error(HEAD STEP("a") "after = b\n", 7,
	             "unknown step b in after (steps: a)");
	expect_error(HEAD STEP("a") "after = a\n", 7,
	             "dependency cycle in after: a -> a");
	expect_error(HEAD STEP("a") "after = b\n" STEP("b") "after = a\n", 7,
	             "dependency cycle in after: a -> b -> a");
	/* z waits on the cycle but is not part of it. */
	expect_error(HEAD STEP("z") "after = a\n" STEP("a") "after = b\n" STEP(
	                     "b") "after = a\n",
	             12, "dependency cycle in after: a -> b -> a");
	expect_error(HEAD STEP("x") STEP("c") "after = a\n" STEP(
	                     "a") "after = b\n" STEP("b") "after = c, x\n",
	             11, "dependency cycle in after: c -> a -> b -> c");
	expect_error(HEAD STEP("a") STEP("b") "after = a, a\n", 11,
	             "step a appears twice in after");
	expect_error(HEAD STEP("a") STEP("b") "after = a,,b\n", 11,
	             "empty step name in after");
	expect_error(HEAD STEP("a") STEP("b") "after = a b\n", 11,
	             "bad step name \"a b\" in after");
}

static void
test_step_order(void **state)
{
	struct plan *p;

	(void)state;
	p = load_ok(HEAD STEP("c") "after = b\n" STEP("b") "after = a\n" STEP(
	        "a") STEP("d") STEP("e") "after = a,\n  c\n");
	assert_int_equal(p->nsteps, 5);
	assert_string_equal(p->steps[0].name, "a");
	assert_string_equal(p->steps[1].name, "b");
	assert_string_equal(p->steps[2].name, "c");
	assert_string_equal(p->steps[3].name, "d");
	assert_string_equal(p->steps[4].name, "e");
	assert_int_equal(p->steps[4].nafter, 2);
	assert_string_equal(p->steps[4].after[1], "c");
	plan_free(p);
	/* Independent steps keep file order. */
	p = load_ok(HEAD STEP("z") STEP("y") STEP("x"));
	assert_string_equal(p->steps[0].name, "z");
	assert_string_equal(p->steps[1].name, "y");
	assert_string_equal(p->steps[2].name, "x");
	plan_free(p);
}

static void
test_select_steps(void **state)
{
	struct plan *p = load_ok(
	        HEAD STEP("c") "after = b\n" STEP("b") "after = a\n" STEP("a"));
	const char *c[] = {"c"}, *ba[] = {"b", "a"}, *bad[] = {"a", "zz"};
	bool sel[3];
	char err[256];

	(void)state;
	assert_int_equal(plan_select_steps(p, c, 1, sel, err, sizeof err), 0);
	assert_false(sel[0]);
	assert_false(sel[1]);
	assert_true(sel[2]);
	assert_int_equal(plan_select_steps(p, ba, 2, sel, err, sizeof err), 0);
	assert_true(sel[0] && sel[1] && !sel[2]);
	assert_int_equal(plan_select_steps(p, NULL, 0, sel, err, sizeof err),
	                 0);
	assert_true(sel[0] && sel[1] && sel[2]);
	assert_int_equal(plan_select_steps(p, bad, 2, sel, err, sizeof err),
	                 -1);
	assert_string_equal(err, "plan t has no step zz");
	plan_free(p);
}

static void
test_line_rules(void **state)
{
	char text[1024], line199[200], big[128];
	struct plan *p;
	FILE *f;

	(void)state;
	/* "where = " + 191 characters: 199, the most inih's buffer holds. */
	memset(line199, 'x', sizeof line199);
	memcpy(line199, "where = ", 8);
	line199[199] = '\0';
	snprintf(text, sizeof text, HEAD STEP("a") "%s\n", line199);
	p = load_ok(text);
	assert_int_equal(strlen(p->steps[0].where.stmt.text), 191);
	plan_free(p);
	snprintf(text, sizeof text, HEAD STEP("a") "%sx\n", line199);
	expect_error(text, 7,
	             "line too long (at most 199 characters); split SQL over "
	             "several indented lines");
	/* Also in a comment: inih would read the rest as a new line. */
	snprintf(text, sizeof text, HEAD "; %s%s\n" STEP("a"), line199,
	         line199);
	expect_error(text, 3,
	             "line too long (at most 199 characters); split SQL over "
	             "several indented lines");

	expect_error_len("[plan]\ntena\0nts = x\n", 20, 2, "NUL byte in line");
	expect_error(
	        "[plan]\n  tenants = x\n", 2,
	        "indented line outside a value; only the continuation lines "
	        "of a value are indented");
	expect_error(
	        "  [plan]\n", 1,
	        "indented line outside a value; only the continuation lines "
	        "of a value are indented");
	expect_error(
	        HEAD "garbage\n" STEP("a"), 3,
	        "syntax error; expected [section], key = value, an indented "
	        "continuation line, or a comment");
	/* The first problem in the file wins. */
	expect_error(
	        "[plan]\ngarbage\nbogus = 1\n", 2,
	        "syntax error; expected [section], key = value, an indented "
	        "continuation line, or a comment");

	/* CRLF line ends and a UTF-8 byte order mark are fine. */
	p = load_ok(
	        "\xef\xbb\xbf[plan]\r\ntenants = SELECT t\r\n  FROM m\r\n"
	        "[step a]\r\ntable = t\r\nkey = id\r\n"
	        "apply = UPDATE t SET x = 1 WHERE id > :lo AND id <= :hi\r\n");
	assert_string_equal(p->tenants.stmt.text, "SELECT t\nFROM m");
	plan_free(p);

	/* 1 MiB is the most a plan file may hold. */
	snprintf(path, sizeof path, "%s/t.plan", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	memset(big, 'x', sizeof big);
	big[0] = ';';
	big[99] = '\0';
	for (int i = 0; i < 11000; i++)
		fprintf(f, "%s\n", big);
	fclose(f);
	{
		char err[256], want[512];

		assert_null(plan_load(path, err, sizeof err));
		snprintf(want, sizeof want,
		         "%s:10486: file too large (at most 1048576 bytes)",
		         path);
		assert_string_equal(err, want);
	}
}

static void
test_file_errors(void **state)
{
	char err[1024], want[1024], dir[256];
	const char *p;

	(void)state;
	p = write_file("bad name.plan", HEAD STEP("a"), strlen(HEAD STEP("a")));
	assert_null(plan_load(p, err, sizeof err));
	snprintf(
	        want, sizeof want,
	        "%s: bad plan name \"bad name\": use 1 to 63 letters, digits, _ "
	        "or -",
	        p);
	assert_string_equal(err, want);
	p = write_file("t.txt", HEAD STEP("a"), strlen(HEAD STEP("a")));
	assert_null(plan_load(p, err, sizeof err));
	snprintf(want, sizeof want, "%s: plan file names end in .plan", p);
	assert_string_equal(err, want);
	assert_int_equal(unlink(p), 0);
	snprintf(dir, sizeof dir, "%s/missing.plan", tmpdir);
	assert_null(plan_load(dir, err, sizeof err));
	snprintf(want, sizeof want,
	         "%s: cannot open: No such file or directory", dir);
	assert_string_equal(err, want);
	snprintf(dir, sizeof dir, "%s/sub.plan", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_null(plan_load(dir, err, sizeof err));
	snprintf(want, sizeof want, "%s: not a regular file", dir);
	assert_string_equal(err, want);
	assert_int_equal(rmdir(dir), 0);
	snprintf(dir, sizeof dir, "%s/bad name.plan", tmpdir);
	assert_int_equal(unlink(dir), 0);
}

static void
test_dir_load(void **state)
{
	char dir[256], err[1024], want[1024];
	struct plan_set *set;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof dir, "%s/plans", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file("plans/beta.plan", HEAD STEP("b"), strlen(HEAD STEP("b")));
	write_file("plans/alpha.plan", HEAD STEP("a"), strlen(HEAD STEP("a")));
	write_file("plans/broken.plan", HEAD "[step x]\n",
	           strlen(HEAD "[step x]\n"));
	write_file("plans/bad name.plan", HEAD STEP("a"),
	           strlen(HEAD STEP("a")));
	write_file("plans/README", "not a plan", 10);
	write_file("plans/.#alpha.plan", "junk", 4);
	snprintf(path, sizeof path, "%s/plans/dir.plan", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);

	set = plan_dir_load(dir, err, sizeof err);
	assert_non_null(set);
	assert_int_equal(set->nplans, 2);
	assert_string_equal(set->plans[0]->name, "alpha");
	assert_string_equal(set->plans[1]->name, "beta");
	assert_ptr_equal(plan_set_find(set, "beta"), set->plans[1]);
	assert_null(plan_set_find(set, "broken"));
	assert_int_equal(set->nerrors, 3);
	snprintf(want, sizeof want,
	         "%s/bad name.plan: bad plan name \"bad name\": use 1 to 63 "
	         "letters, digits, _ or -",
	         dir);
	assert_string_equal(set->errors[0], want);
	snprintf(want, sizeof want,
	         "%s/broken.plan:3: missing key table in "
	         "[step x]",
	         dir);
	assert_string_equal(set->errors[1], want);
	snprintf(want, sizeof want, "%s/dir.plan: not a regular file", dir);
	assert_string_equal(set->errors[2], want);
	plan_set_free(set);

	/* A trailing slash does not double up in paths. */
	snprintf(path, sizeof path, "%s/plans/", tmpdir);
	set = plan_dir_load(path, err, sizeof err);
	assert_non_null(set);
	assert_string_equal(set->plans[0]->file + strlen(dir), "/alpha.plan");
	plan_set_free(set);

	snprintf(path, sizeof path, "%s/none", tmpdir);
	assert_null(plan_dir_load(path, err, sizeof err));
	snprintf(want, sizeof want,
	         "cannot open plan directory %s: No such file or directory",
	         path);
	assert_string_equal(err, want);

	/* Empty directory: an empty set. */
	snprintf(path, sizeof path, "%s/empty", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	set = plan_dir_load(path, err, sizeof err);
	assert_non_null(set);
	assert_int_equal(set->nplans + set->nerrors, 0);
	plan_set_free(set);
	(void)f;
}

/* Junk in, an error out: never a crash, a hang or a half-loaded plan. */
static void
test_hostile_files(void **state)
{
	static const char pieces[][24] = {
	        "[plan]\n",    "[step a]\n", "tenants = ", "apply = ",
	        "after = a\n", "  ",         ":lo",        "'",
	        "/*",          "$$",         "\n",         "=",
	        ";",           "x",          "\xff\xfe"};
	char *text = malloc(8192), err[1024];
	struct plan *p;

	(void)state;
	assert_non_null(text);
	srand(7);
	for (int round = 0; round < 300; round++) {
		size_t len = 0, n = (size_t)(rand() % 200);

		for (size_t i = 0; i < n; i++) {
			const char *s = pieces[rand() % 15];

			if (rand() % 4 == 0) {
				text[len++] = (char)(1 + rand() % 255);
				continue;
			}
			memcpy(text + len, s, strlen(s));
			len += strlen(s);
		}
		p = plan_load(write_file("t.plan", text, len), err, sizeof err);
		if (p == NULL)
			assert_true(strncmp(err, path, strlen(path)) == 0);
		plan_free(p);
	}
	free(text);
}

/* Big but legal: thousands of continuation lines, deep comment nesting. */
static void
test_big_values(void **state)
{
	size_t cap = 200000, len = 0;
	char *text = malloc(cap);
	struct plan *p;

	(void)state;
	assert_non_null(text);
	len += (size_t)sprintf(text, HEAD STEP("a") "where = true\n");
	for (int i = 0; i < 5000; i++)
		len += (size_t)sprintf(text + len,
		                       "  AND tenant_id = :tenant\n");
	for (int i = 0; i < 10000; i++)
		len += (size_t)sprintf(text + len, "%s",
		                       i % 50 ? "/*" : "\n  /*");
	for (int i = 0; i < 10000; i++)
		len += (size_t)sprintf(text + len, "%s",
		                       i % 50 ? "*/" : "\n  */");
	text[len++] = '\n';
	text[len] = '\0';
	p = load_ok(text);
	assert_int_equal(p->steps[0].where.stmt.nparams, 1);
	assert_int_equal(p->steps[0].where.line, 7);
	plan_free(p);
	free(text);
}

#define COPY_HEAD                                                              \
	"[plan]\ntenants = SELECT short_name FROM tenants\nsource = legacy\n"  \
	"pair = domain\nparameters = since\ncompare = yes\n"

static void
test_copy_step(void **state)
{
	struct plan *plan;
	const struct plan_step *s;

	(void)state;
	plan = load_ok(
	        COPY_HEAD
	        "[step users]\nsource = legacy\n"
	        "select = SELECT id, auth0_id, email, display_name AS "
	        "name FROM users\n  WHERE tenant = :tenant AND created > "
	        ":since\n"
	        "key = id\ninto = app.users\nupsert = auth0_id\n"
	        "defaults = communication_email = lower(email)\n"
	        "  note = 'imported'\n"
	        "backup = yes\n"
	        "clear = DELETE FROM users u USING tenants t\n"
	        "  WHERE u.tenant_id = t.id AND t.domain = :domain\n"
	        "[step roles]\nafter = users\nsource = legacy\n"
	        "select = SELECT id, name FROM roles WHERE t = :tenant\n"
	        "key = id\ninto = roles\nupsert = name, id nothing\n"
	        "[step links]\nsource = legacy\n"
	        "select = SELECT id, a FROM links\nkey = id\n"
	        "into = links\n"
	        "apply = INSERT INTO links SELECT a FROM staged\n");
	assert_string_equal(plan->source, "legacy");
	assert_string_equal(plan->pair, "domain");
	assert_int_equal(plan->nargs, 1);
	assert_string_equal(plan->args[0], "since");
	assert_true(plan->compare);
	s = plan_step_find(plan, "users");
	assert_int_equal(s->kind, PLAN_STEP_COPY);
	assert_string_equal(s->source, "legacy");
	assert_string_equal(s->schema, "app");
	assert_string_equal(s->table, "users");
	assert_int_equal(s->ncolumns, 4);
	assert_string_equal(s->columns[3], "name");
	assert_int_equal(s->nupsert, 1);
	assert_false(s->upsert_nothing);
	assert_int_equal(s->ndefaults, 2);
	assert_string_equal(s->default_cols[1], "note");
	assert_string_equal(s->default_exprs[0], " lower(email)");
	assert_true(s->has_clear);
	assert_string_equal(s->clear_ref, "u");
	expect_sql(&s->select, 9,
	           "SELECT id, auth0_id, email, display_name AS name FROM "
	           "users\nWHERE tenant = $1 AND created > $2",
	           "tenant,since");
	s = plan_step_find(plan, "roles");
	assert_int_equal(s->nupsert, 2);
	assert_true(s->upsert_nothing);
	s = plan_step_find(plan, "links");
	assert_int_equal(s->nupsert, 0);
	assert_false(s->has_clear);
	plan_free(plan);
}

#define COPY_STEP                                                              \
	"[step u]\nsource = legacy\nselect = SELECT id, k FROM u\nkey = id\n"  \
	"into = u\n"

static void
test_copy_errors(void **state)
{
	(void)state;
	expect_error(HEAD COPY_STEP, 3,
	             "copy step u needs either upsert = COLUMNS (merge by "
	             "natural key) or apply (SQL reading staged)");
	expect_error(HEAD COPY_STEP "upsert = k\napply = SELECT 1\n", 3,
	             "copy step u needs either upsert = COLUMNS (merge by "
	             "natural key) or apply (SQL reading staged)");
	expect_error(HEAD COPY_STEP "upsert = z\n", 8,
	             "upsert column z is neither a column of select nor one "
	             "of defaults");
	expect_error(HEAD "[step u]\nsource = legacy\nselect = SELECT id, k "
	                  "FROM u\nkey = x\ninto = u\nupsert = k\n",
	             6, "key x is not a column of select");
	expect_error(HEAD COPY_STEP "upsert = k\ntable = u\n", 9,
	             "table is for in-place steps: a copy step filters in "
	             "select and names its target table with into");
	expect_error(HEAD STEP("a") "into = x\n", 7,
	             "into is for copy steps (those with source = NAME)");
	expect_error(HEAD COPY_STEP "apply = SELECT 1 FROM staged\nbackup = "
	                            "yes\n",
	             9,
	             "backup = yes needs upsert: the daemon cannot know which "
	             "rows a free apply changes");
	expect_error(HEAD COPY_STEP "upsert = k\nbackup = yes\n"
	                            "clear = TRUNCATE u\n",
	             10,
	             "clear: with backup = yes, clear must be DELETE FROM u "
	             "... so the deleted rows can be backed up");
	expect_error(HEAD COPY_STEP "upsert = k\ndefaults = x\n", 9,
	             "defaults: expected column = expression, one per line");
	expect_error(
	        HEAD COPY_STEP "upsert = k\ndefaults = x = :tenant\n", 9,
	        "unknown parameter :tenant (this SQL takes no parameters)");
	expect_error(HEAD COPY_STEP "upsert = k\n"
	                            "apply = SELECT :nope FROM staged\n",
	             3,
	             "copy step u needs either upsert = COLUMNS (merge by "
	             "natural key) or apply (SQL reading staged)");
	expect_error(
	        "[plan]\ntenants = SELECT 1\nparameters = tenant\n" STEP("a"),
	        3, "parameter tenant hides the built-in parameter :tenant");
	expect_error(
	        "[plan]\ntenants = SELECT 1\nparameters = a, a\n" STEP("a"), 3,
	        "parameter a appears twice in parameters");
	expect_error(
	        "[plan]\ntenants = SELECT 1\nparameters = a\npair = a\n" STEP(
	                "a"),
	        4, "pair a is also one of the parameters");
	expect_error("[plan]\ntenants = SELECT 1\ncompare = maybe\n" STEP("a"),
	             3, "bad compare \"maybe\": expected no or yes");
}

/* [plan] pacing keys: batch_target, batch_min, batch_max, rows/s. */
static void
test_plan_pacing_keys(void **state)
{
	struct plan *p;

	(void)state;
	p = load_ok("[plan]\ntenants = SELECT 1\nbatch_target = 500ms\n"
	            "batch_min = 10\nbatch_max = 2000\n"
	            "max_rows_per_second = 300\n" STEP("a"));
	assert_int_equal(p->batch_target_ms, 500);
	assert_int_equal(p->batch_min, 10);
	assert_int_equal(p->batch_max, 2000);
	assert_int_equal(p->max_rows_per_second, 300);
	plan_free(p);
	p = load_ok("[plan]\ntenants = SELECT 1\n" STEP("a"));
	assert_int_equal(p->batch_target_ms, 0); /* the daemon's default */
	assert_int_equal(p->max_rows_per_second, 0);
	plan_free(p);
	expect_error("[plan]\ntenants = SELECT 1\nbatch_target = 5\n" STEP("a"),
	             3,
	             "bad batch_target \"5\": expected a duration like 500ms "
	             "or 2s");
	expect_error(
	        "[plan]\ntenants = SELECT 1\nbatch_min = 0\n" STEP("a"), 3,
	        "bad batch_min \"0\": expected a number from 1 to 1000000");
	expect_error("[plan]\ntenants = SELECT 1\nbatch_min = 50\n"
	             "batch_max = 10\n" STEP("a"),
	             4, "batch_max 10 is below batch_min 50");
}

/* plan_order.h on its own: steps in, steps out. */
static void
test_order_steps(void **state)
{
	static char a[] = "a", b[] = "b", c[] = "c", zz[] = "zz";
	static char *after_b[] = {b}, *after_c[] = {c}, *after_a[] = {a},
	            *after_zz[] = {zz};
	const unsigned lines[] = {10, 20, 30};
	struct plan_step steps[3];
	unsigned line = 0;
	char msg[256];

	(void)state;
	/* a after b, the others free: b first, then a and c as written */
	memset(steps, 0, sizeof steps);
	steps[0] = (struct plan_step){.name = a, .after = after_b, .nafter = 1};
	steps[1] = (struct plan_step){.name = c};
	steps[2] = (struct plan_step){.name = b};
	assert_int_equal(
	        plan_order_steps(steps, 3, lines, &line, msg, sizeof msg), 0);
	assert_string_equal(steps[0].name, "c");
	assert_string_equal(steps[1].name, "b");
	assert_string_equal(steps[2].name, "a");
	assert_int_equal(plan_step_index(steps, 3, "a"), 2);
	assert_int_equal(plan_step_index(steps, 3, "zz"), (size_t)-1);

	/* a after zz: unknown, at a's after line; steps left as they were */
	steps[0] =
	        (struct plan_step){.name = a, .after = after_zz, .nafter = 1};
	steps[1] = (struct plan_step){.name = b};
	assert_int_equal(
	        plan_order_steps(steps, 2, lines, &line, msg, sizeof msg), -1);
	assert_int_equal(line, 10);
	assert_string_equal(msg, "unknown step zz in after (steps: a, b)");
	assert_string_equal(steps[0].name, "a");

	/* b free; c after a after c: the cycle, from the first step left */
	steps[0] = (struct plan_step){.name = b};
	steps[1] = (struct plan_step){.name = c, .after = after_a, .nafter = 1};
	steps[2] = (struct plan_step){.name = a, .after = after_c, .nafter = 1};
	assert_int_equal(
	        plan_order_steps(steps, 3, lines, &line, msg, sizeof msg), -1);
	assert_int_equal(line, 20);
	assert_string_equal(msg, "dependency cycle in after: c -> a -> c");
	assert_string_equal(steps[0].name, "b");
}

/* A copy step (6 lines) reading from database src. */
#define CSTEP(name, src)                                                       \
	"[step " name "]\nsource = " src "\nselect = SELECT id FROM t\n"       \
	"key = id\ninto = t_" name "\nupsert = id\n"

static void
expect_sources(const struct plan *p, const char *const *dbs, size_t n, int line,
               const char *msg)
{
	char err[1024], want[1024];

	assert_int_equal(plan_check_sources(p, dbs, n, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:%d: %s", p->file, line, msg);
	assert_string_equal(err, want);
}

static void
test_sources(void **state)
{
	const char *both[] = {"legacy", "crm"}, *legacy[] = {"legacy"},
	           *crm[] = {"crm"};
	struct plan *p;
	char err[1024];

	(void)state;
	/* source crm at line 3; step a's legacy at 5, c's crm at 15 */
	p = load_ok(HEAD "source = crm\n" CSTEP("a", "legacy") STEP("b")
	                    CSTEP("c", "crm"));
	assert_int_equal(p->source_line, 3);
	assert_int_equal(plan_step_find(p, "a")->source_line, 5);
	assert_int_equal(plan_step_find(p, "c")->source_line, 15);
	assert_int_equal(plan_step_find(p, "b")->source_line, 0);
	assert_int_equal(plan_check_sources(p, both, 2, err, sizeof err), 0);
	expect_sources(p, legacy, 1, 3,
	               "unknown source crm (databases: legacy)");
	expect_sources(p, crm, 1, 5, "unknown source legacy (databases: crm)");
	expect_sources(p, NULL, 0, 3, "unknown source crm (databases: none)");
	plan_free(p);

	/* the first line, whatever the order of the steps */
	p = load_ok(HEAD CSTEP("a", "legacy") "after = c\n" CSTEP("c", "crm"));
	assert_string_equal(p->steps[0].name, "c");
	expect_sources(p, NULL, 0, 4,
	               "unknown source legacy (databases: none)");
	plan_free(p);

	/* in-place steps name no database */
	p = load_ok(HEAD STEP("a"));
	assert_int_equal(plan_check_sources(p, NULL, 0, err, sizeof err), 0);
	plan_free(p);
}

static void
test_set_refuse(void **state)
{
	char dir[256], err[1024], beta[300], delta[300], alpha[300];
	struct plan_set *set;

	(void)state;
	snprintf(dir, sizeof dir, "%s/refuse", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file("refuse/alpha.plan", HEAD STEP("a"), strlen(HEAD STEP("a")));
	write_file("refuse/beta.plan", HEAD STEP("b"), strlen(HEAD STEP("b")));
	write_file("refuse/delta.plan", HEAD STEP("d"), strlen(HEAD STEP("d")));
	write_file("refuse/gamma.plan", "[step", 5);
	set = plan_dir_load(dir, err, sizeof err);
	assert_non_null(set);
	assert_int_equal(set->nplans, 3);
	assert_int_equal(set->nerrors, 1);

	/* errors stay in file order: beta, delta, gamma */
	snprintf(beta, sizeof beta, "%s/beta.plan:3: no", dir);
	snprintf(delta, sizeof delta, "%s/delta.plan:3: no", dir);
	snprintf(alpha, sizeof alpha, "%s/alpha.plan:3: no", dir);
	assert_int_equal(plan_set_refuse(set, 2, delta), 0);
	assert_int_equal(plan_set_refuse(set, 1, beta), 0);
	assert_int_equal(set->nplans, 1);
	assert_string_equal(set->plans[0]->name, "alpha");
	assert_null(plan_set_find(set, "beta"));
	assert_int_equal(set->nerrors, 3);
	assert_string_equal(set->errors[0], beta);
	assert_string_equal(set->errors[1], delta);
	assert_non_null(strstr(set->errors[2], "/gamma.plan:1: "));
	assert_int_equal(plan_set_refuse(set, 0, alpha), 0);
	assert_int_equal(set->nplans, 0);
	assert_string_equal(set->errors[0], alpha);
	plan_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_design_example),
	        cmocka_unit_test(test_demo_plan),
	        cmocka_unit_test(test_multiline_values),
	        cmocka_unit_test(test_error_lines_in_values),
	        cmocka_unit_test(test_section_errors),
	        cmocka_unit_test(test_long_step_name),
	        cmocka_unit_test(test_key_errors),
	        cmocka_unit_test(test_bad_values),
	        cmocka_unit_test(test_parameter_errors),
	        cmocka_unit_test(test_after_errors),
	        cmocka_unit_test(test_step_order),
	        cmocka_unit_test(test_select_steps),
	        cmocka_unit_test(test_line_rules),
	        cmocka_unit_test(test_file_errors),
	        cmocka_unit_test(test_dir_load),
	        cmocka_unit_test(test_hostile_files),
	        cmocka_unit_test(test_big_values),
	        cmocka_unit_test(test_copy_step),
	        cmocka_unit_test(test_copy_errors),
	        cmocka_unit_test(test_plan_pacing_keys),
	        cmocka_unit_test(test_order_steps),
	        cmocka_unit_test(test_sources),
	        cmocka_unit_test(test_set_refuse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
