/* hood.h — the one public header of libhood: Keras-style dense networks trained with batched
 * cblas_sgemm, and image folders ingested by libvips into one matrix (8-bit pixels or float32).
 * Everything here is stable API; nothing else in the source tree is. */
#ifndef HOOD_H
#define HOOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "hood_version.h" /* HOOD_VERSION_MAJOR/MINOR/PATCH/STRING/NUMBER, made by meson */

#if defined(HOOD_BUILDING) && defined(__GNUC__)
#define HOOD_API __attribute__((visibility("default")))
#else
#define HOOD_API
#endif

/* ---------------------------------------------------------------------------------------------
 * Conventions
 *   - Matrices are float32, column-major, features x samples: sample j is the contiguous column
 *     X + j*d. That is the same bytes as a NumPy C-order (n, d) array.
 *   - Every fallible call returns hood_status. On failure the function that found the problem
 *     has written a one-line message (file, line or field, what was expected) that
 *     hood_last_error() returns on the calling thread. Every call into hood that can fail clears
 *     the message first, so after a call that returns HOOD_OK it is "".
 *   - Objects come in create/free pairs; every *_free(NULL) is a no-op.
 *   - The library never prints, never exits and never aborts on user input.
 *
 * Options structs (hood_preprocess, hood_ingest_options, hood_csv_options,
 * hood_optimizer_config, hood_fit_options) grow at their end only. Each starts with
 * `size_t struct_size`, which its _init sets to the sizeof this program was compiled with;
 * always call the _init, then set fields. Functions taking one read only struct_size bytes:
 *   - 0 or less than the first released layout: HOOD_EINVAL ("call hood_X_init first");
 *   - an older, smaller layout: the fields it lacks take their defaults;
 *   - a newer, larger layout (a program built against a newer hood): accepted when the fields
 *     this library does not know are all zero bytes (their defaults), else HOOD_EINVAL naming
 *     both sizes. Functions that fill one (hood_model_optimizer, hood_model_preprocess) write
 *     only the fields that fit. docs/abi.md has the rules and the SONAME policy.
 *
 * Threads: objects are not locked. Calls on different objects may run on any threads at once.
 * On one model, hood_model_predict and hood_model_evaluate (and every other function taking a
 * const hood_model *) may run on several threads at once; hood_model_fit, hood_model_compile,
 * hood_model_free and every setter must not run at the same time as any other call on that
 * model. hood_model_interrupt is the exception: it may be called at any time, from any thread
 * or a signal handler. A dataset only read (every function taking a const hood_dataset *) may be
 * shared by several threads and calls at once.
 * ------------------------------------------------------------------------------------------- */

/* ---------------------------------------------------------------------------------------------
 * Determinism: which results are the same bits.
 *   - Same machine, same BLAS library and kernel (OpenBLAS picks its kernel by CPU at run
 *     time), same thread count (hood_model_set_threads), same data, options and seeds: fit,
 *     evaluate and predict give the same bits every run. Which thread runs which share of a
 *     product, the pool's policy and machine load never change a result.
 *   - Sums hood makes are in a fixed order: evaluate's (and fit's validation) loss is the
 *     per-sample losses added one at a time in sample order across batches, and accuracy is an
 *     exact count; the batch size does not enter either sum.
 *   - evaluate and predict (and fit's validation) run the forward pass over fixed blocks of 128
 *     samples counted from sample 0, whatever batch_size says: a BLAS may round a column
 *     differently in calls of different widths (OpenBLAS 0.3.21's AVX-512 kernels do, for
 *     some shapes), and fixed blocks give every sample the same call. So evaluate and predict
 *     give the same bits at any batch size; batch_size is kept for Keras' signature.
 *   - Another thread count may change the last bits: a product split over its inner dimension
 *     adds per-thread partial sums (in a fixed order, so each count repeats itself).
 *   - fit: the batch size changes the updates, hence the weights; the epoch's training loss is
 *     the sum of its batches' sums.
 *   - fit with one batch of every training sample (batch_size >= the samples, one process)
 *     reads the data in place and sums in storage order whatever the shuffle: the same bits
 *     with or without shuffle, equal to a gathered batch's to rounding.
 *   - Sharded runs (hood_shard): each worker sums its own samples, then the all-reduce adds the
 *     workers' gradients and sums (the loss as a float pair, ~48 bits) in the transport's
 *     order: results depend on the worker count and equal one process's to rounding; sample and
 *     correct counts are exact.
 *   - The BLAS's own thread setting is process-wide: fit, evaluate, evaluate_shard and predict
 *     run the BLAS at 1 thread and put the caller's setting back on every return path
 *     (OpenBLAS, BLIS; a generic CBLAS has no thread API and is not touched). Such calls running
 *     at once on several threads share that: the first sets 1, the last puts the setting back.
 * ------------------------------------------------------------------------------------------- */

typedef enum hood_status {
    HOOD_OK = 0,
    HOOD_EINVAL,       /* an argument is out of range: a size, an option, a NULL */
    HOOD_ENOMEM,       /* allocation failed, or the request would not fit in memory */
    HOOD_EIO,          /* the file system refused: open, read, write, rename */
    HOOD_EFORMAT,      /* a file's bytes are not what its format says */
    HOOD_ESHAPE,       /* dimensions do not match */
    HOOD_EDATA,        /* values are unusable: NaN/Inf inputs, labels out of range */
    HOOD_EDIVERGED,    /* training produced a non-finite loss or weight */
    HOOD_ESTOPPED,     /* a callback asked to stop */
    HOOD_EUNSUPPORTED, /* a valid request this build cannot do */
    HOOD_EMPI          /* a distributed-run failure (another rank failed) */
} hood_status;

/* A short fixed description of a status ("invalid argument"); never NULL. */
HOOD_API const char *hood_strerror(hood_status status);
/* The message of the last call into hood on this thread: one line when it failed, "" when it
 * succeeded. The pointer stays valid for the thread's life, the text until the thread's next
 * call into hood that can fail. */
HOOD_API const char *hood_last_error(void);
/* Frees memory hood allocated for the caller (hood_model_save_to_buffer); NULL is a no-op. It
 * is free(), named so that a host with another allocator knows whose memory it is. */
HOOD_API void hood_free(void *p);
/* The version of the library that is running ("0.2.0"), which may be newer than the
 * HOOD_VERSION_STRING this program was compiled against. */
HOOD_API const char *hood_version_string(void);
/* The running library's version as MAJOR * 10000 + MINOR * 100 + PATCH (0.2.0 -> 200); compare
 * with HOOD_VERSION_NUMBER to tell which library a program was built against. */
HOOD_API int hood_version_number(void);

/* ---------------------------------------------------------------------------------------------
 * Output files, written whole or not at all: every file hood writes (models, datasets, weights,
 * the CLI's history) goes through this, so a reader sees the old file or the new one, never half
 * of one, even when the writer is killed. One mode rule: a new file gets what a plain fopen
 * would give it (0666 less the umask, or the folder's default ACL), a replaced file keeps its
 * mode. hood_output_commit and hood_output_abort free the object; nothing else does.
 * ------------------------------------------------------------------------------------------- */

typedef struct hood_output hood_output;

/* Creates the temporary in path's folder (HOOD_EIO naming path when the folder cannot hold it);
 * path itself is not touched until the commit. The temporary is unnamed (Linux O_TMPFILE, named
 * through /proc at the commit) where the file system supports it, so a killed writer (even
 * SIGKILL) leaves nothing (to replace an existing path the commit links it to a short unique
 * name and renames that over path at once: the one instant a name exists); elsewhere it is
 * "<path>.tmp.XXXXXX" (the name cut to fit NAME_MAX), removed by abort or a failed commit but
 * left behind by SIGKILL. */
HOOD_API hood_status hood_output_open(hood_output **out, const char *path);
/* The stream to write to (buffered); owned by file: do not fclose it. NULL once finished. */
HOOD_API FILE *hood_output_stream(hood_output *file);
/* Optional, before commit: flushes, fsyncs and closes the temporary, so write errors show now
 * while the rename waits (e.g. until a companion file is complete). On failure the temporary is
 * removed; commit then fails with the same message, abort frees. */
HOOD_API hood_status hood_output_finish(hood_output *file);
/* Finishes (if not done), renames over path and fsyncs the folder; frees file either way. On
 * failure (HOOD_EIO, message "PATH: cannot write: REASON") path is untouched. */
HOOD_API hood_status hood_output_commit(hood_output *file);
/* Removes the temporary and frees file; path is untouched. NULL is a no-op. */
HOOD_API void hood_output_abort(hood_output *file);

/* Called with one line of text, no trailing newline ("Found 10 files belonging to 2 classes."). */
typedef void (*hood_message_fn)(void *user, const char *message);
/* Called with work done so far and the total (files for ingest), always from the thread that
 * made the call and at least every ~100 ms while the work goes on (done may repeat); the last
 * call is (total, total), once. Return non-zero to stop: the call then returns HOOD_ESTOPPED
 * with nothing kept, within about one file's work. */
typedef int (*hood_progress_fn)(void *user, size_t done, size_t total);

/* ---------------------------------------------------------------------------------------------
 * Dataset: X (d x n) plus labels, class names, image shape and source paths.
 * ------------------------------------------------------------------------------------------- */

typedef struct hood_dataset hood_dataset;

typedef enum hood_label_mode {
    HOOD_LABELS_INT = 0,     /* one value per sample: the class index 0..k-1 */
    HOOD_LABELS_CATEGORICAL, /* k values per sample: one-hot (or any distribution) */
    HOOD_LABELS_BINARY,      /* one value per sample, 0 or 1 (two classes) */
    HOOD_LABELS_NONE         /* no labels */
} hood_label_mode;

/* A dataset owning a zeroed X (features x samples) and no labels. */
HOOD_API hood_status hood_dataset_create(hood_dataset **out, size_t features, size_t samples);
/* A dataset over caller-owned X (features x samples, column-major, ld = features), no copy;
 * the caller keeps ownership and keeps x alive and unchanged until hood_dataset_free. */
HOOD_API hood_status hood_dataset_wrap(hood_dataset **out, const float *x, size_t features,
                                       size_t samples);
HOOD_API void hood_dataset_free(hood_dataset *ds);

HOOD_API size_t hood_dataset_features(const hood_dataset *ds);
HOOD_API size_t hood_dataset_samples(const hood_dataset *ds);
/* X: features x samples, column-major, float32; owned by ds. A dataset holding 8-bit pixels
 * (hood_dataset_storage) widens them into a float copy on the first call (value = (float)code /
 * divisor, the bits ingest writes with float storage), owned by ds and freed with it: 4 more
 * bytes per value from then on. Safe from several threads at once; NULL only when that copy
 * cannot be allocated (hood_last_error says so). Training and evaluating never need it. */
HOOD_API const float *hood_dataset_x(const hood_dataset *ds);
/* Writable X of a dataset made by hood_dataset_create or ingest (NULL for a wrapped one). An
 * 8-bit dataset becomes a float32 one for good (its codes are freed; NULL, with the dataset
 * unchanged, when the floats cannot be allocated). */
HOOD_API float *hood_dataset_x_mutable(hood_dataset *ds);

/* Labels from class indices (labels[j] in 0..num_classes-1, copied), stored in `mode`:
 * INT keeps the index, CATEGORICAL one-hot encodes (num_classes values per sample),
 * BINARY stores 0/1 and needs num_classes == 2. */
HOOD_API hood_status hood_dataset_set_labels(hood_dataset *ds, hood_label_mode mode,
                                             const int32_t *labels, size_t num_classes);
/* Labels as given values: y is width x samples, column-major (copied). mode is BINARY
 * (width 1, values in [0,1]), CATEGORICAL (width = classes) or INT (width 1, whole numbers),
 * or NONE with y NULL to drop labels. For regression targets use CATEGORICAL/BINARY shapes. */
HOOD_API hood_status hood_dataset_set_label_values(hood_dataset *ds, hood_label_mode mode,
                                                   const float *y, size_t width,
                                                   size_t num_classes);
HOOD_API hood_label_mode hood_dataset_label_mode(const hood_dataset *ds);
/* Values per sample in hood_dataset_labels: 1 for INT/BINARY, k for CATEGORICAL, 0 for NONE. */
HOOD_API size_t hood_dataset_label_width(const hood_dataset *ds);
/* Labels: label_width x samples, column-major (class indices stored as exact floats); NULL if
 * NONE; owned by ds. */
HOOD_API const float *hood_dataset_labels(const hood_dataset *ds);
/* Number of classes (0 if unknown). */
HOOD_API size_t hood_dataset_num_classes(const hood_dataset *ds);

/* Class names, copied; count must equal the number of classes when labels are set. */
HOOD_API hood_status hood_dataset_set_class_names(hood_dataset *ds, const char *const *names,
                                                  size_t count);
/* Name of class i, or NULL when the dataset has no names; owned by ds. */
HOOD_API const char *hood_dataset_class_name(const hood_dataset *ds, size_t i);
/* Source file of sample j (ingested datasets), or NULL; owned by ds. */
HOOD_API const char *hood_dataset_path(const hood_dataset *ds, size_t j);
/* Image shape of each sample (height x width x channels, HWC order inside the column);
 * 0s when the dataset did not come from images. */
HOOD_API void hood_dataset_image_shape(const hood_dataset *ds, size_t *height, size_t *width,
                                       size_t *channels);
/* Where this dataset sits in the whole when it is one worker's shard: its samples are global
 * samples [first, first + samples) of global_samples (0 and samples when not sharded). */
HOOD_API void hood_dataset_shard_info(const hood_dataset *ds, size_t *first,
                                      size_t *global_samples);
/* Checks every value of X and the labels is finite (HOOD_EDATA names the sample otherwise). */
HOOD_API hood_status hood_dataset_check_finite(const hood_dataset *ds);

/* How a dataset holds X. Image ingest's values are exactly code / 255 (or code with
 * raw_values), so by default it keeps the 8-bit codes: a quarter of float32's memory, widened
 * to the same float bits wherever hood reads X (training's batches, evaluate, exports,
 * hood_dataset_x). Every other source (create, wrap, CSV, .npy/.npz) is float32. */
typedef enum hood_pixel_storage {
    HOOD_PIXELS_AUTO = 0, /* ingest option only: 8-bit when every value is code / divisor
                             exactly (every image preprocessing hood has); the default */
    HOOD_PIXELS_FLOAT,    /* float32, 4 bytes per value (as hood 0.2) */
    HOOD_PIXELS_U8        /* 8-bit codes, 1 byte per value */
} hood_pixel_storage;
/* HOOD_PIXELS_FLOAT or HOOD_PIXELS_U8. */
HOOD_API hood_pixel_storage hood_dataset_storage(const hood_dataset *ds);
/* The 8-bit codes (features x samples, column-major, owned by ds) of a HOOD_PIXELS_U8 dataset,
 * and *divisor (may be NULL): value = (float)code / divisor, 255 or 1 (raw_values). NULL for a
 * float32 dataset. */
HOOD_API const uint8_t *hood_dataset_x_u8(const hood_dataset *ds, float *divisor);
/* Bytes of X the dataset owns now: features x samples x 4 (float32) or x 1 (8-bit), plus the
 * float copy once hood_dataset_x has made one; 0 for a wrapped dataset. */
HOOD_API size_t hood_dataset_x_bytes(const hood_dataset *ds);
/* A HOOD_PIXELS_U8 dataset over caller-owned 8-bit codes (features x samples, column-major,
 * ld = features), no copy: value = (float)code / divisor, e.g. 255 for pixels in [0, 1] as
 * ingest makes them, 1 for the raw 0..255 (a uint8 array converted to float32). Training and
 * evaluating widen a batch at a time, as for ingested images; the caller keeps codes alive and
 * unchanged until hood_dataset_free. hood_dataset_x_mutable is NULL, as for hood_dataset_wrap.
 * HOOD_EINVAL for NULL codes, a divisor that is not finite and > 0, or an empty shape. */
HOOD_API hood_status hood_dataset_wrap_u8(hood_dataset **out, const uint8_t *codes,
                                          size_t features, size_t samples, float divisor);

/* ---------------------------------------------------------------------------------------------
 * Image ingest: image_dataset_from_directory.
 * ------------------------------------------------------------------------------------------- */

typedef enum hood_color_mode {
    HOOD_COLOR_GRAYSCALE = 0, /* 1 channel: ITU-R 601 luma of the 8-bit values, Pillow's 'L' */
    HOOD_COLOR_RGB,           /* 3 channels */
    HOOD_COLOR_RGBA           /* 4 channels */
} hood_color_mode;

typedef enum hood_interpolation {
    HOOD_INTERP_BILINEAR = 0, /* Keras' default */
    HOOD_INTERP_NEAREST,
    HOOD_INTERP_BICUBIC,
    HOOD_INTERP_LANCZOS3,
    HOOD_INTERP_AREA
} hood_interpolation;

/* How one image becomes one column; stored in a model so predict repeats it. */
typedef struct hood_preprocess {
    size_t struct_size;               /* set by hood_preprocess_init (see Options structs) */
    size_t height, width;             /* output size; default 256 x 256 as Keras */
    hood_color_mode color_mode;       /* default grayscale */
    hood_interpolation interpolation; /* default bilinear */
    bool crop_to_aspect_ratio;        /* centre crop to the output aspect before resizing */
    bool pad_to_aspect_ratio;         /* pad with black to the output aspect before resizing */
    bool raw_values;                  /* false (default): value / 255 in [0,1]; true: 0..255 */
    /* Where hood's pixels may differ from Pillow's Image.open(f).convert(mode).resize(size,
     * BILINEAR) (the seed's code; also what Keras' decode_image gives): each is opt-in. */
    bool jpeg_draft;          /* false (default): full JPEG decode, as Pillow; true: libjpeg
                                 shrink-on-load (DCT scaling by 1/2..1/8, never below the
                                 output size): faster on large JPEGs, pixels differ */
    bool exif_transpose;      /* false (default): pixels as stored, as Pillow's open and Keras;
                                 true: EXIF orientation applied (Pillow's exif_transpose) */
    int32_t alpha_background; /* HOOD_ALPHA_IGNORE (default): grayscale and rgb drop alpha, as
                                 Pillow's convert("L"/"RGB"); else 0xRRGGBB: the image is
                                 composited over that colour. rgba keeps alpha either way */
} hood_preprocess;
#define HOOD_ALPHA_IGNORE (-1)

HOOD_API void hood_preprocess_init(hood_preprocess *pp);
/* Channels per pixel for a colour mode (1, 3 or 4; 0 for a value that is not a mode). */
HOOD_API size_t hood_color_mode_channels(hood_color_mode mode);
/* The preprocessing that made a dataset's columns from image files (NULL clears it): kept with
 * the dataset so the files hood dataset writes (.npz 'preprocess' member, CSV "# hood:" line)
 * and the models trained on them can repeat it. HOOD_ESHAPE unless height * width * channels
 * is the dataset's features. A dataset with no image shape yet (flat rows read from a .npz or
 * CSV) takes height x width x channels as its hood_dataset_image_shape, so image layers fit. */
HOOD_API hood_status hood_dataset_set_preprocess(hood_dataset *ds, const hood_preprocess *pp);
/* false when the dataset does not say how its columns were made from images. */
HOOD_API bool hood_dataset_preprocess(const hood_dataset *ds, hood_preprocess *out);

typedef enum hood_subset {
    HOOD_SUBSET_ALL = 0,    /* no validation split */
    HOOD_SUBSET_TRAINING,   /* the first N - floor(split*N) files after the shuffle */
    HOOD_SUBSET_VALIDATION, /* the last floor(split*N) files after the shuffle */
    HOOD_SUBSET_BOTH        /* both: training in *out, validation in *validation_out */
} hood_subset;

typedef struct hood_ingest_options {
    size_t struct_size;             /* set by hood_ingest_options_init (see Options structs) */
    hood_preprocess image;          /* has its own struct_size, set by the same init */
    hood_label_mode label_mode;     /* default INT */
    const char *const *class_names; /* NULL: every class folder, byte-sorted; else this order */
    size_t num_class_names;
    const char *labels_file; /* NULL: labels from folders; else "relative/path,label" lines */
    bool shuffle;            /* default true */
    bool has_seed;           /* default true, with seed 0 (as the CLI): runs repeat exactly;
                                false asks for a seed drawn from the clock (Keras' seed=None;
                                a validation split is then an error) */
    uint64_t seed;           /* default 0 */
    double validation_split; /* 0 (default) .. <1 */
    hood_subset subset;
    bool follow_links;    /* default false */
    bool strict;          /* default false: skip unreadable files; true: fail on the first */
    bool block_untrusted; /* refuse libvips loaders marked untrusted (ImageMagick, PDF, ...) */
    int threads;          /* decoding threads; 0 = one per core */
    hood_message_fn on_message; /* "Found N files belonging to K classes." and skip reports */
    hood_progress_fn on_progress;
    void *user;
    size_t shard_index, shard_count; /* count 0 or 1: every file; else only this worker's
                                        hood_shard_range of the (shuffled, split) file list */
    /* Appended after 0.2.0 (older programs read as AUTO): */
    hood_pixel_storage pixel_storage; /* AUTO (default) = U8: 8-bit codes; FLOAT: float32 */
} hood_ingest_options;

HOOD_API void hood_ingest_options_init(hood_ingest_options *opts);
/* Scans dir (one sub-folder per class) and ingests it into a new dataset. With subset BOTH,
 * *validation_out receives the validation part (it may be NULL otherwise). */
HOOD_API hood_status hood_dataset_from_directory(const char *dir, const hood_ingest_options *opts,
                                                 hood_dataset **out,
                                                 hood_dataset **validation_out);
/* One image file, preprocessed as pp says, into column (height*width*channels floats, HWC). */
HOOD_API hood_status hood_image_load(const char *path, const hood_preprocess *pp, float *column);

/* ---------------------------------------------------------------------------------------------
 * Dataset files: the seed's CSV rows (x1,...,xn,y) and NumPy .npy/.npz.
 * ------------------------------------------------------------------------------------------- */

typedef struct hood_csv_options {
    size_t struct_size;         /* set by hood_csv_options_init (see Options structs) */
    bool header;                /* write: a header row; read: the first non-blank row is
                                   skipped (a header is never guessed) */
    long label_column;          /* read: -1 (default) = last column; -2 = no label column */
    size_t label_columns;       /* read: how many label columns (k for one-hot); default 1 */
    hood_label_mode label_mode; /* read: how to store the labels; default INT. NONE reads
                                   every column as a feature; one label column read as
                                   CATEGORICAL is one-hot encoded (<= 65,536 classes) */
    size_t shard_index, shard_count; /* read (.csv/.npz/.npy): count 0 or 1: every row; else
                                        only this worker's hood_shard_range of the rows */
    bool labels_from_header; /* read, default true: a header in hood's form decides which
                                columns are labels (see below); false: label_column(s) decide,
                                and a hood header naming other label columns is HOOD_EFORMAT */
    size_t features;         /* read: 0 (default) or the features the caller expects (a model's
                                input width): when no hood header decides, the columns beyond
                                `features` are the labels (none, 1, or k one-hot) */
} hood_csv_options;
/* hood's CSV, as hood_dataset_save_csv writes it with header set:
 *   # hood: height=150 width=150 color_mode=grayscale ... class_names=cat,dog
 *   x1,x2,...,xd,y                (INT/BINARY labels; "y0,...,yk-1" for k one-hot columns;
 *                                  no y for NONE)
 * then one row per sample. The "# hood:" line is there when the dataset has preprocessing or
 * class names (names %XX-escaped); reading, lines starting with '#' before the first row are
 * comments, and a "# hood:" one gives the dataset its preprocessing and class names. A first
 * row in exactly hood's header form is a header even without `header` (it holds no number, so
 * no data row is ever dropped); any other first row is a header only when `header` is set. */

HOOD_API void hood_csv_options_init(hood_csv_options *opts);
/* Writes (atomically) one row per sample: x1,...,xd then the labels (one-hot as k columns). */
HOOD_API hood_status hood_dataset_save_csv(const hood_dataset *ds, const char *path,
                                           const hood_csv_options *opts);
/* Every reader (CSV, .npy/.npz, model, labels file) takes regular files only: a FIFO or a device
 * fails at once with HOOD_EIO ("PATH: is a FIFO, not a regular file"); reads stop at the size
 * the file had when opened; a CSV line is at most 1 GiB (HOOD_EFORMAT beyond). */
HOOD_API hood_status hood_dataset_load_csv(const char *path, const hood_csv_options *opts,
                                           hood_dataset **out);
/* .npz with x float32 (n, d); y int32 (n,) for INT, float32 (n, k) for CATEGORICAL, float32
 * (n, 1) for BINARY; class_names (unicode array). Loading takes x as (n, d), (n, h, w) or
 * (n, h, w, c) of any numeric dtype; integer y -> INT, float (n, k>1) -> CATEGORICAL, float
 * (n,)/(n, 1) -> BINARY when every value is in [0, 1], else INT when every value is whole.
 * Members stored (numpy.savez) and deflated (numpy.savez_compressed) both load; a deflated
 * member must inflate to exactly the size it declares, which must fit in memory (HOOD_EFORMAT /
 * HOOD_ENOMEM naming the file and member otherwise). */
HOOD_API hood_status hood_dataset_save_npz(const hood_dataset *ds, const char *path);
/* The same members DEFLATED (zlib level 6), as numpy.savez_compressed writes them. */
HOOD_API hood_status hood_dataset_save_npz_compressed(const hood_dataset *ds, const char *path);
HOOD_API hood_status hood_dataset_load_npz(const char *path, hood_dataset **out);
/* .npy of x alone (n, d); loading gives a dataset without labels. */
HOOD_API hood_status hood_dataset_save_npy(const hood_dataset *ds, const char *path);
HOOD_API hood_status hood_dataset_load_npy(const char *path, hood_dataset **out);
/* Picks the format from the extension: .csv, .npz or .npy (opts may be NULL). */
HOOD_API hood_status hood_dataset_save(const hood_dataset *ds, const char *path,
                                       const hood_csv_options *opts);
HOOD_API hood_status hood_dataset_load(const char *path, const hood_csv_options *opts,
                                       hood_dataset **out);
/* hood_dataset_write's flags (bits; 0 for none). */
typedef enum hood_write_flags {
    HOOD_WRITE_NPZ_COMPRESSED = 1 /* .npz: members DEFLATED, as hood_dataset_save_npz_compressed */
} hood_write_flags;
/* Writes ds into out, an output from hood_output_open, in the format out's path picks (as
 * hood_dataset_save: .csv with opts, .npz, .npy), and finishes it (hood_output_finish) without
 * committing: the caller commits it, e.g. only once several outputs are all written, so that
 * none appears unless every one was written whole (`hood dataset --subset both`). On failure
 * out's temporary is already gone (a later commit fails with "PATH: cannot write"); commit or
 * abort it as usual, either frees it. flags: 0 or HOOD_WRITE_NPZ_COMPRESSED (any other bit:
 * HOOD_EINVAL). Errors name out's path. */
HOOD_API hood_status hood_dataset_write(const hood_dataset *ds, hood_output *out,
                                        const hood_csv_options *opts, unsigned flags);

/* ---------------------------------------------------------------------------------------------
 * Model: a Sequential stack of Dense layers.
 * ------------------------------------------------------------------------------------------- */

typedef struct hood_model hood_model;

typedef enum hood_activation {
    HOOD_ACT_LINEAR = 0,
    HOOD_ACT_RELU,
    HOOD_ACT_TANH,
    HOOD_ACT_SIGMOID,
    HOOD_ACT_SOFTMAX
} hood_activation;

typedef enum hood_loss {
    HOOD_LOSS_BINARY_CROSSENTROPY = 0,
    HOOD_LOSS_CATEGORICAL_CROSSENTROPY,
    HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
    HOOD_LOSS_MEAN_SQUARED_ERROR
} hood_loss;

typedef enum hood_initializer {
    HOOD_INIT_GLOROT_UNIFORM = 0, /* Keras' default kernel initializer */
    HOOD_INIT_HE_NORMAL,
    HOOD_INIT_HE_UNIFORM,
    HOOD_INIT_ORTHOGONAL,
    HOOD_INIT_ZEROS
} hood_initializer;

typedef enum hood_optimizer_kind { HOOD_OPT_SGD = 0, HOOD_OPT_ADAM, HOOD_OPT_RMSPROP } hood_optimizer_kind;

typedef struct hood_optimizer_config {
    size_t struct_size;  /* set by hood_optimizer_config_init (see Options structs) */
    hood_optimizer_kind kind;
    float learning_rate; /* SGD 0.01; Adam, RMSprop 0.001 */
    float momentum;      /* SGD, RMSprop: 0 */
    bool nesterov;       /* SGD: false */
    float beta_1;        /* Adam: 0.9 */
    float beta_2;        /* Adam: 0.999 */
    float rho;           /* RMSprop: 0.9 */
    float epsilon;       /* Adam, RMSprop: 1e-7 */
} hood_optimizer_config;

/* Keras' defaults for the optimizer kind. */
HOOD_API void hood_optimizer_config_init(hood_optimizer_config *cfg, hood_optimizer_kind kind);

/* Names as Keras spells them ("relu", "binary_crossentropy", "sgd", "glorot_uniform");
 * parsing is case-insensitive; HOOD_EINVAL with a message for an unknown name. */
HOOD_API const char *hood_activation_name(hood_activation act);
HOOD_API hood_status hood_activation_parse(const char *name, hood_activation *out);
HOOD_API const char *hood_loss_name(hood_loss loss);
HOOD_API hood_status hood_loss_parse(const char *name, hood_loss *out);
HOOD_API const char *hood_optimizer_name(hood_optimizer_kind kind);
HOOD_API hood_status hood_optimizer_parse(const char *name, hood_optimizer_kind *out);
HOOD_API const char *hood_initializer_name(hood_initializer init);
HOOD_API hood_status hood_initializer_parse(const char *name, hood_initializer *out);

/* A model taking `input_features` values per sample, with no layers yet. */
HOOD_API hood_status hood_model_create(hood_model **out, size_t input_features);
HOOD_API void hood_model_free(hood_model *model);
/* Appends Dense(units, activation, use_bias) with a glorot_uniform kernel and zero bias. */
HOOD_API hood_status hood_model_add_dense(hood_model *model, size_t units, hood_activation act,
                                          bool use_bias);
/* Image layers (Keras' Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
 * Flatten, Dropout, BatchNormalization). Every layer knows its output shape from its input's:
 * the model's input is a flat vector of input_features values until hood_model_set_input_shape
 * (or hood_model_set_preprocess) gives it an image shape, which must come before the first
 * image layer. Samples are HWC inside their column (channels fastest, then width, height).
 * A Dense layer after an image layer flattens (Keras would need a Flatten first). A shape that
 * does not fit is HOOD_ESHAPE naming the layer ("layer 3 (max_pooling2d): a 2x2 window does not
 * fit a 1x1 input"). */
typedef enum hood_layer_kind {
    HOOD_LAYER_DENSE = 0,
    HOOD_LAYER_CONV2D,
    HOOD_LAYER_MAX_POOLING2D,
    HOOD_LAYER_AVERAGE_POOLING2D,
    HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D,
    HOOD_LAYER_FLATTEN,
    HOOD_LAYER_DROPOUT,
    HOOD_LAYER_BATCH_NORMALIZATION
} hood_layer_kind;
/* Keras' class name ("Conv2D") and its snake_case layer name ("conv2d"); "?" when unknown. */
HOOD_API const char *hood_layer_kind_name(hood_layer_kind kind);
HOOD_API const char *hood_layer_kind_snake(hood_layer_kind kind);

/* The input's image shape: height * width * channels must equal input_features. Before any
 * layer is added (HOOD_EINVAL after). */
HOOD_API hood_status hood_model_set_input_shape(hood_model *model, size_t height, size_t width,
                                                size_t channels);
/* Conv2D(filters, (kernel_h, kernel_w), strides, padding 'same' or 'valid', activation,
 * use_bias): strides 0 mean 1; 'same' is TensorFlow's rule (output ceil(in / stride); when the
 * padding total is odd the extra row/column goes at the bottom/right). Kernel (get/set, export)
 * in Keras' layout (kernel_h, kernel_w, in_channels, filters), glorot_uniform over fan_in =
 * kh*kw*in, fan_out = kh*kw*filters; bias zero. Softmax is refused (use it on a Dense). */
HOOD_API hood_status hood_model_add_conv2d(hood_model *model, size_t filters, size_t kernel_h,
                                           size_t kernel_w, size_t stride_h, size_t stride_w,
                                           bool same_padding, hood_activation act, bool use_bias);
/* MaxPooling2D / AveragePooling2D((pool_h, pool_w), strides (0: the pool size, Keras' None),
 * padding): with 'same', windows count only the input values they cover (as TensorFlow). */
HOOD_API hood_status hood_model_add_max_pooling2d(hood_model *model, size_t pool_h, size_t pool_w,
                                                  size_t stride_h, size_t stride_w,
                                                  bool same_padding);
HOOD_API hood_status hood_model_add_average_pooling2d(hood_model *model, size_t pool_h,
                                                      size_t pool_w, size_t stride_h,
                                                      size_t stride_w, bool same_padding);
/* GlobalAveragePooling2D: (H, W, C) -> (C,). */
HOOD_API hood_status hood_model_add_global_average_pooling2d(hood_model *model);
/* Flatten: (H, W, C) -> (H*W*C,); the column is already that vector, so it copies nothing but
 * is kept for the summary and Keras' layer list. */
HOOD_API hood_status hood_model_add_flatten(hood_model *model);
/* Dropout(rate), 0 <= rate < 1: in fit each value is kept with probability 1 - rate and scaled
 * by 1 / (1 - rate) (inverted dropout); evaluate and predict pass values through. The masks are
 * drawn from a stream of (compile seed, layer, optimizer step), so a run is reproducible and a
 * resumed run draws the same masks bit for bit. */
HOOD_API hood_status hood_model_add_dropout(hood_model *model, float rate);
/* BatchNormalization over the channels (Keras' axis=-1; a flat input's features): trainable
 * gamma (ones) and beta (zeros), moving mean (zeros) and variance (ones) updated in fit as
 * moving = moving * momentum + batch * (1 - momentum) with the batch's biased variance, and
 * used by evaluate and predict. Keras' defaults: momentum 0.99, epsilon 1e-3. */
HOOD_API hood_status hood_model_add_batch_normalization(hood_model *model, float momentum,
                                                        float epsilon);

/* What Keras' summary shows of one layer, and its settings. */
typedef struct hood_layer_info {
    hood_layer_kind kind;
    bool image;                    /* output is (height, width, channels); else (channels,) */
    size_t height, width, channels; /* output shape (height = width = 1 when not an image) */
    size_t params;                 /* trainable parameters */
    size_t non_trainable;          /* moving statistics (BatchNormalization) */
    hood_activation activation;    /* Dense, Conv2D; linear otherwise */
    bool use_bias;
    size_t units;                  /* Dense units, Conv2D filters; output values otherwise */
    size_t kernel_h, kernel_w;     /* Conv2D kernel, pooling window */
    size_t stride_h, stride_w;
    bool same_padding;
    float rate;                    /* Dropout */
    float momentum, epsilon;       /* BatchNormalization */
} hood_layer_info;
HOOD_API hood_status hood_model_layer_info(const hood_model *model, size_t layer,
                                           hood_layer_info *out);
/* Non-trainable values (moving statistics) in the model; hood_model_num_params counts only the
 * trainable ones. */
HOOD_API size_t hood_model_num_state(const hood_model *model);

/* Kernel initializer of layer i (before compile; default glorot_uniform). */
HOOD_API hood_status hood_model_set_initializer(hood_model *model, size_t layer,
                                                hood_initializer init);
/* Fixes the loss and optimizer, allocates the parameter arena and initialises the weights from
 * seed (same seed -> same weights, on any machine). Checks the output layer fits the loss. */
HOOD_API hood_status hood_model_compile(hood_model *model, hood_loss loss,
                                        const hood_optimizer_config *opt, uint64_t seed);
/* Threads fit/evaluate/predict use (default 1; 0 = one per core): hood splits each product over
 * its own threads and runs the BLAS at 1 thread meanwhile (the caller's BLAS setting comes back
 * before the call returns). Same seed and thread count give the same bits; different thread
 * counts may differ in the last bits (Determinism, above). */
HOOD_API hood_status hood_model_set_threads(hood_model *model, int threads);
HOOD_API int hood_model_threads(const hood_model *model);

HOOD_API size_t hood_model_input_features(const hood_model *model);
/* The input's image shape (Keras' input_shape (height, width, channels)): true and the three
 * values once the model has one (hood_model_set_input_shape, hood_model_set_preprocess, or a
 * loaded file that had one); false and 0s while the input is a flat vector. */
HOOD_API bool hood_model_input_shape(const hood_model *model, size_t *height, size_t *width,
                                     size_t *channels);
HOOD_API size_t hood_model_num_layers(const hood_model *model);
/* Units of layer i; 0 if i is out of range. */
HOOD_API size_t hood_model_layer_units(const hood_model *model, size_t layer);
HOOD_API hood_activation hood_model_layer_activation(const hood_model *model, size_t layer);
HOOD_API bool hood_model_layer_use_bias(const hood_model *model, size_t layer);
/* Width of the last layer (0 with no layers). */
HOOD_API size_t hood_model_output_units(const hood_model *model);
/* Trainable parameters (kernels and biases), as Keras' summary() counts them. */
HOOD_API size_t hood_model_num_params(const hood_model *model);
HOOD_API bool hood_model_is_compiled(const hood_model *model);
HOOD_API hood_loss hood_model_loss(const hood_model *model);
/* The optimizer the model was compiled with; out->struct_size must be set (init it first). */
HOOD_API hood_status hood_model_optimizer(const hood_model *model, hood_optimizer_config *out);
/* The learning rate the next batch will use (the compiled optimizer's; 0 with no model). */
HOOD_API float hood_model_get_learning_rate(const hood_model *model);
/* Sets the learning rate from the next batch on: between fits, or during one from the batch or
 * epoch callback (a schedule); > 0 and finite. Like every setter, not concurrently with other
 * calls on the model. */
HOOD_API hood_status hood_model_set_learning_rate(hood_model *model, float learning_rate);
/* Forgets the optimizer's state (moments, step count), as Keras' save(include_optimizer=False):
 * it becomes zero, and hood_model_save then writes none of it, so the file holds the weights
 * for inference (smaller by the state's size). Loading such a file gives a model whose next fit
 * starts its optimizer afresh. The model must be compiled. */
HOOD_API hood_status hood_model_drop_optimizer_state(hood_model *model);

/* Kernel of layer i in Keras' layout: (in, out) C-order, in*out floats (which is the bytes of
 * the column-major out x in matrix W). Copies; the caller owns `kernel`. */
HOOD_API hood_status hood_model_get_kernel(const hood_model *model, size_t layer, float *kernel);
HOOD_API hood_status hood_model_set_kernel(hood_model *model, size_t layer, const float *kernel);
/* Bias of layer i: out floats (HOOD_EINVAL if the layer has no bias). */
HOOD_API hood_status hood_model_get_bias(const hood_model *model, size_t layer, float *bias);
HOOD_API hood_status hood_model_set_bias(hood_model *model, size_t layer, const float *bias);

/* What the model knows about its data, kept in the model file so predict can repeat it. */
HOOD_API hood_status hood_model_set_preprocess(hood_model *model, const hood_preprocess *pp);
/* false when the model was not trained on images, or when out->struct_size is not valid
 * (hood_last_error says so; init out first). */
HOOD_API bool hood_model_preprocess(const hood_model *model, hood_preprocess *out);
HOOD_API hood_status hood_model_set_class_names(hood_model *model, const char *const *names,
                                                size_t count);
HOOD_API size_t hood_model_num_classes(const hood_model *model);
/* Name of class i or NULL; owned by the model. */
HOOD_API const char *hood_model_class_name(const hood_model *model, size_t i);

/* ---------------------------------------------------------------------------------------------
 * Training.
 * ------------------------------------------------------------------------------------------- */

/* What Keras' History holds for one epoch, plus where the time went. */
typedef struct hood_epoch_log {
    size_t epoch; /* 0-based */
    double loss, accuracy;
    bool has_validation;
    double val_loss, val_accuracy;
    double seconds;                                  /* wall time of the epoch */
    double gather_seconds, forward_seconds, backward_seconds, update_seconds;
    size_t samples; /* training samples seen this epoch */
} hood_epoch_log;

typedef enum hood_monitor {
    HOOD_MONITOR_VAL_LOSS = 0, /* Keras' default; falls back to loss without validation */
    HOOD_MONITOR_LOSS,
    HOOD_MONITOR_VAL_ACCURACY,
    HOOD_MONITOR_ACCURACY
} hood_monitor;

/* Called after each epoch with its log; return non-zero to stop training (fit returns HOOD_OK;
 * the epoch is kept). */
typedef int (*hood_epoch_fn)(void *user, hood_model *model, const hood_epoch_log *log);
/* Called after each batch with the running epoch means; return non-zero to stop at once (fit
 * returns HOOD_ESTOPPED; the weights are those after this batch). */
typedef int (*hood_batch_fn)(void *user, size_t epoch, size_t batch, size_t num_batches,
                             double loss, double accuracy);

typedef struct hood_fit_options {
    size_t struct_size;      /* set by hood_fit_options_init (see Options structs) */
    size_t epochs;           /* default 1 */
    size_t batch_size;       /* default 32; the last partial batch is kept */
    bool shuffle;            /* default true: a new permutation each epoch from (seed, epoch) */
    uint64_t seed;           /* default 0 */
    double validation_split; /* the last fraction of the samples, taken before shuffling */
    const hood_dataset *validation_data; /* or explicit validation data (wins over the split) */
    bool early_stopping;
    hood_monitor monitor;
    size_t patience;     /* default 0 */
    double min_delta;    /* default 0 */
    bool restore_best_weights;
    hood_epoch_fn on_epoch_end;
    hood_batch_fn on_batch_end;
    void *user;
    const struct hood_shard *shard; /* NULL: the dataset is all the data (see below) */
    /* Keras' class_weight: a training sample of class c counts class_weights[c] times in the
     * loss and its gradient (classes at or past num_class_weights weigh 1); the class is the
     * label's argmax for one-hot labels, else the rounded label value. As Keras, the batch
     * loss is sum(w_i * loss_i) / batch size, only training batches are weighted (validation
     * and accuracy are not). NULL/0: unweighted. Weights finite and >= 0, read during the fit. */
    const float *class_weights;
    size_t num_class_weights;
} hood_fit_options;

HOOD_API void hood_fit_options_init(hood_fit_options *opts);
/* Trains from the model's current training position (epoch and batch, see
 * hood_model_epochs_done) for opts->epochs more epochs, appending to the model's history.
 * HOOD_EDIVERGED names the epoch and batch where the loss or a weight became non-finite; the
 * weights are then those before that batch. */
HOOD_API hood_status hood_model_fit(hood_model *model, const hood_dataset *train,
                                    const hood_fit_options *opts);
/* Loss and accuracy over the whole dataset (in fixed blocks of 128 samples; the loss summed per
 * sample in sample order, so the same bits at any batch_size, see Determinism); either out
 * pointer may be NULL. */
HOOD_API hood_status hood_model_evaluate(const hood_model *model, const hood_dataset *data,
                                         size_t batch_size, double *loss, double *accuracy);
/* out (output_units x samples, column-major) = model(x (features x samples)); caller owns out.
 * Computed in fixed blocks of 128 samples: the same bits at any batch_size (see Determinism). */
HOOD_API hood_status hood_model_predict(const hood_model *model, const float *x, size_t samples,
                                        size_t batch_size, float *out);
/* Asks every fit, evaluate and predict running on model (on any thread) to stop at its next
 * batch boundary: each returns HOOD_ESTOPPED ("...: interrupted"); a fit keeps the weights,
 * position and history of its last finished batch, so the next fit resumes there. The request
 * is cleared when the last of those calls returns; one made while none runs stops the next
 * fit/evaluate/predict on the model at its first boundary. Async-signal-safe and thread-safe:
 * it only sets an atomic flag (hence the const model). */
HOOD_API void hood_model_interrupt(const hood_model *model);

/* ---------------------------------------------------------------------------------------------
 * Metrics over predictions (hood_model_predict's output) and labels: Keras' compile(metrics=)
 * and scikit-learn's confusion_matrix / classification_report. pred is units x samples,
 * labels label_width x samples (column-major, as a dataset's). A sample's true class is its
 * label's argmax (label_width > 1), else the label value as a class index, or label > 0.5 for
 * one output unit; its predicted class is argmax(pred), or pred > 0.5 for one unit.
 * ------------------------------------------------------------------------------------------- */

typedef struct hood_metrics {
    double accuracy;  /* predicted class == true class, over samples */
    /* Keras' Precision, Recall and AUC(num_thresholds=200, curve='ROC', summation_method=
     * 'interpolation'), over every output value as one binary problem (micro): the value is
     * positive when pred > 0.5 (AUC: > each of 200 thresholds, -1e-7, 1/199 .. 198/199,
     * 1 + 1e-7, trapezoids over the ROC points), its truth is label != 0; integer labels with
     * several units are one-hot encoded first. 0 when a denominator is 0 (Keras' divide_no_nan). */
    double precision, recall, auc;
} hood_metrics;

HOOD_API hood_status hood_metrics_compute(const float *pred, size_t units, const float *labels,
                                          size_t label_width, size_t samples, hood_metrics *out);
/* matrix (classes x classes, row-major: row = true class, column = predicted class, as
 * sklearn.metrics.confusion_matrix) = counts; classes >= 2 (2 for one unit). HOOD_EDATA when a
 * true class is >= classes. */
HOOD_API hood_status hood_confusion_matrix(const float *pred, size_t units, const float *labels,
                                           size_t label_width, size_t samples, size_t classes,
                                           uint64_t *matrix);

/* One row of sklearn's classification_report. */
typedef struct hood_class_scores {
    double precision, recall, f1;
    uint64_t support; /* true samples of the class */
} hood_class_scores;

/* From a confusion matrix: out[c] for each class c, then out[classes] = the macro average
 * (unweighted mean over classes) and out[classes + 1] = the weighted average (by support),
 * both with support = all samples; out holds classes + 2 rows. A 0/0 score is 0
 * (sklearn's zero_division default). */
HOOD_API hood_status hood_classification_report(const uint64_t *matrix, size_t classes,
                                                hood_class_scores *out);
/* sklearn's compute_class_weight("balanced"): weights[c] = samples / (classes * count of c)
 * for the dataset's labels (classes as in hood_fit_options.class_weights). HOOD_EDATA naming
 * the class when one has no samples. */
HOOD_API hood_status hood_class_weights_balanced(const hood_dataset *data, size_t classes,
                                                 float *weights);

/* ---------------------------------------------------------------------------------------------
 * Data-parallel training: bring your own all-reduce (MPI, or any transport). Each worker holds
 * a contiguous share of the samples; every step sees the same global batch as one process
 * would, each worker computing the gradient of the samples of that batch it holds; one
 * all-reduce per step sums the gradients (and the loss sums) and every worker applies the same
 * update. Results equal one process's up to the summation order.
 * ------------------------------------------------------------------------------------------- */

/* Sums count floats in place across all workers; every worker must get the same result. A
 * non-OK status stops training on this worker with that status. */
typedef hood_status (*hood_allreduce_fn)(void *user, float *values, size_t count);

typedef struct hood_shard {
    size_t global_samples; /* samples over all workers */
    size_t first;          /* this worker's dataset holds global samples [first, first + n) */
    hood_allreduce_fn allreduce;
    void *user;
} hood_shard;

/* The contiguous share [first, first + count) of `total` items that worker `index` of `count`
 * holds: floor(index * total / count) .. floor((index + 1) * total / count). */
HOOD_API void hood_shard_range(size_t total, size_t index, size_t count, size_t *first,
                               size_t *length);
/* Evaluate over a sharded dataset: losses and counts summed with shard->allreduce. */
HOOD_API hood_status hood_model_evaluate_shard(hood_model *model, const hood_dataset *data,
                                               size_t batch_size, const hood_shard *shard,
                                               double *loss, double *accuracy);

/* History: one hood_epoch_log per trained epoch, kept in the model (and its file). */
HOOD_API size_t hood_model_history_length(const hood_model *model);
HOOD_API const hood_epoch_log *hood_model_history(const hood_model *model, size_t epoch);
/* Epochs completed so far; a fit continues from there (the resume position). */
HOOD_API size_t hood_model_epochs_done(const hood_model *model);
/* Batches of the epoch after the done ones already trained: non-zero when a fit was stopped
 * inside an epoch (the weights are those after that batch). */
HOOD_API size_t hood_model_batches_done(const hood_model *model);

/* The last fit of the model: its settings (kept in the model file, so a resume can repeat
 * them without the caller restating them) and how it ended. hood_model_fit writes the settings
 * it has (epochs, batch_size, shuffle, seed, threads; validation_split when it splits, else it
 * keeps the caller's) as it starts and the early-stopping fields at its end; a caller adds
 * what fit cannot know (a folder's split, interrupted) with hood_model_set_fit_record.
 * Epochs are 1-based. */
typedef struct hood_fit_record {
    size_t epochs;           /* epochs asked for in total */
    size_t batch_size;
    bool shuffle;
    uint64_t seed;           /* shuffling seed */
    int threads;
    double validation_split; /* 0 when none (or explicit validation data) */
    bool interrupted;        /* stopped by the user before the end (a partial epoch is kept) */
    size_t stopped_epoch;    /* early stopping ended training after this epoch; 0: it did not */
    size_t best_epoch;       /* early stopping's best epoch; 0 without early stopping */
    bool restored_best;      /* the weights are those at the end of best_epoch */
} hood_fit_record;

/* false (and *out zeroed) when the model holds no record (never fitted, or an older file). */
HOOD_API bool hood_model_fit_record(const hood_model *model, hood_fit_record *out);
HOOD_API hood_status hood_model_set_fit_record(hood_model *model, const hood_fit_record *record);
/* The epoch whose end the weights are from (1-based; 0 untrained): best_epoch after early
 * stopping restored it, else the epochs done (a stopped partial epoch: see batches_done). */
HOOD_API size_t hood_model_weights_epoch(const hood_model *model);

/* ---------------------------------------------------------------------------------------------
 * Model files (.hood) and weight files (.npz).
 * ------------------------------------------------------------------------------------------- */

/* Saves architecture, loss, optimizer and its state, training position, history, preprocess,
 * class names and weights, checksummed, atomically (temp file, fsync, rename). Refuses a model
 * whose weights are not finite. */
HOOD_API hood_status hood_model_save(const hood_model *model, const char *path);
HOOD_API hood_status hood_model_load(const char *path, hood_model **out);
/* The bytes hood_model_save would write, in memory: *data (malloc'd, *size bytes) is the
 * caller's, to free with hood_free. On failure *data is NULL and *size 0. */
HOOD_API hood_status hood_model_save_to_buffer(const hood_model *model, void **data,
                                               size_t *size);
/* A model from the bytes of a .hood file (as hood_model_load; data is only read). */
HOOD_API hood_status hood_model_load_from_buffer(hood_model **out, const void *data, size_t size);
/* kernel_0, bias_0, kernel_1, ... with Keras shapes (in, out) and (out,). */
HOOD_API hood_status hood_model_save_weights_npz(const hood_model *model, const char *path);
/* Reads the same names; every shape must match the model (HOOD_ESHAPE names the array). */
HOOD_API hood_status hood_model_load_weights_npz(hood_model *model, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* HOOD_H */
