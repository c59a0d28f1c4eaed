/* ingest.c — image_dataset_from_directory: scan a folder of class folders (or a labels file),
 * shuffle and split the file list with Keras' rule, size the matrix once, then decode the files
 * on worker threads straight into their columns (image.c does one image). Not the decoding
 * itself, and no printing: messages and progress go through the caller's callbacks. */
#include "dataset.h"
#include "error.h"
#include "image.h"
#include "ingest.h"
#include "rng.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_THREADS = 64, MAX_DEPTH = 256 };

void hood_ingest_options_init(hood_ingest_options *opts)
{
    memset(opts, 0, sizeof *opts);
    hood_preprocess_init(&opts->image);
    opts->label_mode = HOOD_LABELS_INT;
    opts->shuffle = true;
    opts->subset = HOOD_SUBSET_ALL;
}

/* --- the file list ------------------------------------------------------------------------ */

/* One image file: its path relative to the scanned folder, where its folder part ends (for
 * Keras' walk order), and its class. */
typedef struct entry {
    char *rel;
    size_t dirlen;
    int32_t label;
} entry;

typedef struct entry_list {
    entry *items;
    size_t count, cap;
} entry_list;

static void entries_free(entry_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].rel);
    free(list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}

/* Takes ownership of rel. */
static hood_status entries_push(entry_list *list, char *rel, int32_t label)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 256;
        entry *bigger = cap > list->cap ? realloc(list->items, cap * sizeof *bigger) : NULL;
        if (bigger == NULL) {
            free(rel);
            return hood__fail(HOOD_ENOMEM, "out of memory for the file list");
        }
        list->items = bigger;
        list->cap = cap;
    }
    const char *slash = strrchr(rel, '/');
    list->items[list->count++] = (entry){rel, slash ? (size_t)(slash - rel) : 0, label};
    return HOOD_OK;
}

/* Keras walks with sorted(os.walk(...)) and sorted(files): folders in byte order of their whole
 * path, and within a folder, file names in byte order. */
static int walk_order(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    size_t n = a->dirlen < b->dirlen ? a->dirlen : b->dirlen;
    int c = memcmp(a->rel, b->rel, n);
    if (c != 0)
        return c;
    if (a->dirlen != b->dirlen)
        return a->dirlen < b->dirlen ? -1 : 1;
    return strcmp(a->rel + a->dirlen, b->rel + b->dirlen);
}

static int string_order(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

static bool image_extension(const char *name)
{
    static const char *const allowed[] = {".jpg", ".jpeg", ".png", ".gif",
                                          ".bmp", ".webp", ".tif", ".tiff"};
    const char *dot = strrchr(name, '.');
    if (dot == NULL || dot == name)
        return false;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        const char *a = allowed[i];
        size_t k = 0;
        while (a[k] != '\0' && dot[k] != '\0' &&
               (dot[k] == a[k] || (dot[k] >= 'A' && dot[k] <= 'Z' && dot[k] + 32 == a[k])))
            k++;
        if (a[k] == '\0' && dot[k] == '\0')
            return true;
    }
    return false;
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    size_t at = la;
    if (la > 0 && a[la - 1] != '/')
        s[at++] = '/';
    memcpy(s + at, b, lb + 1);
    return s;
}

/* The folders on the current walk path, to refuse a symlink loop when following links. */
typedef struct ancestors {
    dev_t dev[MAX_DEPTH];
    ino_t ino[MAX_DEPTH];
    size_t depth;
} ancestors;

/* Adds every image file under root/rel (recursively, hidden names skipped) with label. */
static hood_status walk(const char *root, const char *rel, int32_t label, bool follow_links,
                        ancestors *up, entry_list *out)
{
    char *path = rel[0] ? join(root, rel) : strdup(root);
    if (path == NULL)
        return hood__fail(HOOD_ENOMEM, "out of memory for a path");
    hood_status status = HOOD_OK;
    struct stat st;
    if (stat(path, &st) != 0) {
        status = hood__fail(HOOD_EIO, "%s: %s", path, strerror(errno));
        free(path);
        return status;
    }
    /* Without follow_links no linked folder is entered, so only a followed link can loop. */
    for (size_t i = 0; follow_links && i < up->depth; i++) {
        if (up->dev[i] == st.st_dev && up->ino[i] == st.st_ino) {
            status = hood__fail(HOOD_EINVAL, "%s: symbolic link loop (follow_links is on)", path);
            free(path);
            return status;
        }
    }
    if (up->depth == MAX_DEPTH) {
        status = hood__fail(HOOD_EINVAL, "%s: folders nested deeper than %d", path, MAX_DEPTH);
        free(path);
        return status;
    }
    up->dev[up->depth] = st.st_dev;
    up->ino[up->depth] = st.st_ino;
    up->depth++;
    DIR *d = opendir(path);
    if (d == NULL) {
        status = hood__fail(HOOD_EIO, "%s: cannot read folder: %s", path, strerror(errno));
        goto out;
    }
    struct dirent *e;
    errno = 0;
    while (status == HOOD_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') /* ".", "..", and hidden files and folders */
            continue;
        char *child = rel[0] ? join(rel, e->d_name) : strdup(e->d_name);
        if (child == NULL) {
            status = hood__fail(HOOD_ENOMEM, "out of memory for a path");
            break;
        }
        struct stat cs;
        if (fstatat(dirfd(d), e->d_name, &cs, AT_SYMLINK_NOFOLLOW) != 0) {
            status = hood__fail(HOOD_EIO, "%s/%s: %s", path, e->d_name, strerror(errno));
            free(child);
            break;
        }
        bool is_dir = S_ISDIR(cs.st_mode);
        if (S_ISLNK(cs.st_mode)) {
            struct stat ts;
            /* A link to a folder is walked only with follow_links (as os.walk); a link to a
             * file is a file; a dangling link is left to the decoder to report. */
            is_dir = fstatat(dirfd(d), e->d_name, &ts, 0) == 0 && S_ISDIR(ts.st_mode);
            if (is_dir && !follow_links) {
                free(child);
                continue;
            }
        }
        if (is_dir) {
            status = walk(root, child, label, follow_links, up, out);
            free(child);
        } else if (image_extension(e->d_name)) {
            status = entries_push(out, child, label);
        } else {
            free(child);
        }
        errno = 0;
    }
    if (status == HOOD_OK && errno != 0)
        status = hood__fail(HOOD_EIO, "%s: cannot read folder: %s", path, strerror(errno));
    closedir(d);
out:
    up->depth--;
    free(path);
    return status;
}

/* The class folders of dir: sub-folders not starting with '.', byte-sorted. */
static hood_status class_folders(const char *dir, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return hood__fail(HOOD_EIO, "%s: cannot read folder: %s", dir, strerror(errno));
    hood_status status = HOOD_OK;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        struct stat st;
        /* A link to a folder is a class folder either way (Keras asks isdir, which follows
         * links); follow_links decides only what is entered below it. */
        if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISDIR(st.st_mode)) {
            errno = 0;
            continue; /* files at the top level are ignored, as Keras does */
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **bigger = realloc(names, cap * sizeof *bigger);
            if (bigger == NULL) {
                status = hood__fail(HOOD_ENOMEM, "out of memory for class names");
                break;
            }
            names = bigger;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) {
            status = hood__fail(HOOD_ENOMEM, "out of memory for class names");
            break;
        }
        n++;
        errno = 0;
    }
    if (status == HOOD_OK && errno != 0)
        status = hood__fail(HOOD_EIO, "%s: cannot read folder: %s", dir, strerror(errno));
    closedir(d);
    if (status != HOOD_OK) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return status;
    }
    if (n > 0)
        qsort(names, n, sizeof *names, string_order);
    *out = names;
    *count = n;
    return HOOD_OK;
}

static void strings_free(char **s, size_t n)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

/* Labels from the folder names: the classes (all, or opts->class_names in that order) and
 * every image under each, class by class. */
static hood_status scan_folders(const char *dir, const hood_ingest_options *opts, char ***classes,
                                size_t *num_classes, entry_list *files)
{
    char **found;
    size_t nfound;
    hood_status status = class_folders(dir, &found, &nfound);
    if (status != HOOD_OK)
        return status;
    char **use = found;
    size_t nuse = nfound;
    if (opts->class_names != NULL) {
        /* Keras: class_names fixes the order and may take a subset; a name with no folder is
         * an error. */
        if (opts->num_class_names == 0) {
            strings_free(found, nfound);
            return hood__fail(HOOD_EINVAL, "class_names is empty");
        }
        use = calloc(opts->num_class_names, sizeof *use);
        if (use == NULL) {
            strings_free(found, nfound);
            return hood__fail(HOOD_ENOMEM, "out of memory for class names");
        }
        nuse = opts->num_class_names;
        for (size_t i = 0; i < nuse && status == HOOD_OK; i++) {
            const char *name = opts->class_names[i];
            if (name == NULL) {
                status = hood__fail(HOOD_EINVAL, "class_names[%zu] is NULL", i);
                break;
            }
            for (size_t j = 0; j < i; j++)
                if (strcmp(use[j], name) == 0)
                    status = hood__fail(HOOD_EINVAL, "class_names: '%s' is given twice", name);
            const char *key = name;
            if (status == HOOD_OK &&
                (nfound == 0 || bsearch(&key, found, nfound, sizeof *found, string_order) == NULL))
                status = hood__fail(HOOD_EINVAL,
                                    "class_names: '%s' is not a sub-folder of %s (found %zu "
                                    "class folders)",
                                    name, dir, nfound);
            if (status == HOOD_OK && (use[i] = strdup(name)) == NULL)
                status = hood__fail(HOOD_ENOMEM, "out of memory for class names");
        }
        strings_free(found, nfound);
        if (status != HOOD_OK) {
            strings_free(use, nuse);
            return status;
        }
    } else if (nfound == 0) {
        return hood__fail(
            HOOD_EINVAL, "%s: no class sub-folders (expected one folder of images per class)", dir);
    }
    if (nuse > (1u << 24)) {
        strings_free(use, nuse);
        return hood__fail(HOOD_EINVAL, "%s: %zu classes, more than 16777216", dir, nuse);
    }
    ancestors *up = malloc(sizeof *up);
    if (up == NULL) {
        strings_free(use, nuse);
        return hood__fail(HOOD_ENOMEM, "out of memory for the folder walk");
    }
    for (size_t k = 0; k < nuse && status == HOOD_OK; k++) {
        size_t before = files->count;
        up->depth = 0;
        struct stat st;
        if (stat(dir, &st) == 0) { /* the top folder is an ancestor too */
            up->dev[0] = st.st_dev;
            up->ino[0] = st.st_ino;
            up->depth = 1;
        }
        status = walk(dir, use[k], (int32_t)k, opts->follow_links, up, files);
        if (status == HOOD_OK && files->count > before)
            qsort(files->items + before, files->count - before, sizeof *files->items, walk_order);
    }
    free(up);
    if (status == HOOD_OK && files->count == 0)
        status = hood__fail(HOOD_EINVAL,
                            "%s: no images found (looked for .jpg .jpeg .png .gif .bmp .webp "
                            ".tif .tiff files inside the class folders)",
                            dir);
    /* Every class needs at least one image: an empty class folder is almost always a
     * mistake, and a class with no samples cannot be learnt. */
    for (size_t k = 0, i = 0; k < nuse && status == HOOD_OK; k++) {
        size_t n = 0;
        while (i < files->count && files->items[i].label == (int32_t)k)
            i++, n++;
        if (n == 0)
            status = hood__fail(HOOD_EINVAL, "%s/%s: class folder has no images", dir, use[k]);
    }
    if (status != HOOD_OK) {
        strings_free(use, nuse);
        return status;
    }
    *classes = use;
    *num_classes = nuse;
    return HOOD_OK;
}

/* label_mode none: every image anywhere under dir, top-level files included (Keras' labels=None
 * walks the whole tree). */
static hood_status scan_unlabelled(const char *dir, const hood_ingest_options *opts,
                                   entry_list *files)
{
    ancestors *up = malloc(sizeof *up);
    if (up == NULL)
        return hood__fail(HOOD_ENOMEM, "out of memory for the folder walk");
    up->depth = 0;
    hood_status status = walk(dir, "", 0, opts->follow_links, up, files);
    free(up);
    if (status == HOOD_OK && files->count == 0)
        status = hood__fail(HOOD_EINVAL,
                            "%s: no images found (looked for .jpg .jpeg .png .gif .bmp .webp "
                            ".tif .tiff files)",
                            dir);
    if (status == HOOD_OK)
        qsort(files->items, files->count, sizeof *files->items, walk_order);
    return status;
}

/* Parses a labels file: one "relative/path,label" per line (the label after the last comma, a
 * class index), blank lines skipped, files in Keras' walk order, no path twice. With dir, each
 * path must name a file inside dir; without (the fuzz target), only the syntax is checked. */
static hood_status parse_labels(FILE *f, const char *name, const char *dir, size_t *num_classes,
                                entry_list *files)
{
    hood_status status = HOOD_OK;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int32_t top = -1;
    while (status == HOOD_OK && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (strlen(line) != (size_t)len) {
            status = hood__fail(HOOD_EFORMAT, "%s: line %zu: contains a NUL byte", name, lineno);
            break;
        }
        char *comma = strrchr(line, ',');
        if (comma == NULL || comma == line) {
            status = hood__fail(HOOD_EFORMAT, "%s: line %zu: expected relative/path,label", name,
                                lineno);
            break;
        }
        *comma = '\0';
        const char *digits = comma + 1;
        long value = 0;
        bool ok = *digits != '\0';
        for (const char *p = digits; ok && *p; p++) {
            ok = *p >= '0' && *p <= '9';
            value = value * 10 + (*p - '0');
            if (value >= (1L << 24))
                ok = false;
        }
        if (!ok) {
            status = hood__fail(HOOD_EFORMAT,
                                "%s: line %zu: label '%.40s' is not a class index 0..16777215",
                                name, lineno, digits);
            break;
        }
        if (line[0] == '/' || strstr(line, "..") != NULL) {
            status = hood__fail(HOOD_EFORMAT,
                                "%s: line %zu: '%.200s' must be a relative path inside the "
                                "folder, without '..'",
                                name, lineno, line);
            break;
        }
        if (dir != NULL) {
            char *full = join(dir, line);
            struct stat st;
            if (full == NULL) {
                status = hood__fail(HOOD_ENOMEM, "out of memory for a path");
                break;
            }
            if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
                status = hood__fail(HOOD_EIO, "%s: line %zu: %s is not a file", name, lineno, full);
                free(full);
                break;
            }
            free(full);
        }
        char *rel = strdup(line);
        if (rel == NULL) {
            status = hood__fail(HOOD_ENOMEM, "out of memory for a path");
            break;
        }
        status = entries_push(files, rel, (int32_t)value);
        if ((int32_t)value > top)
            top = (int32_t)value;
    }
    if (status == HOOD_OK && ferror(f))
        status = hood__fail(HOOD_EIO, "%s: read error", name);
    free(line);
    if (status != HOOD_OK)
        return status;
    if (files->count == 0)
        return hood__fail(HOOD_EINVAL, "%s: labels file lists no files", name);
    qsort(files->items, files->count, sizeof *files->items, walk_order);
    for (size_t i = 1; i < files->count; i++)
        if (strcmp(files->items[i - 1].rel, files->items[i].rel) == 0)
            return hood__fail(HOOD_EFORMAT, "%s: %.200s is listed twice", name,
                              files->items[i].rel);
    *num_classes = (size_t)top + 1;
    return HOOD_OK;
}

static hood_status scan_labels_file(const char *dir, const char *labels_file, size_t *num_classes,
                                    entry_list *files)
{
    FILE *f = fopen(labels_file, "r");
    if (f == NULL)
        return hood__fail(HOOD_EIO, "%s: cannot open labels file: %s", labels_file,
                          strerror(errno));
    hood_status status = parse_labels(f, labels_file, dir, num_classes, files);
    fclose(f); /* read-only: nothing to lose if close fails */
    return status;
}

hood_status hood__labels_parse_bytes(const uint8_t *bytes, size_t size, const char *name,
                                     size_t *num_files, size_t *num_classes)
{
    entry_list files = {0};
    /* fmemopen refuses a zero-length buffer; an empty file lists no files. */
    if (size == 0)
        return hood__fail(HOOD_EINVAL, "%s: labels file lists no files", name);
    FILE *f = fmemopen((void *)bytes, size, "r");
    if (f == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: cannot open the bytes as a stream", name);
    hood_status status = parse_labels(f, name, NULL, num_classes, &files);
    fclose(f);
    if (status == HOOD_OK && num_files != NULL)
        *num_files = files.count;
    entries_free(&files);
    return status;
}

/* --- parallel decoding -------------------------------------------------------------------- */

typedef struct failure {
    size_t index;
    char *message;
} failure;

/* Shared by the decoding threads: the work (paths and their columns), the next index to claim,
 * and the failures found. */
typedef struct run {
    char **paths; /* total paths, in column order over the parts; finish_part moves each kept
                   * one into its dataset (one copy of N paths at a time, not two) */
    float *part_x[2];
    size_t part_n[2];
    size_t d, total;
    const hood_preprocess *pp;
    unsigned flags;
    bool strict;
    atomic_size_t next, done;
    atomic_bool stop;
    pthread_mutex_t vips_lock, fail_lock;
    failure *failures;
    size_t num_failures, failures_cap;
    hood_status fatal; /* an error that is not a bad file (out of memory): ends the ingest */
    char fatal_message[1024];
    hood_progress_fn on_progress;
    void *user;
} run;

static void record_failure(run *r, size_t index, hood_status status, bool fatal)
{
    pthread_mutex_lock(&r->fail_lock);
    if (fatal) {
        if (r->fatal == HOOD_OK) {
            r->fatal = status;
            snprintf(r->fatal_message, sizeof r->fatal_message, "%s", hood_last_error());
        }
    } else {
        if (r->num_failures == r->failures_cap) {
            size_t cap = r->failures_cap ? r->failures_cap * 2 : 16;
            failure *bigger = realloc(r->failures, cap * sizeof *bigger);
            if (bigger == NULL) {
                r->fatal = HOOD_ENOMEM;
                snprintf(r->fatal_message, sizeof r->fatal_message,
                         "out of memory recording unreadable files");
                fatal = true;
            } else {
                r->failures = bigger;
                r->failures_cap = cap;
            }
        }
        if (!fatal) {
            /* A NULL message (strdup failed) still counts; the report then says so. */
            r->failures[r->num_failures++] = (failure){index, strdup(hood_last_error())};
        }
    }
    pthread_mutex_unlock(&r->fail_lock);
    if (fatal || r->strict)
        atomic_store(&r->stop, true);
}

static float *column_of(const run *r, size_t i)
{
    if (i < r->part_n[0])
        return r->part_x[0] + i * r->d;
    return r->part_x[1] + (i - r->part_n[0]) * r->d;
}

/* One decoding thread: claims the next index until none is left. The calling thread runs this
 * too, and it alone reports progress, so the caller's callback is never called from a thread
 * it did not make. */
static void decode_loop(run *r, bool reports)
{
    hood__image_decoder *dec;
    hood_status status = hood__image_decoder_create(&dec, r->pp, r->flags, &r->vips_lock);
    if (status != HOOD_OK) {
        record_failure(r, 0, status, true);
        return;
    }
    size_t reported = 0;
    for (;;) {
        if (atomic_load(&r->stop))
            break;
        size_t i = atomic_fetch_add(&r->next, 1);
        if (i >= r->total)
            break;
        status = hood__image_decode_file(dec, r->paths[i], column_of(r, i));
        if (status != HOOD_OK)
            record_failure(r, i, status, status == HOOD_ENOMEM);
        size_t done = atomic_fetch_add(&r->done, 1) + 1;
        if (reports && r->on_progress != NULL && done > reported) {
            reported = done;
            r->on_progress(r->user, done, r->total);
        }
    }
    hood__image_decoder_free(dec);
}

static void *decode_thread(void *arg)
{
    decode_loop(arg, false);
    return NULL;
}

static int failure_order(const void *pa, const void *pb)
{
    const failure *a = pa, *b = pb;
    return a->index < b->index ? -1 : a->index > b->index;
}

static hood_status decode_all(run *r, int threads)
{
    pthread_t tids[MAX_THREADS];
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tids[started], NULL, decode_thread, r) != 0)
            break; /* fewer threads is still correct */
        started++;
    }
    decode_loop(r, true);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    if (r->on_progress != NULL && atomic_load(&r->done) == r->total)
        r->on_progress(r->user, r->total, r->total);
    if (r->fatal != HOOD_OK)
        return hood__fail(r->fatal, "%s", r->fatal_message);
    if (r->num_failures > 1)
        qsort(r->failures, r->num_failures, sizeof *r->failures, failure_order);
    if (r->strict && r->num_failures > 0) {
        /* Every index below the first failure was claimed before it and finished: this is the
         * first unreadable file in order, whatever the thread timing. */
        const failure *f = &r->failures[0];
        return hood__fail(HOOD_EFORMAT, "unreadable image (strict): %s",
                          f->message ? f->message : r->paths[f->index]);
    }
    return HOOD_OK;
}

/* --- assembling the datasets --------------------------------------------------------------- */

static void message(const hood_ingest_options *opts, const char *fmt, ...) HOOD_PRINTF(2, 3);

static void message(const hood_ingest_options *opts, const char *fmt, ...)
{
    if (opts->on_message == NULL)
        return;
    char text[1200];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    opts->on_message(opts->user, text);
}

/* Builds the dataset of one part: drops the columns of unreadable files (moving the kept ones
 * left in place, then giving the tail back, so peak memory stays one matrix), sets labels,
 * names, paths (moved from R, not copied) and shape. */
static hood_status finish_part(hood_dataset **ds, run *r, size_t first, size_t n,
                               const int32_t *labels, const hood_ingest_options *opts,
                               char *const *classes, size_t num_classes, size_t channels,
                               const char *dir)
{
    size_t bad = 0;
    for (size_t k = 0; k < r->num_failures; k++)
        if (r->failures[k].index >= first && r->failures[k].index < first + n)
            bad++;
    size_t kept = n - bad;
    if (kept == 0)
        return hood__fail(HOOD_EFORMAT, "%s: none of the %zu image files could be read", dir, n);
    int32_t *kept_labels = malloc(kept * sizeof *kept_labels);
    char **kept_paths = calloc(kept, sizeof *kept_paths);
    hood_status status = HOOD_OK;
    if (kept_labels == NULL || kept_paths == NULL) {
        status = hood__fail(HOOD_ENOMEM, "out of memory for labels and paths");
        goto fail;
    }
    float *x = hood_dataset_x_mutable(*ds);
    size_t k = 0, f = 0;
    for (size_t j = 0; j < n; j++) {
        size_t index = first + j;
        while (f < r->num_failures && r->failures[f].index < index)
            f++;
        if (f < r->num_failures && r->failures[f].index == index)
            continue;
        if (k != j) /* k < j: the destination column is already consumed */
            memcpy(x + k * r->d, x + j * r->d, r->d * sizeof(float));
        kept_labels[k] = labels[j];
        kept_paths[k++] = r->paths[index];
        r->paths[index] = NULL;
    }
    if (bad > 0 && (status = hood__dataset_truncate(*ds, kept)) != HOOD_OK)
        goto fail;
    if (opts->label_mode != HOOD_LABELS_NONE) {
        status = hood_dataset_set_labels(*ds, opts->label_mode, kept_labels, num_classes);
        if (status == HOOD_OK && classes != NULL)
            status = hood_dataset_set_class_names(*ds, (const char *const *)classes, num_classes);
        if (status != HOOD_OK)
            goto fail;
    }
    hood__dataset_take_paths(*ds, kept_paths);
    kept_paths = NULL;
    hood__dataset_set_image_shape(*ds, opts->image.height, opts->image.width, channels);
    free(kept_labels);
    return HOOD_OK;
fail:
    free(kept_labels);
    strings_free(kept_paths, kept);
    return status;
}

/* The matrix is mapped zeroed and first touched by the decoders, one 4 KB page fault per 4 KB
 * of columns: 5 % of a photo ingest's time was those faults (perf, 2 threads). Transparent huge
 * pages take 512 times fewer. Only a hint: where THP is off or the call fails, nothing changes
 * but the speed. */
static void hint_huge_pages(float *x, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || bytes < ((size_t)4 << 20))
        return;
    uintptr_t start = ((uintptr_t)x + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t end = ((uintptr_t)x + bytes) & ~((uintptr_t)page - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)x;
    (void)bytes;
#endif
}

static uint64_t drawn_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
}

static hood_status check_options(const char *dir, const hood_ingest_options *opts,
                                 hood_dataset **out, hood_dataset **validation_out)
{
    if (dir == NULL || opts == NULL || out == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_from_directory: dir, opts or out is NULL");
    hood_status status = hood__preprocess_check(&opts->image, NULL);
    if (status != HOOD_OK)
        return status;
    if ((unsigned)opts->label_mode > (unsigned)HOOD_LABELS_NONE)
        return hood__fail(HOOD_EINVAL, "unknown label_mode %d", (int)opts->label_mode);
    if ((unsigned)opts->subset > (unsigned)HOOD_SUBSET_BOTH)
        return hood__fail(HOOD_EINVAL, "unknown subset %d", (int)opts->subset);
    if (!(opts->validation_split >= 0.0 && opts->validation_split < 1.0))
        return hood__fail(HOOD_EINVAL, "validation_split must be in [0, 1), got %g",
                          opts->validation_split);
    if (opts->validation_split > 0.0 && opts->subset == HOOD_SUBSET_ALL)
        return hood__fail(HOOD_EINVAL, "validation_split is set: choose subset training, "
                                       "validation or both");
    if (opts->validation_split == 0.0 && opts->subset != HOOD_SUBSET_ALL)
        return hood__fail(HOOD_EINVAL, "subset is set but validation_split is 0");
    if (opts->validation_split > 0.0 && !opts->has_seed)
        return hood__fail(HOOD_EINVAL, "validation_split needs a seed, so the training and "
                                       "validation files never overlap between calls");
    if (opts->subset == HOOD_SUBSET_BOTH && validation_out == NULL)
        return hood__fail(HOOD_EINVAL, "subset both needs validation_out");
    if (opts->threads < 0 || opts->threads > MAX_THREADS)
        return hood__fail(HOOD_EINVAL, "threads must be 0..%d, got %d", MAX_THREADS, opts->threads);
    if (opts->labels_file != NULL && opts->class_names != NULL)
        return hood__fail(HOOD_EINVAL, "class_names can only be given with labels from the "
                                       "folder names, not with a labels file");
    if (opts->class_names != NULL && opts->label_mode == HOOD_LABELS_NONE)
        return hood__fail(HOOD_EINVAL, "class_names was given but label_mode is none");
    if (opts->labels_file != NULL && opts->label_mode == HOOD_LABELS_NONE)
        return hood__fail(HOOD_EINVAL, "a labels file was given but label_mode is none");
    return HOOD_OK;
}

hood_status hood_dataset_from_directory(const char *dir, const hood_ingest_options *opts,
                                        hood_dataset **out, hood_dataset **validation_out)
{
    if (out != NULL)
        *out = NULL;
    if (validation_out != NULL)
        *validation_out = NULL;
    hood_status status = check_options(dir, opts, out, validation_out);
    if (status != HOOD_OK)
        return status;
    if ((status = hood__vips_start()) != HOOD_OK)
        return status;

    entry_list files = {0};
    char **classes = NULL, **paths = NULL;
    size_t num_classes = 0, n = 0, total = 0;
    int32_t *labels = NULL;
    hood_dataset *parts[2] = {NULL, NULL};
    run *r = NULL;

    if (opts->label_mode == HOOD_LABELS_NONE)
        status = scan_unlabelled(dir, opts, &files);
    else if (opts->labels_file != NULL)
        status = scan_labels_file(dir, opts->labels_file, &num_classes, &files);
    else
        status = scan_folders(dir, opts, &classes, &num_classes, &files);
    if (status != HOOD_OK)
        goto done;
    n = files.count;
    if (opts->label_mode == HOOD_LABELS_BINARY && num_classes != 2) {
        status = hood__fail(HOOD_EINVAL, "label_mode binary needs exactly 2 classes, found %zu",
                            num_classes);
        goto done;
    }
    if (opts->label_mode == HOOD_LABELS_NONE)
        message(opts, "Found %zu files.", n);
    else
        message(opts, "Found %zu files belonging to %zu classes.", n, num_classes);

    /* Keras' rule: shuffle the whole list with the seed, then the last floor(split * N) files
     * are the validation set. */
    size_t *order = malloc(n * sizeof *order);
    if (order == NULL) {
        status = hood__fail(HOOD_ENOMEM, "out of memory for the file order");
        goto done;
    }
    if (opts->shuffle) {
        hood_rng rng;
        hood__rng_seed(&rng, opts->has_seed ? opts->seed : drawn_seed());
        hood__rng_permutation(&rng, order, n);
    } else {
        for (size_t i = 0; i < n; i++)
            order[i] = i;
    }
    size_t num_val = (size_t)(opts->validation_split * (double)n);
    size_t first = 0, count[2] = {n, 0};
    if (opts->subset == HOOD_SUBSET_TRAINING) {
        count[0] = n - num_val;
    } else if (opts->subset == HOOD_SUBSET_VALIDATION) {
        first = n - num_val;
        count[0] = num_val;
    } else if (opts->subset == HOOD_SUBSET_BOTH) {
        count[0] = n - num_val;
        count[1] = num_val;
    }
    if (opts->subset != HOOD_SUBSET_ALL && num_val == 0) {
        free(order);
        status =
            hood__fail(HOOD_EINVAL, "validation_split %g of %zu files leaves no validation files",
                       opts->validation_split, n);
        goto done;
    }
    if (opts->subset == HOOD_SUBSET_TRAINING || opts->subset == HOOD_SUBSET_BOTH)
        message(opts, "Using %zu files for training.", count[0]);
    if (opts->subset == HOOD_SUBSET_VALIDATION)
        message(opts, "Using %zu files for validation.", count[0]);
    if (opts->subset == HOOD_SUBSET_BOTH)
        message(opts, "Using %zu files for validation.", count[1]);

    /* A worker's shard: of each part's (shuffled, split) list only its hood_shard_range is
     * decoded, so the workers' parts laid end to end are the one-process part. */
    size_t part_first[2] = {0, 0}, part_total[2] = {count[0], count[1]};
    bool sharded = opts->shard_count > 1;
    for (int p = 0; p < 2 && sharded; p++) {
        hood_shard_range(part_total[p], opts->shard_index, opts->shard_count, &part_first[p],
                         &count[p]);
        if (part_total[p] > 0 && count[p] == 0) {
            free(order);
            status = hood__fail(HOOD_EINVAL,
                                "%s: worker %zu of %zu holds none of the %zu %s files; use fewer "
                                "workers",
                                dir, opts->shard_index, opts->shard_count, part_total[p],
                                p == 0 && opts->subset != HOOD_SUBSET_VALIDATION ? "training"
                                                                                 : "validation");
            goto done;
        }
    }

    total = count[0] + count[1];
    paths = calloc(total, sizeof *paths);
    labels = malloc(total * sizeof *labels);
    if (paths == NULL || labels == NULL) {
        free(order);
        status = hood__fail(HOOD_ENOMEM, "out of memory for %zu paths", total);
        goto done;
    }
    for (size_t i = 0; i < total && status == HOOD_OK; i++) {
        size_t at = i < count[0] ? first + part_first[0] + i
                                 : first + part_total[0] + part_first[1] + (i - count[0]);
        const entry *e = &files.items[order[at]];
        labels[i] = e->label;
        if ((paths[i] = join(dir, e->rel)) == NULL)
            status = hood__fail(HOOD_ENOMEM, "out of memory for paths");
    }
    free(order);
    entries_free(&files);
    if (status != HOOD_OK)
        goto done;

    /* One allocation per part, sized now, checked before allocating. */
    size_t d, cells, bytes;
    hood__preprocess_check(&opts->image, &d);
    if (hood__mul_overflows(d, total, &cells) ||
        hood__mul_overflows(cells, sizeof(float), &bytes)) {
        status = hood__fail(HOOD_ENOMEM, "%zu images of %zu values do not fit in memory", total, d);
        goto done;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && bytes / (size_t)page > (size_t)pages) {
        status = hood__fail(HOOD_ENOMEM,
                            "%zu images of %zu x %zu x %zu floats need %zu MB, more than this "
                            "machine's %zu MB of memory",
                            total, opts->image.height, opts->image.width,
                            hood_color_mode_channels(opts->image.color_mode), bytes >> 20,
                            ((size_t)pages * (size_t)page) >> 20);
        goto done;
    }
    for (int p = 0; p < 2 && status == HOOD_OK; p++)
        if (count[p] > 0)
            status = hood_dataset_create(&parts[p], d, count[p]);
    if (status != HOOD_OK)
        goto done;
    for (int p = 0; p < 2; p++)
        if (parts[p] != NULL)
            hint_huge_pages(hood_dataset_x_mutable(parts[p]), d * count[p] * sizeof(float));

    r = calloc(1, sizeof *r);
    if (r == NULL) {
        status = hood__fail(HOOD_ENOMEM, "out of memory");
        goto done;
    }
    r->paths = paths;
    r->d = d;
    r->total = total;
    for (int p = 0; p < 2; p++) {
        r->part_n[p] = count[p];
        r->part_x[p] = parts[p] ? hood_dataset_x_mutable(parts[p]) : NULL;
    }
    r->pp = &opts->image;
    r->flags = opts->block_untrusted ? HOOD__IMAGE_BLOCK_UNTRUSTED : 0;
    r->strict = opts->strict;
    atomic_init(&r->next, 0);
    atomic_init(&r->done, 0);
    atomic_init(&r->stop, false);
    r->on_progress = opts->on_progress;
    r->user = opts->user;
    if (pthread_mutex_init(&r->vips_lock, NULL) != 0) {
        free(r);
        r = NULL;
        status = hood__fail(HOOD_ENOMEM, "cannot create a lock");
        goto done;
    }
    if (pthread_mutex_init(&r->fail_lock, NULL) != 0) {
        pthread_mutex_destroy(&r->vips_lock);
        free(r);
        r = NULL;
        status = hood__fail(HOOD_ENOMEM, "cannot create a lock");
        goto done;
    }
    int threads = opts->threads;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
    }
    if ((size_t)threads > total)
        threads = (int)total;
    if ((status = decode_all(r, threads)) != HOOD_OK)
        goto done;
    for (size_t k = 0; k < r->num_failures; k++) {
        const failure *f = &r->failures[k];
        message(opts, "Skipped %s", f->message ? f->message : paths[f->index]);
    }
    if (r->num_failures > 0)
        message(opts, "Skipped %zu unreadable file%s.", r->num_failures,
                r->num_failures == 1 ? "" : "s");
    size_t channels = hood_color_mode_channels(opts->image.color_mode);
    for (int p = 0; p < 2 && status == HOOD_OK; p++)
        if (parts[p] != NULL)
            status = finish_part(&parts[p], r, p == 0 ? 0 : count[0], count[p],
                                 labels + (p == 0 ? 0 : count[0]), opts, classes, num_classes,
                                 channels, dir);
    if (status != HOOD_OK)
        goto done;
    for (int p = 0; p < 2 && sharded; p++)
        if (parts[p] != NULL)
            hood__dataset_set_shard(parts[p], part_first[p], part_total[p]);
    *out = parts[0];
    if (validation_out != NULL)
        *validation_out = parts[1];
    parts[0] = parts[1] = NULL;

done:
    if (r != NULL) {
        for (size_t k = 0; k < r->num_failures; k++)
            free(r->failures[k].message);
        free(r->failures);
        pthread_mutex_destroy(&r->vips_lock);
        pthread_mutex_destroy(&r->fail_lock);
        free(r);
    }
    hood_dataset_free(parts[0]);
    hood_dataset_free(parts[1]);
    entries_free(&files);
    strings_free(paths, total);
    strings_free(classes, num_classes);
    free(labels);
    return status;
}
