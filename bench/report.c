/* report.c — how the harness shows its results: a readable table on stdout, the JSON document
 * (the schema bench/peers/common.py also prints), and an SVG plot of per-epoch time and loss.
 * Not a measurement: everything here formats bench_result records. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

static const char *check_text(const bench_result *r)
{
    return r->ok ? "ok" : "CHECK FAILED";
}

void bench_print_table(FILE *f, const bench_results *rs)
{
    bool head = false;
    for (size_t i = 0; i < rs->n; i++) {
        const bench_result *r = &rs->r[i];
        if (r->kind != BENCH_TRAIN)
            continue;
        if (!head) {
            fprintf(f, "%-12s %3s %8s %8s %8s %9s %7s %27s %7s %6s %7s %6s %6s  %s\n", "training",
                    "thr", "min ms", "med ms", "max ms", "samples/s", "GFLOP/s",
                    "gather/fwd/bwd/update ms", "bound", "xbound", "sgemm", "xsgemm", "RSS MB",
                    "check");
            head = true;
        }
        if (r->n_epochs < 2) {
            fprintf(f, "%-12s %3d %s\n", r->name, r->threads, r->what);
            continue;
        }
        double med = r->epoch_s.median;
        fprintf(f,
                "%-12s %3d %8.2f %8.2f %8.2f %9.0f %7.1f %6.2f/%6.2f/%6.2f/%6.2f %7.2f %6.2f "
                "%7.2f %6.2f %6.0f  %s: %s\n",
                r->name, r->threads, r->epoch_s.min * 1e3, med * 1e3, r->epoch_s.max * 1e3,
                (double)r->samples / med, r->flops / med / 1e9, r->split[0] * 1e3,
                r->split[1] * 1e3, r->split[2] * 1e3, r->split[3] * 1e3, r->bound_s * 1e3,
                r->bound_s > 0 ? med / r->bound_s : 0, r->sgemm_s * 1e3,
                r->sgemm_s > 0 ? med / r->sgemm_s : 0, r->peak_rss_mb, check_text(r), r->what);
    }
    head = false;
    for (size_t i = 0; i < rs->n; i++) {
        const bench_result *r = &rs->r[i];
        if (r->kind != BENCH_INGEST && r->kind != BENCH_CSV)
            continue;
        if (!head) {
            fprintf(f, "\n%-14s %3s %7s %8s %8s %8s %9s %8s %7s %9s  %s\n", "ingest / csv", "thr",
                    "count", "min s", "med s", "max s", "items/s", "MB/s", "RSS MB", "matrix MB",
                    "check");
            head = true;
        }
        if (r->seconds.median <= 0) {
            fprintf(f, "%-14s %3d %s: %s\n", r->name, r->threads, check_text(r), r->what);
            continue;
        }
        fprintf(f, "%-14s %3d %7zu %8.3f %8.3f %8.3f %9.0f %8.1f %7.0f %9.0f  %s: %s\n", r->name,
                r->threads, r->count, r->seconds.min, r->seconds.median, r->seconds.max,
                (double)r->count / r->seconds.median, r->io_bytes / r->seconds.median / 1e6,
                r->peak_rss_mb, r->matrix_bytes / 1e6, check_text(r), r->what);
    }
    head = false;
    for (size_t i = 0; i < rs->n; i++) {
        const bench_result *r = &rs->r[i];
        if (r->kind != BENCH_LIMIT)
            continue;
        if (!head) {
            fprintf(f, "\n%-44s %3s %10s  %s\n", "limits", "thr", "value", "what");
            head = true;
        }
        fprintf(f, "%-44s %3d %10.2f %-7s %s\n", r->name, r->threads, r->value, r->unit, r->what);
    }
}

/* JSON string: the texts here are our own, but quote them properly anyway. */
static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void jstats(FILE *f, const char *key, bench_stats s)
{
    fprintf(f, ", \"%s\": {\"min\": %.9g, \"median\": %.9g, \"max\": %.9g}", key, s.min, s.median,
            s.max);
}

static void json_result(FILE *f, const bench_result *r)
{
    static const char *const kinds[] = {"train", "ingest", "csv", "limit"};
    fprintf(f, "  {\"name\": ");
    jstr(f, r->name);
    fprintf(f, ", \"workload\": ");
    jstr(f, r->workload);
    fprintf(f, ", \"variant\": ");
    jstr(f, r->variant);
    fprintf(f, ", \"kind\": \"%s\", \"threads\": %d", kinds[r->kind], r->threads);
    if (r->kind == BENCH_TRAIN && r->n_epochs >= 2) {
        double med = r->epoch_s.median;
        fprintf(f,
                ", \"batch\": %zu, \"samples\": %zu, \"x_storage\": \"%s\", \"warmup_epochs\": 1, "
                "\"epochs\": [",
                r->batch, r->samples, r->x_u8 ? "u8" : "float32");
        for (size_t e = 0; e < r->n_epochs; e++) {
            const bench_epoch *x = &r->epochs[e];
            fprintf(f,
                    "%s\n   {\"epoch\": %zu, \"seconds\": %.9g, \"loss\": %.9g, \"gather\": %.9g, "
                    "\"forward\": %.9g, \"backward\": %.9g, \"update\": %.9g, "
                    "\"cpu_seconds\": %.9g}",
                    e ? "," : "", e, x->seconds, x->loss, x->gather, x->forward, x->backward,
                    x->update, x->cpu);
        }
        fprintf(f, "]");
        jstats(f, "epoch_seconds", r->epoch_s);
        jstats(f, "epoch_cpu_seconds", r->epoch_cpu);
        fprintf(f,
                ", \"samples_per_s\": %.9g, \"flops_per_epoch\": %.17g, \"gflops\": %.9g, "
                "\"split\": {\"gather\": %.9g, \"forward\": %.9g, \"backward\": %.9g, "
                "\"update\": %.9g}, \"bytes_per_epoch\": %.17g, \"bound_seconds\": %.9g, "
                "\"ratio_to_bound\": %.9g, \"sgemm_seconds\": %.9g, \"ratio_to_sgemm\": %.9g",
                (double)r->samples / med, r->flops, r->flops / med / 1e9, r->split[0], r->split[1],
                r->split[2], r->split[3], r->bytes, r->bound_s,
                r->bound_s > 0 ? med / r->bound_s : 0, r->sgemm_s,
                r->sgemm_s > 0 ? med / r->sgemm_s : 0);
    } else if ((r->kind == BENCH_INGEST || r->kind == BENCH_CSV) && r->seconds.median > 0) {
        double med = r->seconds.median;
        fprintf(f, ", \"%s\": %zu", r->kind == BENCH_INGEST ? "images" : "rows", r->count);
        jstats(f, "seconds", r->seconds);
        if (r->kind == BENCH_INGEST)
            fprintf(f, ", \"images_per_s\": %.9g, \"matrix_mb\": %.9g", (double)r->count / med,
                    r->matrix_bytes / 1e6);
        else
            fprintf(f, ", \"bytes\": %.17g", r->io_bytes);
        fprintf(f, ", \"mb_per_s\": %.9g", r->io_bytes / med / 1e6);
    } else if (r->kind == BENCH_LIMIT) {
        fprintf(f, ", \"value\": %.9g, \"unit\": ", r->value);
        jstr(f, r->unit);
    }
    if (r->kind != BENCH_LIMIT)
        fprintf(f, ", \"peak_rss_mb\": %.6g", r->peak_rss_mb);
    fprintf(f, ", \"check\": {\"ok\": %s, \"what\": ", r->ok ? "true" : "false");
    jstr(f, r->what);
    fprintf(f, "}}");
}

int bench_write_json(const char *path, const bench_machine *m, int threads, const bench_results *rs)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "hood-bench: %s: cannot open for writing\n", path);
        return -1;
    }
    fprintf(f, "{\"schema\": \"hood-bench/1\", \"tool\": \"hood\",\n \"machine\": {\"cpu\": ");
    jstr(f, m->cpu);
    fprintf(f, ", \"cores\": %d, \"blas\": ", m->cores);
    jstr(f, m->blas);
    fprintf(f, ", \"blas_coretype\": ");
    jstr(f, m->coretype);
    fprintf(f, ", \"blis_arch_type\": ");
    jstr(f, m->blis_arch);
    fprintf(f, ", \"threads\": %d, \"loadavg\": %.2f, \"versions\": {\"hood\": ", threads,
            m->loadavg);
    jstr(f, m->hood_version);
    fprintf(f, ", \"libvips\": \"%s\", \"compiler\": ", HOOD_BENCH_VIPS_VERSION);
    jstr(f, __VERSION__);
    fprintf(f, ", \"buildtype\": \"%s\"}},\n \"results\": [\n", HOOD_BENCH_BUILDTYPE);
    for (size_t i = 0; i < rs->n; i++) {
        json_result(f, &rs->r[i]);
        fprintf(f, i + 1 < rs->n ? ",\n" : "\n");
    }
    fprintf(f, "]}\n");
    if (f != stdout ? fclose(f) != 0 : fflush(f) != 0) {
        fprintf(stderr, "hood-bench: %s: write failed\n", path);
        return -1;
    }
    return 0;
}

/* --- SVG: two panels, per-epoch time (ms) and loss, one line per training run -------------- */

static const char *const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                      "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

static void panel(FILE *f, const bench_results *rs, double x0, bool loss, const char *title)
{
    const double w = 420, h = 260, top = 40, left = x0 + 60;
    double ymax = 0, ymin = INFINITY;
    size_t emax = 1;
    for (size_t i = 0; i < rs->n; i++) {
        const bench_result *r = &rs->r[i];
        if (r->kind != BENCH_TRAIN)
            continue;
        emax = r->n_epochs > emax ? r->n_epochs : emax;
        for (size_t e = 0; e < r->n_epochs; e++) {
            double v = loss ? r->epochs[e].loss : r->epochs[e].seconds * 1e3;
            if (isfinite(v)) {
                ymax = v > ymax ? v : ymax;
                ymin = v < ymin ? v : ymin;
            }
        }
    }
    if (!loss) {
        /* scale to the timed epochs: the warm-up (often far slower) is clipped at the top */
        double timed = 0;
        for (size_t i = 0; i < rs->n; i++)
            for (size_t e = 1; rs->r[i].kind == BENCH_TRAIN && e < rs->r[i].n_epochs; e++)
                timed = rs->r[i].epochs[e].seconds * 1e3 > timed ? rs->r[i].epochs[e].seconds * 1e3
                                                                 : timed;
        if (timed > 0)
            ymax = timed * 1.15;
    }
    if (!(ymin < ymax)) {
        ymin = 0;
        ymax = ymax > 0 ? ymax : 1;
    }
    if (!loss)
        ymin = 0; /* times from zero: ratios stay visible */
    fprintf(f, "<text x=\"%.0f\" y=\"24\" font-size=\"15\">%s</text>\n", left, title);
    fprintf(f,
            "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
            "stroke=\"#999\"/>\n",
            left, top, w, h);
    for (int t = 0; t <= 4; t++) {
        double v = ymin + (ymax - ymin) * t / 4.0, y = top + h - h * t / 4.0;
        fprintf(f,
                "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"end\">%.3g</text>"
                "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n",
                left - 5, y + 4, v, left, left + w, y, y);
    }
    for (size_t e = 0; e < emax; e++)
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"middle\">%zu"
                "</text>\n",
                left + (emax > 1 ? w * (double)e / (double)(emax - 1) : 0), top + h + 14, e);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">epoch (0 = warm-up)</text>\n",
            left + w / 2 - 40, top + h + 30);
    size_t line = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const bench_result *r = &rs->r[i];
        if (r->kind != BENCH_TRAIN || r->n_epochs == 0)
            continue;
        const char *c = colours[line++ % 8];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
        for (size_t e = 0; e < r->n_epochs; e++) {
            double v = loss ? r->epochs[e].loss : r->epochs[e].seconds * 1e3;
            if (!isfinite(v))
                continue;
            double x = left + (emax > 1 ? w * (double)e / (double)(emax - 1) : 0);
            double y = top + h - h * (v < ymax ? v - ymin : ymax - ymin) / (ymax - ymin);
            fprintf(f, "%.1f,%.1f ", x, y);
        }
        fprintf(f, "\"/>\n");
        if (!loss)
            fprintf(f,
                    "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" fill=\"%s\">%s, %d thr"
                    "</text>\n",
                    left + 8, top + 14 + 13.0 * (double)(line - 1), c, r->name, r->threads);
    }
}

int bench_write_svg(const char *path, const bench_results *rs)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "hood-bench: %s: cannot open for writing\n", path);
        return -1;
    }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"350\" "
               "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" "
               "fill=\"white\"/>\n");
    panel(f, rs, 0, false, "hood: time per epoch (ms)");
    panel(f, rs, 500, true, "hood: training loss per epoch");
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "hood-bench: %s: write failed\n", path);
        return -1;
    }
    return 0;
}
