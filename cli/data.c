/* data.c — DATA operands (data.h): a matrix file loaded by its extension, its width checked
 * against the model, a model's preprocessing and class order repeated for a folder, labels
 * expanded for categorical cross-entropy. Not the dataset flags (data_args.c). */
#include "data.h"

#include "common.h"

#include <stdlib.h>
#include <sys/stat.h>

bool cli_is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const struct option cli_csv_options[] = {
    {"header", no_argument, NULL, CLI_CSV_OPT_BASE},
    {"label-columns", required_argument, NULL, CLI_CSV_OPT_BASE + 1},
    {NULL, 0, NULL, 0},
};

const char cli_csv_help[] =
    "CSV DATA (rows x1,...,xn then the label columns):\n"
    "      --header                the first row is a header (hood's own header,\n"
    "                              x1,...,xn,y or x1,...,xn,y0,...,yk-1, is recognised\n"
    "                              without it and says which columns are labels)\n"
    "      --label-columns K       the last K columns are labels: 0 none, 1 a class index,\n"
    "                              K > 1 one-hot (default: hood's header says; else the\n"
    "                              model's input width decides where there is a model;\n"
    "                              else 1)\n";

int cli_csv_flag(const char *cmd, cli_csv_flags *flags, int c, const char *arg)
{
    if (c == CLI_CSV_OPT_BASE) {
        flags->header = true;
        return 1;
    }
    if (c == CLI_CSV_OPT_BASE + 1) {
        if (!cli_parse_size(cmd, "label-columns", arg, 0, &flags->label_columns))
            return -1;
        if (flags->label_columns > 65536) {
            cli_fail(cmd, "--label-columns: at most 65536, got '%s'", arg);
            return -1;
        }
        flags->has_label_columns = true;
        return 1;
    }
    return 0;
}

void cli_csv_options_from(hood_csv_options *opts, const cli_csv_flags *flags, size_t features)
{
    hood_csv_options_init(opts);
    opts->features = features;
    if (flags == NULL)
        return;
    opts->header = flags->header;
    if (flags->has_label_columns) {
        /* Explicit: hood's header must agree, and the model's width does not guess. */
        opts->labels_from_header = false;
        opts->label_columns = flags->label_columns;
        if (flags->label_columns == 0)
            opts->label_column = -2;
        else if (flags->label_columns > 1)
            opts->label_mode = HOOD_LABELS_CATEGORICAL;
    }
}

hood_status cli_load_data_file(const char *path, const cli_csv_flags *flags, size_t features,
                               hood_dataset **out)
{
    hood_csv_options csv;
    cli_csv_options_from(&csv, flags, features);
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

int cli_check_labels(const char *cmd, const char *path, const hood_dataset *ds,
                     const hood_model *model)
{
    size_t width = hood_dataset_label_width(ds), units = hood_model_output_units(model);
    if (width <= 1 || width == units)
        return CLI_OK;
    return cli_fail(cmd,
                    "%s: %zu values per sample: the model's %zu inputs and %zu label columns, but "
                    "the model has %zu output%s (give --label-columns K)",
                    path, hood_dataset_features(ds) + width, hood_dataset_features(ds), width,
                    units, units == 1 ? "" : "s");
}

void cli_ingest_from_model(hood_ingest_options *opts, const hood_model *model,
                           const char **names_buf)
{
    hood_preprocess pp;
    hood_preprocess_init(&pp);
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

hood_status cli_labels_for_loss(hood_dataset *ds, const hood_model *model, const char *path)
{
    hood_loss loss = hood_model_loss(model);
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
        /* The model's classes: labels 0 and 1 of a 3-class model are 3-wide rows. */
        size_t k = hood_model_output_units(model);
        if (hood_dataset_num_classes(ds) > k)
            k = hood_dataset_num_classes(ds);
        for (size_t j = 0; j < n; j++) {
            idx[j] = (int32_t)y[j];
            /* A label past the model's classes widens the rows, so fit names both counts. */
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
