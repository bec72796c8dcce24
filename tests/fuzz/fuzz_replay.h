/*
 * fuzz_replay.h - the main() of every fuzz target when it is not linked with
 * libFuzzer: it replays each file named on the command line through
 * LLVMFuzzerTestOneInput, so `make check` runs the corpora under ASan/UBSan
 * without clang.  Included once, at the end of a target.
 */
#ifndef FUZZ_LIBFUZZER
#include <stdint.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	int i;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%s: %d inputs replayed\n", argv[0], argc - 1);
	return 0;
}
#endif
