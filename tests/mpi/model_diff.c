/* model_diff.c — test helper for tests/mpi/test_mpi.sh: the largest relative difference
 * between the weights of two .hood models of the same architecture, |a - b| / max(|b|, 0.01)
 * (weights below 0.01 held to an absolute 1e-7 at tol 1e-5, as tests/test_shard.c). Prints it;
 * exits 0 when it is at most TOL, 1 when above, 2 on a usage or load error. Not a test itself. */
#include "hood.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static hood_model *load(const char *path)
{
    hood_model *m = NULL;
    if (hood_model_load(path, &m) != HOOD_OK) {
        fprintf(stderr, "model_diff: %s\n", hood_last_error());
        return NULL;
    }
    return m;
}

/* Largest relative difference of n values; updates *worst. */
static void compare(const float *a, const float *b, size_t n, double *worst)
{
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]) / fmax(fabs((double)b[i]), 0.01);
        if (!(d <= *worst)) /* NaN counts as the worst */
            *worst = isnan(d) ? INFINITY : d;
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: model_diff A.hood B.hood TOL\n");
        return 2;
    }
    double tol = strtod(argv[3], NULL);
    hood_model *a = load(argv[1]), *b = load(argv[2]);
    int rc = 2;
    if (a == NULL || b == NULL)
        goto done;
    size_t L = hood_model_num_layers(a);
    if (L != hood_model_num_layers(b) ||
        hood_model_input_features(a) != hood_model_input_features(b)) {
        fprintf(stderr, "model_diff: the models' architectures differ\n");
        goto done;
    }
    double worst = 0.0;
    size_t in = hood_model_input_features(a);
    for (size_t l = 0; l < L; l++) {
        size_t out = hood_model_layer_units(a, l);
        if (out != hood_model_layer_units(b, l)) {
            fprintf(stderr, "model_diff: layer %zu: %zu vs %zu units\n", l, out,
                    hood_model_layer_units(b, l));
            goto done;
        }
        float *ka = malloc(in * out * sizeof *ka), *kb = malloc(in * out * sizeof *kb);
        float *ba = malloc(out * sizeof *ba), *bb = malloc(out * sizeof *bb);
        bool ok = ka != NULL && kb != NULL && ba != NULL && bb != NULL &&
                  hood_model_get_kernel(a, l, ka) == HOOD_OK &&
                  hood_model_get_kernel(b, l, kb) == HOOD_OK;
        if (ok)
            compare(ka, kb, in * out, &worst);
        if (ok && hood_model_layer_use_bias(a, l)) {
            ok = hood_model_get_bias(a, l, ba) == HOOD_OK &&
                 hood_model_get_bias(b, l, bb) == HOOD_OK;
            if (ok)
                compare(ba, bb, out, &worst);
        }
        free(ka);
        free(kb);
        free(ba);
        free(bb);
        if (!ok) {
            fprintf(stderr, "model_diff: layer %zu: cannot read the weights\n", l);
            goto done;
        }
        in = out;
    }
    printf("%.3g\n", worst);
    rc = worst <= tol ? 0 : 1;
done:
    hood_model_free(a);
    hood_model_free(b);
    return rc;
}
