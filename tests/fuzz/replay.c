/* Replays fuzz inputs without libFuzzer: every file given, or every file
 * in every directory given, goes through LLVMFuzzerTestOneInput once. The
 * normal and sanitizer builds run it on the seed corpora and on
 * tests/fuzz/regressions/ (the crashers found so far). A missing directory
 * fails the replay, and so does an empty one unless "--may-be-empty" comes
 * before it (a target's regressions before its first crasher).
 *   replay CORPUS_DIR [--may-be-empty] REGRESSIONS_DIR */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	if (!f || fstat(fileno(f), &sb) || sb.st_size < 0) {
		if (f)
			fclose(f);
		return 1;
	}
	/* the input is a regular file of the corpus: read at its size */
	size_t n = (size_t)sb.st_size;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != n) {
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

/* every argument must exist and every directory hold an input: a
 * missing or empty corpus is a failure, never "replayed 0 input(s)" */
static int replay_dir(const char *dir, int may_be_empty, int *runs)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: cannot open corpus '%s'\n", dir);
		return 1;
	}
	int found = 0, bad = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		found++;
		if (run_file(p)) {
			fprintf(stderr, "replay: cannot read '%s'\n", p);
			bad = 1;
		} else {
			(*runs)++;
		}
	}
	closedir(d);
	if (!found && !may_be_empty) {
		fprintf(stderr, "replay: corpus '%s' is empty\n", dir);
		return 1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	int runs = 0, bad = 0, may_be_empty = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--may-be-empty")) {
			may_be_empty = 1; /* the next directory only */
			continue;
		}
		struct stat sb;
		if (stat(argv[i], &sb)) {
			fprintf(stderr, "replay: no corpus '%s'\n", argv[i]);
			bad = 1;
		} else if (!S_ISDIR(sb.st_mode)) {
			if (run_file(argv[i])) {
				fprintf(stderr, "replay: cannot read '%s'\n",
				        argv[i]);
				bad = 1;
			} else {
				runs++;
			}
		} else {
			bad |= replay_dir(argv[i], may_be_empty, &runs);
		}
		may_be_empty = 0;
	}
	if (!runs) {
		fprintf(stderr, "replay: no input replayed\n");
		bad = 1;
	}
	printf("replayed %d input(s)%s\n", runs, bad ? ": FAILED" : "");
	return bad;
}
