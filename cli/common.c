/* common.c — helpers every `hood` sub-command uses: one-line errors, option values and atomic
 * output files. Not the dataset flags (data_args.c), DATA loading (data.c), the stop flag
 * (signals.c) or progress lines (progress.c); not library code: cli/ alone prints or exits. */
#include "common.h"

#include "data.h"
#include "data_args.h"
#include "outputs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- messages ----------------------------------------------------------------------------- */

/* "hood CMD: <formatted>\n" on stderr: the one shape of every error line. */
static void put_error(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "hood %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

/* The library's message for the last failure, or the status's fixed text if it left none. */
static const char *status_message(hood_status status)
{
    const char *msg = hood_last_error();
    return msg == NULL || msg[0] == '\0' ? hood_strerror(status) : msg;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_error(cmd, fmt, ap);
    va_end(ap);
    return CLI_FAIL;
}

void cli_put_line(FILE *out, const char *cmd, const char *message)
{
    /* One line, whatever the message holds: libvips' messages end in '\n' and may have
     * several lines; a script reading stderr expects one per error. */
    size_t len = strlen(message);
    while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == ' '))
        len--;
    /* Built whole and written with one call: stderr is unbuffered, and a line written a byte at
     * a time interleaves with the other ranks' lines under mpirun (or any other writer). */
    size_t head = strlen("hood ") + strlen(cmd) + strlen(": ");
    char *line = malloc(head + len + 2);
    if (line == NULL) {
        fprintf(out, "hood %s: %.*s\n", cmd, (int)len, message);
        return;
    }
    snprintf(line, head + 1, "hood %s: ", cmd);
    for (size_t i = 0; i < len; i++)
        line[head + i] = message[i] == '\n' || message[i] == '\r' ? ' ' : message[i];
    line[head + len] = '\n';
    fwrite(line, 1, head + len + 1, out);
    free(line);
}

int cli_fail_status(const char *cmd, hood_status status)
{
    cli_put_line(stderr, cmd, status_message(status));
    return CLI_FAIL;
}

int cli_fail_data(const char *cmd, const char *path, hood_status status)
{
    const char *msg = status_message(status);
    size_t len = strlen(path) + strlen(msg) + 3;
    char *line = malloc(len);
    if (line == NULL)
        return cli_fail_status(cmd, status);
    snprintf(line, len, "%s: %s", path, msg);
    cli_put_line(stderr, cmd, line);
    free(line);
    return CLI_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_error(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'hood %s --help'.\n", cmd);
    return CLI_USAGE;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

bool cli_hint_swapped(const char *cmd, const char *model, const char *data)
{
    if (data == NULL || !ends_with(data, ".hood") || ends_with(model, ".hood"))
        return false;
    fprintf(stderr, "hood %s: did you mean: hood %s %s %s?\n", cmd, cmd, data, model);
    return true;
}

int cli_usage_getopt(const char *cmd, int c, int optopt_value, const char *arg)
{
    /* getopt_long was told to be quiet (opterr = 0), so this is the only report; every
     * optstring starts with ':', so a missing value comes back as ':' and an unknown option
     * as '?'. */
    bool missing = c == ':';
    if (optopt_value != 0 && optopt_value < CLI_DATASET_OPT_BASE && isprint(optopt_value))
        return missing ? cli_usage(cmd, "option -%c needs a value", optopt_value)
                       : cli_usage(cmd, "unknown option -%c", optopt_value);
    const char *name = arg ? arg : "?";
    return missing ? cli_usage(cmd, "option %s needs a value", name)
                   : cli_usage(cmd, "unknown option %s", name);
}

/* ---- option values -------------------------------------------------------------------------- */

bool cli_parse_size(const char *cmd, const char *opt, const char *text, size_t min, size_t *out)
{
    char *end = NULL;
    errno = 0;
    /* strtoull accepts "-1" as a huge value: refuse any sign explicitly. */
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    unsigned long long v = 0;
    if (*p != '-' && *p != '+')
        v = strtoull(p, &end, 10);
    if (*p == '-' || *p == '+' || end == p || *end != '\0' || errno == ERANGE ||
        v > (unsigned long long)SIZE_MAX || (size_t)v < min) {
        cli_fail(cmd, "--%s: expected a whole number >= %zu, got '%s'", opt, min, text);
        return false;
    }
    *out = (size_t)v;
    return true;
}

bool cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = 0;
    if (text[0] != '-' && text[0] != '+')
        v = strtoull(text, &end, 10);
    if (text[0] == '-' || text[0] == '+' || end == text || *end != '\0' || errno == ERANGE) {
        cli_fail(cmd, "--%s: expected a whole number >= 0, got '%s'", opt, text);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

bool cli_parse_int(const char *cmd, const char *opt, const char *text, int min, int max, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || v < min || v > max) {
        cli_fail(cmd, "--%s: expected a whole number from %d to %d, got '%s'", opt, min, max, text);
        return false;
    }
    *out = (int)v;
    return true;
}

bool cli_parse_double(const char *cmd, const char *opt, const char *text, double min, bool min_open,
                      double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    bool ok = end != text && *end == '\0' && errno != ERANGE && isfinite(v) && v <= max &&
              (min_open ? v > min : v >= min);
    if (!ok) {
        cli_fail(cmd, "--%s: expected a number %s %g and <= %g, got '%s'", opt,
                 min_open ? ">" : ">=", min, max, text);
        return false;
    }
    *out = v;
    return true;
}

char **cli_split_commas(const char *text, size_t *count)
{
    size_t n = 1, len = strlen(text);
    for (const char *p = text; *p; p++)
        n += *p == ',';
    /* One block: the pointer array, then a copy of the text cut at the commas. */
    char **out = malloc((n + 1) * sizeof *out + len + 1);
    if (out == NULL)
        return NULL;
    char *copy = (char *)(out + n + 1);
    memcpy(copy, text, len + 1);
    size_t i = 0;
    out[i++] = copy;
    for (char *p = copy; *p; p++) {
        if (*p == ',') {
            *p = '\0';
            out[i++] = p + 1;
        }
    }
    out[i] = NULL;
    *count = n;
    return out;
}

/* ---- output files ------------------------------------------------------------------------- */

static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

bool cli_check_writable(const char *cmd, const char *path)
{
    if (path[0] == '\0' || path[strlen(path) - 1] == '/') {
        cli_fail(cmd, "%s: cannot write: not a file name", path);
        return false;
    }
    if (cli_is_directory(path)) {
        cli_fail(cmd, "%s: cannot write: is a directory", path);
        return false;
    }
    char *dir = parent_of(path);
    if (dir == NULL) {
        cli_fail(cmd, "%s: out of memory", path);
        return false;
    }
    struct stat st;
    int err = 0;
    if (stat(dir, &st) != 0)
        err = errno;
    else if (!S_ISDIR(st.st_mode))
        err = ENOTDIR;
    else if (access(dir, W_OK | X_OK) != 0)
        err = errno;
    free(dir);
    if (err != 0) {
        cli_fail(cmd, "%s: cannot write: %s", path, strerror(err));
        return false;
    }
    return true;
}

bool cli_atomic_open(const char *cmd, cli_atomic *file, const char *path)
{
    memset(file, 0, sizeof *file);
    hood_status st = hood_output_open(&file->output, path);
    if (st != HOOD_OK) {
        cli_fail_status(cmd, st);
        return false;
    }
    file->stream = hood_output_stream(file->output);
    return true;
}

bool cli_atomic_finish(const char *cmd, cli_atomic *file)
{
    file->stream = NULL;
    hood_status st = hood_output_finish(file->output);
    if (st != HOOD_OK) {
        cli_fail_status(cmd, st);
        cli_atomic_discard(file);
        return false;
    }
    return true;
}

bool cli_atomic_rename(const char *cmd, cli_atomic *file)
{
    if (!cli_stdout_ready()) { /* the commit point: main() reports the failed stdout */
        cli_atomic_discard(file);
        return false;
    }
    hood_status st = hood_output_commit(file->output);
    file->output = NULL;
    if (st != HOOD_OK) {
        cli_fail_status(cmd, st);
        return false;
    }
    return true;
}

void cli_atomic_discard(cli_atomic *file)
{
    hood_output_abort(file->output);
    memset(file, 0, sizeof *file);
}
