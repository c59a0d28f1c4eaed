/* npy.h — NumPy .npy arrays and .npz archives (a zip of .npy members, io/zip.h), read and
 * written by hood's own code. Used by the dataset files and the weight files. Not public API.
 * Reading accepts .npy versions 1-3, '<'/'>'/'|' byte orders, Fortran or C order (returned in C
 * order), the dtypes below plus '|b1' (read as U8); .npz members STORED (numpy.savez) or
 * DEFLATED (numpy.savez_compressed), every member's CRC-32 checked. Writing makes version-1 .npy
 * data (64-byte aligned header, '<' order, C order), stored or deflated in an .npz. */
#ifndef HOOD_NPY_H
#define HOOD_NPY_H

#include "hood.h"

#include <stdint.h>

typedef enum hood__dtype {
    HOOD_DTYPE_F32 = 0, /* '<f4' */
    HOOD_DTYPE_F64,     /* '<f8' */
    HOOD_DTYPE_I32,     /* '<i4' */
    HOOD_DTYPE_I64,     /* '<i8' */
    HOOD_DTYPE_U8,      /* '|u1' */
    HOOD_DTYPE_UNICODE  /* '<U<n>': n UCS-4 code points per element */
} hood__dtype;

enum { HOOD_NPY_MAX_DIMS = 8 };

/* An array read from a file, converted to native byte order and C order. */
typedef struct hood__array {
    hood__dtype dtype;
    size_t ndim;
    size_t shape[HOOD_NPY_MAX_DIMS];
    size_t item_size;   /* bytes per element (UNICODE: 4 * code points) */
    void *data;         /* malloc'd, count * item_size bytes */
    bool fortran_order; /* peek: the order stored (data read is always C order) */
} hood__array;

void hood__array_release(hood__array *array); /* frees data; the struct itself is the caller's */
size_t hood__array_count(const hood__array *array);
/* The array's values as float32 (any numeric dtype), malloc'd; HOOD_EDATA names `what` if a
 * value does not fit. */
hood_status hood__array_to_f32(const hood__array *array, const char *what, float **out);
/* Element i of data (dtype, native order) as float32; messages name `what` and `index`. */
hood_status hood__element_to_f32(hood__dtype dtype, const void *data, size_t i, const char *what,
                                 size_t index, float *out);

/* Writing an .npz: members are added one by one, the file appears whole on commit (through
 * io/atomic.h). After a failed add the caller still calls abort (or commit, which then fails). */
typedef struct hood__npz_writer hood__npz_writer;
hood_status hood__npz_writer_open(hood__npz_writer **out, const char *path);
/* The same into a caller's open output: commit finishes it without committing it; a failure
 * or abort discards it (io/atomic.h). */
hood_status hood__npz_writer_open_on(hood__npz_writer **out, hood_output *file);
/* Adds `name`.npy with the given dtype, shape (C order) and data (native little-endian). */
hood_status hood__npz_writer_add(hood__npz_writer *w, const char *name, hood__dtype dtype,
                                 const size_t *shape, size_t ndim, size_t item_size,
                                 const void *data);
hood_status hood__npz_writer_commit(hood__npz_writer *w); /* frees w */
void hood__npz_writer_abort(hood__npz_writer *w);         /* frees w; NULL is a no-op */
/* Members added from now on are DEFLATED (zlib level 6, as numpy.savez_compressed). */
void hood__npz_writer_compress(hood__npz_writer *w);
/* Tests only: write ZIP64 fields for every member even when small (they are otherwise written
 * only for members or offsets >= 4 GiB). */
void hood__npz_writer_force_zip64(hood__npz_writer *w);

/* Reading an .npz: the directory is read on open; members are decoded on request. */
typedef struct hood__npz_reader hood__npz_reader;
hood_status hood__npz_reader_open(hood__npz_reader **out, const char *path);
/* HOOD_EFORMAT naming the file and member when absent ("x.npy" is looked up as "x"). */
hood_status hood__npz_reader_get(hood__npz_reader *r, const char *name, hood__array *out);
bool hood__npz_reader_has(const hood__npz_reader *r, const char *name);
void hood__npz_reader_close(hood__npz_reader *r); /* NULL is a no-op */
/* The stored member names ("x.npy", ...), for listing; i < count. */
size_t hood__npz_reader_count(const hood__npz_reader *r);
const char *hood__npz_reader_name(const hood__npz_reader *r, size_t i);
/* An archive in memory (fuzz targets, tests); bytes must outlive the reader; name is used in
 * messages as the path would be. */
hood_status hood__npz_reader_open_buffer(hood__npz_reader **out, const void *bytes, size_t len,
                                         const char *name);

/* Row ranges, for a worker that keeps rows [first, first + count) of the first axis (a shard)
 * and never holds the rest. peek gives an array's dtype, ndim, shape and item_size (data NULL)
 * after the same header and size checks as a read. read_rows writes those rows in native byte
 * order and C order to dst, which must hold exactly count x item_size x shape[1] x ... bytes
 * (HOOD_EINVAL otherwise, or when the rows are not all in the array). An .npz member is
 * streamed whole through a 1 MiB buffer (inflated on the way when deflated), so its CRC-32 is
 * checked as by get (memory: the rows; reading: the member); a .npy file is read at those rows only
 * (C order: one read; Fortran order: one read per column, the column's rows). */
hood_status hood__npz_reader_peek(hood__npz_reader *r, const char *name, hood__array *out);
/* read_rows that also hands every element of the member, in file order and native byte order,
 * to visit in chunks (elements [first_element, first_element + count)): what a worker needs to
 * know about all the rows (e.g. the label mode) without holding them. */
typedef void (*hood__npy_visit_fn)(void *user, const void *elements, size_t first_element,
                                   size_t count);
hood_status hood__npz_reader_read_rows_visit(hood__npz_reader *r, const char *name, size_t first,
                                             size_t count, void *dst, size_t dst_bytes,
                                             hood__npy_visit_fn visit, void *user);
hood_status hood__npz_reader_read_rows(hood__npz_reader *r, const char *name, size_t first,
                                       size_t count, void *dst, size_t dst_bytes);
hood_status hood__npy_peek(const char *path, hood__array *out);
hood_status hood__npy_read_rows(const char *path, size_t first, size_t count, void *dst,
                                size_t dst_bytes);

/* A single .npy file. */
hood_status hood__npy_read(const char *path, hood__array *out);
/* The same from memory (fuzz targets, tests); name is used in messages. */
hood_status hood__npy_parse_buffer(const void *bytes, size_t len, const char *name,
                                   hood__array *out);
hood_status hood__npy_write(const char *path, hood__dtype dtype, const size_t *shape, size_t ndim,
                            size_t item_size, const void *data);
/* The same into a caller's open output (its path names the file in messages): finished, not
 * committed; discarded on failure (io/atomic.h). */
hood_status hood__npy_write_to(hood_output *file, hood__dtype dtype, const size_t *shape,
                               size_t ndim, size_t item_size, const void *data);

/* For io/npz.c: a .npy read from an .npz member (io/zip.h), which the caller opened and checks
 * with hood__zip_member_finish after a whole read; and the bytes before a .npy's data (malloc'd
 * header, its length, and the data's length for shape and dtype). */
typedef struct hood__zip_member hood__zip_member;
hood_status hood__npy_read_member(hood__zip_member *m, hood__array *out);
hood_status hood__npy_peek_member(hood__zip_member *m, hood__array *out);
hood_status hood__npy_read_rows_member(hood__zip_member *m, size_t first, size_t count, void *dst,
                                       size_t dst_bytes, hood__npy_visit_fn visit, void *user);
hood_status hood__npy_header_bytes(const char *name, hood__dtype dtype, const size_t *shape,
                                   size_t ndim, size_t item_size, unsigned char **bytes,
                                   size_t *len, size_t *data_bytes);

#endif
