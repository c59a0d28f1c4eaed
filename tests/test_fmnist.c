/* test_fmnist.c — the Fashion-MNIST exactness check: the first 2,000 test images of Debian's
 * dataset-fashion-mnist, written as PNG class folders by libvips, ingested at 28x28 grayscale
 * with shuffle off, must give X = IDX bytes / 255 exactly and labels by sorted class name.
 * Reads the IDX files itself (through `gzip -dc` when compressed). When the package is absent
 * the suite has no cases, which TAP reports as skipped ("1..0"). */
#define _GNU_SOURCE /* nftw's FTW_PHYS / FTW_DEPTH, popen */
#include "check_main.h"

#include "hood.h"
#include "image.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vips/vips.h>

enum { N = 2000, SIDE = 28, D = SIDE * SIDE };

static const char *const source_dir = "/usr/share/datasets/fashion-mnist";
/* Fashion-MNIST's label order; byte-sorted they are Ankle_boot, Bag, Coat, Dress, Pullover,
 * Sandal, Shirt, Sneaker, T-shirt_top, Trouser. */
static const char *const names[10] = {"T-shirt_top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle_boot"};

/* Path of an IDX file, plain or .gz; NULL when neither exists. */
static const char *idx_path(const char *stem, char *buf, size_t cap, bool *gz)
{
    struct stat st;
    snprintf(buf, cap, "%s/%s", source_dir, stem);
    if (stat(buf, &st) == 0) {
        *gz = false;
        return buf;
    }
    snprintf(buf, cap, "%s/%s.gz", source_dir, stem);
    if (stat(buf, &st) == 0) {
        *gz = true;
        return buf;
    }
    return NULL;
}

/* Reads the header (ndim dims) and the first `count` bytes of data. */
static void read_idx(const char *stem, int ndim, uint8_t *out, size_t count)
{
    char path[512], cmd[600];
    bool gz;
    ck_assert_ptr_nonnull(idx_path(stem, path, sizeof path, &gz));
    FILE *f;
    if (gz) {
        snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
        f = popen(cmd, "r");
    } else {
        f = fopen(path, "rb");
    }
    ck_assert_ptr_nonnull(f);
    uint8_t head[16];
    size_t hbytes = 4 + 4 * (size_t)ndim;
    ck_assert_uint_eq(fread(head, 1, hbytes, f), hbytes);
    ck_assert_uint_eq(head[2], 0x08); /* unsigned bytes */
    ck_assert_uint_eq(head[3], (unsigned)ndim);
    ck_assert_uint_eq(fread(out, 1, count, f), count);
    /* Drain the rest so gzip exits cleanly rather than on SIGPIPE. */
    uint8_t sink[65536];
    while (fread(sink, 1, sizeof sink, f) > 0) {
    }
    ck_assert_int_eq(gz ? pclose(f) : fclose(f), 0);
}

static char tmp_root[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int sorted_index(const char *name)
{
    /* rank of name among the byte-sorted class names */
    int rank = 0;
    for (int k = 0; k < 10; k++)
        rank += strcmp(names[k], name) < 0;
    return rank;
}

START_TEST(ingest_reproduces_idx_bytes)
{
    static uint8_t images[N * D], labels[N];
    read_idx("t10k-images-idx3-ubyte", 3, images, sizeof images);
    read_idx("t10k-labels-idx1-ubyte", 1, labels, sizeof labels);

    ck_assert_int_eq(hood__vips_start(), HOOD_OK);
    snprintf(tmp_root, sizeof tmp_root, "/tmp/hood-fmnist-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_root));
    char path[256];
    for (int k = 0; k < 10; k++) {
        snprintf(path, sizeof path, "%s/%s", tmp_root, names[k]);
        ck_assert_int_eq(mkdir(path, 0755), 0);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_uint_lt(labels[i], 10);
        snprintf(path, sizeof path, "%s/%s/%05d.png", tmp_root, names[labels[i]], i);
        VipsImage *im =
            vips_image_new_from_memory(images + (size_t)i * D, D, SIDE, SIDE, 1, VIPS_FORMAT_UCHAR);
        ck_assert_ptr_nonnull(im);
        ck_assert_msg(vips_pngsave(im, path, NULL) == 0, "%s", vips_error_buffer());
        g_object_unref(im);
    }

    hood_ingest_options o;
    hood_ingest_options_init(&o);
    o.image.height = SIDE;
    o.image.width = SIDE;
    o.image.color_mode = HOOD_COLOR_GRAYSCALE;
    o.shuffle = false;
    hood_dataset *ds = NULL;
    hood_status s = hood_dataset_from_directory(tmp_root, &o, &ds, NULL);
    ck_assert_msg(s == HOOD_OK, "%s", hood_last_error());
    ck_assert_uint_eq(hood_dataset_samples(ds), N);
    ck_assert_uint_eq(hood_dataset_features(ds), D);
    ck_assert_uint_eq(hood_dataset_num_classes(ds), 10);

    /* Expected order: classes byte-sorted, files (index order) within each. */
    const float *x = hood_dataset_x(ds);
    const float *y = hood_dataset_labels(ds);
    size_t j = 0, mismatches = 0;
    for (int rank = 0; rank < 10; rank++) {
        int k = 0;
        while (sorted_index(names[k]) != rank)
            k++;
        ck_assert_str_eq(hood_dataset_class_name(ds, (size_t)rank), names[k]);
        for (int i = 0; i < N; i++) {
            if (labels[i] != k)
                continue;
            ck_assert_uint_lt(j, N);
            ck_assert_msg(y[j] == (float)rank, "sample %zu (IDX %d): label %g, want %d", j, i,
                          (double)y[j], rank);
            for (size_t p = 0; p < D; p++)
                mismatches += x[j * D + p] != (float)images[(size_t)i * D + p] / 255.0f;
            j++;
        }
    }
    ck_assert_uint_eq(j, N);
    ck_assert_uint_eq(mismatches, 0);
    hood_dataset_free(ds);
    nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("fmnist");
    char buf[512];
    bool gz;
    if (idx_path("t10k-images-idx3-ubyte", buf, sizeof buf, &gz) == NULL ||
        idx_path("t10k-labels-idx1-ubyte", buf, sizeof buf, &gz) == NULL) {
        fprintf(stderr,
                "test_fmnist: SKIP: %s not installed (apt-get install "
                "dataset-fashion-mnist, or scripts/setup)\n",
                source_dir);
        return s; /* no cases: TAP "1..0", a skip */
    }
    TCase *tc = tcase_create("fmnist");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, ingest_reproduces_idx_bytes);
    suite_add_tcase(s, tc);
    return s;
}
