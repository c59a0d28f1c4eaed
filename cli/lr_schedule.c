/* lr_schedule.c — Keras' ExponentialDecay, CosineDecay and ReduceLROnPlateau as pure
 * arithmetic over the optimizer step and the monitored value; cmd_train.c applies the rates.
 * Not a library feature: the library only exposes hood_model_set_learning_rate. */
#include "lr_schedule.h"

#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const CMD = "train";

/* One ':'-separated number of text at *p into *out (advancing *p past it and its ':'). */
static bool next_number(const char **p, double *out)
{
    char *end = NULL;
    errno = 0;
    if (**p == '\0' || **p == ':')
        return false;
    *out = strtod(*p, &end);
    if (end == *p || errno == ERANGE || !isfinite(*out) || (*end != ':' && *end != '\0'))
        return false;
    *p = *end == ':' ? end + 1 : end;
    return true;
}

bool lr_schedule_parse(const char *text, lr_schedule *s)
{
    const char *p = strchr(text, ':');
    bool ok = p != NULL;
    if (ok && strncmp(text, "exponential:", 12) == 0) {
        p = text + 12;
        s->kind = LR_EXPONENTIAL;
        ok = next_number(&p, &s->decay_steps) && next_number(&p, &s->rate) && *p == '\0' &&
             s->decay_steps > 0 && s->rate > 0;
    } else if (ok && strncmp(text, "cosine:", 7) == 0) {
        p = text + 7;
        s->kind = LR_COSINE;
        s->alpha = 0.0;
        ok = next_number(&p, &s->decay_steps) && s->decay_steps > 0;
        if (ok && *p != '\0')
            ok = next_number(&p, &s->alpha) && *p == '\0' && s->alpha >= 0 && s->alpha <= 1;
    } else {
        ok = false;
    }
    if (!ok)
        cli_usage(CMD,
                  "--lr-schedule: expected exponential:DECAY_STEPS:RATE or "
                  "cosine:DECAY_STEPS[:ALPHA] (DECAY_STEPS > 0, RATE > 0, ALPHA in [0, 1]), "
                  "got '%s'",
                  text);
    return ok;
}

bool lr_plateau_parse(const char *text, lr_schedule *s)
{
    const char *p = text;
    double patience = -1;
    bool ok = next_number(&p, &s->factor) && next_number(&p, &patience) && *p == '\0' &&
              s->factor > 0 && s->factor < 1 && patience >= 0 && patience <= 1e9 &&
              patience == floor(patience);
    if (!ok) {
        cli_usage(CMD,
                  "--reduce-lr-on-plateau: expected FACTOR:PATIENCE (FACTOR in (0, 1), "
                  "PATIENCE a whole number of epochs), got '%s'",
                  text);
        return false;
    }
    s->plateau = true;
    s->patience = (size_t)patience;
    return true;
}

double lr_schedule_rate(const lr_schedule *s, double step)
{
    if (s->kind == LR_EXPONENTIAL)
        return s->initial * pow(s->rate, step / s->decay_steps);
    if (s->kind == LR_COSINE) {
        const double pi = 3.14159265358979323846;
        double t = (step < s->decay_steps ? step : s->decay_steps) / s->decay_steps;
        return s->initial * ((1.0 - s->alpha) * 0.5 * (1.0 + cos(pi * t)) + s->alpha);
    }
    return s->initial;
}

double lr_plateau_update(lr_schedule *s, double monitored, double current)
{
    /* Keras 3 ReduceLROnPlateau: min_delta 1e-4, cooldown 0, min_lr 0; best starts at +-inf. */
    const double min_delta = 1e-4;
    bool improved = !s->has_best || (s->maximize ? monitored > s->best + min_delta
                                                 : monitored < s->best - min_delta);
    if (improved) {
        s->best = monitored;
        s->has_best = true;
        s->wait = 0;
        return current;
    }
    if (++s->wait >= s->patience) {
        s->wait = 0;
        return current * s->factor;
    }
    return current;
}
