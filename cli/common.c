/* common.c — helpers every `hood` sub-command uses: one-line errors, option values, the
 * dataset flags, DATA loading, atomic output files and the SIGINT/SIGTERM flag.
 * Not library code: this is the only place (with the cmd_*.c files) that prints or exits. */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- messages ----------------------------------------------------------------------------- */

/* "hood CMD: <formatted>\n" on stderr: the one shape of every error line. */
static void put_error(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "hood %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

/* The library's message for the last failure, or the status's fixed text if it left none. */
static const char *status_message(hood_status status)
{
    const char *msg = hood_last_error();
    return msg == NULL || msg[0] == '\0' ? hood_strerror(status) : msg;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_error(cmd, fmt, ap);
    va_end(ap);
    return CLI_FAIL;
}

void cli_put_line(FILE *out, const char *cmd, const char *message)
{
    /* One line, whatever the message holds: libvips' messages end in '\n' and may have
     * several lines; a script reading stderr expects one per error. */
    size_t len = strlen(message);
    while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == ' '))
        len--;
    fprintf(out, "hood %s: ", cmd);
    for (size_t i = 0; i < len; i++)
        fputc(message[i] == '\n' || message[i] == '\r' ? ' ' : message[i], out);
    fputc('\n', out);
}

int cli_fail_status(const char *cmd, hood_status status)
{
    cli_put_line(stderr, cmd, status_message(status));
    return CLI_FAIL;
}

int cli_fail_data(const char *cmd, const char *path, hood_status status)
{
    const char *msg = status_message(status);
    size_t len = strlen(path) + strlen(msg) + 3;
    char *line = malloc(len);
    if (line == NULL)
        return cli_fail_status(cmd, status);
    snprintf(line, len, "%s: %s", path, msg);
    cli_put_line(stderr, cmd, line);
    free(line);
    return CLI_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_error(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'hood %s --help'.\n", cmd);
    return CLI_USAGE;
}

int cli_usage_getopt(const char *cmd, int c, int optopt_value, const char *arg)
{
    (void)c;
    /* getopt_long was told to be quiet (opterr = 0), so this is the only report. */
    if (optopt_value != 0 && optopt_value < CLI_DATASET_OPT_BASE && isprint(optopt_value))
        return cli_usage(cmd, "invalid option or missing value: -%c", optopt_value);
    return cli_usage(cmd, "invalid option or missing value: %s", arg ? arg : "?");
}

/* ---- option values -------------------------------------------------------------------------- */

bool cli_parse_size(const char *cmd, const char *opt, const char *text, size_t min, size_t *out)
{
    char *end = NULL;
    errno = 0;
    /* strtoull accepts "-1" as a huge value: refuse any sign explicitly. */
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    unsigned long long v = 0;
    if (*p != '-' && *p != '+')
        v = strtoull(p, &end, 10);
    if (*p == '-' || *p == '+' || end == p || *end != '\0' || errno == ERANGE ||
        v > (unsigned long long)SIZE_MAX || (size_t)v < min) {
        cli_fail(cmd, "--%s: expected a whole number >= %zu, got '%s'", opt, min, text);
        return false;
    }
    *out = (size_t)v;
    return true;
}

bool cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = 0;
    if (text[0] != '-' && text[0] != '+')
        v = strtoull(text, &end, 10);
    if (text[0] == '-' || text[0] == '+' || end == text || *end != '\0' || errno == ERANGE) {
        cli_fail(cmd, "--%s: expected a whole number >= 0, got '%s'", opt, text);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

bool cli_parse_int(const char *cmd, const char *opt, const char *text, int min, int max, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || v < min || v > max) {
        cli_fail(cmd, "--%s: expected a whole number from %d to %d, got '%s'", opt, min, max, text);
        return false;
    }
    *out = (int)v;
    return true;
}

bool cli_parse_double(const char *cmd, const char *opt, const char *text, double min, bool min_open,
                      double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    bool ok = end != text && *end == '\0' && errno != ERANGE && isfinite(v) && v <= max &&
              (min_open ? v > min : v >= min);
    if (!ok) {
        cli_fail(cmd, "--%s: expected a number %s %g and <= %g, got '%s'", opt,
                 min_open ? ">" : ">=", min, max, text);
        return false;
    }
    *out = v;
    return true;
}

char **cli_split_commas(const char *text, size_t *count)
{
    size_t n = 1, len = strlen(text);
    for (const char *p = text; *p; p++)
        n += *p == ',';
    /* One block: the pointer array, then a copy of the text cut at the commas. */
    char **out = malloc((n + 1) * sizeof *out + len + 1);
    if (out == NULL)
        return NULL;
    char *copy = (char *)(out + n + 1);
    memcpy(copy, text, len + 1);
    size_t i = 0;
    out[i++] = copy;
    for (char *p = copy; *p; p++) {
        if (*p == ',') {
            *p = '\0';
            out[i++] = p + 1;
        }
    }
    out[i] = NULL;
    *count = n;
    return out;
}

/* ---- dataset flags ------------------------------------------------------------------------ */

enum {
    OPT_IMAGE_SIZE = CLI_DATASET_OPT_BASE,
    OPT_COLOR_MODE,
    OPT_LABEL_MODE,
    OPT_CLASS_NAMES,
    OPT_LABELS,
    OPT_INTERPOLATION,
    OPT_CROP,
    OPT_PAD,
    OPT_RAW,
    OPT_SHUFFLE,
    OPT_NO_SHUFFLE,
    OPT_SEED,
    OPT_VALIDATION_SPLIT,
    OPT_SUBSET,
    OPT_FOLLOW_LINKS,
    OPT_STRICT,
    OPT_QUIET,
    OPT_BLOCK_UNTRUSTED,
};

const struct option cli_dataset_options[] = {
    {"image-size", required_argument, NULL, OPT_IMAGE_SIZE},
    {"color-mode", required_argument, NULL, OPT_COLOR_MODE},
    {"label-mode", required_argument, NULL, OPT_LABEL_MODE},
    {"class-names", required_argument, NULL, OPT_CLASS_NAMES},
    {"labels", required_argument, NULL, OPT_LABELS},
    {"interpolation", required_argument, NULL, OPT_INTERPOLATION},
    {"crop-to-aspect-ratio", no_argument, NULL, OPT_CROP},
    {"pad-to-aspect-ratio", no_argument, NULL, OPT_PAD},
    {"raw-values", no_argument, NULL, OPT_RAW},
    {"shuffle", no_argument, NULL, OPT_SHUFFLE},
    {"no-shuffle", no_argument, NULL, OPT_NO_SHUFFLE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"validation-split", required_argument, NULL, OPT_VALIDATION_SPLIT},
    {"subset", required_argument, NULL, OPT_SUBSET},
    {"follow-links", no_argument, NULL, OPT_FOLLOW_LINKS},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"block-untrusted", no_argument, NULL, OPT_BLOCK_UNTRUSTED},
    {NULL, 0, NULL, 0},
};

const char cli_dataset_help[] =
    "Dataset flags (as Keras' image_dataset_from_directory):\n"
    "      --image-size HxW        resize every image to H x W (default 256x256)\n"
    "      --color-mode MODE       grayscale (default), rgb or rgba\n"
    "      --label-mode MODE       int (default), categorical, binary or none\n"
    "      --class-names A,B,...   use only these class folders, in this order\n"
    "      --labels FILE           labels from FILE lines \"relative/path,label\"\n"
    "      --interpolation KIND    bilinear (default), nearest, bicubic, lanczos3, area\n"
    "      --crop-to-aspect-ratio  centre-crop to the output aspect before resizing\n"
    "      --pad-to-aspect-ratio   pad with black to the output aspect before resizing\n"
    "      --raw-values            keep 0..255 (default: value / 255 in [0,1])\n"
    "      --shuffle, --no-shuffle shuffle the files (default: shuffle)\n"
    "      --seed N                shuffling seed (default 0: runs are reproducible);\n"
    "                              --validation-split needs it unless --no-shuffle\n"
    "      --validation-split F    hold out the last F (0 <= F < 1) of the shuffled files\n"
    "      --follow-links          follow symbolic links to folders\n"
    "      --strict                fail on the first unreadable image (default: skip it)\n"
    "      --block-untrusted       refuse libvips loaders marked untrusted: BMP (it goes\n"
    "                              through ImageMagick) is then refused; PNG, JPEG, GIF,\n"
    "                              TIFF and WebP stay\n"
    "      --quiet                 no \"Found N files\" or skip messages\n";

void cli_dataset_flags_init(cli_dataset_flags *flags)
{
    memset(flags, 0, sizeof *flags);
    hood_ingest_options_init(&flags->ingest);
    /* has_seed says whether --seed was given: a shuffled validation split needs it (Keras
     * refuses validation_split with shuffle and seed=None, since the training and validation
     * runs must shuffle alike). Once the command has checked that, it sets has_seed: plain
     * shuffling then uses seed 0, so runs are reproducible by default. */
    flags->ingest.has_seed = false;
    flags->ingest.seed = 0;
    flags->ingest.on_message = cli_print_message;
    if (isatty(STDERR_FILENO))
        flags->ingest.on_progress = cli_print_progress;
    flags->ingest.user = flags;
}

void cli_dataset_flags_free(cli_dataset_flags *flags)
{
    free(flags->class_names);
    flags->class_names = NULL;
}

static bool parse_image_size(const char *text, size_t *h, size_t *w)
{
    char *end = NULL;
    errno = 0;
    if (!isdigit((unsigned char)text[0]))
        return false;
    unsigned long long hv = strtoull(text, &end, 10);
    if (errno || (*end != 'x' && *end != 'X') || !isdigit((unsigned char)end[1]))
        return false;
    const char *second = end + 1;
    unsigned long long wv = strtoull(second, &end, 10);
    /* 65535 per side: more is surely a typo, and keeps h*w*channels far from overflow. */
    if (errno || *end != '\0' || hv == 0 || wv == 0 || hv > 65535 || wv > 65535)
        return false;
    *h = (size_t)hv;
    *w = (size_t)wv;
    return true;
}

static bool pick(const char *text, const char *const *names, int count, int *out)
{
    for (int i = 0; i < count; i++) {
        if (strcasecmp(text, names[i]) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

int cli_dataset_flag(const char *cmd, cli_dataset_flags *flags, int c, const char *arg)
{
    hood_ingest_options *o = &flags->ingest;
    static const char *const colors[] = {"grayscale", "rgb", "rgba"};
    static const char *const label_modes[] = {"int", "categorical", "binary", "none"};
    static const char *const interps[] = {"bilinear", "nearest", "bicubic", "lanczos3", "area"};
    static const char *const subsets[] = {"all", "training", "validation", "both"};
    int k = 0;
    switch (c) {
    case OPT_IMAGE_SIZE:
        if (!parse_image_size(arg, &o->image.height, &o->image.width)) {
            cli_fail(cmd, "--image-size: expected HxW with 1 <= H, W <= 65535, got '%s'", arg);
            return -1;
        }
        return 1;
    case OPT_COLOR_MODE:
        if (!pick(arg, colors, 3, &k)) {
            cli_fail(cmd, "--color-mode: expected grayscale, rgb or rgba, got '%s'", arg);
            return -1;
        }
        o->image.color_mode = (hood_color_mode)k;
        return 1;
    case OPT_LABEL_MODE:
        if (!pick(arg, label_modes, 4, &k)) {
            cli_fail(cmd, "--label-mode: expected int, categorical, binary or none, got '%s'", arg);
            return -1;
        }
        o->label_mode = k == 0   ? HOOD_LABELS_INT
                        : k == 1 ? HOOD_LABELS_CATEGORICAL
                        : k == 2 ? HOOD_LABELS_BINARY
                                 : HOOD_LABELS_NONE;
        return 1;
    case OPT_CLASS_NAMES: {
        size_t n = 0;
        char **names = cli_split_commas(arg, &n);
        if (names == NULL) {
            cli_fail(cmd, "--class-names: out of memory");
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            if (names[i][0] == '\0') {
                free(names);
                cli_fail(cmd, "--class-names: empty class name in '%s'", arg);
                return -1;
            }
        }
        free(flags->class_names);
        flags->class_names = names;
        o->class_names = (const char *const *)names;
        o->num_class_names = n;
        return 1;
    }
    case OPT_LABELS:
        o->labels_file = arg;
        return 1;
    case OPT_INTERPOLATION:
        if (!pick(arg, interps, 5, &k)) {
            cli_fail(cmd,
                     "--interpolation: expected bilinear, nearest, bicubic, lanczos3 or area, "
                     "got '%s'",
                     arg);
            return -1;
        }
        o->image.interpolation = (hood_interpolation)k;
        return 1;
    case OPT_CROP:
        o->image.crop_to_aspect_ratio = true;
        return 1;
    case OPT_PAD:
        o->image.pad_to_aspect_ratio = true;
        return 1;
    case OPT_RAW:
        o->image.raw_values = true;
        return 1;
    case OPT_SHUFFLE:
        o->shuffle = true;
        return 1;
    case OPT_NO_SHUFFLE:
        o->shuffle = false;
        return 1;
    case OPT_SEED:
        if (!cli_parse_u64(cmd, "seed", arg, &o->seed))
            return -1;
        o->has_seed = true;
        return 1;
    case OPT_VALIDATION_SPLIT:
        if (!cli_parse_double(cmd, "validation-split", arg, 0.0, false, 0.999999,
                              &o->validation_split))
            return -1;
        flags->split_given = true;
        return 1;
    case OPT_SUBSET:
        if (!pick(arg, subsets, 4, &k)) {
            cli_fail(cmd, "--subset: expected training, validation or both, got '%s'", arg);
            return -1;
        }
        o->subset = (hood_subset)k;
        flags->subset_given = true;
        return 1;
    case OPT_FOLLOW_LINKS:
        o->follow_links = true;
        return 1;
    case OPT_STRICT:
        o->strict = true;
        return 1;
    case OPT_QUIET:
        flags->quiet = true;
        o->on_message = NULL;
        o->on_progress = NULL;
        return 1;
    case OPT_BLOCK_UNTRUSTED:
        o->block_untrusted = true;
        /* Also for single images (hood_image_load has no such option): libvips >= 8.13
         * reads this variable when it starts, before hood's first call into it. */
        setenv("VIPS_BLOCK_UNTRUSTED", "1", 1);
        return 1;
    default:
        return 0;
    }
}

size_t cli_options_append(struct option *opts, size_t count, const struct option *more)
{
    for (const struct option *m = more; m->name != NULL; m++)
        opts[count++] = *m;
    opts[count] = (struct option){NULL, 0, NULL, 0};
    return count;
}

void cli_print_message(void *user, const char *message)
{
    (void)user;
    fprintf(stderr, "%s\n", message);
}

void cli_print_progress(void *user, size_t done, size_t total)
{
    cli_dataset_flags *flags = user;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    /* A redraw every 0.1 s is smooth enough and costs nothing next to decoding. */
    if (done < total && now - flags->last_progress < 0.1)
        return;
    flags->last_progress = now;
    fprintf(stderr, "\rDecoding images: %zu/%zu\x1b[K%s", done, total, done >= total ? "\n" : "");
    fflush(stderr);
}

/* ---- DATA operands ------------------------------------------------------------------------ */

bool cli_is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

hood_status cli_load_data_file(const char *path, hood_dataset **out)
{
    hood_csv_options csv;
    hood_csv_options_init(&csv);
    return hood_dataset_load(path, &csv, out);
}

int cli_check_width(const char *cmd, const char *path, const hood_dataset *ds, size_t features)
{
    size_t have = hood_dataset_features(ds);
    if (have == features)
        return CLI_OK;
    return cli_fail(cmd, "%s: %zu values per sample, but the model takes %zu", path, have,
                    features);
}

void cli_ingest_from_model(hood_ingest_options *opts, const hood_model *model,
                           const char **names_buf)
{
    hood_preprocess pp;
    if (hood_model_preprocess(model, &pp))
        opts->image = pp;
    size_t k = hood_model_num_classes(model);
    size_t named = 0;
    for (size_t i = 0; i < k; i++) {
        names_buf[i] = hood_model_class_name(model, i);
        named += names_buf[i] != NULL;
    }
    /* The model's class order decides the label of each folder, whatever the folder order. */
    if (k > 0 && named == k) {
        opts->class_names = names_buf;
        opts->num_class_names = k;
    }
}

hood_status cli_labels_for_loss(hood_dataset *ds, hood_loss loss, const char *path)
{
    hood_label_mode mode = hood_dataset_label_mode(ds);
    size_t n = hood_dataset_samples(ds);
    size_t width = hood_dataset_label_width(ds);
    const float *y = hood_dataset_labels(ds);
    if (mode == HOOD_LABELS_NONE || y == NULL)
        return HOOD_OK; /* fit/evaluate will say that labels are missing */
    /* Binary cross-entropy takes class indices 0/1 as they are (engine/loss.c). */
    if (loss == HOOD_LOSS_CATEGORICAL_CROSSENTROPY && mode != HOOD_LABELS_CATEGORICAL &&
        width == 1) {
        int32_t *idx = malloc(n * sizeof *idx);
        if (idx == NULL)
            return HOOD_ENOMEM;
        size_t k = hood_dataset_num_classes(ds);
        for (size_t j = 0; j < n; j++) {
            idx[j] = (int32_t)y[j];
            /* A CSV says nothing of its class count: the largest label decides. */
            if (idx[j] >= 0 && (size_t)idx[j] >= k)
                k = (size_t)idx[j] + 1;
        }
        hood_status st = hood_dataset_set_labels(ds, HOOD_LABELS_CATEGORICAL, idx, k);
        free(idx);
        return st;
    }
    (void)path;
    return HOOD_OK;
}

/* ---- output files ------------------------------------------------------------------------- */

static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

bool cli_check_writable(const char *cmd, const char *path)
{
    if (path[0] == '\0' || path[strlen(path) - 1] == '/') {
        cli_fail(cmd, "%s: cannot write: not a file name", path);
        return false;
    }
    if (cli_is_directory(path)) {
        cli_fail(cmd, "%s: cannot write: is a directory", path);
        return false;
    }
    char *dir = parent_of(path);
    if (dir == NULL) {
        cli_fail(cmd, "%s: out of memory", path);
        return false;
    }
    struct stat st;
    int err = 0;
    if (stat(dir, &st) != 0)
        err = errno;
    else if (!S_ISDIR(st.st_mode))
        err = ENOTDIR;
    else if (access(dir, W_OK | X_OK) != 0)
        err = errno;
    free(dir);
    if (err != 0) {
        cli_fail(cmd, "%s: cannot write: %s", path, strerror(err));
        return false;
    }
    return true;
}

bool cli_atomic_open(const char *cmd, cli_atomic *file, const char *path)
{
    memset(file, 0, sizeof *file);
    hood_status st = hood_output_open(&file->output, path);
    if (st != HOOD_OK) {
        cli_fail_status(cmd, st);
        return false;
    }
    file->stream = hood_output_stream(file->output);
    return true;
}

bool cli_atomic_finish(const char *cmd, cli_atomic *file)
{
    file->stream = NULL;
    hood_status st = hood_output_finish(file->output);
    if (st != HOOD_OK) {
        cli_fail_status(cmd, st);
        cli_atomic_discard(file);
        return false;
    }
    return true;
}

bool cli_atomic_rename(const char *cmd, cli_atomic *file)
{
    hood_status st = hood_output_commit(file->output);
    file->output = NULL;
    if (st != HOOD_OK) {
        cli_fail_status(cmd, st);
        return false;
    }
    return true;
}

void cli_atomic_discard(cli_atomic *file)
{
    hood_output_abort(file->output);
    memset(file, 0, sizeof *file);
}

/* ---- signals ------------------------------------------------------------------------------ */

/* The one piece of global mutable state in hood: a signal handler can reach nothing else.
 * Written only by the handler, read by the training callbacks. */
static volatile sig_atomic_t received_signal = 0;

static void on_signal(int sig)
{
    received_signal = sig;
}

void cli_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESETHAND: a second Ctrl-C kills at once, for a user who will not wait the batch. */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_signal_received(void)
{
    return (int)received_signal;
}

void cli_format_thousands(char *buf, size_t size, size_t value)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%zu", value);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}
