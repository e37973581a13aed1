/* Unit tests for proto/vl_frame.c: NUL-terminated messages on evbuffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "vl_frame.h"

static const char call1[] = "{\"method\":\"io.migrated.GetStatus\"}";
static const char call2[] = "{\"method\":\"io.migrated.ListJobs\","
                            "\"parameters\":{\"limit\":10}}";

static struct evbuffer *
new_buffer(void)
{
	struct evbuffer *buf = evbuffer_new();

	assert_non_null(buf);
	return buf;
}

/* Appends len bytes of data (NULs included) to buf. */
static void
add(struct evbuffer *buf, const void *data, size_t len)
{
	assert_int_equal(evbuffer_add(buf, data, len), 0);
}

/* Appends a C string and its NUL, as a peer would send it. */
static void
add_message(struct evbuffer *buf, const char *text)
{
	add(buf, text, strlen(text) + 1);
}

/* Pops one message and checks it is exactly want. */
static void
expect_pop(struct evbuffer *buf, size_t *scanned, const char *want)
{
	char *msg = NULL;
	size_t len = 12345;

	assert_int_equal(vl_frame_pop(buf, scanned, &msg, &len), VL_FRAME_OK);
	assert_non_null(msg);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(msg, want, len + 1);
	assert_int_equal(*scanned, 0);
	free(msg);
}

/* Pops and expects result (PARTIAL or TOO_BIG), with no message out. */
static void
expect_no_message(struct evbuffer *buf, size_t *scanned,
                  enum vl_frame_result result)
{
	static char sentinel[] = "sentinel";
	char *msg = sentinel;
	size_t len = 12345;

	assert_int_equal(vl_frame_pop(buf, scanned, &msg, &len), result);
	assert_null(msg);
	assert_int_equal(len, 0);
}

static void
test_one_message(void **state)
{
	struct evbuffer *buf = new_buffer();
	size_t scanned = 0;

	(void)state;
	add_message(buf, call1);
	expect_pop(buf, &scanned, call1);
	assert_int_equal(evbuffer_get_length(buf), 0);
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(scanned, 0);
	evbuffer_free(buf);
}

static void
test_empty_buffer_is_partial(void **state)
{
	struct evbuffer *buf = new_buffer();
	size_t scanned = 0;

	(void)state;
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(scanned, 0);
	evbuffer_free(buf);
}

static void
test_several_messages_in_order(void **state)
{
	struct evbuffer *buf = new_buffer();
	size_t scanned = 0;

	(void)state;
	add_message(buf, call1);
	add_message(buf, call2);
	add_message(buf, "");
	add_message(buf, "[3]");
	add(buf, "{\"par", 5);
	expect_pop(buf, &scanned, call1);
	expect_pop(buf, &scanned, call2);
	expect_pop(buf, &scanned, "");
	expect_pop(buf, &scanned, "[3]");
	/* The unfinished fifth message stays buffered. */
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(scanned, 5);
	assert_int_equal(evbuffer_get_length(buf), 5);
	add(buf, "tial\"}", 7);
	expect_pop(buf, &scanned, "{\"partial\"}");
	assert_int_equal(evbuffer_get_length(buf), 0);
	evbuffer_free(buf);
}

static void
test_byte_by_byte(void **state)
{
	struct evbuffer *buf = new_buffer();
	size_t scanned = 0;
	size_t n = strlen(call2);
	int complete = 0;

	(void)state;
	for (size_t i = 0; i <= n; i++) {
		char *msg = NULL;
		size_t len = 0;

		add(buf, call2 + i, 1);
		enum vl_frame_result r =
		        vl_frame_pop(buf, &scanned, &msg, &len);
		if (i < n) {
			assert_int_equal(r, VL_FRAME_PARTIAL);
			assert_null(msg);
			/* Everything buffered is known to hold no NUL. */
			assert_int_equal(scanned, i + 1);
			continue;
		}
		assert_int_equal(r, VL_FRAME_OK);
		assert_int_equal(len, n);
		assert_string_equal(msg, call2);
		assert_int_equal(scanned, 0);
		complete++;
		free(msg);
	}
	assert_int_equal(complete, 1);
	assert_int_equal(evbuffer_get_length(buf), 0);
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	evbuffer_free(buf);
}

/* The first message and half the second arrive in one read. */
static void
test_scanned_after_partial_tail(void **state)
{
	struct evbuffer *buf = new_buffer();
	size_t scanned = 0;
	size_t half = strlen(call2) / 2;

	(void)state;
	add_message(buf, call1);
	add(buf, call2, half);
	expect_pop(buf, &scanned, call1);
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(scanned, half);
	/* Calling again without new data changes nothing. */
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(scanned, half);
	add_message(buf, call2 + half);
	expect_pop(buf, &scanned, call2);
	evbuffer_free(buf);
}

/*
 * The search starts at *scanned: bytes already scanned are not searched
 * again (shown by hiding a NUL behind the offset), and an offset past the
 * end of the buffer (the caller drained it) starts over.
 */
static void
test_scan_starts_at_offset(void **state)
{
	struct evbuffer *buf = new_buffer();
	size_t scanned = 3;

	(void)state;
	add(buf, "ab\0cd", 5);
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(scanned, 5);

	scanned = 99;
	expect_pop(buf, &scanned, "ab");
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(scanned, 2);
	evbuffer_free(buf);
}

/* A message whose bytes lie in several evbuffer chains. */
static void
test_message_over_chains(void **state)
{
	struct evbuffer *buf = new_buffer();
	static const char part1[] = "{\"method\":";
	static const char part2[] = "\"a.b.C\"}";
	size_t scanned = 0;

	(void)state;
	assert_int_equal(
	        evbuffer_add_reference(buf, part1, strlen(part1), NULL, NULL),
	        0);
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(scanned, strlen(part1));
	assert_int_equal(
	        evbuffer_add_reference(buf, part2, sizeof(part2), NULL, NULL),
	        0);
	expect_pop(buf, &scanned, "{\"method\":\"a.b.C\"}");
	assert_int_equal(evbuffer_get_length(buf), 0);
	evbuffer_free(buf);
}

static void
test_empty_message(void **state)
{
	struct evbuffer *buf = new_buffer();
	size_t scanned = 0;

	(void)state;
	add(buf, "\0\0", 2);
	expect_pop(buf, &scanned, "");
	expect_pop(buf, &scanned, "");
	assert_int_equal(evbuffer_get_length(buf), 0);
	evbuffer_free(buf);
}

/* A buffer of n bytes of 'x' (no NUL). */
static char *
filler(size_t n)
{
	char *p = malloc(n);

	assert_non_null(p);
	memset(p, 'x', n);
	return p;
}

static void
test_max_size_accepted(void **state)
{
	struct evbuffer *buf = new_buffer();
	char *big = filler(VL_MAX_MESSAGE);
	char *msg = NULL;
	size_t scanned = 0;
	size_t len = 0;

	(void)state;
	add(buf, big, VL_MAX_MESSAGE);
	/* Exactly at the cap without its NUL: still waiting. */
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(scanned, VL_MAX_MESSAGE);
	add(buf, "", 1);
	assert_int_equal(vl_frame_pop(buf, &scanned, &msg, &len), VL_FRAME_OK);
	assert_int_equal(len, VL_MAX_MESSAGE);
	assert_memory_equal(msg, big, VL_MAX_MESSAGE);
	assert_int_equal(msg[VL_MAX_MESSAGE], '\0');
	assert_int_equal(evbuffer_get_length(buf), 0);
	free(msg);
	free(big);
	evbuffer_free(buf);
}

static void
test_over_max_without_nul_refused(void **state)
{
	struct evbuffer *buf = new_buffer();
	char *big = filler(VL_MAX_MESSAGE + 1);
	size_t scanned = 0;

	(void)state;
	add(buf, big, VL_MAX_MESSAGE);
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	add(buf, big, 1);
	expect_no_message(buf, &scanned, VL_FRAME_TOO_BIG);

	/* The same in one read, from a fresh scan. */
	evbuffer_drain(buf, evbuffer_get_length(buf));
	scanned = 0;
	add(buf, big, VL_MAX_MESSAGE + 1);
	expect_no_message(buf, &scanned, VL_FRAME_TOO_BIG);
	free(big);
	evbuffer_free(buf);
}

static void
test_over_max_with_nul_refused(void **state)
{
	struct evbuffer *buf = new_buffer();
	char *big = filler(VL_MAX_MESSAGE + 1);
	size_t scanned = 0;

	(void)state;
	add(buf, big, VL_MAX_MESSAGE + 1);
	add(buf, "", 1);
	expect_no_message(buf, &scanned, VL_FRAME_TOO_BIG);
	free(big);
	evbuffer_free(buf);
}

/* A small message is still delivered before an oversized one. */
static void
test_small_before_oversized(void **state)
{
	struct evbuffer *buf = new_buffer();
	char *big = filler(VL_MAX_MESSAGE + 1);
	size_t scanned = 0;

	(void)state;
	add_message(buf, call1);
	add(buf, big, VL_MAX_MESSAGE + 1);
	expect_pop(buf, &scanned, call1);
	expect_no_message(buf, &scanned, VL_FRAME_TOO_BIG);
	free(big);
	evbuffer_free(buf);
}

static void
test_binary_junk_is_partial(void **state)
{
	struct evbuffer *buf = new_buffer();
	size_t n = 1024 * 1024;
	unsigned char *junk = malloc(n);
	size_t scanned = 0;

	(void)state;
	assert_non_null(junk);
	for (size_t i = 0; i < n; i++)
		junk[i] = (unsigned char)(1 + (i * 7919) % 255);
	add(buf, junk, n);
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(scanned, n);
	assert_int_equal(evbuffer_get_length(buf), n);
	free(junk);
	evbuffer_free(buf);
}

static void
test_push_appends_nul(void **state)
{
	struct evbuffer *buf = new_buffer();
	unsigned char out[16];

	(void)state;
	assert_int_equal(vl_frame_push(buf, "abc", 3), 0);
	assert_int_equal(vl_frame_push(buf, "", 0), 0);
	/* Only len bytes of text are sent. */
	assert_int_equal(vl_frame_push(buf, "hello", 2), 0);
	assert_int_equal(evbuffer_get_length(buf), 8);
	assert_int_equal(evbuffer_remove(buf, out, sizeof(out)), 8);
	assert_memory_equal(out, "abc\0\0he\0", 8);
	evbuffer_free(buf);
}

static void
test_push_pop_round_trip(void **state)
{
	static const char *const texts[] = {call1, "", call2, "{}"};
	struct evbuffer *buf = new_buffer();
	size_t scanned = 0;

	(void)state;
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(vl_frame_push(buf, texts[i], strlen(texts[i])),
		                 0);
	for (size_t i = 0; i < 4; i++)
		expect_pop(buf, &scanned, texts[i]);
	expect_no_message(buf, &scanned, VL_FRAME_PARTIAL);
	assert_int_equal(evbuffer_get_length(buf), 0);
	evbuffer_free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_one_message),
	        cmocka_unit_test(test_empty_buffer_is_partial),
	        cmocka_unit_test(test_several_messages_in_order),
	        cmocka_unit_test(test_byte_by_byte),
	        cmocka_unit_test(test_scanned_after_partial_tail),
	        cmocka_unit_test(test_scan_starts_at_offset),
	        cmocka_unit_test(test_message_over_chains),
	        cmocka_unit_test(test_empty_message),
	        cmocka_unit_test(test_max_size_accepted),
	        cmocka_unit_test(test_over_max_without_nul_refused),
	        cmocka_unit_test(test_over_max_with_nul_refused),
	        cmocka_unit_test(test_small_before_oversized),
	        cmocka_unit_test(test_binary_junk_is_partial),
	        cmocka_unit_test(test_push_appends_nul),
	        cmocka_unit_test(test_push_pop_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
