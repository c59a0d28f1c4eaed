/* pool.c — Keras' MaxPooling2D, AveragePooling2D and GlobalAveragePooling2D over a batch of HWC
 * columns, as direct loops (no products). With 'same' padding a window counts only the input
 * values it covers (TensorFlow's rule). Max pooling's backward finds the window's maximum again
 * from the input and output (the first in scan order on ties) rather than keeping indices. */
#include "layer.h"

#include <math.h>
#include <string.h>

/* The input rows [*y0, *y1) and columns [*x0, *x1) window (oy, ox) covers. */
static void window(const hood__layer *l, size_t oy, size_t ox, size_t *y0, size_t *y1, size_t *x0,
                   size_t *x1)
{
    size_t top = oy * l->sh, left = ox * l->sw; /* in padded coordinates */
    *y0 = top > l->pad_top ? top - l->pad_top : 0;
    *x0 = left > l->pad_left ? left - l->pad_left : 0;
    size_t ye = top + l->kh, xe = left + l->kw;
    *y1 = ye > l->pad_top ? ye - l->pad_top : 0;
    *x1 = xe > l->pad_left ? xe - l->pad_left : 0;
    if (*y1 > l->ih)
        *y1 = l->ih;
    if (*x1 > l->iw)
        *x1 = l->iw;
}

static void global_average_forward(const hood__layer *l, float *Y, const float *X, size_t batch)
{
    const size_t C = l->ic, pixels = l->ih * l->iw;
    for (size_t b = 0; b < batch; b++) {
        float *y = Y + b * C;
        const float *x = X + b * l->in;
        memset(y, 0, C * sizeof(float));
        for (size_t p = 0; p < pixels; p++)
            for (size_t c = 0; c < C; c++)
                y[c] += x[p * C + c];
        for (size_t c = 0; c < C; c++)
            y[c] /= (float)pixels;
    }
}

void hood__pool2d_forward(const hood__layer *l, float *Y, const float *X, size_t batch)
{
    if (l->kind == HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D) {
        global_average_forward(l, Y, X, batch);
        return;
    }
    const size_t C = l->ic;
    const bool is_max = l->kind == HOOD_LAYER_MAX_POOLING2D;
    for (size_t b = 0; b < batch; b++) {
        const float *x = X + b * l->in;
        float *y = Y + b * l->out;
        for (size_t oy = 0; oy < l->oh; oy++) {
            for (size_t ox = 0; ox < l->ow; ox++) {
                float *out = y + (oy * l->ow + ox) * C;
                size_t y0, y1, x0, x1;
                window(l, oy, ox, &y0, &y1, &x0, &x1);
                for (size_t c = 0; c < C; c++)
                    out[c] = is_max ? -INFINITY : 0.0f;
                for (size_t iy = y0; iy < y1; iy++)
                    for (size_t ix = x0; ix < x1; ix++) {
                        const float *in = x + (iy * l->iw + ix) * C;
                        if (is_max) {
                            for (size_t c = 0; c < C; c++)
                                out[c] = in[c] > out[c] ? in[c] : out[c];
                        } else {
                            for (size_t c = 0; c < C; c++)
                                out[c] += in[c];
                        }
                    }
                if (!is_max) {
                    float count = (float)((y1 - y0) * (x1 - x0));
                    for (size_t c = 0; c < C; c++)
                        out[c] /= count;
                }
            }
        }
    }
}

void hood__pool2d_backward(const hood__layer *l, float *dX, const float *dY, const float *X,
                           const float *Y, size_t batch)
{
    const size_t C = l->ic;
    memset(dX, 0, l->in * batch * sizeof(float));
    if (l->kind == HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D) {
        const size_t pixels = l->ih * l->iw;
        for (size_t b = 0; b < batch; b++)
            for (size_t p = 0; p < pixels; p++)
                for (size_t c = 0; c < C; c++)
                    dX[b * l->in + p * C + c] = dY[b * C + c] / (float)pixels;
        return;
    }
    const bool is_max = l->kind == HOOD_LAYER_MAX_POOLING2D;
    for (size_t b = 0; b < batch; b++) {
        const float *x = X + b * l->in;
        float *dx = dX + b * l->in;
        for (size_t oy = 0; oy < l->oh; oy++) {
            for (size_t ox = 0; ox < l->ow; ox++) {
                size_t o = b * l->out + (oy * l->ow + ox) * C;
                size_t y0, y1, x0, x1;
                window(l, oy, ox, &y0, &y1, &x0, &x1);
                float share = 1.0f / (float)((y1 - y0) * (x1 - x0));
                for (size_t c = 0; c < C; c++) {
                    bool found = false;
                    for (size_t iy = y0; iy < y1 && !found; iy++)
                        for (size_t ix = x0; ix < x1 && !found; ix++) {
                            size_t i = (iy * l->iw + ix) * C + c;
                            if (!is_max)
                                dx[i] += dY[o + c] * share;
                            else if (x[i] == Y[o + c]) {
                                dx[i] += dY[o + c];
                                found = true;
                            }
                        }
                }
            }
        }
    }
}
