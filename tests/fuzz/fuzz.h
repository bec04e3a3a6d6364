/*
 * fuzz.h: what every tests/fuzz/fuzz-<parser>.c shares.
 *
 * Each harness includes this file (for the prototype) and defines
 * LLVMFuzzerTestOneInput().  Built with clang -fsanitize=fuzzer it is
 * a libFuzzer target ("make fuzz").  Built with -DFUZZ_REPLAY and any
 * compiler it gets the main() below instead, which feeds each file
 * named on the command line (standard input when none is, for AFL) to
 * the same function: "make fuzz-replay" runs the corpus and
 * tests/regress/ through it.  Like kcgi's afl/ and Dovecot's fuzz-*.c.
 */
#ifndef LBAUTH_FUZZ_H
#define LBAUTH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#ifdef FUZZ_REPLAY
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Reads all of fp into a new buffer of exactly its size (so that
 * AddressSanitizer sees a read past the input, as under libFuzzer).
 */
static uint8_t *
fuzz_slurp(FILE *fp, size_t *len_r)
{
	uint8_t	*buf = NULL, *p;
	size_t	 len = 0, cap = 0, n;

	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			if ((p = realloc(buf, cap)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = p;
		}
		if ((n = fread(buf + len, 1, cap - len, fp)) == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		free(buf);
		return NULL;
	}
	/* Exact size; malloc(0) may return NULL, so keep one spare. */
	if ((p = malloc(len == 0 ? 1 : len)) == NULL) {
		free(buf);
		return NULL;
	}
	memcpy(p, buf, len);
	free(buf);
	*len_r = len;
	return p;
}

int
main(int argc, char *argv[])
{
	FILE	*fp;
	uint8_t	*buf;
	size_t	 len;
	int	 i;

	if (argc < 2) {
		if ((buf = fuzz_slurp(stdin, &len)) == NULL) {
			perror("stdin");
			return 1;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if ((fp = fopen(argv[i], "rb")) == NULL) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		buf = fuzz_slurp(fp, &len);
		fclose(fp);
		if (buf == NULL) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			return 1;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
	}
	return 0;
}
#endif /* FUZZ_REPLAY */

#endif /* !LBAUTH_FUZZ_H */
