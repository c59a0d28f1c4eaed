/* cmd_export_weights.c — `hood export-weights MODEL -o FILE.npz`: the kernels and biases as a
 * NumPy archive (kernel_0, bias_0, ... in Keras' shapes), the file --init-weights reads back.
 * The .npz layout is io/weights.c's; this file only checks arguments. */
#include "common.h"
#include "outputs.h"

#include <string.h>

static const char *const CMD = "export-weights";

static void print_help(void)
{
    printf("Usage: hood export-weights MODEL -o FILE.npz\n"
           "Writes MODEL's weights as a NumPy .npz (atomically): kernel_0, bias_0, kernel_1,\n"
           "... with Keras' shapes (in, out) float32 and (out,) float32, so\n"
           "  w = numpy.load('FILE.npz'); model.set_weights([w[k] for k in w.files])\n"
           "works for the same Keras model; `hood train --init-weights FILE.npz` reads it.\n\n"
           "Options:\n"
           "  -o, --output FILE.npz   the file to write (required)\n"
           "  -h, --help              this help\n");
}

int hood_cli_export_weights(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'h':
            print_help();
            return CLI_OK;
        default:
            return cli_usage_getopt(CMD, c, optopt, argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage(CMD, "expected one MODEL, got %d operands", argc - optind);
    if (out == NULL)
        return cli_usage(CMD, "missing -o FILE.npz");
    size_t len = strlen(out);
    if (len < 4 || strcmp(out + len - 4, ".npz") != 0)
        return cli_fail(CMD, "%s: the weights file must end in .npz", out);
    const cli_named_path outs[] = {{"-o", out}}, ins[] = {{"MODEL", argv[optind]}};
    if (cli_check_distinct(CMD, outs, 1, ins, 1) != CLI_OK)
        return CLI_USAGE;
    if (!cli_check_writable(CMD, out))
        return CLI_FAIL;
    hood_model *model = NULL;
    hood_status st = hood_model_load(argv[optind], &model);
    if (st == HOOD_OK)
        st = hood_model_save_weights_npz(model, out);
    hood_model_free(model);
    return st == HOOD_OK ? CLI_OK : cli_fail_status(CMD, st);
}
