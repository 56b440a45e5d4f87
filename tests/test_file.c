#include "base/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"

static char tmpdir[256];

static void put(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(s, 1, n, f) != n)
		CHECK(!"cannot write test file");
	if (f)
		fclose(f);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void test_read_missing(void)
{
	char p[400];
	struct buf b;
	struct err e;

	snprintf(p, sizeof p, "%s/none", tmpdir);
	buf_init(&b, 100);
	CHECK(file_read(p, 10, &b, &e) == 0);
	CHECK(b.len == 0 && b.p && b.p[0] == 0); /* allocated, empty */
	/* a path through a regular file (ENOTDIR) is missing too */
	snprintf(p, sizeof p, "%s/plain", tmpdir);
	put(p, "x", 1);
	snprintf(p, sizeof p, "%s/plain/sub", tmpdir);
	CHECK(file_read(p, 10, &b, &e) == 0);
	buf_free(&b);
}

static void test_read_limits(void)
{
	char p[400];
	struct buf b;
	struct err e;

	snprintf(p, sizeof p, "%s/ten", tmpdir);
	put(p, "0123456789", 10);
	buf_init(&b, 100);
	CHECK(file_read(p, 10, &b, &e) == 1); /* exactly at the limit */
	CHECK_STR((char *)b.p, "0123456789");
	/* it appends */
	CHECK(file_read(p, 10, &b, &e) == 1);
	CHECK(b.len == 20 && b.p[20] == 0);
	buf_reset(&b);
	CHECK(file_read(p, 9, &b, &e) == -1);
	CHECK(e.cls == ERR_USAGE);
	CHECK(strstr(e.msg, "/ten: larger than 9 bytes") != NULL);
	buf_free(&b);

	/* an empty file is read (1), not missing (0) */
	snprintf(p, sizeof p, "%s/empty", tmpdir);
	put(p, "", 0);
	buf_init(&b, 100);
	CHECK(file_read(p, 10, &b, &e) == 1);
	CHECK(b.len == 0 && b.p && b.p[0] == 0);
	buf_free(&b);

	/* MiB limits are named in MiB */
	snprintf(p, sizeof p, "%s/big", tmpdir);
	{
		size_t n = (1u << 20) + 1;
		char *s = calloc(1, n);

		put(p, s, n);
		free(s);
	}
	buf_init(&b, 4u << 20);
	CHECK(file_read(p, 1u << 20, &b, &e) == -1);
	CHECK(strstr(e.msg, "larger than 1 MiB") != NULL);
	buf_reset(&b);
	CHECK(file_read(p, 2u << 20, &b, &e) == 1 && b.len == (1u << 20) + 1);
	buf_free(&b);

	/* a buffer whose own max is smaller than the file */
	buf_init(&b, 5);
	CHECK(file_read(p, 2u << 20, &b, &e) == -1 && e.cls == ERR_USAGE);
	buf_free(&b);
}

static void test_read_errors(void)
{
	char p[400];
	struct buf b;
	struct err e;

	buf_init(&b, 100);
	CHECK(file_read(tmpdir, 10, &b, &e) == -1);
	CHECK(e.cls == ERR_OTHER && strstr(e.msg, "is a directory") != NULL);
	/* unreadable (skipped as root, who reads anything) */
	snprintf(p, sizeof p, "%s/secret", tmpdir);
	put(p, "s", 1);
	chmod(p, 0);
	if (geteuid() != 0) {
		CHECK(file_read(p, 10, &b, &e) == -1);
		CHECK(e.cls == ERR_OTHER && strstr(e.msg, "Permission denied") != NULL);
	}
	buf_free(&b);
}

/* Pipes have no size up front: the limit is counted on what is read. */
static void test_read_fd_pipe(void)
{
	int fds[2];
	struct buf b;
	struct err e;

	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "hello", 5) == 5);
	close(fds[1]);
	buf_init(&b, 100);
	CHECK(file_read_fd(fds[0], 5, &b, "stdin", &e) == 0);
	CHECK_STR((char *)b.p, "hello");
	close(fds[0]);
	buf_free(&b);

	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "hello!", 6) == 6);
	close(fds[1]);
	buf_init(&b, 100);
	CHECK(file_read_fd(fds[0], 5, &b, "the prompt on stdin", &e) == -1);
	CHECK_STR(e.msg, "the prompt on stdin: larger than 5 bytes");
	close(fds[0]);
	buf_free(&b);
}

static void test_write_atomic(void)
{
	char dir[400], p[500], q[500];
	struct stat st;
	struct buf b;
	struct err e;

	snprintf(dir, sizeof dir, "%s/w", tmpdir);
	CHECK(file_mkdirs(dir, 0700, &e) == 0);
	snprintf(p, sizeof p, "%s/f.json", dir);
	CHECK(file_write_atomic(p, "one", 3, 0600, &e) == 0);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(count_entries(dir) == 1); /* no temp file left */

	/* replacing keeps the mode asked for, not the old file's */
	chmod(p, 0644);
	CHECK(file_write_atomic(p, "two!", 4, 0600, &e) == 0);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 4);
	buf_init(&b, 100);
	CHECK(file_read(p, 100, &b, &e) == 1);
	CHECK_STR((char *)b.p, "two!");
	buf_free(&b);
	CHECK(count_entries(dir) == 1);

	/* an empty file */
	CHECK(file_write_atomic(p, "", 0, 0600, &e) == 0);
	CHECK(stat(p, &st) == 0 && st.st_size == 0);


	/* the target is a directory: rename fails, the temp file is removed */
	snprintf(q, sizeof q, "%s/d", dir);
	CHECK(mkdir(q, 0700) == 0);
	snprintf(q, sizeof q, "%s/d/inner", dir);
	CHECK(mkdir(q, 0700) == 0);
	snprintf(q, sizeof q, "%s/d", dir);
	CHECK(file_write_atomic(q, "x", 1, 0600, &e) == -1);
	CHECK(e.cls == ERR_OTHER && strstr(e.msg, "cannot replace") != NULL);
	CHECK(count_entries(dir) == 2); /* f.json and d */

	/* a missing directory: no temp file can be made */
	snprintf(q, sizeof q, "%s/nodir/f", dir);
	CHECK(file_write_atomic(q, "x", 1, 0600, &e) == -1);
	CHECK(strstr(e.msg, "cannot create a temp file in") != NULL);

	/* a name ending in '/' is no file name */
	snprintf(q, sizeof q, "%s/", dir);
	CHECK(file_write_atomic(q, "x", 1, 0600, &e) == -1);
}

static void test_mkdirs(void)
{
	char d[400], f[500];
	struct stat st;
	struct err e;

	snprintf(d, sizeof d, "%s/m/a/b/c", tmpdir);
	CHECK(file_mkdirs(d, 0700, &e) == 0);
	CHECK(stat(d, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	snprintf(d, sizeof d, "%s/m/a", tmpdir);
	CHECK(stat(d, &st) == 0 && (st.st_mode & 0777) == 0700);
	/* again, and with a trailing slash and doubled slashes: no error */
	snprintf(d, sizeof d, "%s/m//a/b/c/", tmpdir);
	CHECK(file_mkdirs(d, 0700, &e) == 0);
	/* an existing directory keeps its mode */
	snprintf(d, sizeof d, "%s/m", tmpdir);
	chmod(d, 0755);
	CHECK(file_mkdirs(d, 0700, &e) == 0);
	CHECK(stat(d, &st) == 0 && (st.st_mode & 0777) == 0755);
	/* a file in the way */
	snprintf(f, sizeof f, "%s/m/file", tmpdir);
	put(f, "x", 1);
	snprintf(d, sizeof d, "%s/m/file/sub", tmpdir);
	CHECK(file_mkdirs(d, 0700, &e) == -1);
	CHECK(strstr(e.msg, "cannot create") != NULL && strstr(e.msg, "/m/file/sub") != NULL);
	CHECK(file_mkdirs("", 0700, &e) == -1);
}

static void test_write_all(void)
{
	int fds[2];
	char got[8] = {0};

	CHECK(pipe(fds) == 0);
	CHECK(file_write_all(fds[1], "abcdef", 6) == 0);
	CHECK(file_write_all(fds[1], "", 0) == 0);
	close(fds[1]);
	CHECK(read(fds[0], got, sizeof got) == 6);
	CHECK_STR(got, "abcdef");
	close(fds[0]);
	CHECK(file_write_all(-1, "a", 1) == -1);
}

static void rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char p[1024];

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof p, "%s/%s", path, de->d_name);
			rm_rf(p);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/brock_test_file.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_read_missing);
	T_RUN(test_read_limits);
	T_RUN(test_read_errors);
	T_RUN(test_read_fd_pipe);
	T_RUN(test_write_atomic);
	T_RUN(test_mkdirs);
	T_RUN(test_write_all);
	rm_rf(tmpdir);
	return t_done(argv[0]);
}
