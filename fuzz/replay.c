/* Runs a libFuzzer target over files and directories without libFuzzer, so
 * every corpus entry (and every crash ever found) is a regression test. */
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
	uint8_t *p;
	long n;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	/* exact-size allocation so ASan catches any over-read */
	p = malloc(n ? (size_t)n : 1);
	if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(p, (size_t)n);
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: missing\n", argv[i]);
			bad++;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				char path[4096];
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
				if (run_file(path) == 0)
					files++;
				else
					bad++;
			}
			if (d)
				closedir(d);
		} else if (run_file(argv[i]) == 0) {
			files++;
		} else {
			bad++;
		}
	}
	printf("replay: %d passed, %d failed\n", files, bad);
	return bad ? 1 : 0;
}
