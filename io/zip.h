/* zip.h — the zip container of .npz files: a byte source (file or buffer), a reader (directory,
 * ZIP64, STORED and DEFLATED members streamed in order, CRC-32 checked, bounded by their declared
 * size) and a writer (members stored or deflated, ZIP64 when needed). Knows nothing of .npy (see
 * npy.h); not a general zip library: no encryption, no multi-disk, no other methods. Not public. */
#ifndef HOOD_ZIP_H
#define HOOD_ZIP_H

#include "hood.h"

#include <stdint.h>
#include <stdio.h>

/* Little-endian fields (zip and .npy headers). */
static inline uint16_t hood__get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t hood__get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t hood__get64(const unsigned char *p)
{
    return hood__get32(p) | (uint64_t)hood__get32(p + 4) << 32;
}
static inline unsigned char *hood__put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    return p + 2;
}

/* A byte source read at any offset: a file, or a caller's buffer (fuzz targets, tests). */
typedef struct hood__source {
    FILE *file;               /* NULL for a buffer */
    const unsigned char *mem; /* the buffer */
    uint64_t len;             /* total bytes */
} hood__source;

hood_status hood__source_open_file(hood__source *s, const char *path);
void hood__source_close(hood__source *s); /* closes the file, if any */
/* n bytes at offset; a short read is a truncated file (HOOD_EFORMAT naming name and what). */
hood_status hood__source_read(const hood__source *s, uint64_t offset, void *buf, size_t n,
                              const char *name, const char *what);

/* Reading: the central directory is read on open; members are streamed on request. */
typedef struct hood__zip_reader hood__zip_reader;
hood_status hood__zip_reader_open(hood__zip_reader **out, const char *path);
/* bytes must outlive the reader; name is used in messages as the path would be. */
hood_status hood__zip_reader_open_buffer(hood__zip_reader **out, const void *bytes, size_t len,
                                         const char *name);
void hood__zip_reader_close(hood__zip_reader *r); /* NULL is a no-op */
const char *hood__zip_reader_path(const hood__zip_reader *r);
size_t hood__zip_reader_count(const hood__zip_reader *r);
const char *hood__zip_reader_name(const hood__zip_reader *r, size_t i); /* NULL if i >= count */

/* One member's bytes, uncompressed, read front to back (a deflated member cannot seek back).
 * A deflated member must declare a size deflate can produce from its compressed bytes, and
 * never yields a byte past that size. */
typedef struct hood__zip_member hood__zip_member;
hood_status hood__zip_member_open(hood__zip_reader *r, size_t i, hood__zip_member **out);
void hood__zip_member_close(hood__zip_member *m);             /* NULL is a no-op */
uint64_t hood__zip_member_size(const hood__zip_member *m);    /* declared uncompressed bytes */
const char *hood__zip_member_what(const hood__zip_member *m); /* "path: member NAME" */
/* Bytes [offset, offset + n) into buf. offset must not be before the end of the previous read
 * (bytes skipped are inflated and dropped); what ("array data") names the read in messages. */
hood_status hood__zip_member_read(hood__zip_member *m, uint64_t offset, void *buf, size_t n,
                                  const char *what);
/* After the last byte: the CRC-32 of all bytes matches the stored one, and a deflated stream
 * ends exactly at the declared size (HOOD_EFORMAT naming file and member otherwise). */
hood_status hood__zip_member_finish(hood__zip_member *m);

/* Writing: members one by one, the file appears whole on commit (through io/atomic.h). After a
 * failed add the caller still calls abort (or commit, which then fails). */
typedef struct hood__zip_writer hood__zip_writer;
hood_status hood__zip_writer_open(hood__zip_writer **out, const char *path);
/* The same into a caller's open output (hood_output): commit finishes it (flush, fsync, close)
 * without committing it; a failure or abort discards it (io/atomic.h). */
hood_status hood__zip_writer_open_on(hood__zip_writer **out, hood_output *file);
/* Members added from now on are DEFLATED at zlib level `level` (1-9; 0: STORED, the default). */
void hood__zip_writer_set_level(hood__zip_writer *w, int level);
/* Tests only: ZIP64 fields for every member even when small (otherwise only for members or
 * offsets >= 4 GiB). */
void hood__zip_writer_force_zip64(hood__zip_writer *w);
/* Adds member `name` whose bytes are parts[0..count) one after another; HOOD_EINVAL when name
 * was added before. */
hood_status hood__zip_writer_add(hood__zip_writer *w, const char *name, const void *const *parts,
                                 const size_t *lens, size_t count);
hood_status hood__zip_writer_commit(hood__zip_writer *w); /* frees w */
void hood__zip_writer_abort(hood__zip_writer *w);         /* frees w; NULL is a no-op */

#endif
