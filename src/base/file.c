/* file: bounded whole-file reads and atomic replacement. See file.h. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_CHUNK 65536 /* bytes asked of one read(2) */
#define MIB (1024u * 1024u)

static int too_large(const char *what, size_t max, struct err *e)
{
	if (max >= MIB && max % MIB == 0)
		return err_set(e, ERR_USAGE, "%.300s: larger than %zu MiB", what, max / MIB);
	return err_set(e, ERR_USAGE, "%.300s: larger than %zu bytes", what, max);
}

int file_read_fd(int fd, size_t max, struct buf *out, const char *what, struct err *e)
{
	size_t got = 0;

	if (buf_reserve(out, 0) < 0)
		return err_set(e, ERR_OTHER, "out of memory reading %.300s", what);
	for (;;) {
		size_t want = max - got < FILE_CHUNK ? max - got : FILE_CHUNK;
		uint8_t probe;
		ssize_t r;

		if (want == 0) {
			/* at the limit: one more byte means the file is too large */
			r = read(fd, &probe, 1);
		} else {
			if (buf_reserve(out, want) < 0)
				return out->len + want > out->max
					   ? too_large(what, max, e)
					   : err_set(e, ERR_OTHER, "out of memory reading %.300s", what);
			r = read(fd, out->p + out->len, want);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(e, ERR_OTHER, "%.300s: %s", what, strerror(errno));
		if (r == 0)
			return 0;
		if (want == 0) {
			secure_zero(&probe, 1);
			return too_large(what, max, e);
		}
		out->len += (size_t)r;
		out->p[out->len] = 0;
		got += (size_t)r;
	}
}

static int read_path(const char *path, int flags, size_t max, struct buf *out, struct err *e)
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return err_set(e, ERR_OTHER, "%.300s: %s", path, strerror(errno));
		if (buf_reserve(out, 0) < 0)
			return err_set(e, ERR_OTHER, "out of memory reading %.300s", path);
		return 0;
	}
	if (fstat(fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			close(fd);
			return err_set(e, ERR_OTHER, "%.300s: is a directory", path);
		}
		/* refuse early rather than read megabytes to find out */
		if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > (uintmax_t)max) {
			close(fd);
			return too_large(path, max, e);
		}
	}
	rc = file_read_fd(fd, max, out, path, e);
	close(fd);
	return rc < 0 ? -1 : 1;
}

int file_read(const char *path, size_t max, struct buf *out, struct err *e)
{
	return read_path(path, 0, max, out, e);
}

int file_read_nofollow(const char *path, size_t max, struct buf *out, struct err *e)
{
	return read_path(path, O_NOFOLLOW, max, out, e);
}

int file_dir_private(const char *dir, const char *what, struct err *e)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, ERR_USAGE, "%.300s: %s (check %s)", dir, strerror(errno), what);
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_USAGE, "%.300s is not a directory (check %s)", dir, what);
	if (st.st_uid != geteuid())
		return err_set(e, ERR_USAGE, "%.300s is owned by another user (uid %u): refusing to "
			       "use it; set %s to a directory of your own", dir, (unsigned)st.st_uid,
			       what);
	if (st.st_mode & 022)
		return err_set(e, ERR_USAGE, "%.300s is group/world-writable (mode %03o): another user "
			       "could plant files in it; chmod 700 it or set %s", dir,
			       (unsigned)(st.st_mode & 0777), what);
	return 1;
}

int file_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int file_lock_dir(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_set(e, ERR_OTHER, "cannot open %s: %s", dir, strerror(errno));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int er = errno;

			close(fd);
			return err_set(e, ERR_OTHER, "cannot lock %s: %s", dir, strerror(er));
		}
	}
	return fd;
}

int file_mkdirs(const char *dir, unsigned mode, struct err *e)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0)
		return err_set(e, ERR_OTHER, "empty directory name");
	if (n >= sizeof p)
		return err_set(e, ERR_OTHER, "path too long: %.300s", dir);
	memcpy(p, dir, n + 1);
	/* each prefix ending before a '/' (and the whole), outermost first */
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
			return err_set(e, ERR_OTHER, "cannot create %.300s: %s", p, strerror(errno));
		p[i] = dir[i];
	}
	return 0;
}

/* "dir/base" -> dir ("." for a bare name, "/" at the root) and base. */
static int split_path(const char *path, char *dir, size_t dn, const char **base)
{
	const char *sl = strrchr(path, '/');
	int w;

	if (!sl) {
		*base = path;
		w = snprintf(dir, dn, ".");
	} else {
		*base = sl + 1;
		w = snprintf(dir, dn, "%.*s", sl == path ? 1 : (int)(sl - path), path);
	}
	return w < 0 || (size_t)w >= dn ? -1 : 0;
}

int file_write_atomic(const char *path, const void *p, size_t n, unsigned mode, struct err *e)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base;
	int fd, dfd, w;

	if (split_path(path, dir, sizeof dir, &base) < 0 || !*base)
		return err_set(e, ERR_OTHER, "bad file name: %.300s", path);
	w = snprintf(tmp, sizeof tmp, "%s/.%s.tmpXXXXXX", dir, base);
	if (w < 0 || (size_t)w >= sizeof tmp)
		return err_set(e, ERR_OTHER, "path too long: %.300s", path);
	fd = mkstemp(tmp); /* O_EXCL, mode 0600 from the start: safe in a shared dir */
	if (fd < 0)
		return err_set(e, ERR_OTHER, "cannot write %.300s: cannot create a temp file in "
			       "its directory: %s", path, strerror(errno));
	/* mkostemp(O_CLOEXEC) is not in C11 + _DEFAULT_SOURCE; the child of a
	 * credential_process closes what is left anyway */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fchmod(fd, (mode_t)mode) < 0 || file_write_all(fd, p, n) < 0 || fsync(fd) < 0) {
		int er = errno;

		close(fd);
		unlink(tmp);
		return err_set(e, ERR_OTHER, "cannot write %.300s: %s", path, strerror(er));
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int er = errno;

		unlink(tmp);
		return err_set(e, ERR_OTHER, "cannot replace %.300s: %s", path, strerror(er));
	}
	/* the rename itself must survive a crash */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
