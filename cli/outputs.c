/* outputs.c — before a command replaces a file: its outputs are distinct files (and none is one
 * of its data inputs), and standard output has taken what was printed, so an error exit never
 * follows a replaced file. Not the writer (hood_output; cli_atomic_* in common.c). */
#include "outputs.h"

#include "common.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* realpath of path's folder + "/" + its last component; NULL when the folder does not resolve. */
static char *resolved(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    char *dir = slash == NULL ? strdup(".") : slash == path ? strdup("/")
                                                            : strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return NULL;
    char *real = realpath(dir, NULL);
    free(dir);
    if (real == NULL)
        return NULL;
    size_t len = strlen(real) + strlen(base) + 2;
    char *out = malloc(len);
    if (out != NULL)
        snprintf(out, len, "%s/%s", real, base);
    free(real);
    return out;
}

bool cli_same_file(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return true;
    struct stat sa, sb;
    bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea != eb)
        return false; /* one exists, the other does not: two names */
    char *ra = resolved(a), *rb = resolved(b);
    bool same = ra != NULL && rb != NULL && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}

int cli_check_distinct(const char *cmd, const cli_named_path *outputs, size_t num_outputs,
                       const cli_named_path *inputs, size_t num_inputs)
{
    for (size_t i = 0; i < num_outputs; i++) {
        if (outputs[i].path == NULL)
            continue;
        for (size_t j = i + 1; j < num_outputs; j++)
            if (outputs[j].path != NULL && cli_same_file(outputs[i].path, outputs[j].path))
                return cli_usage(cmd, "%s and %s name the same file %s: give each output its own",
                                 outputs[i].option, outputs[j].option, outputs[j].path);
        for (size_t j = 0; j < num_inputs; j++)
            if (inputs[j].path != NULL && cli_same_file(outputs[i].path, inputs[j].path))
                return cli_usage(cmd, "%s %s would replace the input %s %s", outputs[i].option,
                                 outputs[i].path, inputs[j].option, inputs[j].path);
    }
    return CLI_OK;
}

bool cli_stdout_ready(void)
{
    return fflush(stdout) == 0 && !ferror(stdout);
}
