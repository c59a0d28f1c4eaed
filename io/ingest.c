/* ingest.c — image_dataset_from_directory: checks the options, takes the file plan of the folder
 * scan (scan.c), sizes the matrix once (float32, or 8-bit codes: hood_pixel_storage), then runs
 * the decoders on worker threads into their columns (image.c does one image), skips unreadable
 * files and reports progress. Not the scan or the decoding itself, and no printing: messages and
 * progress go through callbacks. */
#include "dataset.h"
#include "error.h"
#include "image.h"
#include "scan.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { MAX_THREADS = 64 };

void hood_ingest_options_init(hood_ingest_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
    hood_preprocess_init(&opts->image);
    opts->label_mode = HOOD_LABELS_INT;
    opts->shuffle = true;
    /* Seed 0, as the CLI's default: the same folder gives the same order every run, never a
     * silently random one (has_seed = false asks for a drawn seed). */
    opts->has_seed = true;
    opts->seed = 0;
    opts->subset = HOOD_SUBSET_ALL;
}

/* The caller's options into *dst (docs/abi.md). The nested hood_preprocess has its own
 * struct_size: a caller's `image` may be shorter or longer than this library's, which moves
 * every field after it by the difference (a multiple of hood_preprocess's alignment, so the
 * fields after it keep their layout), so that part is read from where the caller has it. */
static hood_status ingest_options_read(hood_ingest_options *dst, const hood_ingest_options *src)
{
    const char *what = "hood_dataset_from_directory", *type = "hood_ingest_options";
    const size_t at = offsetof(hood_ingest_options, image), own_pp = sizeof(hood_preprocess);
    const size_t first = HOOD__END(hood_ingest_options, shard_count);
    size_t given, given_pp;
    memcpy(&given, src, sizeof given);
    if (given < at + sizeof given_pp)
        return hood__fail(HOOD_EINVAL, "%s: %s.struct_size is %zu; call %s_init first", what,
                          type, given, type);
    memcpy(&given_pp, (const unsigned char *)src + at, sizeof given_pp);
    if (given_pp % _Alignof(hood_preprocess) != 0 || given_pp > given - at)
        return hood__fail(HOOD_EINVAL, "%s: image.struct_size is %zu; call %s_init first", what,
                          given_pp, type);
    hood_status st = hood__preprocess_read(&dst->image, &src->image, what);
    if (st != HOOD_OK)
        return st;
    /* The fields after `image`: in the caller's struct from at + given_pp, in ours from
     * at + own_pp. */
    const unsigned char *rest = (const unsigned char *)src + at + given_pp;
    unsigned char *mine = (unsigned char *)dst + at + own_pp;
    if ((st = hood__options_copy(mine, sizeof *dst - at - own_pp, first - at - own_pp, rest,
                                 given - at - given_pp, given, what, type)) != HOOD_OK)
        return st;
    dst->struct_size = sizeof *dst;
    return HOOD_OK;
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
    float *part_x[2];     /* float storage: the columns; NULL with 8-bit storage */
    uint8_t *part_u8[2];  /* 8-bit storage: the codes, value = code / divisor */
    float divisor;
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
    /* The calling thread waits on wait_cond for the workers (running counts those still at
     * work) and reports meanwhile; stopped: the callback asked to stop. */
    pthread_mutex_t wait_lock;
    pthread_cond_t wait_cond;
    int running;
    bool stopped;
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

static uint8_t *codes_of(const run *r, size_t i)
{
    if (i < r->part_n[0])
        return r->part_u8[0] + i * r->d;
    return r->part_u8[1] + (i - r->part_n[0]) * r->d;
}

/* The decoded column (values code / divisor, io/resample.c's table) as 8-bit codes. Each code is
 * checked to widen back to the same float (the engine's one rule), so 8-bit storage can never
 * hold other values than float storage would: a value that is not a code is an internal error. */
static hood_status encode_column(uint8_t *codes, const float *column, size_t d, float divisor,
                                 const float widen[256], const char *path)
{
    for (size_t i = 0; i < d; i++) {
        float v = column[i];
        float scaled = v * divisor; /* the code, to rounding */
        long k = scaled >= 0.0f && scaled < 255.5f ? (long)(scaled + 0.5f) : -1;
        if (k < 0 || k > 255 || widen[k] != v)
            return hood__fail(HOOD_EDATA,
                              "%s: value %g is not an 8-bit code / %g: ingest with pixel "
                              "storage float",
                              path, (double)v, (double)divisor);
        codes[i] = (uint8_t)k;
    }
    return HOOD_OK;
}

/* One decoding thread: claims the next index until none is left (or a stop is asked). A
 * reporter (the calling thread decoding alone) calls the progress callback after each file. */
static void decode_loop(run *r, bool reporter)
{
    hood__image_decoder *dec;
    hood_status status = hood__image_decoder_create(&dec, r->pp, r->flags, &r->vips_lock);
    if (status != HOOD_OK) {
        record_failure(r, 0, status, true);
        return;
    }
    /* 8-bit storage: each image is decoded into this thread's float column, then encoded;
     * widen[k] = hood__pixel_widen(k), tabled once instead of a division per value */
    float *scratch = NULL, widen[256];
    for (int k = 0; k < 256; k++)
        widen[k] = hood__pixel_widen((uint8_t)k, r->divisor);
    if ((r->part_u8[0] != NULL || r->part_u8[1] != NULL) &&
        (scratch = malloc(r->d * sizeof *scratch)) == NULL) {
        hood__image_decoder_free(dec);
        record_failure(r, 0, hood__fail(HOOD_ENOMEM, "out of memory for a column"), true);
        return;
    }
    for (;;) {
        if (atomic_load(&r->stop))
            break;
        size_t i = atomic_fetch_add(&r->next, 1);
        if (i >= r->total)
            break;
        status = hood__image_decode_file(dec, r->paths[i], scratch ? scratch : column_of(r, i));
        bool fatal = status == HOOD_ENOMEM;
        if (status == HOOD_OK && scratch != NULL &&
            (status = encode_column(codes_of(r, i), scratch, r->d, r->divisor, widen,
                                    r->paths[i])) !=
                HOOD_OK)
            fatal = true;
        if (status != HOOD_OK)
            record_failure(r, i, status, fatal);
        size_t done = atomic_fetch_add(&r->done, 1) + 1;
        if (reporter && done < r->total && r->on_progress != NULL &&
            r->on_progress(r->user, done, r->total) != 0) {
            r->stopped = true;
            atomic_store(&r->stop, true);
        }
    }
    free(scratch);
    hood__image_decoder_free(dec);
}

static void *decode_thread(void *arg)
{
    run *r = arg;
    decode_loop(r, false);
    pthread_mutex_lock(&r->wait_lock);
    r->running--;
    pthread_cond_signal(&r->wait_cond);
    pthread_mutex_unlock(&r->wait_lock);
    return NULL;
}

/* The calling thread's part while the workers decode: it alone calls the progress callback
 * (so the caller's callback never runs on a thread it did not make, and never twice at once),
 * every REPORT_MS at most and at each worker's end, and passes a stop request on. */
enum { REPORT_MS = 50 };

static void report_until_done(run *r)
{
    pthread_mutex_lock(&r->wait_lock);
    while (r->running > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += REPORT_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->wait_cond, &r->wait_lock, &until);
        if (r->on_progress == NULL || r->running == 0)
            continue;
        pthread_mutex_unlock(&r->wait_lock);
        size_t done = atomic_load(&r->done);
        /* (total, total) is the final call, made once after the join */
        if (!atomic_load(&r->stop) && done < r->total &&
            r->on_progress(r->user, done, r->total) != 0) {
            r->stopped = true;
            atomic_store(&r->stop, true);
        }
        pthread_mutex_lock(&r->wait_lock);
    }
    pthread_mutex_unlock(&r->wait_lock);
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
    /* (0, total) first: the caller learns the scan is over, and may stop before any decode. */
    if (r->on_progress != NULL && r->on_progress(r->user, 0, r->total) != 0)
        return hood__fail(HOOD_ESTOPPED, "ingest stopped by the progress callback before "
                                         "decoding");
    r->running = threads;
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&tids[started], NULL, decode_thread, r) != 0)
            break; /* fewer threads is still correct */
        started++;
    }
    pthread_mutex_lock(&r->wait_lock); /* started ones may have finished already */
    r->running -= threads - started;
    pthread_mutex_unlock(&r->wait_lock);
    if (started == 0)
        decode_loop(r, true); /* no thread at all: decode here, asking after each file */
    else
        report_until_done(r);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    if (r->stopped)
        return hood__fail(HOOD_ESTOPPED, "ingest stopped by the progress callback after %zu of "
                                         "%zu files",
                          atomic_load(&r->done), r->total);
    if (r->on_progress != NULL && r->fatal == HOOD_OK && atomic_load(&r->done) == r->total &&
        r->on_progress(r->user, r->total, r->total) != 0)
        return hood__fail(HOOD_ESTOPPED, "ingest stopped by the progress callback after %zu of "
                                         "%zu files",
                          r->total, r->total);
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
    /* 8-bit or float32 columns, moved as bytes */
    uint8_t *codes = hood__dataset_u8_mutable(*ds);
    unsigned char *x = codes != NULL ? codes : (unsigned char *)hood_dataset_x_mutable(*ds);
    size_t column_bytes = r->d * (codes != NULL ? 1 : sizeof(float));
    size_t k = 0, f = 0;
    for (size_t j = 0; j < n; j++) {
        size_t index = first + j;
        while (f < r->num_failures && r->failures[f].index < index)
            f++;
        if (f < r->num_failures && r->failures[f].index == index)
            continue;
        if (k != j) /* k < j: the destination column is already consumed */
            memcpy(x + k * column_bytes, x + j * column_bytes, column_bytes);
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
    hood__strings_free(kept_paths, kept);
    return status;
}

/* The matrix is mapped zeroed and first touched by the decoders, one 4 KB page fault per 4 KB
 * of columns: 5 % of a photo ingest's time was those faults (perf, 2 threads). Transparent huge
 * pages take 512 times fewer. Only a hint: where THP is off or the call fails, nothing changes
 * but the speed. */
static void hint_huge_pages(void *x, size_t bytes)
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

/* --- the entry point ------------------------------------------------------------------------ */

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
    if ((unsigned)opts->pixel_storage > (unsigned)HOOD_PIXELS_U8)
        return hood__fail(HOOD_EINVAL, "unknown pixel_storage %d", (int)opts->pixel_storage);
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

/* Every image preprocessing hood has gives code / 255 (or code with raw_values) exactly, so
 * AUTO is 8-bit; one that did not would choose float here. */
static bool pixels_u8(const hood_ingest_options *opts)
{
    return opts->pixel_storage != HOOD_PIXELS_FLOAT;
}

/* One matrix per part, sized now and checked against the machine's memory before allocating;
 * gives the column length d. */
static hood_status create_parts(const hood_ingest_options *opts, const hood__ingest_plan *plan,
                                size_t channels, hood_dataset *parts[2], size_t *d_out)
{
    size_t d, cells, bytes, total = plan->total;
    bool u8 = pixels_u8(opts);
    hood__preprocess_check(&opts->image, &d);
    if (hood__mul_overflows(d, total, &cells) ||
        hood__mul_overflows(cells, u8 ? 1 : sizeof(float), &bytes))
        return hood__fail(HOOD_ENOMEM, "%zu images of %zu values do not fit in memory", total, d);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && bytes / (size_t)page > (size_t)pages)
        return hood__fail(HOOD_ENOMEM,
                          "%zu images of %zu x %zu x %zu %s need %zu MB, more than this "
                          "machine's %zu MB of memory",
                          total, opts->image.height, opts->image.width, channels,
                          u8 ? "bytes" : "floats", bytes >> 20,
                          ((size_t)pages * (size_t)page) >> 20);
    hood_status status = HOOD_OK;
    for (int p = 0; p < 2 && status == HOOD_OK; p++)
        if (plan->count[p] > 0)
            status = u8 ? hood__dataset_create_u8(&parts[p], d, plan->count[p],
                                                  opts->image.raw_values ? 1.0f : 255.0f)
                        : hood_dataset_create(&parts[p], d, plan->count[p]);
    if (status != HOOD_OK)
        return status;
    for (int p = 0; p < 2; p++)
        if (parts[p] != NULL)
            hint_huge_pages(u8 ? (void *)hood__dataset_u8_mutable(parts[p])
                               : (void *)hood_dataset_x_mutable(parts[p]),
                            d * plan->count[p] * (u8 ? 1 : sizeof(float)));
    *d_out = d;
    return HOOD_OK;
}

/* The state the decoding threads share, over the plan's paths and the parts' columns. */
static hood_status run_create(run **out, const hood_ingest_options *opts,
                              const hood__ingest_plan *plan, hood_dataset *parts[2], size_t d)
{
    *out = NULL;
    run *r = calloc(1, sizeof *r);
    if (r == NULL)
        return hood__fail(HOOD_ENOMEM, "out of memory");
    r->paths = plan->paths;
    r->d = d;
    r->total = plan->total;
    for (int p = 0; p < 2; p++) {
        r->part_n[p] = plan->count[p];
        r->part_u8[p] = parts[p] ? hood__dataset_u8_mutable(parts[p]) : NULL;
        r->part_x[p] = parts[p] && !r->part_u8[p] ? hood_dataset_x_mutable(parts[p]) : NULL;
    }
    r->divisor = opts->image.raw_values ? 1.0f : 255.0f;
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
        return hood__fail(HOOD_ENOMEM, "cannot create a lock");
    }
    if (pthread_mutex_init(&r->fail_lock, NULL) != 0) {
        pthread_mutex_destroy(&r->vips_lock);
        free(r);
        return hood__fail(HOOD_ENOMEM, "cannot create a lock");
    }
    if (pthread_mutex_init(&r->wait_lock, NULL) != 0) {
        pthread_mutex_destroy(&r->vips_lock);
        pthread_mutex_destroy(&r->fail_lock);
        free(r);
        return hood__fail(HOOD_ENOMEM, "cannot create a lock");
    }
    if (pthread_cond_init(&r->wait_cond, NULL) != 0) {
        pthread_mutex_destroy(&r->vips_lock);
        pthread_mutex_destroy(&r->fail_lock);
        pthread_mutex_destroy(&r->wait_lock);
        free(r);
        return hood__fail(HOOD_ENOMEM, "cannot create a condition variable");
    }
    *out = r;
    return HOOD_OK;
}

static void run_free(run *r)
{
    if (r == NULL)
        return;
    for (size_t k = 0; k < r->num_failures; k++)
        free(r->failures[k].message);
    free(r->failures);
    pthread_mutex_destroy(&r->vips_lock);
    pthread_mutex_destroy(&r->fail_lock);
    pthread_mutex_destroy(&r->wait_lock);
    pthread_cond_destroy(&r->wait_cond);
    free(r);
}

/* opts->threads, or one per online core (0), never more than there are files. */
static int thread_count(const hood_ingest_options *opts, size_t total)
{
    int threads = opts->threads;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
    }
    if ((size_t)threads > total)
        threads = (int)total;
    return threads;
}

/* Decodes every file of the run, then names each file skipped as unreadable, in file order. */
static hood_status decode_files(run *r, const hood_ingest_options *opts)
{
    hood_status status = decode_all(r, thread_count(opts, r->total));
    if (status != HOOD_OK)
        return status;
    for (size_t k = 0; k < r->num_failures; k++) {
        const failure *f = &r->failures[k];
        hood__ingest_message(opts, "Skipped %s", f->message ? f->message : r->paths[f->index]);
    }
    if (r->num_failures > 0)
        hood__ingest_message(opts, "Skipped %zu unreadable file%s.", r->num_failures,
                             r->num_failures == 1 ? "" : "s");
    return HOOD_OK;
}

hood_status hood_dataset_from_directory(const char *dir, const hood_ingest_options *opts,
                                        hood_dataset **out, hood_dataset **validation_out)
{
    hood__clear_error();
    if (out != NULL)
        *out = NULL;
    if (validation_out != NULL)
        *validation_out = NULL;
    hood_ingest_options given;
    if (opts != NULL) {
        hood_status status = ingest_options_read(&given, opts);
        if (status != HOOD_OK)
            return status;
        opts = &given;
    }
    hood_status status = check_options(dir, opts, out, validation_out);
    if (status != HOOD_OK)
        return status;
    if ((status = hood__vips_start()) != HOOD_OK)
        return status;

    hood__ingest_plan plan;
    hood_dataset *parts[2] = {NULL, NULL};
    run *r = NULL;
    size_t d = 0, channels = hood_color_mode_channels(opts->image.color_mode);
    status = hood__ingest_plan_make(dir, opts, &plan);
    if (status == HOOD_OK)
        status = create_parts(opts, &plan, channels, parts, &d);
    if (status == HOOD_OK)
        status = run_create(&r, opts, &plan, parts, d);
    if (status == HOOD_OK)
        status = decode_files(r, opts);
    for (int p = 0; p < 2 && status == HOOD_OK; p++)
        if (parts[p] != NULL)
            status = finish_part(&parts[p], r, p == 0 ? 0 : plan.count[0], plan.count[p],
                                 plan.labels + (p == 0 ? 0 : plan.count[0]), opts, plan.classes,
                                 plan.num_classes, channels, dir);
    if (status == HOOD_OK) {
        for (int p = 0; p < 2 && plan.sharded; p++)
            if (parts[p] != NULL)
                hood__dataset_set_shard(parts[p], plan.part_first[p], plan.part_total[p]);
        *out = parts[0];
        if (validation_out != NULL)
            *validation_out = parts[1];
        parts[0] = parts[1] = NULL;
    }
    run_free(r);
    hood_dataset_free(parts[0]);
    hood_dataset_free(parts[1]);
    hood__ingest_plan_release(&plan);
    if (status == HOOD_OK)
        hood__clear_error(); /* a skipped file's message is not this call's error */
    return status;
}
