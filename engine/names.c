/* names.c — the Keras spellings of hood's enums ("relu", "binary_crossentropy", "adam",
 * "glorot_uniform") both ways, and the Keras defaults of the option structs. No state. */
#include "hood.h"

#include "error.h"

#include <ctype.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

static const char *const activation_names[] = {"linear", "relu", "tanh", "sigmoid", "softmax"};
static const char *const loss_names[] = {"binary_crossentropy", "categorical_crossentropy",
                                         "sparse_categorical_crossentropy", "mean_squared_error"};
static const char *const optimizer_names[] = {"sgd", "adam", "rmsprop"};
static const char *const initializer_names[] = {"glorot_uniform", "he_normal", "he_uniform",
                                                "orthogonal", "zeros"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool equal_nocase(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

/* Index of name in table, or -1; also accepts the aliases Keras accepts for losses. */
static int lookup(const char *const *table, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (equal_nocase(table[i], name))
            return (int)i;
    return -1;
}

static hood_status unknown(const char *what, const char *name, const char *const *table,
                           size_t count)
{
    char choices[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < count && used < sizeof choices; i++) {
        int n = snprintf(choices + used, sizeof choices - used, "%s%s", i ? ", " : "", table[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return hood__fail(HOOD_EINVAL, "unknown %s '%s' (expected one of: %s)", what,
                      name == NULL ? "(null)" : name, choices);
}

const char *hood_activation_name(hood_activation act)
{
    return (size_t)act < COUNT(activation_names) ? activation_names[act] : "unknown";
}

hood_status hood_activation_parse(const char *name, hood_activation *out)
{
    hood__clear_error();
    int i = name == NULL ? -1 : lookup(activation_names, COUNT(activation_names), name);
    if (i < 0)
        return unknown("activation", name, activation_names, COUNT(activation_names));
    *out = (hood_activation)i;
    return HOOD_OK;
}

const char *hood_loss_name(hood_loss loss)
{
    return (size_t)loss < COUNT(loss_names) ? loss_names[loss] : "unknown";
}

hood_status hood_loss_parse(const char *name, hood_loss *out)
{
    hood__clear_error();
    int i = name == NULL ? -1 : lookup(loss_names, COUNT(loss_names), name);
    /* Keras also accepts "mse" for mean_squared_error. */
    if (i < 0 && name != NULL && equal_nocase(name, "mse"))
        i = HOOD_LOSS_MEAN_SQUARED_ERROR;
    if (i < 0)
        return unknown("loss", name, loss_names, COUNT(loss_names));
    *out = (hood_loss)i;
    return HOOD_OK;
}

const char *hood_optimizer_name(hood_optimizer_kind kind)
{
    return (size_t)kind < COUNT(optimizer_names) ? optimizer_names[kind] : "unknown";
}

hood_status hood_optimizer_parse(const char *name, hood_optimizer_kind *out)
{
    hood__clear_error();
    int i = name == NULL ? -1 : lookup(optimizer_names, COUNT(optimizer_names), name);
    if (i < 0)
        return unknown("optimizer", name, optimizer_names, COUNT(optimizer_names));
    *out = (hood_optimizer_kind)i;
    return HOOD_OK;
}

const char *hood_initializer_name(hood_initializer init)
{
    return (size_t)init < COUNT(initializer_names) ? initializer_names[init] : "unknown";
}

hood_status hood_initializer_parse(const char *name, hood_initializer *out)
{
    hood__clear_error();
    int i = name == NULL ? -1 : lookup(initializer_names, COUNT(initializer_names), name);
    if (i < 0)
        return unknown("initializer", name, initializer_names, COUNT(initializer_names));
    *out = (hood_initializer)i;
    return HOOD_OK;
}

void hood_optimizer_config_init(hood_optimizer_config *cfg, hood_optimizer_kind kind)
{
    /* Keras 3 defaults: SGD(0.01, momentum 0, nesterov False), Adam(0.001, 0.9, 0.999, 1e-7),
     * RMSprop(0.001, rho 0.9, momentum 0, 1e-7). Unused fields keep their Keras defaults too so
     * a config can be switched between kinds without surprises. */
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    cfg->kind = kind;
    cfg->learning_rate = kind == HOOD_OPT_SGD ? 0.01f : 0.001f;
    cfg->momentum = 0.0f;
    cfg->nesterov = false;
    cfg->beta_1 = 0.9f;
    cfg->beta_2 = 0.999f;
    cfg->rho = 0.9f;
    cfg->epsilon = 1e-7f;
}

void hood_fit_options_init(hood_fit_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
    opts->epochs = 1;
    opts->batch_size = 32;
    opts->shuffle = true;
    opts->seed = 0;
    opts->validation_split = 0.0;
    opts->validation_data = NULL;
    opts->early_stopping = false;
    opts->monitor = HOOD_MONITOR_VAL_LOSS;
    opts->patience = 0;
    opts->min_delta = 0.0;
    opts->restore_best_weights = false;
}

/* The first released layouts end at these members (docs/abi.md): a caller's struct_size is at
 * least that much. Members appended later default to zero bytes. */
hood_status hood__optimizer_config_read(hood_optimizer_config *dst,
                                        const hood_optimizer_config *src, const char *what)
{
    return hood__options_read(dst, sizeof *dst, HOOD__END(hood_optimizer_config, epsilon), src,
                              what, "hood_optimizer_config");
}

hood_status hood__fit_options_read(hood_fit_options *dst, const hood_fit_options *src,
                                   const char *what)
{
    return hood__options_read(dst, sizeof *dst, HOOD__END(hood_fit_options, num_class_weights), src, what,
                              "hood_fit_options");
}
