/* file: the local files brock reads and writes (config, ~/.aws files, token
 * files, caches, prompts): whole-file reads with a size limit, and crash-safe
 * replacement. Base layer (like buf, env): no policy, messages name the path. */
#ifndef BROCK_FILE_H
#define BROCK_FILE_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* Appends the whole file at path to out, at most max bytes of it.
 * Returns 1 when read, 0 when the file does not exist (ENOENT or ENOTDIR:
 * callers treat that as empty or skip it), -1 with e set: ERR_USAGE for a
 * file larger than max ("<path>: larger than 4 MiB"), ERR_OTHER for a
 * directory, I/O errors and out of memory (SPEC 1: local I/O is exit 1). Any file but a directory is read (pipes,
 * /dev/stdin), the limit counted on the bytes read. On 0 and 1 out->p is
 * allocated and NUL-terminated; the buffer's own max must allow len + max. */
int file_read(const char *path, size_t max, struct buf *out, struct err *e);

/* The same for an open descriptor (stdin); what names it in messages. Returns
 * 0 at end of file, -1 with e set. Does not close fd. */
int file_read_fd(int fd, size_t max, struct buf *out, const char *what, struct err *e);

/* Replaces path with p[0..n) so that a reader sees the old or the new content,
 * never a mix: a temp file "<dir>/.<name>.tmpXXXXXX" created with the given
 * mode, written, fsynced, renamed over path, then the directory fsynced.
 * The directory must exist. On failure no temp file is left and path is
 * unchanged; e (ERR_OTHER) says "cannot create a temp file in <dir>: ...",
 * "cannot write <tmp>: ..." or "cannot replace <path>: ...". */
int file_write_atomic(const char *path, const void *p, size_t n, unsigned mode, struct err *e);

/* mkdir -p: creates dir and its missing parents with mode (existing ones are
 * left alone). e: "cannot create <part>: <reason>". */
int file_mkdirs(const char *dir, unsigned mode, struct err *e);

/* An exclusive advisory lock (flock) on the directory dir itself, for a
 * read-modify-write of a file in it that is replaced by rename: a lock on the
 * file would guard an inode nobody opens any more, and a "<file>.lock"
 * sidecar would be left beside it. Waits for other holders. Returns the
 * descriptor to close() to release it, or -1 with e set (ERR_OTHER). A
 * symlinked directory (dotfiles) is followed: the lock creates nothing. */
int file_lock_dir(const char *dir, struct err *e);

/* Whether dir may hold brock's private files (caches, state): it must be a
 * directory owned by this user and not group/world-writable, or another user
 * could plant or swap files in it. Returns 1 when it is, 0 when it does not
 * exist (it will be created 0700), -1 with e set (ERR_USAGE, naming what is
 * wrong and the fix; what names the variable that chooses the directory). */
int file_dir_private(const char *dir, const char *what, struct err *e);

/* file_read, but a symlink at path is refused (ELOOP: ERR_OTHER) instead of
 * followed: for files in brock's own directories. */
int file_read_nofollow(const char *path, size_t max, struct buf *out, struct err *e);

/* write(2) until all n bytes are out, retrying EINTR and short writes.
 * Returns 0, or -1 with errno set. */
int file_write_all(int fd, const void *p, size_t n);

#endif
