/* scan.c — the folder scan of image_dataset_from_directory: the class folders (or a labels file,
 * or every image with label_mode none) walked in Keras' order, the file list shuffled and split
 * with Keras' rule by the seed, and this worker's shard of it, as full paths and labels in
 * column order. Not the decoding (ingest.c), and no printing: messages go through a callback. */
#include "scan.h"

#include "csv.h"

#include "ingest.h"
#include "input.h"
#include "rng.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_DEPTH = 256 };

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

void hood__strings_free(char **s, size_t n)
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
            hood__strings_free(found, nfound);
            return hood__fail(HOOD_EINVAL, "class_names is empty");
        }
        use = calloc(opts->num_class_names, sizeof *use);
        if (use == NULL) {
            hood__strings_free(found, nfound);
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
        hood__strings_free(found, nfound);
        if (status != HOOD_OK) {
            hood__strings_free(use, nuse);
            return status;
        }
    } else if (nfound == 0) {
        return hood__fail(
            HOOD_EINVAL, "%s: no class sub-folders (expected one folder of images per class)", dir);
    }
    if (nuse > (1u << 24)) {
        hood__strings_free(use, nuse);
        return hood__fail(HOOD_EINVAL, "%s: %zu classes, more than 16777216", dir, nuse);
    }
    ancestors *up = malloc(sizeof *up);
    if (up == NULL) {
        hood__strings_free(use, nuse);
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
        hood__strings_free(use, nuse);
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
        /* Classes are capped as the CSV reader caps one-hot columns: index k makes k + 1
         * classes, and categorical labels are that many floats per image (a 70-byte file
         * naming class 16777215 made 6 images a 384 MB matrix). */
        for (const char *p = digits; ok && *p; p++) {
            ok = *p >= '0' && *p <= '9';
            value = value * 10 + (*p - '0');
            if (value >= HOOD_CSV_MAX_ONE_HOT)
                ok = false;
        }
        if (!ok) {
            status = hood__fail(HOOD_EFORMAT,
                                "%s: line %zu: label '%.40s' is not a class index 0..%d (at most "
                                "%d classes, the CSV reader's one-hot limit)",
                                name, lineno, digits, HOOD_CSV_MAX_ONE_HOT - 1,
                                HOOD_CSV_MAX_ONE_HOT);
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
    FILE *f;
    uint64_t size; /* a regular file's: the reader stops at its end */
    hood_status opened = hood__input_fopen(labels_file, &f, &size);
    if (opened != HOOD_OK)
        return opened;
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

/* --- messages ---------------------------------------------------------------------------- */

void hood__ingest_message(const hood_ingest_options *opts, const char *fmt, ...)
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

/* --- shuffle, split and shard ---------------------------------------------------------------- */

static uint64_t drawn_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
}

/* The file list and its classes, from the labels opts names; label_mode binary needs exactly two
 * classes. Says what it found. */
static hood_status find_files(const char *dir, const hood_ingest_options *opts, entry_list *files,
                              hood__ingest_plan *plan)
{
    hood_status status;
    if (opts->label_mode == HOOD_LABELS_NONE)
        status = scan_unlabelled(dir, opts, files);
    else if (opts->labels_file != NULL)
        status = scan_labels_file(dir, opts->labels_file, &plan->num_classes, files);
    else
        status = scan_folders(dir, opts, &plan->classes, &plan->num_classes, files);
    if (status != HOOD_OK)
        return status;
    size_t n = files->count;
    /* Keras refuses binary labels without exactly two classes, and a classifier of one class
     * learns nothing: say which class was found (a folder of images without sub-folders, or
     * one sub-folder, is the usual cause). */
    const char *only = plan->num_classes == 1 && plan->classes != NULL ? plan->classes[0] : NULL;
    if (opts->label_mode == HOOD_LABELS_BINARY && plan->num_classes != 2)
        return hood__fail(HOOD_EINVAL,
                          "%s: label_mode binary needs exactly 2 classes (class sub-folders), "
                          "found %zu%s%s",
                          dir, plan->num_classes, only != NULL ? ": " : "",
                          only != NULL ? only : "");
    if (opts->label_mode == HOOD_LABELS_NONE)
        hood__ingest_message(opts, "Found %zu files.", n);
    else
        hood__ingest_message(opts, "Found %zu files belonging to %zu classes.", n,
                             plan->num_classes);
    if (opts->label_mode != HOOD_LABELS_NONE && plan->num_classes == 1)
        hood__ingest_message(opts,
                             "Warning: found 1 class%s%s in %s; a classifier needs at least 2 "
                             "(one sub-folder per class)",
                             only != NULL ? ": " : "", only != NULL ? only : "", dir);
    return HOOD_OK;
}

/* The order the n files are taken in: shuffled with the seed (or a drawn one), or as listed. */
static hood_status file_order(const hood_ingest_options *opts, size_t n, size_t **out)
{
    size_t *order = malloc(n * sizeof *order);
    if (order == NULL)
        return hood__fail(HOOD_ENOMEM, "out of memory for the file order");
    if (opts->shuffle) {
        hood_rng rng;
        hood__rng_seed(&rng, opts->has_seed ? opts->seed : drawn_seed());
        hood__rng_permutation(&rng, order, n);
    } else {
        for (size_t i = 0; i < n; i++)
            order[i] = i;
    }
    *out = order;
    return HOOD_OK;
}

/* Keras' rule: of the whole shuffled list, the last floor(split * N) files are the validation
 * set. Sets plan->count and *first, where part 0 starts in the order; says what each part uses. */
static hood_status split(const hood_ingest_options *opts, size_t n, size_t *first,
                         hood__ingest_plan *plan)
{
    size_t num_val = (size_t)(opts->validation_split * (double)n);
    size_t *count = plan->count;
    *first = 0;
    count[0] = n;
    count[1] = 0;
    if (opts->subset == HOOD_SUBSET_TRAINING) {
        count[0] = n - num_val;
    } else if (opts->subset == HOOD_SUBSET_VALIDATION) {
        *first = n - num_val;
        count[0] = num_val;
    } else if (opts->subset == HOOD_SUBSET_BOTH) {
        count[0] = n - num_val;
        count[1] = num_val;
    }
    if (opts->subset != HOOD_SUBSET_ALL && num_val == 0)
        return hood__fail(HOOD_EINVAL,
                          "validation_split %g of %zu files leaves no validation files",
                          opts->validation_split, n);
    if (opts->subset == HOOD_SUBSET_TRAINING || opts->subset == HOOD_SUBSET_BOTH)
        hood__ingest_message(opts, "Using %zu files for training.", count[0]);
    if (opts->subset == HOOD_SUBSET_VALIDATION)
        hood__ingest_message(opts, "Using %zu files for validation.", count[0]);
    if (opts->subset == HOOD_SUBSET_BOTH)
        hood__ingest_message(opts, "Using %zu files for validation.", count[1]);
    return HOOD_OK;
}

/* A worker's shard: of each part's (shuffled, split) list only its hood_shard_range is decoded,
 * so the workers' parts laid end to end are the one-process part. */
static hood_status shard(const char *dir, const hood_ingest_options *opts, hood__ingest_plan *plan)
{
    size_t *count = plan->count;
    for (int p = 0; p < 2; p++) {
        plan->part_first[p] = 0;
        plan->part_total[p] = count[p];
    }
    plan->sharded = opts->shard_count > 1;
    for (int p = 0; p < 2 && plan->sharded; p++) {
        hood_shard_range(plan->part_total[p], opts->shard_index, opts->shard_count,
                         &plan->part_first[p], &count[p]);
        if (plan->part_total[p] > 0 && count[p] == 0)
            return hood__fail(HOOD_EINVAL,
                              "%s: worker %zu of %zu holds none of the %zu %s files; use fewer "
                              "workers",
                              dir, opts->shard_index, opts->shard_count, plan->part_total[p],
                              p == 0 && opts->subset != HOOD_SUBSET_VALIDATION ? "training"
                                                                               : "validation");
    }
    return HOOD_OK;
}

/* The full paths and labels of the plan's files, in column order: part 0's shard of the order
 * from first, then part 1's. */
static hood_status take_files(const char *dir, const entry_list *files, const size_t *order,
                              size_t first, hood__ingest_plan *plan)
{
    const size_t *count = plan->count;
    size_t total = count[0] + count[1];
    plan->total = total;
    plan->paths = calloc(total, sizeof *plan->paths);
    plan->labels = malloc(total * sizeof *plan->labels);
    if (plan->paths == NULL || plan->labels == NULL)
        return hood__fail(HOOD_ENOMEM, "out of memory for %zu paths", total);
    for (size_t i = 0; i < total; i++) {
        size_t at = i < count[0]
                        ? first + plan->part_first[0] + i
                        : first + plan->part_total[0] + plan->part_first[1] + (i - count[0]);
        const entry *e = &files->items[order[at]];
        plan->labels[i] = e->label;
        if ((plan->paths[i] = join(dir, e->rel)) == NULL)
            return hood__fail(HOOD_ENOMEM, "out of memory for paths");
    }
    return HOOD_OK;
}

hood_status hood__ingest_plan_make(const char *dir, const hood_ingest_options *opts,
                                   hood__ingest_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    entry_list files = {0};
    size_t *order = NULL, first = 0;
    hood_status status = find_files(dir, opts, &files, plan);
    if (status == HOOD_OK)
        status = file_order(opts, files.count, &order);
    if (status == HOOD_OK)
        status = split(opts, files.count, &first, plan);
    if (status == HOOD_OK)
        status = shard(dir, opts, plan);
    if (status == HOOD_OK)
        status = take_files(dir, &files, order, first, plan);
    free(order);
    entries_free(&files);
    return status;
}

void hood__ingest_plan_release(hood__ingest_plan *plan)
{
    hood__strings_free(plan->paths, plan->total);
    hood__strings_free(plan->classes, plan->num_classes);
    free(plan->labels);
    memset(plan, 0, sizeof *plan);
}
