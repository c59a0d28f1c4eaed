/* cmd_predict.c — `hood predict MODEL INPUT...`: model.predict on new images (the model's stored
 * preprocessing applied), image folders, or the rows of a .npz/.csv. Readable inputs are
 * printed first; the unreadable ones are reported afterwards on stderr (exit status 1). */
#include "common.h"
#include "data.h"
#include "data_args.h"
#include "predict_output.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const CMD = "predict";

/* Images decoded and predicted per call: at most CHUNK, and at most CHUNK_BYTES of pixels, so
 * a folder of any size (or 256x256 RGBA inputs) needs a bounded buffer. */
enum { CHUNK = 256, CHUNK_BYTES = 64 << 20 };

static void print_help(void)
{
    printf("Usage: hood predict MODEL INPUT... [OPTIONS]\n"
           "Predicts the class of each INPUT with MODEL, as Keras' model.predict:\n"
           "  PATH: CLASS (0.9731)\n"
           "INPUT is an image file (resized, converted and scaled as the model's stored\n"
           "preprocessing says), a folder (its image files, recursively, in name order), or a\n"
           ".npz/.csv/.npy whose rows are samples (printed as FILE[row], rows from 0), with or\n"
           "without labels: a CSV row as wide as the model's input has none, wider rows end in\n"
           "label columns (hood's header, --header and --label-columns below also say so).\n"
           "The probability is that of the printed class (for one sigmoid unit, p when the\n"
           "class is 1, 1 - p when it is 0). A one-unit linear output prints its value.\n"
           "Unreadable inputs are reported on stderr after the others; the exit status is 1.\n\n"
           "Options:\n"
           "  -o, --output FILE       write every output instead of printing: FILE.npy\n"
           "                          float32 (n, units) as Keras' predict; FILE.csv\n"
           "                          input,class,<one column per unit, named by class>;\n"
           "                          FILE.json {\"units\", \"class_names\", \"predictions\":\n"
           "                          [{\"input\", \"class\", \"output\": [...]}]} (atomic)\n"
           "      --format text|csv   csv: path,class,probability with a header row\n"
           "      --top K             the K most probable classes (multi-class models)\n"
           "      --batch-size N      accepted for Keras' signature (default 32); hood predicts in\n"
           "                          fixed blocks of 128 samples, the same bits at any size\n"
           "      --threads N         hood's worker threads (0: one per core; default 1; the\n"
           "                          BLAS itself always runs on one)\n"
           "      --block-untrusted   refuse libvips loaders marked untrusted (ImageMagick, so\n"
           "                          BMP; PDF, SVG, JPEG 2000, ...)\n"
           "  -h, --help              this help\n\n");
    fputs(cli_csv_help, stdout);
}

/* ---- a list of strings (paths, deferred error lines) -------------------------------------- */

typedef struct strlist {
    char **items;
    size_t count, cap;
} strlist;

static bool strlist_push(strlist *l, const char *s)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **items = realloc(l->items, cap * sizeof *items);
        if (items == NULL)
            return false;
        l->items = items;
        l->cap = cap;
    }
    char *copy = strdup(s);
    if (copy == NULL)
        return false;
    l->items[l->count++] = copy;
    return true;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_image_name(const char *name)
{
    /* The extensions hood_dataset_from_directory takes (Keras' list plus WebP and TIFF). */
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".gif",
                                       ".bmp", ".webp", ".tif", ".tiff"};
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return false;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return true;
    return false;
}

/* The image files under dir, recursively, sorted by name within each folder. Symbolic links
 * to folders are not followed (no loops). */
static bool list_images(const char *dir, strlist *out, strlist *errors)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        char line[4096];
        snprintf(line, sizeof line, "%s: cannot open folder", dir);
        return strlist_push(errors, line);
    }
    strlist names = {0};
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.')
            ok = strlist_push(&names, e->d_name);
    }
    closedir(d);
    if (names.count > 0)
        qsort(names.items, names.count, sizeof *names.items, compare_strings);
    for (size_t i = 0; ok && i < names.count; i++) {
        size_t len = strlen(dir) + strlen(names.items[i]) + 2;
        char *path = malloc(len);
        if (path == NULL) {
            ok = false;
            break;
        }
        snprintf(path, len, "%s/%s", dir, names.items[i]);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            ok = list_images(path, out, errors);
        else if (is_image_name(names.items[i]))
            ok = strlist_push(out, path);
        free(path);
    }
    strlist_free(&names);
    return ok;
}

/* ---- printing ------------------------------------------------------------------------------ */

typedef struct predictor {
    hood_model *model;
    size_t features, outputs;
    size_t top;
    bool csv;
    bool binary, regression;
    size_t batch;
    size_t chunk; /* columns per call: 1..CHUNK */
    float *out;   /* outputs x chunk */
    size_t *order;
    hood_preprocess pp; /* the model's, when has_pp: how to read an image */
    bool has_pp;
    cli_csv_flags csv_flags; /* --header, --label-columns */
    predict_output output; /* -o: the outputs kept for the file (output.path NULL: print) */
    bool out_of_memory;
} predictor;

static void print_csv_field(const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void print_class(const predictor *p, size_t k, double prob, bool first)
{
    const char *name = hood_model_class_name(p->model, k);
    if (!first)
        fputs(", ", stdout);
    if (name != NULL)
        printf("%s (%.4f)", name, prob);
    else
        printf("%zu (%.4f)", k, prob);
}

static void print_csv_row(const char *path, const predictor *p, size_t k, double prob)
{
    const char *name = hood_model_class_name(p->model, k);
    print_csv_field(path);
    putchar(',');
    if (name != NULL)
        print_csv_field(name);
    else
        printf("%zu", k);
    printf(",%.6f\n", prob);
}

static void print_one(predictor *p, const char *path, const float *y)
{
    if (p->output.path != NULL) {
        p->out_of_memory |= !predict_output_add(&p->output, path, y);
        return;
    }
    if (p->regression) {
        if (p->csv) {
            print_csv_field(path);
            printf(",,%.9g\n", (double)y[0]);
        } else {
            printf("%s: %.6g\n", path, (double)y[0]);
        }
        return;
    }
    if (p->binary) {
        size_t k = y[0] >= 0.5f ? 1 : 0;
        double prob = k == 1 ? (double)y[0] : 1.0 - (double)y[0];
        if (p->csv) {
            print_csv_row(path, p, k, prob);
        } else {
            printf("%s: ", path);
            print_class(p, k, prob, true);
            putchar('\n');
        }
        return;
    }
    /* Top K by a partial selection sort: K is small. Ties keep the lower class index. */
    for (size_t i = 0; i < p->outputs; i++)
        p->order[i] = i;
    size_t top = p->top < p->outputs ? p->top : p->outputs;
    for (size_t i = 0; i < top; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < p->outputs; j++)
            if (y[p->order[j]] > y[p->order[best]])
                best = j;
        size_t t = p->order[i];
        p->order[i] = p->order[best];
        p->order[best] = t;
    }
    if (!p->csv)
        printf("%s: ", path);
    for (size_t i = 0; i < top; i++) {
        if (p->csv)
            print_csv_row(path, p, p->order[i], (double)y[p->order[i]]);
        else
            print_class(p, p->order[i], (double)y[p->order[i]], i == 0);
    }
    if (!p->csv)
        putchar('\n');
}

/* Predicts `count` columns of x and prints them, named by names[i] or "file[row]". */
static hood_status predict_columns(predictor *p, const float *x, size_t count, char *const *names,
                                   const char *file, size_t first_row)
{
    for (size_t start = 0; start < count; start += p->chunk) {
        size_t n = count - start < p->chunk ? count - start : p->chunk;
        hood_status st = hood_model_predict(p->model, x + start * p->features, n, p->batch, p->out);
        if (st != HOOD_OK)
            return st;
        for (size_t j = 0; j < n; j++) {
            const float *y = p->out + j * p->outputs;
            if (names != NULL) {
                print_one(p, names[start + j], y);
            } else {
                char label[4200];
                snprintf(label, sizeof label, "%s[%zu]", file, first_row + start + j);
                print_one(p, label, y);
            }
        }
    }
    return HOOD_OK;
}

static bool has_data_extension(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot != NULL &&
           (strcmp(dot, ".npz") == 0 || strcmp(dot, ".csv") == 0 || strcmp(dot, ".npy") == 0);
}

/* Images: decoded one by one into a chunk of columns; unreadable ones go to errors. */
static int predict_images(predictor *p, const hood_preprocess *pp, char *const *paths, size_t count,
                          float *x, strlist *errors)
{
    char *chunk_names[CHUNK];
    size_t filled = 0;
    for (size_t i = 0; i <= count; i++) {
        if (i < count) {
            hood_status st = hood_image_load(paths[i], pp, x + filled * p->features);
            if (st != HOOD_OK) {
                if (!strlist_push(errors, hood_last_error()))
                    return cli_fail(CMD, "out of memory");
                continue;
            }
            chunk_names[filled++] = paths[i];
        }
        if (filled == p->chunk || (i == count && filled > 0)) {
            hood_status st = predict_columns(p, x, filled, chunk_names, NULL, 0);
            if (st != HOOD_OK)
                return cli_fail_status(CMD, st);
            filled = 0;
        }
    }
    return CLI_OK;
}

/* ---- the command --------------------------------------------------------------------------- */

/* getopt_long over argv into p's options: false when the command must stop (*rc says the exit
 * status). */
static bool parse_args(int argc, char **argv, predictor *p, int *threads, bool *has_threads,
                       int *rc)
{
    enum { OPT_FORMAT = 1, OPT_TOP, OPT_BATCH, OPT_THREADS, OPT_BLOCK };
    struct option opts[16] = {
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"top", required_argument, NULL, OPT_TOP},
        {"batch-size", required_argument, NULL, OPT_BATCH},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"block-untrusted", no_argument, NULL, OPT_BLOCK},
        {"output", required_argument, NULL, 'o'},
    };
    cli_options_append(opts, 7, cli_csv_options);
    *rc = CLI_USAGE; /* every failure in the loop is a bad option or value */
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        int csv = cli_csv_flag(CMD, &p->csv_flags, c, optarg);
        if (csv < 0)
            return false;
        if (csv > 0)
            continue;
        switch (c) {
        case 'o':
            if (!predict_output_format(optarg, &p->output.format)) {
                *rc = cli_usage(CMD, "-o %s: expected a .npy, .csv or .json file", optarg);
                return false;
            }
            p->output.path = optarg;
            break;
        case 'h':
            print_help();
            *rc = CLI_OK;
            return false;
        case OPT_FORMAT:
            if (strcmp(optarg, "csv") == 0) {
                p->csv = true;
            } else if (strcmp(optarg, "text") == 0) {
                p->csv = false;
            } else {
                *rc = cli_usage(CMD, "--format: expected text or csv, got '%s'", optarg);
                return false;
            }
            break;
        case OPT_TOP:
            if (!cli_parse_size(CMD, "top", optarg, 1, &p->top))
                return false;
            break;
        case OPT_BATCH:
            if (!cli_parse_size(CMD, "batch-size", optarg, 1, &p->batch))
                return false;
            break;
        case OPT_THREADS:
            if (!cli_parse_int(CMD, "threads", optarg, 0, 1024, threads))
                return false;
            *has_threads = true;
            break;
        case OPT_BLOCK:
            setenv("VIPS_BLOCK_UNTRUSTED", "1", 1);
            break;
        default:
            *rc = cli_usage_getopt(CMD, c, optopt, argv[optind - 1]);
            return false;
        }
    }
    if (argc - optind < 2) {
        *rc = cli_usage(CMD, "expected MODEL and at least one INPUT");
        return false;
    }
    if (p->output.path != NULL && !cli_check_writable(CMD, p->output.path)) {
        *rc = CLI_FAIL;
        return false;
    }
    return true;
}

/* Loads MODEL and sizes p for it: outputs, how to print them, the chunk of columns per call. */
static int predictor_open(predictor *p, const char *path, bool has_threads, int threads)
{
    hood_status st = hood_model_load(path, &p->model);
    if (st != HOOD_OK)
        return cli_fail_status(CMD, st);
    if (has_threads && (st = hood_model_set_threads(p->model, threads)) != HOOD_OK)
        return cli_fail_status(CMD, st);
    p->features = hood_model_input_features(p->model);
    p->outputs = hood_model_output_units(p->model);
    if (hood_model_num_layers(p->model) == 0 || p->outputs == 0)
        return cli_fail(CMD, "%s: the model has no layers", path);
    size_t last = hood_model_num_layers(p->model) - 1;
    hood_activation out_act = hood_model_layer_activation(p->model, last);
    p->binary = p->outputs == 1 && out_act == HOOD_ACT_SIGMOID;
    p->regression = p->outputs == 1 && !p->binary;
    hood_preprocess_init(&p->pp);
    p->has_pp = hood_model_preprocess(p->model, &p->pp);
    p->chunk = CHUNK_BYTES / (p->features * sizeof(float));
    p->chunk = p->chunk < 1 ? 1 : p->chunk > CHUNK ? CHUNK : p->chunk;
    p->output.units = p->outputs;
    p->out = malloc(p->outputs * p->chunk * sizeof *p->out);
    p->order = malloc(p->outputs * sizeof *p->order);
    if (p->out == NULL || p->order == NULL)
        return cli_fail(CMD, "out of memory");
    return CLI_OK;
}

/* Pushes "INPUT: what is wrong" onto errors: false when out of memory. */
static bool defer_error(strlist *errors, const char *input, const char *what)
{
    char line[4200];
    snprintf(line, sizeof line, "%s: %s", input, what);
    return strlist_push(errors, line);
}

/* A .npz/.csv/.npy INPUT: its rows predicted, or the reason it cannot be read deferred. */
static int predict_data_file(predictor *p, const char *input, strlist *errors)
{
    hood_dataset *ds = NULL;
    int rc = CLI_OK;
    /* Rows as wide as the model's input are unlabeled; wider rows end in label columns. */
    hood_status st = cli_load_data_file(input, &p->csv_flags, p->features, &ds);
    if (st == HOOD_OK && hood_dataset_features(ds) != p->features) {
        char what[256];
        snprintf(what, sizeof what, "%zu values per sample, but the model takes %zu",
                 hood_dataset_features(ds), p->features);
        if (!defer_error(errors, input, what))
            rc = cli_fail(CMD, "out of memory");
    } else if (st == HOOD_OK) {
        st = predict_columns(p, hood_dataset_x(ds), hood_dataset_samples(ds), NULL, input, 0);
        if (st != HOOD_OK)
            rc = cli_fail_status(CMD, st);
    } else if (!strlist_push(errors, hood_last_error())) {
        rc = cli_fail(CMD, "out of memory");
    }
    hood_dataset_free(ds);
    return rc;
}

/* An image INPUT, or a folder's images: *x (one chunk of columns) is allocated on first use. */
static int predict_image_input(predictor *p, const char *input, bool folder, float **x,
                               strlist *errors)
{
    if (*x == NULL) {
        *x = malloc(p->features * p->chunk * sizeof **x);
        if (*x == NULL)
            return cli_fail(CMD, "out of memory");
    }
    strlist images = {0};
    int rc = CLI_OK;
    if (folder) {
        if (!list_images(input, &images, errors))
            rc = cli_fail(CMD, "out of memory");
        else if (images.count == 0 && !defer_error(errors, input, "no image files in this folder"))
            rc = cli_fail(CMD, "out of memory");
    } else if (!strlist_push(&images, input)) {
        rc = cli_fail(CMD, "out of memory");
    }
    if (rc == CLI_OK && images.count > 0)
        rc = predict_images(p, &p->pp, images.items, images.count, *x, errors);
    strlist_free(&images);
    return rc;
}

/* One INPUT: printed, or the reason it cannot be read deferred to errors. Returns CLI_OK, or
 * the status of a failure that stops the command (message printed). */
static int predict_input(predictor *p, const char *input, float **x, strlist *errors)
{
    struct stat sb;
    if (stat(input, &sb) != 0)
        return defer_error(errors, input, "no such file or folder")
                   ? CLI_OK
                   : cli_fail(CMD, "out of memory");
    if (!S_ISDIR(sb.st_mode) && has_data_extension(input))
        return predict_data_file(p, input, errors);
    if (!p->has_pp)
        return defer_error(errors, input,
                           "the model was not trained on images (give a .npz or .csv)")
                   ? CLI_OK
                   : cli_fail(CMD, "out of memory");
    return predict_image_input(p, input, S_ISDIR(sb.st_mode), x, errors);
}

int hood_cli_predict(int argc, char **argv)
{
    predictor p;
    memset(&p, 0, sizeof p);
    p.top = 1;
    p.batch = 32;
    int threads = 1;
    bool has_threads = false;
    int rc = CLI_FAIL;
    if (!parse_args(argc, argv, &p, &threads, &has_threads, &rc))
        return rc;

    strlist errors = {0};
    float *x = NULL;
    rc = predictor_open(&p, argv[optind], has_threads, threads);
    if (rc != CLI_OK && argc - optind == 2 && cli_hint_swapped(CMD, argv[optind], argv[optind + 1]))
        rc = CLI_USAGE;
    if (rc == CLI_OK && p.csv && p.output.path == NULL)
        printf("path,class,probability\n");
    for (int i = optind + 1; rc == CLI_OK && i < argc; i++) {
        rc = predict_input(&p, argv[i], &x, &errors);
        if (rc == CLI_OK && p.out_of_memory)
            rc = cli_fail(CMD, "out of memory for the predictions");
    }
    if (rc == CLI_OK && p.output.path != NULL) {
        /* The readable inputs' predictions are written; the others are reported below. */
        rc = predict_output_write(CMD, &p.output, p.model, p.binary, p.regression);
        if (rc == CLI_OK)
            printf("%s: %zu predictions x %zu outputs\n", p.output.path, p.output.count,
                   p.outputs);
    }
    if (rc == CLI_OK) {
        fflush(stdout);
        for (size_t i = 0; i < errors.count; i++)
            cli_put_line(stderr, CMD, errors.items[i]);
        rc = errors.count > 0 ? CLI_FAIL : CLI_OK;
    }
    strlist_free(&errors);
    free(x);
    free(p.out);
    free(p.order);
    predict_output_free(&p.output);
    hood_model_free(p.model);
    return rc;
}
