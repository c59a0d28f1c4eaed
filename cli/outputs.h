/* outputs.h — the checks every command makes before it replaces a file: no two of its outputs
 * (and no output and a data input) name one file, and standard output has taken everything
 * printed so far. Not the writer itself (hood_output, cli_atomic_* in common.h). */
#ifndef HOOD_CLI_OUTPUTS_H
#define HOOD_CLI_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>

/* A path with the option that named it ("-o", "--history", "DATA"); path NULL = not given. */
typedef struct cli_named_path {
    const char *option;
    const char *path;
} cli_named_path;

/* Whether a and b are one file: the same device and inode when both exist, else the same
 * real folder and the same last component. */
bool cli_same_file(const char *a, const char *b);

/* A usage error (exit 2, "-o and --history name the same file m.hood") when two of the outputs,
 * or an output and one of the inputs, are one file; CLI_OK (0) otherwise. */
int cli_check_distinct(const char *cmd, const cli_named_path *outputs, size_t num_outputs,
                       const cli_named_path *inputs, size_t num_inputs);

/* The commit point: flushes standard output and returns false when it failed (a full disk, a
 * closed pipe), so the caller fails before any output replaces a file; main() reports the
 * failed standard output. Call it right before each commit. */
bool cli_stdout_ready(void);

#endif
