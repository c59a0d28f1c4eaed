/* plot.c — the learning-curve SVG: two panels (loss, accuracy), each with its training and
 * validation curve, nice-number ticks, grid, axis labels and a legend. Plain text output, no
 * library; not the history CSV reader (cmd_plot.c) nor the training (cmd_train.c). */
#include "plot.h"

#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { WIDTH = 960, HEIGHT = 420, PANEL_W = 400, PANEL_H = 280, TOP = 50, LEFT = 70, GAP = 80 };

bool cli_plot_history_alloc(cli_plot_history *h, size_t n)
{
    memset(h, 0, sizeof *h);
    double *block = malloc((n > 0 ? n : 1) * 5 * sizeof *block);
    if (block == NULL)
        return false;
    for (size_t i = 0; i < 5 * n; i++)
        block[i] = NAN;
    h->n = n;
    h->epoch = block;
    h->loss = block + n;
    h->accuracy = block + 2 * n;
    h->val_loss = block + 3 * n;
    h->val_accuracy = block + 4 * n;
    return true;
}

void cli_plot_history_free(cli_plot_history *h)
{
    free(h->epoch);
    memset(h, 0, sizeof *h);
}

/* A tick step of 1, 2 or 5 times a power of ten giving about `count` ticks over range. */
static double nice_step(double range, int count)
{
    double raw = range / count, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

typedef struct axis {
    double lo, hi, step;
} axis;

/* The y range of two series, widened to whole ticks (a flat curve gets a band around it). */
static bool y_axis(const double *a, const double *b, size_t n, axis *ax)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const double v[2] = {a[i], b[i]};
        for (int k = 0; k < 2; k++)
            if (isfinite(v[k])) {
                lo = v[k] < lo ? v[k] : lo;
                hi = v[k] > hi ? v[k] : hi;
            }
    }
    if (!(lo <= hi))
        return false;
    if (hi - lo < 1e-12 * (fabs(hi) + 1)) {
        double pad = fabs(hi) > 0 ? fabs(hi) * 0.1 : 0.5;
        lo -= pad;
        hi += pad;
    }
    ax->step = nice_step(hi - lo, 5);
    ax->lo = floor(lo / ax->step) * ax->step;
    ax->hi = ceil(hi / ax->step) * ax->step;
    return true;
}

static double px_x(size_t n, double epoch, double x0)
{
    return x0 + (n > 1 ? (epoch - 1.0) / (double)(n - 1) : 0.5) * PANEL_W;
}

static double px_y(const axis *ax, double v)
{
    return TOP + PANEL_H - (v - ax->lo) / (ax->hi - ax->lo) * PANEL_H;
}

static void draw_series(FILE *f, const cli_plot_history *h, const double *v, const axis *ax,
                        double x0, const char *color, bool dashed)
{
    bool open = false;
    for (size_t i = 0; i < h->n; i++) { /* a missing value breaks the line */
        if (!isfinite(v[i])) {
            if (open)
                fputs("\"/>\n", f);
            open = false;
            continue;
        }
        if (!open)
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                    color, dashed ? " stroke-dasharray=\"6 4\"" : "");
        fprintf(f, "%s%.1f,%.1f", open ? " " : "", px_x(h->n, (double)i + 1, x0),
                px_y(ax, v[i]));
        open = true;
    }
    if (open)
        fputs("\"/>\n", f);
    for (size_t i = 0; h->n <= 40 && i < h->n; i++)
        if (isfinite(v[i]))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                    px_x(h->n, (double)i + 1, x0), px_y(ax, v[i]), color);
}

static bool any_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            return true;
    return false;
}

/* One panel at x0: frame, grid and ticks, the two curves and their legend. */
static void draw_panel(FILE *f, const cli_plot_history *h, double x0, const char *title,
                       const char *name, const double *train, const double *val)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"16\" text-anchor=\"middle\" "
               "font-weight=\"bold\">%s</text>\n",
            x0 + PANEL_W / 2.0, TOP - 18, title);
    fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
               "stroke=\"#333\"/>\n",
            x0, TOP, PANEL_W, PANEL_H);
    axis ax;
    if (!y_axis(train, val, h->n, &ax)) {
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">no data</text>\n",
                x0 + PANEL_W / 2.0, TOP + PANEL_H / 2);
        return;
    }
    for (double t = ax.lo; t <= ax.hi + ax.step * 1e-6; t += ax.step) {
        double y = px_y(&ax, t);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x0,
                y, x0 + PANEL_W, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", x0 - 6,
                y + 4, fabs(t) < ax.step * 1e-6 ? 0.0 : t);
    }
    double xstep = h->n > 1 ? ceil(nice_step((double)(h->n - 1), 8)) : 1;
    /* epoch 1, then the multiples of the step */
    for (double e = 1; e <= (double)h->n; e = (floor(e / xstep) + 1) * xstep) {
        if (e > 1 && e - 1 < xstep * 0.5)
            continue;
        double x = px_x(h->n, e, x0);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/>\n", x,
                TOP + PANEL_H, x, TOP + PANEL_H + 5);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f</text>\n", x,
                TOP + PANEL_H + 19, e);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">epoch</text>\n",
            x0 + PANEL_W / 2.0, TOP + PANEL_H + 40);
    draw_series(f, h, train, &ax, x0, "#1f77b4", false);
    draw_series(f, h, val, &ax, x0, "#ff7f0e", true);
    /* the legend, in a row under the axis label: it never hides a curve */
    int shown = 0;
    const double *series[2] = {train, val};
    for (int k = 0; k < 2; k++) {
        if (!any_finite(series[k], h->n))
            continue;
        double lx = x0 + PANEL_W / 2.0 - 130 + 150 * shown++, ly = TOP + PANEL_H + 64;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2\"%s/>\n",
                lx, ly - 4, lx + 24, ly - 4, k == 0 ? "#1f77b4" : "#ff7f0e",
                k == 0 ? "" : " stroke-dasharray=\"6 4\"");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s%s</text>\n", lx + 30, ly, k == 0 ? "" : "val_",
                name);
    }
}

bool cli_plot_write(const char *cmd, const char *path, const cli_plot_history *h)
{
    cli_atomic file;
    if (!cli_atomic_open(cmd, &file, path))
        return false;
    FILE *f = file.stream;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            WIDTH, HEIGHT, WIDTH, HEIGHT);
    draw_panel(f, h, LEFT, "Loss", "loss", h->loss, h->val_loss);
    draw_panel(f, h, LEFT + PANEL_W + GAP, "Accuracy", "accuracy", h->accuracy,
               h->val_accuracy);
    fputs("</svg>\n", f);
    return cli_atomic_finish(cmd, &file) && cli_atomic_rename(cmd, &file);
}

bool cli_plot_model(const char *cmd, const char *path, const hood_model *model)
{
    cli_plot_history h;
    size_t n = hood_model_history_length(model);
    if (!cli_plot_history_alloc(&h, n)) {
        cli_fail(cmd, "%s: out of memory", path);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const hood_epoch_log *e = hood_model_history(model, i);
        h.epoch[i] = (double)e->epoch;
        h.loss[i] = e->loss;
        h.accuracy[i] = e->accuracy;
        if (e->has_validation) {
            h.val_loss[i] = e->val_loss;
            h.val_accuracy[i] = e->val_accuracy;
        }
    }
    bool ok = cli_plot_write(cmd, path, &h);
    cli_plot_history_free(&h);
    return ok;
}
