/* cmd_plot.c — `hood plot HISTORY.csv -o CURVES.svg`: reads a history CSV (hood train
 * --history, or Keras' CSVLogger: a header naming epoch, loss, accuracy, val_loss,
 * val_accuracy in any order) and draws the learning curves (plot.c). Not the drawing itself. */
#include "common.h"
#include "outputs.h"
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const CMD = "plot";

static void print_help(void)
{
    printf("Usage: hood plot HISTORY.csv -o CURVES.svg\n"
           "Draws the learning curves of a history CSV (hood train --history, or Keras'\n"
           "CSVLogger): loss and val_loss, accuracy and val_accuracy per epoch, as an SVG with\n"
           "axes, ticks and a legend (written atomically). Columns are found by their header\n"
           "names; an empty cell is a missing value. hood train --plot draws the same.\n\n"
           "Options:\n"
           "  -o, --output FILE.svg   the picture to write (required)\n"
           "  -h, --help              this help\n");
}

enum { MAX_LINE = 1 << 16 };

/* The column index of each name in the header line (-1: absent). */
static void header_columns(char *line, int cols[5])
{
    static const char *const names[5] = {"epoch", "loss", "accuracy", "val_loss",
                                         "val_accuracy"};
    for (int k = 0; k < 5; k++)
        cols[k] = -1;
    int i = 0;
    for (char *tok = line; tok != NULL; i++) {
        char *comma = strchr(tok, ',');
        if (comma != NULL)
            *comma = '\0';
        tok[strcspn(tok, "\r\n")] = '\0';
        for (int k = 0; k < 5; k++)
            if (strcmp(tok, names[k]) == 0 || (k == 2 && strcmp(tok, "acc") == 0) ||
                (k == 4 && strcmp(tok, "val_acc") == 0))
                cols[k] = i;
        tok = comma != NULL ? comma + 1 : NULL;
    }
}

/* One data line into row `r` of h; false (message printed) on a bad cell. */
static bool parse_row(const char *path, size_t line_no, char *line, const int cols[5],
                      cli_plot_history *h, size_t r)
{
    double *dest[5] = {h->epoch, h->loss, h->accuracy, h->val_loss, h->val_accuracy};
    int i = 0;
    for (char *tok = line; tok != NULL; i++) {
        char *comma = strchr(tok, ',');
        if (comma != NULL)
            *comma = '\0';
        tok[strcspn(tok, "\r\n")] = '\0';
        for (int k = 0; k < 5; k++) {
            if (cols[k] != i || tok[0] == '\0')
                continue;
            char *end = NULL;
            errno = 0;
            double v = strtod(tok, &end);
            if (end == tok || *end != '\0' || errno == ERANGE) {
                cli_fail(CMD, "%s: line %zu, column %d: '%s' is not a number", path, line_no,
                         i + 1, tok);
                return false;
            }
            dest[k][r] = v;
        }
        tok = comma != NULL ? comma + 1 : NULL;
    }
    return true;
}

/* Reads the history CSV into h (allocated here; the caller frees it). */
static int read_history(const char *path, cli_plot_history *h)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return cli_fail(CMD, "%s: cannot open: %s", path, strerror(errno));
    char *line = malloc(MAX_LINE);
    size_t rows = 0, cap = 0, line_no = 1;
    int cols[5], rc = CLI_OK;
    if (line == NULL || fgets(line, MAX_LINE, f) == NULL) {
        rc = line == NULL ? cli_fail(CMD, "out of memory")
                          : cli_fail(CMD, "%s: empty file (expected a history CSV header)", path);
        goto done;
    }
    header_columns(line, cols);
    if (cols[1] < 0 && cols[2] < 0) {
        rc = cli_fail(CMD, "%s: line 1: no loss or accuracy column (expected a history CSV "
                           "header such as epoch,loss,accuracy,val_loss,val_accuracy)",
                      path);
        goto done;
    }
    memset(h, 0, sizeof *h);
    while (fgets(line, MAX_LINE, f) != NULL) {
        line_no++;
        if (line[strspn(line, " \r\n")] == '\0')
            continue;
        if (rows == cap) { /* grow by doubling into a fresh history */
            cli_plot_history bigger;
            if (!cli_plot_history_alloc(&bigger, cap == 0 ? 64 : 2 * cap)) {
                rc = cli_fail(CMD, "out of memory");
                goto done;
            }
            double *from[5] = {h->epoch, h->loss, h->accuracy, h->val_loss, h->val_accuracy};
            double *to[5] = {bigger.epoch, bigger.loss, bigger.accuracy, bigger.val_loss,
                             bigger.val_accuracy};
            for (int k = 0; k < 5 && rows > 0; k++)
                memcpy(to[k], from[k], rows * sizeof(double));
            cli_plot_history_free(h);
            *h = bigger;
            cap = bigger.n;
        }
        if (!parse_row(path, line_no, line, cols, h, rows)) {
            rc = CLI_FAIL;
            goto done;
        }
        rows++;
    }
    if (ferror(f))
        rc = cli_fail(CMD, "%s: read error", path);
    else if (rows == 0)
        rc = cli_fail(CMD, "%s: no epochs (only a header)", path);
    h->n = rows;
done:
    free(line);
    fclose(f);
    return rc;
}

int hood_cli_plot(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        if (c == 'h') {
            print_help();
            return CLI_OK;
        }
        if (c != 'o')
            return cli_usage_getopt(CMD, c, optopt, argv[optind - 1]);
        out = optarg;
    }
    if (optind != argc - 1)
        return cli_usage(CMD, optind >= argc ? "missing HISTORY.csv"
                                             : "expected one HISTORY.csv operand, got more");
    if (out == NULL)
        return cli_usage(CMD, "missing -o CURVES.svg");
    const cli_named_path outs[] = {{"-o", out}}, ins[] = {{"HISTORY", argv[optind]}};
    int rc = cli_check_distinct(CMD, outs, 1, ins, 1);
    if (rc != CLI_OK)
        return rc;
    cli_plot_history h;
    memset(&h, 0, sizeof h);
    rc = read_history(argv[optind], &h);
    if (rc == CLI_OK && !cli_plot_write(CMD, out, &h))
        rc = CLI_FAIL;
    cli_plot_history_free(&h);
    return rc;
}
