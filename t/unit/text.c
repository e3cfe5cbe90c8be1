/*
 * text.c: the shared text helpers of lib/text.c: base64 decoding, line
 * splitting, and the printable and word checks of the parsers.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/compat.h"
#include "lib/text.h"
#include "t/unit/tap.h"

static int	text_test_decode(const char *, unsigned char *, size_t,
		    size_t *);
static void	text_test_b64(void);
static void	text_test_lines(void);
static void	text_test_graph(void);
static void	text_test_word(void);

/* Decodes s (NUL-terminated) into out; returns text_b64_decode's value. */
static int
text_test_decode(const char *s, unsigned char *out, size_t size,
    size_t *outlen)
{
	*outlen = 12345;
	return (text_b64_decode(s, strlen(s), out, size, outlen));
}

/* Padding, alphabet, spare bits and the size of the output. */
static void
text_test_b64(void)
{
	unsigned char	out[16];
	size_t		len;

	is_int(text_test_decode("aGVsbG8=", out, sizeof out, &len), 0,
	    "base64 with one '='");
	is_int(len, 5, "five bytes");
	ok(memcmp(out, "hello", 5) == 0, "decoded to hello");
	is_int(text_test_decode("aGk=", out, sizeof out, &len), 0,
	    "base64 with one '=' of four digits");
	is_int(len, 2, "two bytes");
	is_int(text_test_decode("YQ==", out, sizeof out, &len), 0,
	    "base64 with two '='");
	ok(len == 1 && out[0] == 'a', "one byte, a");
	is_int(text_test_decode("YWJj", out, sizeof out, &len), 0,
	    "base64 without padding");
	ok(len == 3 && memcmp(out, "abc", 3) == 0, "three bytes, abc");
	is_int(text_test_decode("+/+/", out, sizeof out, &len), 0,
	    "'+' and '/' are digits");
	ok(len == 3 && out[0] == 0xfb && out[1] == 0xff && out[2] == 0xbf,
	    "'+' is 62 and '/' is 63");
	is_int(text_test_decode("YR==", out, sizeof out, &len), 1,
	    "non-zero spare bits are told apart");
	ok(len == 1 && out[0] == 'a', "and still decoded");
	is_int(text_test_decode("aGF=", out, sizeof out, &len), 1,
	    "non-zero spare bits before one '='");
	is_int(text_test_decode("", out, sizeof out, &len), -1, "empty");
	is_int(text_test_decode("YWJ", out, sizeof out, &len), -1,
	    "length not a multiple of 4");
	is_int(text_test_decode("Y===", out, sizeof out, &len), -1,
	    "three '='");
	is_int(text_test_decode("Y=Jj", out, sizeof out, &len), -1,
	    "'=' inside");
	is_int(text_test_decode("YW J", out, sizeof out, &len), -1,
	    "a blank");
	is_int(text_test_decode("YW-j", out, sizeof out, &len), -1,
	    "the URL-safe alphabet is not base64");
	is_int(len, 12345, "nothing set on failure");
	is_int(text_test_decode("aGVsbG8=", out, 5, &len), 0,
	    "an output of exactly the size fits");
	is_int(text_test_decode("aGVsbG8=", out, 4, &len), -1,
	    "an output larger than size is refused");
}

/* Line ends, a "\r" before them, a last line without one, NULL. */
static void
text_test_lines(void)
{
	const char	 text[] = "one\r\ntwo\n\nthree\r\r\nlast";
	const char	*p = text, *end = text + strlen(text), *line;
	const char	*want[] = { "one", "two", "", "three\r", "last" };
	size_t		 len, i = 0;
	int		 good = 1;

	while (text_next_line(&p, end, &line, &len)) {
		if (i >= nitems(want) || len != strlen(want[i]) ||
		    memcmp(line, want[i], len) != 0)
			good = 0;
		i++;
	}
	is_int(i, 5, "five lines");
	ok(good, "each line without its end and one \\r");
	ok(p == end, "at the end of the text");
	p = text;
	end = text + 3;
	ok(text_next_line(&p, end, &line, &len) && len == 3 && p == end,
	    "stops at end, not at the NUL");
	ok(!text_next_line(&p, end, &line, &len), "nothing after the end");
	p = "a\n";
	end = p + 2;
	ok(text_next_line(&p, end, &line, &len) && len == 1,
	    "a final \\n gives one line");
	ok(!text_next_line(&p, end, &line, &len), "and no empty line after");
	p = NULL;
	ok(!text_next_line(&p, NULL, &line, &len), "NULL text has no lines");
	p = "\r";
	end = p + 1;
	ok(text_next_line(&p, end, &line, &len) && len == 0,
	    "a lone \\r is an empty line");
}

/* Printable ASCII without blanks, within 1..max bytes. */
static void
text_test_graph(void)
{
	ok(text_graph_ok("1.36.1-r2~a+b", 13, 64), "a version passes");
	ok(text_graph_ok("!~", 2, 2), "0x21 and 0x7e pass, len == max");
	ok(!text_graph_ok("abc", 3, 2), "longer than max");
	ok(!text_graph_ok("", 0, 10), "empty");
	ok(!text_graph_ok("a b", 3, 10), "a space");
	ok(!text_graph_ok("a\tb", 3, 10), "a tab");
	ok(!text_graph_ok("a\x7f", 2, 10), "DEL");
	ok(!text_graph_ok("caf\xc3\xa9", 5, 10), "UTF-8");
	ok(!text_graph_ok("a\0b", 3, 10), "NUL within len");
	ok(text_graph_ok("ab c", 2, 10), "only len bytes are looked at");
}

/* Letters, digits and the extra bytes, within 1..max bytes. */
static void
text_test_word(void)
{
	ok(text_word_ok("Busybox-1.36_x", 14, 64, "-._"), "a word passes");
	ok(text_word_ok("az09AZ", 6, 6, ""), "letters and digits, len == max");
	ok(!text_word_ok("abc", 3, 2, ""), "longer than max");
	ok(!text_word_ok("", 0, 10, "-"), "empty");
	ok(!text_word_ok("a-b", 3, 10, "_"), "a byte not in extra");
	ok(!text_word_ok("a\0b", 3, 10, "_"), "NUL is never in extra");
	ok(!text_word_ok("caf\xc3\xa9", 5, 10, "_"), "UTF-8 letters");
	ok(!text_word_ok("a b", 3, 10, "_"), "a blank");
	ok(text_word_ok("a-b c", 3, 10, "-"), "only len bytes are looked at");
	ok(text_word_ok("a,b+c", 5, 10, ",+"), "several extra bytes");
}

/* sha256sums lines: star or space, a name, nothing else. */
static void
text_test_sums(void)
{
	static const char	 hex[] = "0123456789abcdef0123456789abcdef"
				    "0123456789abcdef0123456789abcdef";
	char			 line[128];
	const char		*name;
	size_t			 len;

	snprintf(line, sizeof line, "%s *openwrt.bin", hex);
	ok(text_sums_line(line, strlen(line), &name, &len) && len == 11 &&
	    memcmp(name, "openwrt.bin", 11) == 0, "star form");
	snprintf(line, sizeof line, "%s  a", hex);
	ok(text_sums_line(line, strlen(line), &name, &len) && len == 1 &&
	    *name == 'a', "two-space form");
	snprintf(line, sizeof line, "%s *", hex);
	ok(!text_sums_line(line, strlen(line), &name, &len), "no name");
	snprintf(line, sizeof line, "%sX *a", hex);
	ok(!text_sums_line(line, strlen(line), &name, &len),
	    "65 hex-ish bytes");
	line[0] = 'G';
	ok(!text_sums_line(line, strlen(line), &name, &len), "not hex");
}

/* Runs every case. */
int
main(void)
{
	text_test_sums();
	text_test_b64();
	text_test_lines();
	text_test_graph();
	text_test_word();
	return (done_testing());
}
