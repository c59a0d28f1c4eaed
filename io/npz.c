/* npz.c — .npz archives: NumPy arrays as members "NAME.npy" of a zip, STORED as numpy.savez
 * writes them or DEFLATED as numpy.savez_compressed does. Glue only: the container is io/zip.c,
 * the array format io/npy.c. */
#include "npy.h"

#include "atomic.h"
#include "error.h"
#include "zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hood__npz_writer {
    hood__zip_writer *zip;
    char *path;
};

/* A writer to path, or into file (the caller's output) when not NULL. */
static hood_status writer_open(hood__npz_writer **out, const char *path, hood_output *file)
{
    *out = NULL;
    hood__npz_writer *w = calloc(1, sizeof *w);
    if (w == NULL || (w->path = strdup(path != NULL ? path : "")) == NULL) {
        free(w);
        if (file != NULL)
            hood__output_discard(file);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path != NULL ? path : "");
    }
    hood_status status = file != NULL ? hood__zip_writer_open_on(&w->zip, file)
                                      : hood__zip_writer_open(&w->zip, path);
    if (status != HOOD_OK) {
        free(w->path);
        free(w);
        return status;
    }
    *out = w;
    return HOOD_OK;
}

hood_status hood__npz_writer_open(hood__npz_writer **out, const char *path)
{
    return writer_open(out, path, NULL);
}

hood_status hood__npz_writer_open_on(hood__npz_writer **out, hood_output *file)
{
    return writer_open(out, hood__output_path(file), file);
}

void hood__npz_writer_force_zip64(hood__npz_writer *w)
{
    hood__zip_writer_force_zip64(w->zip);
}

void hood__npz_writer_compress(hood__npz_writer *w)
{
    hood__zip_writer_set_level(w->zip, 6); /* zlib's default, as numpy.savez_compressed */
}

hood_status hood__npz_writer_add(hood__npz_writer *w, const char *name, hood__dtype dtype,
                                 const size_t *shape, size_t ndim, size_t item_size,
                                 const void *data)
{
    size_t name_len = name != NULL ? strlen(name) : 0;
    if (name_len == 0 || name_len > 1000 || strchr(name, '/') != NULL)
        return hood__fail(HOOD_EINVAL, "%s: bad member name", w->path);
    unsigned char *header = NULL;
    size_t header_len = 0, data_bytes = 0;
    hood_status status = hood__npy_header_bytes(w->path, dtype, shape, ndim, item_size, &header,
                                                &header_len, &data_bytes);
    if (status != HOOD_OK)
        return status;
    char member[1008];
    snprintf(member, sizeof member, "%s.npy", name);
    if (data == NULL && data_bytes > 0)
        status = hood__fail(HOOD_EINVAL, "%s: data of '%s' is NULL", w->path, name);
    const void *parts[2] = {header, data};
    size_t lens[2] = {header_len, data_bytes};
    if (status == HOOD_OK)
        status = hood__zip_writer_add(w->zip, member, parts, lens, 2);
    free(header);
    return status;
}

hood_status hood__npz_writer_commit(hood__npz_writer *w)
{
    hood_status status = hood__zip_writer_commit(w->zip);
    free(w->path);
    free(w);
    return status;
}

void hood__npz_writer_abort(hood__npz_writer *w)
{
    if (w == NULL)
        return;
    hood__zip_writer_abort(w->zip);
    free(w->path);
    free(w);
}

struct hood__npz_reader {
    hood__zip_reader *zip;
};

/* Wraps an opened zip reader (closing it on failure). */
static hood_status npz_reader_wrap(hood__zip_reader *zip, hood__npz_reader **out)
{
    hood_status status;
    hood__npz_reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        status = hood__fail(HOOD_ENOMEM, "%s: out of memory", hood__zip_reader_path(zip));
        hood__zip_reader_close(zip);
        return status;
    }
    r->zip = zip;
    *out = r;
    return HOOD_OK;
}

hood_status hood__npz_reader_open(hood__npz_reader **out, const char *path)
{
    *out = NULL;
    hood__zip_reader *zip = NULL;
    hood_status status = hood__zip_reader_open(&zip, path);
    return status == HOOD_OK ? npz_reader_wrap(zip, out) : status;
}

hood_status hood__npz_reader_open_buffer(hood__npz_reader **out, const void *bytes, size_t len,
                                         const char *name)
{
    *out = NULL;
    hood__zip_reader *zip = NULL;
    hood_status status = hood__zip_reader_open_buffer(&zip, bytes, len, name);
    return status == HOOD_OK ? npz_reader_wrap(zip, out) : status;
}

void hood__npz_reader_close(hood__npz_reader *r)
{
    if (r == NULL)
        return;
    hood__zip_reader_close(r->zip);
    free(r);
}

size_t hood__npz_reader_count(const hood__npz_reader *r)
{
    return hood__zip_reader_count(r->zip);
}

const char *hood__npz_reader_name(const hood__npz_reader *r, size_t i)
{
    return hood__zip_reader_name(r->zip, i);
}

/* The index of the member stored as name + ".npy" (or as name exactly); count when absent. */
static size_t find_member(const hood__npz_reader *r, const char *name)
{
    size_t len = strlen(name), count = hood__zip_reader_count(r->zip);
    if (len >= 4 && strcmp(name + len - 4, ".npy") == 0)
        len -= 4;
    for (size_t i = 0; i < count; i++) {
        const char *stored = hood__zip_reader_name(r->zip, i);
        if (strncmp(stored, name, len) == 0 &&
            (strcmp(stored + len, ".npy") == 0 || stored[len] == '\0'))
            return i;
    }
    return count;
}

bool hood__npz_reader_has(const hood__npz_reader *r, const char *name)
{
    return find_member(r, name) < hood__zip_reader_count(r->zip);
}

/* Opens the member holding array `name`. */
static hood_status npz_open(hood__npz_reader *r, const char *name, hood__zip_member **member)
{
    size_t i = find_member(r, name);
    if (i == hood__zip_reader_count(r->zip))
        return hood__fail(HOOD_EFORMAT, "%s: no array '%s' in the archive",
                          hood__zip_reader_path(r->zip), name);
    return hood__zip_member_open(r->zip, i, member);
}

hood_status hood__npz_reader_get(hood__npz_reader *r, const char *name, hood__array *out)
{
    memset(out, 0, sizeof *out);
    hood__zip_member *m = NULL;
    hood_status status = npz_open(r, name, &m);
    if (status == HOOD_OK)
        status = hood__npy_read_member(m, out);
    if (status == HOOD_OK && (status = hood__zip_member_finish(m)) != HOOD_OK)
        hood__array_release(out);
    hood__zip_member_close(m);
    return status;
}

hood_status hood__npz_reader_peek(hood__npz_reader *r, const char *name, hood__array *out)
{
    memset(out, 0, sizeof *out);
    hood__zip_member *m = NULL;
    hood_status status = npz_open(r, name, &m);
    if (status == HOOD_OK)
        status = hood__npy_peek_member(m, out);
    hood__zip_member_close(m);
    return status;
}

hood_status hood__npz_reader_read_rows(hood__npz_reader *r, const char *name, size_t first,
                                       size_t count, void *dst, size_t dst_bytes)
{
    return hood__npz_reader_read_rows_visit(r, name, first, count, dst, dst_bytes, NULL, NULL);
}

hood_status hood__npz_reader_read_rows_visit(hood__npz_reader *r, const char *name, size_t first,
                                             size_t count, void *dst, size_t dst_bytes,
                                             hood__npy_visit_fn visit, void *user)
{
    hood__zip_member *m = NULL;
    hood_status status = npz_open(r, name, &m);
    if (status == HOOD_OK)
        status = hood__npy_read_rows_member(m, first, count, dst, dst_bytes, visit, user);
    if (status == HOOD_OK)
        status = hood__zip_member_finish(m);
    hood__zip_member_close(m);
    return status;
}
