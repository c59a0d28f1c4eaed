/* main.c — `hood`: picks the sub-command and hands it argv. The commands live one per file
 * (cmd_*.c); this file only knows their names and the top-level --help/--version. */
#include "common.h"
#ifdef HOOD_MPI
#include "hood_mpi.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"dataset", hood_cli_dataset,
     "image folder -> .csv/.npz matrix (image_dataset_from_directory)"},
    {"train", hood_cli_train, "build, compile and fit a Dense network; save the model"},
    {"evaluate", hood_cli_evaluate, "loss and accuracy of a model on data"},
    {"predict", hood_cli_predict, "classes and probabilities for images, folders, .npz/.csv"},
    {"info", hood_cli_info, "a model's layers, parameters, preprocessing and history"},
    {"export-weights", hood_cli_export_weights, "kernels and biases as a NumPy .npz"},
    {"plot", hood_cli_plot, "learning curves of a history CSV as an SVG"},
};

static void print_help(FILE *out)
{
    fprintf(out, "Usage: hood COMMAND [OPTIONS] [ARGS]\n"
                 "Keras-style dense networks on cblas_sgemm; image folders ingested by libvips.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nOptions:\n"
                 "  -h, --help      this help\n"
                 "  -V, --version   the version of hood and libhood\n\n"
                 "'hood COMMAND --help' describes each command. Exit status: 0 success, 1 bad\n"
                 "input or failure, 2 usage error, 130/143 stopped by SIGINT/SIGTERM.\n");
}

/* stdout may be a full disk or a closed pipe: a lost result is a failure, never a silent 0. */
static int finish(const char *name, int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "hood%s%s: cannot write to standard output\n", name ? " " : "",
                name ? name : "");
        if (status == CLI_OK)
            status = CLI_FAIL;
    }
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return CLI_USAGE;
    }
    /* Each file hood skips is reported once, with libvips' reason; libvips' own GLib warnings
     * about the same file ("VIPS-WARNING **: not enough data") would repeat it between hood's
     * lines. libvips mutes them whenever VIPS_WARNING is set, whatever its value. */
    setenv("VIPS_WARNING", "0", 0);
    const char *name = argv[1];
    /* `hood help train` is `hood train --help`, as git and cargo do */
    char help_flag[] = "--help";
    char *help_argv[4] = {argv[0], NULL, help_flag, NULL};
    if (strcmp(name, "help") == 0 && argc >= 3) {
        help_argv[1] = argv[2];
        name = argv[2];
        argc = 3;
        argv = help_argv;
    }
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        print_help(stdout);
        return finish(NULL, CLI_OK);
    }
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
        printf("hood %s\n", hood_version_string());
        return finish(NULL, CLI_OK);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(name, commands[i].name) != 0)
            continue;
#ifdef HOOD_MPI
        cli_mpi_init(&argc, &argv); /* only under mpirun: rank, size, rank 0 alone on stdout */
#endif
        int status = finish(name, commands[i].run(argc - 1, argv + 1));
#ifdef HOOD_MPI
        status = cli_mpi_finish(status); /* a failed rank stops the whole job */
#endif
        return status;
    }
    fprintf(stderr, "hood: '%s' is not a hood command\nTry 'hood --help'.\n", name);
    return CLI_USAGE;
}
