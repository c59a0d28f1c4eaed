/* metrics.c — the CLI's side of Keras' compile(metrics=) and class_weight, and sklearn's
 * confusion matrix and classification_report: option lists, predictions over a dataset, the
 * printed figures. The arithmetic is the library's (hood_metrics_compute and friends). */
#include "metrics.h"

#include "common.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const METRIC_NAMES[4] = {"accuracy", "precision", "recall", "auc"};

bool cli_metrics_parse(const char *cmd, const char *list, unsigned *mask)
{
    size_t count = 0;
    char **names = cli_split_commas(list, &count);
    if (names == NULL) {
        cli_fail(cmd, "out of memory");
        return false;
    }
    *mask = 0;
    bool ok = count > 0;
    for (size_t i = 0; i < count && ok; i++) {
        int k = -1;
        for (int m = 0; m < 4; m++)
            if (strcmp(names[i], METRIC_NAMES[m]) == 0 || (m == 0 && strcmp(names[i], "acc") == 0))
                k = m;
        if (k < 0) {
            cli_usage(cmd, "--metrics: unknown metric '%s' (expected accuracy, precision, "
                           "recall, auc)",
                      names[i]);
            ok = false;
        } else {
            *mask |= 1u << k;
        }
    }
    if (count == 0)
        cli_usage(cmd, "--metrics: expected a list such as accuracy,precision,recall,auc");
    free(names);
    return ok;
}

/* model(x) of columns [first, first + count): units x count, malloc'd (NULL: status says). */
static float *predict_columns(const hood_model *model, const hood_dataset *ds, size_t first,
                              size_t count, hood_status *st)
{
    size_t units = hood_model_output_units(model), d = hood_dataset_features(ds);
    float *pred = malloc((count > 0 ? count : 1) * units * sizeof *pred);
    if (pred == NULL) {
        *st = HOOD_ENOMEM;
        return NULL;
    }
    *st = hood_model_predict(model, hood_dataset_x(ds) + first * d, count, 128, pred);
    if (*st != HOOD_OK) {
        free(pred);
        return NULL;
    }
    return pred;
}

hood_status cli_metrics_of(const hood_model *model, const hood_dataset *ds, size_t first,
                           size_t count, hood_metrics *out)
{
    hood_status st;
    float *pred = predict_columns(model, ds, first, count, &st);
    if (pred == NULL)
        return st;
    size_t w = hood_dataset_label_width(ds);
    st = hood_metrics_compute(pred, hood_model_output_units(model),
                              hood_dataset_labels(ds) + first * w, w, count, out);
    free(pred);
    return st;
}

void cli_metrics_format(char *buf, size_t size, unsigned mask, const char *prefix,
                        const hood_metrics *m)
{
    const double values[4] = {m->accuracy, m->precision, m->recall, m->auc};
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 1; k < 4 && used < size; k++)
        if (mask & (1u << k)) {
            int n = snprintf(buf + used, size - used, " - %s%s: %.4f", prefix, METRIC_NAMES[k],
                             values[k]);
            used += n > 0 ? (size_t)n : 0;
        }
}

void cli_metrics_json(FILE *out, unsigned mask, const hood_metrics *m)
{
    const double values[4] = {m->accuracy, m->precision, m->recall, m->auc};
    for (int k = 1; k < 4; k++)
        if (mask & (1u << k))
            fprintf(out, ", \"%s\": %.17g", METRIC_NAMES[k], values[k]);
}

/* ---- class_weight -------------------------------------------------------------------------- */

/* "C:W,C:W": each class index once, each weight finite and >= 0; NULL weights: check only. */
static bool parse_pairs(const char *cmd, const char *text, float *weights, size_t classes)
{
    size_t count = 0;
    char **items = cli_split_commas(text, &count);
    if (items == NULL) {
        cli_fail(cmd, "out of memory");
        return false;
    }
    bool ok = count > 0;
    for (size_t i = 0; i < count && ok; i++) {
        char *colon = strchr(items[i], ':'), *end = NULL;
        errno = 0;
        unsigned long long c = colon != NULL ? strtoull(items[i], &end, 10) : 0;
        ok = colon != NULL && end == colon && colon != items[i] && items[i][0] != '-' &&
             errno == 0 && c < 65536;
        double w = 0.0;
        if (ok) {
            w = strtod(colon + 1, &end);
            ok = end != colon + 1 && *end == '\0' && isfinite(w) && w >= 0.0;
        }
        if (!ok)
            cli_usage(cmd, "--class-weight: expected balanced or CLASS:WEIGHT,... (a class "
                           "index and a number >= 0), got '%s'",
                      items[i]);
        else if (weights != NULL && c >= classes) {
            cli_fail(cmd, "--class-weight: class %llu, but the model has %zu classes", c,
                     classes);
            ok = false;
        } else if (weights != NULL)
            weights[c] = (float)w;
    }
    if (count == 0)
        cli_usage(cmd, "--class-weight: expected balanced or CLASS:WEIGHT,...");
    free(items);
    return ok;
}

bool cli_class_weight_parse(const char *cmd, const char *text, bool *balanced)
{
    *balanced = strcmp(text, "balanced") == 0;
    return *balanced || parse_pairs(cmd, text, NULL, 0);
}

bool cli_class_weights(const char *cmd, const char *text, const hood_dataset *ds, size_t classes,
                       float **weights, size_t *count)
{
    *weights = NULL;
    *count = 0;
    float *w = malloc(classes * sizeof *w);
    if (w == NULL) {
        cli_fail(cmd, "out of memory");
        return false;
    }
    for (size_t c = 0; c < classes; c++)
        w[c] = 1.0f;
    bool ok;
    if (strcmp(text, "balanced") == 0) {
        hood_status st = hood_class_weights_balanced(ds, classes, w);
        ok = st == HOOD_OK;
        if (!ok)
            cli_fail(cmd, "--class-weight balanced: %s", hood_last_error());
    } else {
        ok = parse_pairs(cmd, text, w, classes);
    }
    if (!ok) {
        free(w);
        return false;
    }
    *weights = w;
    *count = classes;
    return true;
}

/* ---- confusion matrix and classification report ------------------------------------------- */

static const char *class_label(const hood_model *model, size_t c, char *buf, size_t size)
{
    const char *name = hood_model_class_name(model, c);
    if (name != NULL)
        return name;
    snprintf(buf, size, "%zu", c);
    return buf;
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void print_json(const hood_model *model, const uint64_t *cm, size_t k,
                       const hood_class_scores *rep)
{
    char buf[32];
    printf(", \"classes\": [");
    for (size_t c = 0; c < k; c++) {
        printf(c > 0 ? ", " : "");
        json_string(class_label(model, c, buf, sizeof buf));
    }
    printf("], \"confusion_matrix\": [");
    for (size_t r = 0; r < k; r++) {
        printf(r > 0 ? ", [" : "[");
        for (size_t c = 0; c < k; c++)
            printf(c > 0 ? ", %" PRIu64 : "%" PRIu64, cm[r * k + c]);
        printf("]");
    }
    printf("], \"report\": [");
    for (size_t r = 0; r < k + 2; r++) {
        printf(r > 0 ? ", {\"class\": " : "{\"class\": ");
        if (r < k)
            json_string(class_label(model, r, buf, sizeof buf));
        else
            json_string(r == k ? "macro avg" : "weighted avg");
        printf(", \"precision\": %.17g, \"recall\": %.17g, \"f1-score\": %.17g, "
               "\"support\": %" PRIu64 "}",
               rep[r].precision, rep[r].recall, rep[r].f1, rep[r].support);
    }
    printf("]");
}

static void print_text(const hood_model *model, const uint64_t *cm, size_t k,
                       const hood_class_scores *rep)
{
    char buf[32];
    int wname = 12;
    for (size_t c = 0; c < k; c++) {
        int len = (int)strlen(class_label(model, c, buf, sizeof buf));
        if (len > wname)
            wname = len;
    }
    printf("Confusion matrix (rows: true class, columns: predicted class):\n%*s", wname, "");
    for (size_t c = 0; c < k; c++)
        printf(" %10.10s", class_label(model, c, buf, sizeof buf));
    putchar('\n');
    for (size_t r = 0; r < k; r++) {
        printf("%*s", wname, class_label(model, r, buf, sizeof buf));
        for (size_t c = 0; c < k; c++)
            printf(" %10" PRIu64, cm[r * k + c]);
        putchar('\n');
    }
    uint64_t right = 0;
    for (size_t c = 0; c < k; c++)
        right += cm[c * k + c];
    printf("\n%*s  precision     recall   f1-score    support\n\n", wname, "");
    for (size_t r = 0; r < k + 2; r++) {
        if (r == k)
            printf("\n%*s %10s %10s %10.4f %10" PRIu64 "\n", wname, "accuracy", "", "",
                   rep[k].support > 0 ? (double)right / (double)rep[k].support : 0.0,
                   rep[k].support);
        const char *name = r < k ? class_label(model, r, buf, sizeof buf)
                                 : r == k ? "macro avg" : "weighted avg";
        printf("%*s %10.4f %10.4f %10.4f %10" PRIu64 "\n", wname, name, rep[r].precision,
               rep[r].recall, rep[r].f1, rep[r].support);
    }
}

int cli_print_confusion(const char *cmd, const hood_model *model, const hood_dataset *ds,
                        bool json)
{
    size_t units = hood_model_output_units(model), n = hood_dataset_samples(ds);
    size_t k = units == 1 ? 2 : units, w = hood_dataset_label_width(ds);
    hood_status st;
    float *pred = predict_columns(model, ds, 0, n, &st);
    uint64_t *cm = calloc(k * k, sizeof *cm);
    hood_class_scores *rep = calloc(k + 2, sizeof *rep);
    if (pred != NULL && (cm == NULL || rep == NULL))
        st = HOOD_ENOMEM;
    if (st == HOOD_OK)
        st = hood_confusion_matrix(pred, units, hood_dataset_labels(ds), w, n, k, cm);
    if (st == HOOD_OK)
        st = hood_classification_report(cm, k, rep);
    if (st == HOOD_OK) {
        if (json)
            print_json(model, cm, k, rep);
        else
            print_text(model, cm, k, rep);
    }
    free(pred);
    free(cm);
    free(rep);
    return st == HOOD_OK ? CLI_OK : cli_fail_status(cmd, st);
}

int cli_print_evaluation_metrics(const char *cmd, const char *path, const hood_model *model,
                                 const hood_dataset *ds, double loss, double accuracy,
                                 unsigned mask, bool confusion, bool json)
{
    hood_metrics m = {0};
    size_t n = hood_dataset_samples(ds);
    if (mask != 0) {
        hood_status st = cli_metrics_of(model, ds, 0, n, &m);
        if (st != HOOD_OK)
            return cli_fail_data(cmd, path, st);
    }
    if (json) {
        printf("{\"loss\": %.17g, \"accuracy\": %.17g, \"samples\": %zu", loss, accuracy, n);
        cli_metrics_json(stdout, mask, &m);
    } else {
        char extra[160];
        cli_metrics_format(extra, sizeof extra, mask, "", &m);
        printf("loss: %.4f - accuracy: %.4f%s\n", loss, accuracy, extra);
    }
    if (confusion) {
        if (!json)
            putchar('\n');
        int rc = cli_print_confusion(cmd, model, ds, json);
        if (rc != CLI_OK)
            return rc;
    }
    if (json)
        printf("}\n");
    return CLI_OK;
}

/* ---- hood train --metrics ------------------------------------------------------------------ */

bool cli_train_metrics_init(const char *cmd, cli_train_metrics *tm, unsigned mask, size_t epochs)
{
    memset(tm, 0, sizeof *tm);
    tm->mask = mask;
    if (mask == 0)
        return true;
    tm->epochs = epochs;
    tm->train_log = calloc(epochs + 1, sizeof *tm->train_log);
    tm->val_log = calloc(epochs + 1, sizeof *tm->val_log);
    tm->logged = calloc(epochs + 1, sizeof *tm->logged);
    if (tm->train_log == NULL || tm->val_log == NULL || tm->logged == NULL) {
        cli_train_metrics_free(tm);
        cli_fail(cmd, "out of memory");
        return false;
    }
    return true;
}

void cli_train_metrics_free(cli_train_metrics *tm)
{
    free(tm->train_log);
    free(tm->val_log);
    free(tm->logged);
    tm->train_log = tm->val_log = NULL;
    tm->logged = NULL;
}

bool cli_train_metrics_epoch(const char *cmd, cli_train_metrics *tm, const hood_model *model,
                             size_t epoch)
{
    tm->line[0] = tm->val_line[0] = '\0';
    if (tm->mask == 0 || epoch >= tm->epochs)
        return true;
    hood_status st = cli_metrics_of(model, tm->train, 0, tm->n_train, &tm->train_log[epoch]);
    if (st == HOOD_OK && tm->val != NULL && tm->n_val > 0)
        st = cli_metrics_of(model, tm->val, tm->val_first, tm->n_val, &tm->val_log[epoch]);
    if (st != HOOD_OK) {
        cli_fail(cmd, "--metrics: %s", hood_last_error());
        return false;
    }
    tm->logged[epoch] = true;
    cli_metrics_format(tm->line, sizeof tm->line, tm->mask, "", &tm->train_log[epoch]);
    if (tm->val != NULL && tm->n_val > 0)
        cli_metrics_format(tm->val_line, sizeof tm->val_line, tm->mask, "val_",
                           &tm->val_log[epoch]);
    return true;
}

static void put_names(FILE *f, unsigned mask, const char *prefix)
{
    for (int k = 1; k < 4; k++)
        if (mask & (1u << k))
            fprintf(f, ",%s%s", prefix, METRIC_NAMES[k]);
}

static void put_values(FILE *f, unsigned mask, const hood_metrics *m)
{
    const double values[4] = {0, m != NULL ? m->precision : 0, m != NULL ? m->recall : 0,
                              m != NULL ? m->auc : 0};
    for (int k = 1; k < 4; k++)
        if (mask & (1u << k)) {
            fputc(',', f);
            if (m != NULL)
                fprintf(f, "%.9g", values[k]);
        }
}

void cli_train_metrics_header(FILE *f, const cli_train_metrics *tm)
{
    put_names(f, tm->mask, "");
    if (tm->val != NULL)
        put_names(f, tm->mask, "val_");
}

void cli_train_metrics_row(FILE *f, const cli_train_metrics *tm, size_t epoch)
{
    bool has = tm->mask != 0 && epoch < tm->epochs && tm->logged[epoch];
    put_values(f, tm->mask, has ? &tm->train_log[epoch] : NULL);
    if (tm->val != NULL)
        put_values(f, tm->mask, has ? &tm->val_log[epoch] : NULL);
}
