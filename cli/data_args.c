/* data_args.c — the dataset flags of data_args.h: their options table and help, and each
 * flag's value checked and stored in hood_ingest_options (errors name the flag). Not the
 * command-specific rules between flags (cmd_dataset.c, train_args.c) and not the ingest. */
#include "data_args.h"

#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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
    OPT_JPEG_DRAFT,
    OPT_EXIF_TRANSPOSE,
    OPT_ALPHA_BACKGROUND,
    OPT_PIXEL_STORAGE,
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
    {"jpeg-draft", no_argument, NULL, OPT_JPEG_DRAFT},
    {"exif-transpose", no_argument, NULL, OPT_EXIF_TRANSPOSE},
    {"alpha-background", required_argument, NULL, OPT_ALPHA_BACKGROUND},
    {"pixel-storage", required_argument, NULL, OPT_PIXEL_STORAGE},
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
    "  Pixels are Pillow's Image.open(f).convert(MODE).resize((W, H), BILINEAR) by\n"
    "  default (the seed's code); each difference is asked for:\n"
    "      --jpeg-draft            shrink JPEGs while decoding (libjpeg DCT scaling by\n"
    "                              1/2..1/8, never below the output size): faster on\n"
    "                              large JPEGs, pixels differ from Pillow's\n"
    "      --exif-transpose        turn images upright by their EXIF orientation\n"
    "                              (Pillow's ImageOps.exif_transpose; default: as stored)\n"
    "      --alpha-background C    grayscale/rgb: composite transparent images over C\n"
    "                              (black, white or #RRGGBB); none (default): alpha is\n"
    "                              dropped, as Pillow's convert; rgba keeps alpha\n"
    "      --shuffle, --no-shuffle shuffle the files (default: shuffle)\n"
    "      --seed N                shuffling seed (default 0: runs are reproducible);\n"
    "                              --validation-split needs it unless --no-shuffle\n"
    "      --validation-split F    hold out the last F (0 <= F < 1) of the shuffled files\n"
    "      --follow-links          follow symbolic links to folders\n"
    "      --strict                fail on the first unreadable image (default: skip it)\n"
    "      --block-untrusted       refuse libvips loaders marked untrusted: BMP (it goes\n"
    "                              through ImageMagick) is then refused; PNG, JPEG, GIF,\n"
    "                              TIFF and WebP stay\n"
    "      --quiet                 no \"Found N files\" or skip messages\n"
    "      --pixel-storage KIND    u8 (default): keep the 8-bit pixels in memory, a\n"
    "                              quarter of float32's, widened to the same floats when\n"
    "                              read (same results, same files); float: float32\n";

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
    flags->ingest.on_progress = cli_print_progress; /* also the stop hook (signals.h) */
    flags->progress.draw = isatty(STDERR_FILENO) != 0;
    flags->ingest.user = &flags->progress;
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

/* --alpha-background: none, black, white or #RRGGBB into *out (HOOD_ALPHA_IGNORE or 0xRRGGBB). */
static bool parse_background(const char *text, int32_t *out)
{
    if (strcasecmp(text, "none") == 0)
        *out = HOOD_ALPHA_IGNORE;
    else if (strcasecmp(text, "black") == 0)
        *out = 0x000000;
    else if (strcasecmp(text, "white") == 0)
        *out = 0xFFFFFF;
    else if (text[0] == '#' && strlen(text) == 7 && strspn(text + 1, "0123456789abcdefABCDEF") == 6)
        *out = (int32_t)strtol(text + 1, NULL, 16);
    else
        return false;
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

/* The flags whose value is one name of a list, or HxW: 1 (stored) or -1 (message printed). */
static int choice_flag(const char *cmd, cli_dataset_flags *flags, int c, const char *arg)
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
    default: /* OPT_SUBSET */
        if (!pick(arg, subsets, 4, &k)) {
            cli_fail(cmd, "--subset: expected training, validation or both, got '%s'", arg);
            return -1;
        }
        o->subset = (hood_subset)k;
        flags->subset_given = true;
        return 1;
    }
}

static int class_names_flag(const char *cmd, cli_dataset_flags *flags, const char *arg)
{
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
    flags->ingest.class_names = (const char *const *)names;
    flags->ingest.num_class_names = n;
    return 1;
}

int cli_dataset_flag(const char *cmd, cli_dataset_flags *flags, int c, const char *arg)
{
    hood_ingest_options *o = &flags->ingest;
    switch (c) {
    case OPT_IMAGE_SIZE:
    case OPT_COLOR_MODE:
    case OPT_LABEL_MODE:
    case OPT_INTERPOLATION:
    case OPT_SUBSET:
        return choice_flag(cmd, flags, c, arg);
    case OPT_CLASS_NAMES:
        return class_names_flag(cmd, flags, arg);
    case OPT_LABELS:
        o->labels_file = arg;
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
    case OPT_JPEG_DRAFT:
        o->image.jpeg_draft = true;
        return 1;
    case OPT_EXIF_TRANSPOSE:
        o->image.exif_transpose = true;
        return 1;
    case OPT_PIXEL_STORAGE:
        if (strcmp(arg, "u8") != 0 && strcmp(arg, "float") != 0) {
            cli_fail(cmd, "--pixel-storage: expected u8 or float, got '%s'", arg);
            return -1;
        }
        o->pixel_storage = arg[0] == 'u' ? HOOD_PIXELS_U8 : HOOD_PIXELS_FLOAT;
        return 1;
    case OPT_ALPHA_BACKGROUND:
        if (!parse_background(arg, &o->image.alpha_background)) {
            cli_fail(cmd, "--alpha-background: expected none, black, white or #RRGGBB, got '%s'",
                     arg);
            return -1;
        }
        return 1;
    case OPT_SHUFFLE:
        o->shuffle = true;
        flags->shuffle_given = true;
        return 1;
    case OPT_NO_SHUFFLE:
        o->shuffle = false;
        flags->shuffle_given = true;
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
    case OPT_FOLLOW_LINKS:
        o->follow_links = true;
        return 1;
    case OPT_STRICT:
        o->strict = true;
        return 1;
    case OPT_QUIET:
        flags->quiet = true;
        o->on_message = NULL;
        flags->progress.draw = false;
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
