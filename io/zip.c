/* zip.c — the zip container of .npz files: End of Central Directory (ZIP64 too), the central
 * directory, members STORED or DEFLATED (zlib's raw inflate/deflate, CRC-32 by zlib's crc32),
 * read as a forward stream bounded by the declared size, written with exact CRC and sizes.
 * Not .npy (npy.c) and not a general zip library: no encryption, no multi-disk, no data
 * descriptors written. */
#include "zip.h"

#include "atomic.h"
#include "error.h"
#include "input.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>

enum {
    ZIP_LOCAL_SIG = 0x04034b50,
    ZIP_CENTRAL_SIG = 0x02014b50,
    ZIP_END_SIG = 0x06054b50,
    ZIP64_END_SIG = 0x06064b50,
    ZIP64_LOCATOR_SIG = 0x07064b50,
    ZIP_DOS_DATE = 0x0021, /* 1980-01-01: fixed, so the same data gives the same bytes */
    ZIP_STORED = 0,
    ZIP_DEFLATED = 8,
    /* Deflate's best case is 258 bytes from 2 bits: no stream inflates more than 1032-fold. */
    DEFLATE_MAX_RATIO = 1032,
    ZIP_IO_BYTES = 1 << 16,   /* compressed bytes per read or write */
    ZLIB_MAX_CHUNK = 1 << 30, /* zlib counts in uInt: feed it at most this much at once */
};

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static unsigned char *put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 4;
}
static unsigned char *put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 8;
}

/* CRC-32 of n bytes (any n: crc32_z takes a size_t), continuing from crc. */
static uint32_t crc_update(uint32_t crc, const void *data, size_t n)
{
    return n > 0 ? (uint32_t)crc32_z(crc, data, n) : crc;
}

/* ---------------------------------------------------------------------------------------------
 * The byte source.
 * ------------------------------------------------------------------------------------------- */

hood_status hood__source_read(const hood__source *s, uint64_t offset, void *buf, size_t n,
                              const char *name, const char *what)
{
    if (offset > s->len || n > s->len - offset)
        return hood__fail(HOOD_EFORMAT,
                          "%s: truncated: %s needs %zu bytes at offset %llu, the "
                          "file has %llu",
                          name, what, n, (unsigned long long)offset, (unsigned long long)s->len);
    if (n == 0)
        return HOOD_OK;
    if (s->file == NULL) {
        memcpy(buf, s->mem + offset, n);
        return HOOD_OK;
    }
    if (offset > (uint64_t)LLONG_MAX || fseeko(s->file, (off_t)offset, SEEK_SET) != 0 ||
        fread(buf, 1, n, s->file) != n)
        return hood__fail(HOOD_EIO, "%s: read error (%s)", name, what);
    return HOOD_OK;
}

hood_status hood__source_open_file(hood__source *s, const char *path)
{
    memset(s, 0, sizeof *s);
    /* A regular file only, its size from fstat: every read is checked against it. */
    return hood__input_fopen(path, &s->file, &s->len);
}

void hood__source_close(hood__source *s)
{
    if (s->file != NULL)
        fclose(s->file);
    s->file = NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Reading the directory: End of Central Directory (ZIP64 when its fields say so) -> central
 * directory. Sizes come from the central directory, so members written with data descriptors
 * (sizes 0 in the local header) read the same.
 * ------------------------------------------------------------------------------------------- */

typedef struct zip_entry {
    char *name; /* as stored */
    uint16_t flags, method;
    uint32_t crc;
    uint64_t compressed, size, local_offset;
} zip_entry;

struct hood__zip_reader {
    hood__source src;
    char *path;
    zip_entry *entries;
    size_t count;
};

void hood__zip_reader_close(hood__zip_reader *r)
{
    if (r == NULL)
        return;
    hood__source_close(&r->src);
    for (size_t i = 0; i < r->count; i++)
        free(r->entries[i].name);
    free(r->entries);
    free(r->path);
    free(r);
}

const char *hood__zip_reader_path(const hood__zip_reader *r)
{
    return r->path;
}

size_t hood__zip_reader_count(const hood__zip_reader *r)
{
    return r->count;
}

const char *hood__zip_reader_name(const hood__zip_reader *r, size_t i)
{
    return i < r->count ? r->entries[i].name : NULL;
}

/* The ZIP64 extra field (id 1) holds, in this order, only the values whose 32-bit field is
 * 0xFFFFFFFF: uncompressed size, compressed size, local header offset. */
static hood_status read_zip64_extra(const unsigned char *extra, size_t len, zip_entry *m,
                                    bool need_size, bool need_compressed, bool need_offset,
                                    const char *path)
{
    uint64_t *wanted[3] = {need_size ? &m->size : NULL, need_compressed ? &m->compressed : NULL,
                           need_offset ? &m->local_offset : NULL};
    while (len >= 4) {
        uint16_t id = hood__get16(extra), size = hood__get16(extra + 2);
        if ((size_t)size > len - 4)
            break;
        if (id == 0x0001) {
            const unsigned char *q = extra + 4;
            size_t left = size;
            for (int k = 0; k < 3; k++) {
                if (wanted[k] == NULL)
                    continue;
                if (left < 8)
                    goto missing;
                *wanted[k] = hood__get64(q);
                q += 8;
                left -= 8;
            }
            return HOOD_OK;
        }
        extra += 4 + size;
        len -= 4 + size;
    }
missing:
    if (!need_size && !need_compressed && !need_offset)
        return HOOD_OK;
    return hood__fail(HOOD_EFORMAT, "%s: member '%s': missing or short ZIP64 extra field", path,
                      m->name);
}

/* Where the directory is: the last End of Central Directory record whose comment ends exactly
 * at the end of the file, then the ZIP64 record when the 16/32-bit fields are saturated. */
typedef struct zip_directory {
    uint64_t entries, size, offset;
} zip_directory;

/* The ZIP64 end record named by the locator just before the classic one at end_offset. */
static hood_status read_zip64_end(const hood__source *src, uint64_t end_offset, const char *path,
                                  zip_directory *dir, uint64_t *limit)
{
    unsigned char loc[20], rec[56];
    if (end_offset < 20)
        return hood__fail(HOOD_EFORMAT, "%s: ZIP64 locator missing", path);
    hood_status status = hood__source_read(src, end_offset - 20, loc, 20, path, "ZIP64 locator");
    if (status != HOOD_OK)
        return status;
    if (hood__get32(loc) != ZIP64_LOCATOR_SIG)
        return hood__fail(HOOD_EFORMAT, "%s: ZIP64 locator missing", path);
    uint64_t rec_offset = hood__get64(loc + 8);
    if (rec_offset > end_offset - 20 || end_offset - 20 - rec_offset < 56)
        return hood__fail(HOOD_EFORMAT, "%s: bad ZIP64 end of central directory offset", path);
    status = hood__source_read(src, rec_offset, rec, 56, path, "ZIP64 end of central directory");
    if (status != HOOD_OK)
        return status;
    if (hood__get32(rec) != ZIP64_END_SIG)
        return hood__fail(HOOD_EFORMAT, "%s: bad ZIP64 end of central directory", path);
    dir->entries = hood__get64(rec + 32);
    dir->size = hood__get64(rec + 40);
    dir->offset = hood__get64(rec + 48);
    *limit = rec_offset;
    return HOOD_OK;
}

static hood_status find_directory(const hood__source *src, const char *path, zip_directory *dir)
{
    if (src->len < 22)
        return hood__fail(HOOD_EFORMAT, "%s: not a .npz (zip) file: %llu bytes", path,
                          (unsigned long long)src->len);
    size_t tail_len = src->len < 22 + 65535 ? (size_t)src->len : 22 + 65535;
    unsigned char *tail = malloc(tail_len);
    if (tail == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    uint64_t tail_start = src->len - tail_len;
    hood_status status =
        hood__source_read(src, tail_start, tail, tail_len, path, "zip directory end");
    size_t end = (size_t)-1;
    for (size_t i = tail_len - 22 + 1; status == HOOD_OK && i-- > 0;) {
        if (hood__get32(tail + i) == ZIP_END_SIG &&
            i + 22 + hood__get16(tail + i + 20) == tail_len) {
            end = i;
            break;
        }
    }
    unsigned char e[22];
    if (end != (size_t)-1)
        memcpy(e, tail + end, sizeof e);
    free(tail);
    if (status != HOOD_OK)
        return status;
    if (end == (size_t)-1) {
        unsigned char magic[6];
        if (src->len >= 6 && hood__source_read(src, 0, magic, 6, path, "magic") == HOOD_OK &&
            memcmp(magic, npy_magic, 6) == 0)
            return hood__fail(HOOD_EFORMAT, "%s: is a .npy file, not a .npz archive", path);
        return hood__fail(HOOD_EFORMAT,
                          "%s: not a .npz (zip) file, or truncated: no end of "
                          "central directory",
                          path);
    }
    uint64_t end_offset = tail_start + end, limit = end_offset;
    *dir = (zip_directory){hood__get16(e + 10), hood__get32(e + 12), hood__get32(e + 16)};
    if (hood__get16(e + 4) != 0 || hood__get16(e + 6) != 0)
        return hood__fail(HOOD_EFORMAT, "%s: multi-disk zip archives are not supported", path);
    if ((dir->entries == 0xFFFF || dir->size == 0xFFFFFFFFu || dir->offset == 0xFFFFFFFFu) &&
        (status = read_zip64_end(src, end_offset, path, dir, &limit)) != HOOD_OK)
        return status;
    if (dir->offset > limit || dir->size > limit - dir->offset)
        return hood__fail(HOOD_EFORMAT,
                          "%s: central directory lies outside the file "
                          "(truncated?)",
                          path);
    if (dir->entries > dir->size / 46)
        return hood__fail(HOOD_EFORMAT, "%s: %llu entries cannot fit a %llu-byte directory", path,
                          (unsigned long long)dir->entries, (unsigned long long)dir->size);
    return HOOD_OK;
}

/* One central directory header at cd[pos..] (left bytes) into m; *used its length. */
static hood_status read_central_entry(const unsigned char *h, size_t left, uint64_t i,
                                      const char *path, zip_entry *m, size_t *used)
{
    if (left < 46 || hood__get32(h) != ZIP_CENTRAL_SIG)
        return hood__fail(HOOD_EFORMAT, "%s: corrupt central directory entry %llu", path,
                          (unsigned long long)i);
    size_t name_len = hood__get16(h + 28), extra_len = hood__get16(h + 30),
           comment_len = hood__get16(h + 32);
    if (left - 46 < name_len + extra_len + comment_len)
        return hood__fail(HOOD_EFORMAT, "%s: corrupt central directory entry %llu", path,
                          (unsigned long long)i);
    m->name = malloc(name_len + 1);
    if (m->name == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    memcpy(m->name, h + 46, name_len);
    m->name[name_len] = '\0';
    m->flags = hood__get16(h + 8);
    m->method = hood__get16(h + 10);
    m->crc = hood__get32(h + 16);
    m->compressed = hood__get32(h + 20);
    m->size = hood__get32(h + 24);
    m->local_offset = hood__get32(h + 42);
    *used = 46 + name_len + extra_len + comment_len;
    return read_zip64_extra(h + 46 + name_len, extra_len, m, m->size == 0xFFFFFFFFu,
                            m->compressed == 0xFFFFFFFFu, m->local_offset == 0xFFFFFFFFu, path);
}

static hood_status read_directory(hood__zip_reader *r)
{
    zip_directory dir = {0, 0, 0};
    hood_status status = find_directory(&r->src, r->path, &dir);
    if (status != HOOD_OK)
        return status;
    unsigned char *cd = malloc(dir.size > 0 ? (size_t)dir.size : 1);
    r->entries = calloc(dir.entries > 0 ? (size_t)dir.entries : 1, sizeof *r->entries);
    if (cd == NULL || r->entries == NULL) {
        free(cd);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for the zip directory", r->path);
    }
    status =
        hood__source_read(&r->src, dir.offset, cd, (size_t)dir.size, r->path, "central directory");
    size_t pos = 0;
    for (uint64_t i = 0; i < dir.entries && status == HOOD_OK; i++) {
        size_t used = 0;
        status = read_central_entry(cd + pos, (size_t)dir.size - pos, i, r->path,
                                    &r->entries[r->count], &used);
        if (r->entries[r->count].name != NULL)
            r->count++;
        pos += used;
    }
    free(cd);
    return status;
}

static hood_status reader_start(hood__zip_reader *r, hood__zip_reader **out)
{
    hood_status status = read_directory(r);
    if (status != HOOD_OK) {
        hood__zip_reader_close(r);
        return status;
    }
    *out = r;
    return HOOD_OK;
}

hood_status hood__zip_reader_open(hood__zip_reader **out, const char *path)
{
    *out = NULL;
    hood__zip_reader *r = calloc(1, sizeof *r);
    if (r == NULL || (r->path = strdup(path)) == NULL) {
        free(r);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    }
    hood_status status = hood__source_open_file(&r->src, path);
    if (status != HOOD_OK) {
        hood__zip_reader_close(r);
        return status;
    }
    return reader_start(r, out);
}

hood_status hood__zip_reader_open_buffer(hood__zip_reader **out, const void *bytes, size_t len,
                                         const char *name)
{
    *out = NULL;
    hood__zip_reader *r = calloc(1, sizeof *r);
    if (r == NULL || (r->path = strdup(name)) == NULL) {
        free(r);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", name);
    }
    r->src.mem = bytes;
    r->src.len = len;
    return reader_start(r, out);
}

/* ---------------------------------------------------------------------------------------------
 * Reading a member: front to back through one input buffer; inflate never writes past what the
 * caller asked for, and the caller never asks past the declared size, so a deflate bomb costs
 * at most the declared size (checked against deflate's ratio here and against memory by the
 * caller that allocates), never more.
 * ------------------------------------------------------------------------------------------- */

struct hood__zip_member {
    const hood__source *src;
    const zip_entry *e;
    uint64_t data;   /* offset of the member's (compressed) bytes in src */
    uint64_t pos;    /* uncompressed bytes delivered so far */
    uint64_t in_pos; /* compressed bytes handed to inflate so far */
    uint32_t crc;
    bool deflated, z_ready, ended;
    z_stream z;
    char what[512]; /* "path: member NAME" */
    unsigned char in[ZIP_IO_BYTES];
};

void hood__zip_member_close(hood__zip_member *m)
{
    if (m == NULL)
        return;
    if (m->z_ready)
        inflateEnd(&m->z);
    free(m);
}

uint64_t hood__zip_member_size(const hood__zip_member *m)
{
    return m->e->size;
}

const char *hood__zip_member_what(const hood__zip_member *m)
{
    return m->what;
}

/* The checks every read makes: method, encryption, sizes, local header; sets m->data. */
static hood_status member_locate(const hood__zip_reader *r, hood__zip_member *m)
{
    const zip_entry *e = m->e;
    const char *what = m->what;
    if (e->flags & 1)
        return hood__fail(HOOD_EUNSUPPORTED, "%s: is encrypted", what);
    if (e->method != ZIP_STORED && e->method != ZIP_DEFLATED)
        return hood__fail(HOOD_EUNSUPPORTED, "%s: zip compression method %u not supported", what,
                          (unsigned)e->method);
    if (e->method == ZIP_STORED && e->compressed != e->size)
        return hood__fail(HOOD_EFORMAT, "%s: stored member with different sizes", what);
    if (e->method == ZIP_DEFLATED && e->size / DEFLATE_MAX_RATIO > e->compressed)
        return hood__fail(HOOD_EFORMAT,
                          "%s: declares %llu bytes from %llu compressed bytes, more than deflate "
                          "can produce (a zip bomb?)",
                          what, (unsigned long long)e->size, (unsigned long long)e->compressed);
    unsigned char local[30];
    hood_status status =
        hood__source_read(&r->src, e->local_offset, local, 30, what, "local header");
    if (status != HOOD_OK)
        return status;
    if (hood__get32(local) != ZIP_LOCAL_SIG)
        return hood__fail(HOOD_EFORMAT, "%s: bad local header", what);
    m->data = e->local_offset + 30 + hood__get16(local + 26) + hood__get16(local + 28);
    if (m->data > r->src.len || e->compressed > r->src.len - m->data)
        return hood__fail(HOOD_EFORMAT, "%s: truncated: %llu bytes of data announced", what,
                          (unsigned long long)e->compressed);
    return HOOD_OK;
}

hood_status hood__zip_member_open(hood__zip_reader *r, size_t i, hood__zip_member **out)
{
    *out = NULL;
    if (i >= r->count)
        return hood__fail(HOOD_EINVAL, "%s: no member %zu", r->path, i);
    hood__zip_member *m = calloc(1, sizeof *m);
    if (m == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", r->path);
    m->src = &r->src;
    m->e = &r->entries[i];
    m->deflated = m->e->method == ZIP_DEFLATED;
    snprintf(m->what, sizeof m->what, "%s: member %s", r->path, m->e->name);
    hood_status status = member_locate(r, m);
    if (status == HOOD_OK && m->deflated) {
        if (inflateInit2(&m->z, -MAX_WBITS) != Z_OK) /* raw deflate, as zip stores it */
            status = hood__fail(HOOD_ENOMEM, "%s: out of memory for inflate", m->what);
        else
            m->z_ready = true;
    }
    if (status != HOOD_OK) {
        hood__zip_member_close(m);
        return status;
    }
    *out = m;
    return HOOD_OK;
}

/* Gives inflate more compressed bytes when it has none left. */
static hood_status member_refill(hood__zip_member *m)
{
    if (m->z.avail_in > 0 || m->in_pos >= m->e->compressed)
        return HOOD_OK;
    uint64_t left = m->e->compressed - m->in_pos;
    size_t n = left < sizeof m->in ? (size_t)left : sizeof m->in;
    hood_status status =
        hood__source_read(m->src, m->data + m->in_pos, m->in, n, m->what, "deflate data");
    if (status != HOOD_OK)
        return status;
    m->in_pos += n;
    m->z.next_in = m->in;
    m->z.avail_in = (uInt)n;
    return HOOD_OK;
}

/* One inflate call into out (cap bytes); *got the bytes produced. */
static hood_status member_inflate(hood__zip_member *m, unsigned char *out, size_t cap, size_t *got)
{
    hood_status status = member_refill(m);
    if (status != HOOD_OK)
        return status;
    m->z.next_out = out;
    m->z.avail_out = (uInt)(cap < ZLIB_MAX_CHUNK ? cap : ZLIB_MAX_CHUNK);
    uInt asked = m->z.avail_out;
    int ret = inflate(&m->z, Z_NO_FLUSH);
    *got = asked - m->z.avail_out;
    /* zlib makes progress whenever it has input and room: a call that made none, or that
     * used the last compressed byte without ending the stream, means the data stops early. */
    bool stalled = ret == Z_BUF_ERROR || (ret == Z_OK && *got == 0 && m->z.avail_in == 0 &&
                                          m->in_pos >= m->e->compressed);
    if (ret == Z_STREAM_END)
        m->ended = true;
    else if (ret == Z_MEM_ERROR)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory to inflate", m->what);
    else if (stalled)
        return hood__fail(HOOD_EFORMAT, "%s: corrupt deflate data (it ends early)", m->what);
    else if (ret != Z_OK)
        return hood__fail(HOOD_EFORMAT, "%s: corrupt deflate data (%s)", m->what,
                          m->z.msg != NULL ? m->z.msg : "zlib error");
    return HOOD_OK;
}

/* The next n uncompressed bytes into buf. */
static hood_status member_produce(hood__zip_member *m, unsigned char *buf, size_t n,
                                  const char *what)
{
    hood_status status = HOOD_OK;
    if (!m->deflated) {
        status = hood__source_read(m->src, m->data + m->pos, buf, n, m->what, what);
    } else {
        for (size_t done = 0; done < n && status == HOOD_OK;) {
            size_t got = 0;
            if (m->ended)
                return hood__fail(
                    HOOD_EFORMAT, "%s: inflates to %llu bytes, fewer than the %llu declared",
                    m->what, (unsigned long long)(m->pos + done), (unsigned long long)m->e->size);
            status = member_inflate(m, buf + done, n - done, &got);
            done += got;
        }
    }
    if (status != HOOD_OK)
        return status;
    m->crc = crc_update(m->crc, buf, n);
    m->pos += n;
    return HOOD_OK;
}

hood_status hood__zip_member_read(hood__zip_member *m, uint64_t offset, void *buf, size_t n,
                                  const char *what)
{
    uint64_t size = m->e->size;
    if (offset < m->pos)
        return hood__fail(HOOD_EINVAL,
                          "%s: %s read at byte %llu after byte %llu (a member reads "
                          "front to back)",
                          m->what, what, (unsigned long long)offset, (unsigned long long)m->pos);
    if (offset > size || n > size - offset)
        return hood__fail(HOOD_EFORMAT,
                          "%s: truncated: %s needs %zu bytes at offset %llu, the member has %llu",
                          m->what, what, n, (unsigned long long)offset, (unsigned long long)size);
    unsigned char skip[4096];
    while (m->pos < offset) {
        uint64_t gap = offset - m->pos;
        hood_status status =
            member_produce(m, skip, gap < sizeof skip ? (size_t)gap : sizeof skip, what);
        if (status != HOOD_OK)
            return status;
    }
    return n > 0 ? member_produce(m, buf, n, what) : HOOD_OK;
}

hood_status hood__zip_member_finish(hood__zip_member *m)
{
    if (m->pos != m->e->size)
        return hood__fail(HOOD_EINVAL, "%s: %llu of %llu bytes read before the CRC-32 check",
                          m->what, (unsigned long long)m->pos, (unsigned long long)m->e->size);
    /* The stream must end here: one more byte would be past the declared size. */
    while (m->deflated && !m->ended) {
        unsigned char extra;
        size_t got = 0;
        hood_status status = member_inflate(m, &extra, 1, &got);
        if (status != HOOD_OK)
            return status;
        if (got > 0)
            return hood__fail(HOOD_EFORMAT,
                              "%s: inflates beyond its declared size of %llu bytes (a zip "
                              "bomb?)",
                              m->what, (unsigned long long)m->e->size);
    }
    if (m->crc == m->e->crc)
        return HOOD_OK;
    return hood__fail(HOOD_EFORMAT,
                      "%s: CRC-32 mismatch (stored %08x, data %08x): the file is corrupt", m->what,
                      (unsigned)m->e->crc, (unsigned)m->crc);
}

/* ---------------------------------------------------------------------------------------------
 * Writing: each member is a local header and its bytes, nothing else (a stored member's CRC is
 * computed first; a deflated member's header is rewritten once its CRC and compressed size are
 * known, so no data descriptor is needed); then the central directory. ZIP64 fields appear only
 * when a size or offset needs them (or when forced, for tests).
 * ------------------------------------------------------------------------------------------- */

typedef struct zip_out {
    char *name;
    uint16_t method;
    bool zip64; /* sizes in ZIP64 fields, in the local and the central header */
    uint32_t crc;
    uint64_t size, compressed, offset;
} zip_out;

struct hood__zip_writer {
    hood__atomic_file *file;
    bool borrowed; /* file is the caller's: finished, not committed; discarded on failure */
    FILE *stream;
    char *path;
    uint64_t offset; /* bytes written so far */
    zip_out *entries;
    size_t count, capacity;
    bool force_zip64;
    int level;
};

static hood_status write_all(FILE *f, const void *data, size_t n, const char *path)
{
    if (n > 0 && fwrite(data, 1, n, f) != n)
        return hood__fail(HOOD_EIO, "%s: write failed", path);
    return HOOD_OK;
}

static hood_status zip_write(hood__zip_writer *w, const void *data, size_t n)
{
    hood_status status = write_all(w->stream, data, n, w->path);
    if (status == HOOD_OK)
        w->offset += n;
    return status;
}

/* A writer into file (opened here when NULL, from path). */
static hood_status writer_open(hood__zip_writer **out, const char *path, hood_output *file)
{
    *out = NULL;
    hood__zip_writer *w = calloc(1, sizeof *w);
    if (w == NULL || (w->path = strdup(path != NULL ? path : "")) == NULL) {
        free(w);
        hood__output_discard(file);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path != NULL ? path : "");
    }
    w->borrowed = file != NULL;
    w->file = file;
    hood_status status = file != NULL ? HOOD_OK : hood__atomic_open(&w->file, path);
    if (status == HOOD_OK && (w->stream = hood__atomic_stream(w->file)) == NULL)
        status = hood__fail(HOOD_EINVAL, "%s: the output was finished before", path);
    if (status != HOOD_OK) {
        if (w->borrowed)
            hood__output_discard(w->file);
        free(w->path);
        free(w);
        return status;
    }
    *out = w;
    return HOOD_OK;
}

hood_status hood__zip_writer_open(hood__zip_writer **out, const char *path)
{
    return writer_open(out, path, NULL);
}

hood_status hood__zip_writer_open_on(hood__zip_writer **out, hood_output *file)
{
    return writer_open(out, hood__output_path(file), file);
}

void hood__zip_writer_force_zip64(hood__zip_writer *w)
{
    w->force_zip64 = true;
}

void hood__zip_writer_set_level(hood__zip_writer *w, int level)
{
    w->level = level < 0 ? 0 : level > 9 ? 9 : level;
}

/* The local header of e (30 bytes, the name, the ZIP64 extra when e->zip64) into buf; its
 * length. buf holds 30 + 20 + the name. */
static size_t local_header(const zip_out *e, unsigned char *buf)
{
    size_t name_len = strlen(e->name);
    unsigned char *p = buf;
    p = put32(p, ZIP_LOCAL_SIG);
    p = hood__put16(p, e->zip64 ? 45 : 20); /* version needed: 4.5 for ZIP64 */
    p = hood__put16(p, 0);                  /* flags */
    p = hood__put16(p, e->method);
    p = hood__put16(p, 0); /* time */
    p = hood__put16(p, ZIP_DOS_DATE);
    p = put32(p, e->crc);
    p = put32(p, e->zip64 ? 0xFFFFFFFFu : (uint32_t)e->compressed);
    p = put32(p, e->zip64 ? 0xFFFFFFFFu : (uint32_t)e->size);
    p = hood__put16(p, (uint16_t)name_len);
    p = hood__put16(p, e->zip64 ? 20 : 0);
    memcpy(p, e->name, name_len);
    p += name_len;
    if (e->zip64) {
        p = hood__put16(p, 0x0001);
        p = hood__put16(p, 16);
        p = put64(p, e->size); /* uncompressed, then compressed, as the spec orders them */
        p = put64(p, e->compressed);
    }
    return (size_t)(p - buf);
}

/* Deflates parts into the file after the local header; sets e->crc and e->compressed. */
static hood_status deflate_parts(hood__zip_writer *w, zip_out *e, const void *const *parts,
                                 const size_t *lens, size_t count)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    unsigned char *out = malloc(ZIP_IO_BYTES);
    if (out == NULL ||
        deflateInit2(&z, w->level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(out);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for deflate", w->path);
    }
    hood_status status = HOOD_OK;
    uint64_t start = w->offset;
    for (size_t k = 0; k <= count && status == HOOD_OK; k++) {
        const unsigned char *p = k < count ? parts[k] : NULL;
        size_t left = k < count ? lens[k] : 0;
        e->crc = crc_update(e->crc, p, left);
        int flush = Z_NO_FLUSH, ret = Z_OK;
        do { /* the last round (k == count) only finishes the stream */
            size_t take = left < ZLIB_MAX_CHUNK ? left : ZLIB_MAX_CHUNK;
            z.next_in = (unsigned char *)p;
            z.avail_in = (uInt)take;
            p += take;
            left -= take;
            flush = k == count ? Z_FINISH : Z_NO_FLUSH;
            do {
                z.next_out = out;
                z.avail_out = ZIP_IO_BYTES;
                ret = deflate(&z, flush);
                status = zip_write(w, out, ZIP_IO_BYTES - z.avail_out);
            } while (status == HOOD_OK && z.avail_out == 0);
        } while (status == HOOD_OK && left > 0);
        if (status == HOOD_OK && k == count && ret != Z_STREAM_END)
            status = hood__fail(HOOD_EIO, "%s: deflate failed (%d)", w->path, ret);
    }
    deflateEnd(&z);
    free(out);
    e->compressed = w->offset - start;
    return status;
}

/* Writes the member's header and bytes; e->name, method and zip64 are set. */
static hood_status write_member(hood__zip_writer *w, zip_out *e, const void *const *parts,
                                const size_t *lens, size_t count)
{
    size_t name_len = strlen(e->name);
    unsigned char *head = malloc(30 + 20 + name_len);
    if (head == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", w->path);
    e->offset = w->offset;
    if (e->method == ZIP_STORED)
        for (size_t k = 0; k < count; k++)
            e->crc = crc_update(e->crc, parts[k], lens[k]);
    size_t head_len = local_header(e, head);
    hood_status status = zip_write(w, head, head_len);
    for (size_t k = 0; k < count && status == HOOD_OK && e->method == ZIP_STORED; k++)
        status = zip_write(w, parts[k], lens[k]);
    if (status == HOOD_OK && e->method == ZIP_DEFLATED)
        status = deflate_parts(w, e, parts, lens, count);
    if (status == HOOD_OK && e->method == ZIP_DEFLATED) {
        /* The header again, now with the CRC and the compressed size (same length). */
        local_header(e, head);
        if (e->offset > (uint64_t)LLONG_MAX || fseeko(w->stream, (off_t)e->offset, SEEK_SET) != 0 ||
            write_all(w->stream, head, head_len, w->path) != HOOD_OK ||
            fseeko(w->stream, 0, SEEK_END) != 0)
            status = hood__fail(HOOD_EIO, "%s: cannot complete the header of %s", w->path, e->name);
    }
    free(head);
    return status;
}

hood_status hood__zip_writer_add(hood__zip_writer *w, const char *name, const void *const *parts,
                                 const size_t *lens, size_t count)
{
    for (size_t i = 0; i < w->count; i++)
        if (strcmp(w->entries[i].name, name) == 0)
            return hood__fail(HOOD_EINVAL, "%s: member '%s' added twice", w->path, name);
    if (w->count == w->capacity) {
        size_t capacity = w->capacity > 0 ? 2 * w->capacity : 8;
        zip_out *grown = realloc(w->entries, capacity * sizeof *grown);
        if (grown == NULL)
            return hood__fail(HOOD_ENOMEM, "%s: out of memory", w->path);
        w->entries = grown;
        w->capacity = capacity;
    }
    zip_out *e = &w->entries[w->count];
    memset(e, 0, sizeof *e);
    for (size_t k = 0; k < count; k++) {
        if (lens[k] > UINT64_MAX - e->size)
            return hood__fail(HOOD_EINVAL, "%s: member %s is too large", w->path, name);
        e->size += lens[k];
    }
    if ((e->name = strdup(name)) == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", w->path);
    w->count++;
    e->method = w->level > 0 ? ZIP_DEFLATED : ZIP_STORED;
    /* Decided before writing: deflate can grow incompressible data a little. */
    uint64_t bound = e->method == ZIP_DEFLATED ? compressBound((uLong)e->size) : e->size;
    e->zip64 = w->force_zip64 || e->size >= 0xFFFFFFFFu || bound >= 0xFFFFFFFFu;
    e->compressed = e->method == ZIP_STORED ? e->size : 0;
    return write_member(w, e, parts, lens, count);
}

static void writer_free(hood__zip_writer *w)
{
    for (size_t i = 0; i < w->count; i++)
        free(w->entries[i].name);
    free(w->entries);
    free(w->path);
    free(w);
}

static hood_status write_central_entry(hood__zip_writer *w, const zip_out *e)
{
    bool big_offset = w->force_zip64 || e->offset >= 0xFFFFFFFFu;
    size_t name_len = strlen(e->name);
    unsigned char head[46], extra[4 + 24], *p = head;
    p = put32(p, ZIP_CENTRAL_SIG);
    p = hood__put16(p, 3 << 8 | 45); /* made by: Unix, 4.5 */
    p = hood__put16(p, (e->zip64 || big_offset) ? 45 : 20);
    p = hood__put16(p, 0);
    p = hood__put16(p, e->method);
    p = hood__put16(p, 0);
    p = hood__put16(p, ZIP_DOS_DATE);
    p = put32(p, e->crc);
    p = put32(p, e->zip64 ? 0xFFFFFFFFu : (uint32_t)e->compressed);
    p = put32(p, e->zip64 ? 0xFFFFFFFFu : (uint32_t)e->size);
    p = hood__put16(p, (uint16_t)name_len);
    unsigned char *q = extra + 4;
    if (e->zip64) {
        q = put64(q, e->size); /* uncompressed, then compressed, as the spec orders them */
        q = put64(q, e->compressed);
    }
    if (big_offset)
        q = put64(q, e->offset);
    size_t extra_len = (e->zip64 || big_offset) ? (size_t)(q - extra) : 0;
    if (extra_len > 0) {
        hood__put16(extra, 0x0001);
        hood__put16(extra + 2, (uint16_t)(extra_len - 4));
    }
    p = hood__put16(p, (uint16_t)extra_len);
    p = hood__put16(p, 0);                 /* comment */
    p = hood__put16(p, 0);                 /* disk */
    p = hood__put16(p, 0);                 /* internal attributes */
    p = put32(p, (uint32_t)0100644 << 16); /* a regular file, rw-r--r-- */
    p = put32(p, big_offset ? 0xFFFFFFFFu : (uint32_t)e->offset);
    hood_status status = zip_write(w, head, 46);
    if (status == HOOD_OK)
        status = zip_write(w, e->name, name_len);
    if (status == HOOD_OK)
        status = zip_write(w, extra, extra_len);
    return status;
}

/* The ZIP64 end record and its locator (when needed), then the classic end record. */
static hood_status write_end(hood__zip_writer *w, uint64_t cd_offset)
{
    hood_status status = HOOD_OK;
    uint64_t cd_size = w->offset - cd_offset;
    bool zip64 =
        w->force_zip64 || w->count >= 0xFFFF || cd_offset >= 0xFFFFFFFFu || cd_size >= 0xFFFFFFFFu;
    if (zip64) {
        uint64_t end64_offset = w->offset;
        unsigned char end64[56 + 20], *p = end64;
        p = put32(p, ZIP64_END_SIG);
        p = put64(p, 44); /* size of the rest of this record */
        p = hood__put16(p, 3 << 8 | 45);
        p = hood__put16(p, 45);
        p = put32(p, 0);
        p = put32(p, 0);
        p = put64(p, w->count);
        p = put64(p, w->count);
        p = put64(p, cd_size);
        p = put64(p, cd_offset);
        p = put32(p, ZIP64_LOCATOR_SIG);
        p = put32(p, 0);
        p = put64(p, end64_offset);
        p = put32(p, 1);
        status = zip_write(w, end64, (size_t)(p - end64));
    }
    if (status != HOOD_OK)
        return status;
    unsigned char end[22], *p = end;
    p = put32(p, ZIP_END_SIG);
    p = hood__put16(p, 0);
    p = hood__put16(p, 0);
    p = hood__put16(p, zip64 ? 0xFFFF : (uint16_t)w->count);
    p = hood__put16(p, zip64 ? 0xFFFF : (uint16_t)w->count);
    p = put32(p, zip64 ? 0xFFFFFFFFu : (uint32_t)cd_size);
    p = put32(p, zip64 ? 0xFFFFFFFFu : (uint32_t)cd_offset);
    p = hood__put16(p, 0);
    return zip_write(w, end, sizeof end);
}

hood_status hood__zip_writer_commit(hood__zip_writer *w)
{
    hood_status status = HOOD_OK;
    uint64_t cd_offset = w->offset;
    for (size_t i = 0; i < w->count && status == HOOD_OK; i++)
        status = write_central_entry(w, &w->entries[i]);
    if (status == HOOD_OK)
        status = write_end(w, cd_offset);
    if (status != HOOD_OK) {
        hood__zip_writer_abort(w);
        return status;
    }
    status = w->borrowed ? hood_output_finish(w->file) : hood__atomic_commit(w->file);
    writer_free(w);
    return status;
}

void hood__zip_writer_abort(hood__zip_writer *w)
{
    if (w == NULL)
        return;
    if (w->borrowed)
        hood__output_discard(w->file);
    else
        hood__atomic_abort(w->file);
    writer_free(w);
}
