/* test_npy.c — NumPy files: hood's .npz/.npy read back identical; what numpy.savez / numpy.save
 * wrote (tests/data, made by tests/data/make-fixtures) read with the values worked by hand;
 * strict headers, truncation, corruption and compressed members as clear errors; and failed
 * saves that leave an existing file byte-identical; row ranges (a worker's shard) in C and
 * Fortran order, both byte orders, .npy and .npz, with the CRC still checked and only the
 * shard's memory used. */
#include "check_main.h"

#include "dataset_file.h"
#include "error.h"
#include "hood.h"
#include "npy.h"

#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* ---- helpers -------------------------------------------------------------------------------- */

/* tests/data/<name>: from HOOD_SOURCE_ROOT (meson sets it), else beside this file. */
static const char *fixture(const char *name)
{
    static char path[512];
    const char *root = getenv("HOOD_SOURCE_ROOT");
    if (root != NULL) {
        snprintf(path, sizeof path, "%s/tests/data/%s", root, name);
    } else {
        char here[512];
        snprintf(here, sizeof here, "%s", __FILE__);
        snprintf(path, sizeof path, "%s/data/%s", dirname(here), name);
    }
    return path;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static void write_bytes(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static hood_dataset *sample_dataset(size_t d, size_t n)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, d, n), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    for (size_t k = 0; k < d * n; k++)
        x[k] = (float)((k * 37) % 256) / 255.0f - (k % 3 == 0 ? 1e-30f : 0.0f);
    return ds;
}

static void assert_same_x(const hood_dataset *a, const hood_dataset *b)
{
    ck_assert_uint_eq(hood_dataset_features(a), hood_dataset_features(b));
    ck_assert_uint_eq(hood_dataset_samples(a), hood_dataset_samples(b));
    size_t count = hood_dataset_features(a) * hood_dataset_samples(a);
    ck_assert_int_eq(memcmp(hood_dataset_x(a), hood_dataset_x(b), count * sizeof(float)), 0);
}

/* The fixtures' x: 4 samples x 3 features, x[j, i] = (3j + i) / 4. */
static void assert_fixture_x(const hood_dataset *ds)
{
    ck_assert_uint_eq(hood_dataset_samples(ds), 4);
    ck_assert_uint_eq(hood_dataset_features(ds), 3);
    for (size_t k = 0; k < 12; k++)
        ck_assert_float_eq(hood_dataset_x(ds)[k], (float)k / 4.0f);
}

static void assert_int_labels(const hood_dataset *ds, const int *want, size_t classes)
{
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_INT);
    ck_assert_uint_eq(hood_dataset_label_width(ds), 1);
    ck_assert_uint_eq(hood_dataset_num_classes(ds), classes);
    for (size_t j = 0; j < hood_dataset_samples(ds); j++)
        ck_assert_float_eq(hood_dataset_labels(ds)[j], (float)want[j]);
}

static hood_dataset *load_fixture(const char *name)
{
    hood_dataset *ds = NULL;
    hood_status status = hood_dataset_load(fixture(name), NULL, &ds);
    ck_assert_msg(status == HOOD_OK, "%s: %s", name, hood_last_error());
    return ds;
}

/* Builds a .npy in memory: magic, version 1, the dict padded to 64, then data. */
static size_t make_npy(unsigned char *out, const char *dict, const void *data, size_t len)
{
    size_t dict_len = strlen(dict);
    size_t total = (10 + dict_len + 1 + 63) / 64 * 64;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)((total - 10) & 0xFF);
    out[9] = (unsigned char)((total - 10) >> 8);
    memcpy(out + 10, dict, dict_len);
    memset(out + 10 + dict_len, ' ', total - 10 - dict_len - 1);
    out[total - 1] = '\n';
    memcpy(out + total, data, len);
    return total + len;
}

static void assert_fails_with(hood_status got, hood_status want, const char *fragment)
{
    ck_assert_msg(got == want, "status %d, want %d (%s)", (int)got, (int)want, hood_last_error());
    ck_assert_msg(strstr(hood_last_error(), fragment) != NULL, "'%s' lacks '%s'", hood_last_error(),
                  fragment);
}

/* ---- hood writes, hood reads ---------------------------------------------------------------- */

START_TEST(npz_round_trip_int_labels_and_names)
{
    hood_test_make_tmpdir("npy");
    hood_dataset *ds = sample_dataset(7, 5);
    int32_t y[5] = {2, 0, 1, 2, 2};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 3), HOOD_OK);
    const char *names[3] = {"cat", "d\xc3\xb6g", "\xf0\x9f\x90\x9f fish"};
    ck_assert_int_eq(hood_dataset_set_class_names(ds, names, 3), HOOD_OK);
    const char *path = hood_test_in_tmp("ds.npz");
    ck_assert_int_eq(hood_dataset_save_npz(ds, path), HOOD_OK);
    hood_dataset *back = NULL;
    ck_assert_int_eq(hood_dataset_load_npz(path, &back), HOOD_OK);
    assert_same_x(ds, back);
    int want[5] = {2, 0, 1, 2, 2};
    assert_int_labels(back, want, 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(hood_dataset_class_name(back, i), names[i]);
    /* the members as numpy sees them */
    hood__npz_reader *r = NULL;
    ck_assert_int_eq(hood__npz_reader_open(&r, path), HOOD_OK);
    ck_assert_uint_eq(hood__npz_reader_count(r), 3);
    ck_assert_str_eq(hood__npz_reader_name(r, 0), "x.npy");
    hood__array a;
    ck_assert_int_eq(hood__npz_reader_get(r, "class_names", &a), HOOD_OK);
    ck_assert_int_eq(a.dtype, HOOD_DTYPE_UNICODE);
    ck_assert_uint_eq(a.item_size, 4 * 6); /* "🐟 fish" is 6 code points */
    hood__array_release(&a);
    ck_assert_int_eq(hood__npz_reader_get(r, "y.npy", &a), HOOD_OK);
    ck_assert_int_eq(a.dtype, HOOD_DTYPE_I32);
    ck_assert_uint_eq(a.ndim, 1);
    ck_assert_int_eq(((int32_t *)a.data)[1], 0);
    hood__array_release(&a);
    hood__npz_reader_close(r);
    hood_dataset_free(back);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(npz_round_trip_categorical_binary_none)
{
    hood_test_make_tmpdir("npy");
    hood_dataset *ds = sample_dataset(3, 4);
    const char *path = hood_test_in_tmp("ds.npz");
    int32_t y[4] = {1, 0, 2, 1};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_CATEGORICAL, y, 3), HOOD_OK);
    ck_assert_int_eq(hood_dataset_save(ds, path, NULL), HOOD_OK);
    hood_dataset *back = NULL;
    ck_assert_int_eq(hood_dataset_load(path, NULL, &back), HOOD_OK);
    ck_assert_int_eq(hood_dataset_label_mode(back), HOOD_LABELS_CATEGORICAL);
    ck_assert_uint_eq(hood_dataset_label_width(back), 3);
    ck_assert_int_eq(memcmp(hood_dataset_labels(back), hood_dataset_labels(ds), 12 * 4), 0);
    hood_dataset_free(back);

    int32_t b[4] = {1, 0, 0, 1};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_BINARY, b, 2), HOOD_OK);
    ck_assert_int_eq(hood_dataset_save(ds, path, NULL), HOOD_OK);
    hood__npz_reader *r = NULL;
    hood__array a;
    ck_assert_int_eq(hood__npz_reader_open(&r, path), HOOD_OK);
    ck_assert_int_eq(hood__npz_reader_get(r, "y", &a), HOOD_OK);
    ck_assert_int_eq(a.dtype, HOOD_DTYPE_F32); /* Keras' binary targets: float32 (n, 1) */
    ck_assert_uint_eq(a.ndim, 2);
    ck_assert_uint_eq(a.shape[0], 4);
    ck_assert_uint_eq(a.shape[1], 1);
    hood__array_release(&a);
    hood__npz_reader_close(r);
    ck_assert_int_eq(hood_dataset_load(path, NULL, &back), HOOD_OK);
    ck_assert_int_eq(hood_dataset_label_mode(back), HOOD_LABELS_BINARY);
    ck_assert_float_eq(hood_dataset_labels(back)[3], 1.0f);
    hood_dataset_free(back);

    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_NONE, NULL, 0, 0), HOOD_OK);
    ck_assert_int_eq(hood_dataset_save(ds, path, NULL), HOOD_OK);
    ck_assert_int_eq(hood__npz_reader_open(&r, path), HOOD_OK);
    ck_assert(!hood__npz_reader_has(r, "y"));
    hood__npz_reader_close(r);
    ck_assert_int_eq(hood_dataset_load(path, NULL, &back), HOOD_OK);
    assert_same_x(ds, back);
    ck_assert_int_eq(hood_dataset_label_mode(back), HOOD_LABELS_NONE);
    hood_dataset_free(back);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(npy_round_trip_and_forced_zip64)
{
    hood_test_make_tmpdir("npy");
    hood_dataset *ds = sample_dataset(5, 6);
    ck_assert_int_eq(hood_dataset_save_npy(ds, hood_test_in_tmp("x.npy")), HOOD_OK);
    hood_dataset *back = NULL;
    ck_assert_int_eq(hood_dataset_load_npy(hood_test_in_tmp("x.npy"), &back), HOOD_OK);
    assert_same_x(ds, back);
    ck_assert_int_eq(hood_dataset_label_mode(back), HOOD_LABELS_NONE);
    hood_dataset_free(back);

    /* ZIP64 fields on every member (as for > 4 GiB) read back the same */
    hood__npz_writer *w = NULL;
    ck_assert_int_eq(hood__npz_writer_open(&w, hood_test_in_tmp("z64.npz")), HOOD_OK);
    hood__npz_writer_force_zip64(w);
    size_t shape[2] = {6, 5};
    ck_assert_int_eq(hood__npz_writer_add(w, "x", HOOD_DTYPE_F32, shape, 2, 4, hood_dataset_x(ds)),
                     HOOD_OK);
    int64_t big[2] = {-5, INT64_C(1) << 40};
    size_t two[1] = {2};
    ck_assert_int_eq(hood__npz_writer_add(w, "big", HOOD_DTYPE_I64, two, 1, 8, big), HOOD_OK);
    ck_assert_int_eq(hood__npz_writer_add(w, "x", HOOD_DTYPE_I64, two, 1, 8, big), HOOD_EINVAL);
    ck_assert_int_eq(hood__npz_writer_add(w, "q", HOOD_DTYPE_I64, two, 1, 4, big), HOOD_EINVAL);
    ck_assert_int_eq(hood__npz_writer_commit(w), HOOD_OK);
    ck_assert_int_eq(hood_dataset_load_npz(hood_test_in_tmp("z64.npz"), &back), HOOD_OK);
    assert_same_x(ds, back);
    hood_dataset_free(back);
    hood__npz_reader *r = NULL;
    hood__array a;
    ck_assert_int_eq(hood__npz_reader_open(&r, hood_test_in_tmp("z64.npz")), HOOD_OK);
    ck_assert_int_eq(hood__npz_reader_get(r, "big", &a), HOOD_OK);
    ck_assert_int_eq(((int64_t *)a.data)[1], INT64_C(1) << 40);
    float *f = NULL;
    ck_assert_int_eq(hood__array_to_f32(&a, "big", &f), HOOD_OK); /* 2^40 is exact in float */
    ck_assert_float_eq(f[0], -5.0f);
    free(f);
    hood__array_release(&a);
    hood__npz_reader_close(r);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

/* hood_dataset_save_npz_compressed: every member DEFLATED (method 8 in its local header),
 * smaller than stored, read back exactly whole, by rows from the middle and as every shard, also
 * with forced ZIP64 fields; and any flipped byte of the deflated x is refused naming it. */
START_TEST(npz_compressed_round_trip)
{
    hood_test_make_tmpdir("npy");
    enum { D = 16, N = 300 };
    hood_dataset *ds = sample_dataset(D, N);
    int32_t y[N];
    for (size_t j = 0; j < N; j++)
        y[j] = (int32_t)(j % 3);
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 3), HOOD_OK);
    const char *names[3] = {"cat", "d\xc3\xb6g", "fish"};
    ck_assert_int_eq(hood_dataset_set_class_names(ds, names, 3), HOOD_OK);
    char stored[512], packed[512];
    snprintf(stored, sizeof stored, "%s", hood_test_in_tmp("s.npz"));
    snprintf(packed, sizeof packed, "%s", hood_test_in_tmp("c.npz"));
    ck_assert_int_eq(hood_dataset_save_npz(ds, stored), HOOD_OK);
    ck_assert_int_eq(hood_dataset_save_npz_compressed(ds, packed), HOOD_OK);
    size_t stored_len, len;
    free(read_all(stored, &stored_len));
    unsigned char *bytes = read_all(packed, &len);
    ck_assert_uint_lt(len, stored_len / 2);
    ck_assert_int_eq(bytes[8], 8); /* x.npy, the first member: DEFLATED */
    hood_dataset *back = NULL;
    ck_assert_int_eq(hood_dataset_load_npz(packed, &back), HOOD_OK);
    assert_same_x(ds, back);
    assert_int_labels(back, y, 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(hood_dataset_class_name(back, i), names[i]);
    hood_dataset_free(back);
    /* rows 123..172, inflated past the first 123 */
    hood__npz_reader *r = NULL;
    float rows[50 * D];
    ck_assert_int_eq(hood__npz_reader_open(&r, packed), HOOD_OK);
    ck_assert_int_eq(hood__npz_reader_read_rows(r, "x", 123, 50, rows, sizeof rows), HOOD_OK);
    ck_assert_int_eq(memcmp(rows, hood_dataset_x(ds) + 123 * D, sizeof rows), 0);
    hood__npz_reader_close(r);
    for (size_t index = 0; index < 3; index++) {
        hood_csv_options opts;
        hood_csv_options_init(&opts);
        opts.shard_index = index;
        opts.shard_count = 3;
        ck_assert_int_eq(hood_dataset_load(packed, &opts, &back), HOOD_OK);
        ck_assert_uint_eq(hood_dataset_samples(back), N / 3);
        ck_assert_int_eq(memcmp(hood_dataset_x(back), hood_dataset_x(ds) + index * (N / 3) * D,
                                (N / 3) * D * sizeof(float)),
                         0);
        hood_dataset_free(back);
    }
    /* a flipped byte of x's deflate stream (after its 30 + 5-byte local header) */
    for (size_t k = 35; k < 35 + 200; k++) {
        bytes[k] ^= 0x10;
        hood__array a;
        ck_assert_int_eq(hood__npz_reader_open_buffer(&r, bytes, len, "c.npz"), HOOD_OK);
        hood_status status = hood__npz_reader_get(r, "x", &a);
        ck_assert_msg(status == HOOD_EFORMAT, "flip at %zu: %d", k, (int)status);
        ck_assert_ptr_nonnull(strstr(hood_last_error(), "c.npz: member x.npy: "));
        hood__npz_reader_close(r);
        bytes[k] ^= 0x10;
    }
    free(bytes);
    /* ZIP64 fields on every compressed member */
    hood__npz_writer *w = NULL;
    size_t xs[2] = {N, D};
    ck_assert_int_eq(hood__npz_writer_open(&w, hood_test_in_tmp("z.npz")), HOOD_OK);
    hood__npz_writer_force_zip64(w);
    hood__npz_writer_compress(w);
    ck_assert_int_eq(hood__npz_writer_add(w, "x", HOOD_DTYPE_F32, xs, 2, 4, hood_dataset_x(ds)),
                     HOOD_OK);
    ck_assert_int_eq(hood__npz_writer_commit(w), HOOD_OK);
    ck_assert_int_eq(hood_dataset_load_npz(hood_test_in_tmp("z.npz"), &back), HOOD_OK);
    assert_same_x(ds, back);
    hood_dataset_free(back);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

/* ---- numpy writes, hood reads --------------------------------------------------------------- */

START_TEST(numpy_savez_int32_with_unicode_names)
{
    hood_dataset *ds = load_fixture("np_int32.npz");
    assert_fixture_x(ds);
    int want[4] = {0, 2, 1, 2};
    assert_int_labels(ds, want, 3);
    ck_assert_str_eq(hood_dataset_class_name(ds, 0), "cat");
    ck_assert_str_eq(hood_dataset_class_name(ds, 1), "d\xc3\xb6g");
    ck_assert_str_eq(hood_dataset_class_name(ds, 2), "\xf0\x9f\x90\x9f");
    hood_dataset_free(ds);
}
END_TEST

START_TEST(numpy_savez_int64_float64_bigendian_fortran_descriptors)
{
    hood_dataset *ds = load_fixture("np_int64.npz"); /* x float64, y int64 */
    assert_fixture_x(ds);
    int want64[4] = {1, 0, 1, 3};
    assert_int_labels(ds, want64, 4);
    hood_dataset_free(ds);
    ds = load_fixture("np_bigendian.npz"); /* '>f4', '>i4' */
    assert_fixture_x(ds);
    int want_be[4] = {2, 1, 0, 1};
    assert_int_labels(ds, want_be, 3);
    hood_dataset_free(ds);
    ds = load_fixture("np_fortran.npz"); /* fortran_order True: same values in C order */
    assert_fixture_x(ds);
    hood_dataset_free(ds);
    ds = load_fixture("np_descriptor.npz"); /* data descriptors + ZIP64 local extras */
    assert_fixture_x(ds);
    int want_d[4] = {1, 1, 0, 0};
    assert_int_labels(ds, want_d, 2);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(numpy_savez_onehot_and_binary)
{
    hood_dataset *ds = load_fixture("np_onehot.npz");
    assert_fixture_x(ds);
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_CATEGORICAL);
    ck_assert_uint_eq(hood_dataset_label_width(ds), 3);
    const float onehot[12] = {1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1};
    ck_assert_int_eq(memcmp(hood_dataset_labels(ds), onehot, sizeof onehot), 0);
    hood_dataset_free(ds);
    ds = load_fixture("np_binary.npz");
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_BINARY);
    const float bin[4] = {0, 1, 1, 0};
    ck_assert_int_eq(memcmp(hood_dataset_labels(ds), bin, sizeof bin), 0);
    hood_dataset_free(ds);
}
END_TEST

/* numpy.savez_compressed: deflated members read as the stored ones do, whole or by rows. */
START_TEST(numpy_savez_compressed_loads_exactly)
{
    hood_dataset *ds = load_fixture("np_compressed.npz");
    assert_fixture_x(ds);
    int want[4] = {0, 2, 1, 2};
    assert_int_labels(ds, want, 3);
    ck_assert_str_eq(hood_dataset_class_name(ds, 1), "d\xc3\xb6g");
    ck_assert_str_eq(hood_dataset_class_name(ds, 2), "\xf0\x9f\x90\x9f");
    hood_dataset_free(ds);
    /* shard 1 of 2: rows 2 and 3 of x and y, inflated past rows 0 and 1 */
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    opts.shard_index = 1;
    opts.shard_count = 2;
    ds = NULL;
    ck_assert_int_eq(hood_dataset_load(fixture("np_compressed.npz"), &opts, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_samples(ds), 2);
    for (size_t k = 0; k < 6; k++)
        ck_assert_float_eq(hood_dataset_x(ds)[k], (float)(k + 6) / 4.0f);
    ck_assert_float_eq(hood_dataset_labels(ds)[0], 1.0f);
    ck_assert_float_eq(hood_dataset_labels(ds)[1], 2.0f);
    ck_assert_uint_eq(hood_dataset_num_classes(ds), 3);
    hood_dataset_free(ds);
}
END_TEST

/* Deflate bombs are refused naming the file and member, before or instead of allocating. */
START_TEST(deflate_bombs_are_refused)
{
    hood_dataset *ds = (hood_dataset *)1;
    assert_fails_with(hood_dataset_load(fixture("np_bomb_declared.npz"), NULL, &ds), HOOD_EFORMAT,
                      "np_bomb_declared.npz: member x.npy: declares 4294967294 bytes from");
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "more than deflate can produce"));
    ck_assert_ptr_null(ds);
    ds = (hood_dataset *)1;
    assert_fails_with(hood_dataset_load(fixture("np_bomb_overflow.npz"), NULL, &ds), HOOD_EFORMAT,
                      "np_bomb_overflow.npz: member x.npy: inflates beyond its declared size of "
                      "176 bytes");
    ck_assert_ptr_null(ds);
    /* the rows path (a shard streams the member) refuses it too */
    size_t len;
    unsigned char *bytes = read_all(fixture("np_bomb_overflow.npz"), &len);
    hood__npz_reader *r = NULL;
    float rows[3];
    ck_assert_int_eq(hood__npz_reader_open_buffer(&r, bytes, len, "b.npz"), HOOD_OK);
    assert_fails_with(hood__npz_reader_read_rows(r, "x", 1, 1, rows, sizeof rows), HOOD_EFORMAT,
                      "b.npz: member x.npy: inflates beyond");
    hood__npz_reader_close(r);
    free(bytes);
}
END_TEST

START_TEST(numpy_save_npy_versions_dtypes_orders)
{
    const char *same[] = {"np_x.npy", "np_f64_be_fortran.npy", "np_v2.npy", "np_v3.npy"};
    for (size_t k = 0; k < 4; k++) {
        hood_dataset *ds = load_fixture(same[k]);
        assert_fixture_x(ds);
        ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_NONE);
        hood_dataset_free(ds);
    }
    /* uint8 images (n, h, w) = (2, 3, 2): 6 features, image shape kept, values k * 20 */
    hood_dataset *ds = load_fixture("np_u8_images.npy");
    ck_assert_uint_eq(hood_dataset_samples(ds), 2);
    ck_assert_uint_eq(hood_dataset_features(ds), 6);
    size_t h, w, c;
    hood_dataset_image_shape(ds, &h, &w, &c);
    ck_assert_uint_eq(h, 3);
    ck_assert_uint_eq(w, 2);
    ck_assert_uint_eq(c, 1);
    for (size_t k = 0; k < 12; k++)
        ck_assert_float_eq(hood_dataset_x(ds)[k], (float)(k * 20));
    hood_dataset_free(ds);
    hood__array a;
    ck_assert_int_eq(hood__npy_read(fixture("np_bool.npy"), &a), HOOD_OK);
    ck_assert_int_eq(a.dtype, HOOD_DTYPE_U8);
    ck_assert_int_eq(memcmp(a.data, "\1\0\0\1", 4), 0);
    hood__array_release(&a);
}
END_TEST

/* ---- corrupt input -------------------------------------------------------------------------- */

START_TEST(every_truncation_is_a_clear_error)
{
    const char *files[] = {"np_int32.npz", "np_x.npy", "np_descriptor.npz"};
    for (size_t f = 0; f < 3; f++) {
        size_t len;
        unsigned char *bytes = read_all(fixture(files[f]), &len);
        bool npz = strstr(files[f], ".npz") != NULL;
        for (size_t cut = 0; cut < len; cut++) {
            hood__clear_error();
            hood_status status;
            if (npz) {
                hood__npz_reader *r = NULL;
                hood_dataset *ds = NULL;
                status = hood__npz_reader_open_buffer(&r, bytes, cut, "cut.npz");
                if (status == HOOD_OK) {
                    status = hood__dataset_from_npz(r, "cut.npz", &ds);
                    hood_dataset_free(ds);
                }
                hood__npz_reader_close(r);
            } else {
                hood__array a;
                status = hood__npy_parse_buffer(bytes, cut, "cut.npy", &a);
                if (status == HOOD_OK)
                    hood__array_release(&a);
            }
            ck_assert_msg(status != HOOD_OK, "%s cut at %zu was accepted", files[f], cut);
            ck_assert_msg(strstr(hood_last_error(), "cut.np") != NULL, "%s at %zu: '%s'", files[f],
                          cut, hood_last_error());
        }
        free(bytes);
    }
    /* the file API names the path and says "truncated" */
    hood_test_make_tmpdir("npy");
    size_t len;
    unsigned char *bytes = read_all(fixture("np_x.npy"), &len);
    write_bytes(hood_test_in_tmp("short.npy"), bytes, len - 5);
    hood_dataset *ds = (hood_dataset *)1;
    assert_fails_with(hood_dataset_load_npy(hood_test_in_tmp("short.npy"), &ds), HOOD_EFORMAT,
                      "short.npy: truncated: the shape needs 48 data bytes, the file has 43");
    ck_assert_ptr_null(ds);
    free(bytes);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(corrupt_bytes_and_garbage)
{
    size_t len;
    unsigned char *bytes = read_all(fixture("np_int32.npz"), &len);
    /* the last float of x: local header (30) + "x.npy" (5) + numpy's ZIP64 extra (20) + .npy
     * header (128) + 44 */
    size_t at = 30 + 5 + 20 + 128 + 44;
    float last;
    memcpy(&last, bytes + at, 4);
    ck_assert_float_eq(last, 11.0f / 4.0f); /* the offset really is x[3, 2] */
    bytes[at] ^= 0x40;
    hood__npz_reader *r = NULL;
    hood__array a;
    ck_assert_int_eq(hood__npz_reader_open_buffer(&r, bytes, len, "flip.npz"), HOOD_OK);
    assert_fails_with(hood__npz_reader_get(r, "x", &a), HOOD_EFORMAT,
                      "flip.npz: member x.npy: CRC-32 mismatch");
    ck_assert_int_eq(hood__npz_reader_get(r, "y", &a), HOOD_OK); /* the others still read */
    hood__array_release(&a);
    assert_fails_with(hood__npz_reader_get(r, "z", &a), HOOD_EFORMAT, "no array 'z'");
    hood__npz_reader_close(r);
    /* every single-byte flip is either read or refused, never a crash */
    for (size_t k = 0; k < len; k++) {
        bytes[k] ^= 0xA5;
        if (hood__npz_reader_open_buffer(&r, bytes, len, "f.npz") == HOOD_OK) {
            hood_dataset *ds = NULL;
            if (hood__dataset_from_npz(r, "f.npz", &ds) == HOOD_OK)
                hood_dataset_free(ds);
            hood__npz_reader_close(r);
        }
        bytes[k] ^= 0xA5;
    }
    free(bytes);
    unsigned char garbage[4096];
    uint32_t s = 7;
    for (size_t k = 0; k < sizeof garbage; k++) {
        s = s * 1103515245u + 12345u;
        garbage[k] = (unsigned char)(s >> 16);
    }
    assert_fails_with(hood__npz_reader_open_buffer(&r, garbage, sizeof garbage, "g.npz"),
                      HOOD_EFORMAT, "g.npz: not a .npz (zip) file");
    assert_fails_with(hood__npy_parse_buffer(garbage, sizeof garbage, "g.npy", &a), HOOD_EFORMAT,
                      "g.npy: not a .npy file");
    size_t npy_len;
    unsigned char *npy = read_all(fixture("np_x.npy"), &npy_len);
    assert_fails_with(hood__npz_reader_open_buffer(&r, npy, npy_len, "n.npz"), HOOD_EFORMAT,
                      "is a .npy file, not a .npz");
    free(npy);
}
END_TEST

START_TEST(npy_headers_are_parsed_strictly)
{
    unsigned char buf[1024];
    float data[24] = {0};
    hood__array a;
    struct {
        const char *dict;
        size_t data_len;
        hood_status status;
        const char *fragment;
    } cases[] = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, HOOD_OK, ""},
        {"{\"descr\": \"<f4\", \"shape\": (2, 3), \"fortran_order\": True}", 24, HOOD_OK, ""},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, HOOD_OK, ""},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", 8, HOOD_EFORMAT,
         "'shape' (n) is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, }", 8, HOOD_EFORMAT, "lacks 'shape'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8,
         HOOD_EFORMAT, "repeated key 'descr'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'foo': 1}", 8, HOOD_EFORMAT,
         "unexpected or repeated key 'foo'"},
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, HOOD_EFORMAT,
         "unsupported dtype '<c8'"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8, HOOD_EFORMAT,
         "structured dtypes"},
        {"{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }", 8, HOOD_EFORMAT,
         "bad dtype '|f4'"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", 8, HOOD_EFORMAT,
         "not True/False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }", 8,
         HOOD_EFORMAT, "shape is too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", 8,
         HOOD_EFORMAT, "dimension overflows"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4,
         HOOD_EFORMAT, "more than 8 dimensions"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", 8, HOOD_EFORMAT,
         "unexpected text after the dict"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 12, HOOD_EFORMAT,
         "4 unexpected bytes after the data"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8, HOOD_EFORMAT,
         "truncated: the shape needs 12 data bytes, the file has 8"},
        {"['descr']", 8, HOOD_EFORMAT, "header is not a dict"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t len = make_npy(buf, cases[k].dict, data, cases[k].data_len);
        hood_status status = hood__npy_parse_buffer(buf, len, "h.npy", &a);
        ck_assert_msg(status == cases[k].status, "case %zu: %d (%s)", k, (int)status,
                      hood_last_error());
        if (status == HOOD_OK)
            hood__array_release(&a);
        else
            ck_assert_msg(strstr(hood_last_error(), cases[k].fragment) != NULL,
                          "case %zu: '%s' lacks '%s'", k, hood_last_error(), cases[k].fragment);
    }
    size_t len =
        make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data, 8);
    buf[6] = 4; /* version 4.0 */
    assert_fails_with(hood__npy_parse_buffer(buf, len, "v.npy", &a), HOOD_EFORMAT,
                      "unsupported .npy version 4.0");
}
END_TEST

START_TEST(fortran_order_3d_becomes_c_order)
{
    /* v[i, j, k] = 100 i + 10 j + k, shape (2, 3, 4), stored in Fortran order (i fastest) */
    int32_t fortran[24];
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 3; j++)
            for (int i = 0; i < 2; i++)
                fortran[i + 2 * (j + 3 * k)] = 100 * i + 10 * j + k;
    unsigned char buf[256];
    size_t len = make_npy(buf, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }",
                          fortran, sizeof fortran);
    hood__array a;
    ck_assert_int_eq(hood__npy_parse_buffer(buf, len, "f.npy", &a), HOOD_OK);
    ck_assert_uint_eq(hood__array_count(&a), 24);
    const int32_t *c = a.data;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                ck_assert_int_eq(c[(i * 3 + j) * 4 + k], 100 * i + 10 * j + k);
    hood__array_release(&a);
    /* big-endian int32 */
    unsigned char be[8] = {0, 0, 1, 2, 0xFF, 0xFF, 0xFF, 0xFE};
    len = make_npy(buf, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", be, 8);
    ck_assert_int_eq(hood__npy_parse_buffer(buf, len, "b.npy", &a), HOOD_OK);
    ck_assert_int_eq(((int32_t *)a.data)[0], 258);
    ck_assert_int_eq(((int32_t *)a.data)[1], -2);
    hood__array_release(&a);
}
END_TEST

START_TEST(values_float32_cannot_hold_are_refused)
{
    hood__array a = {.dtype = HOOD_DTYPE_I64, .ndim = 1, .shape = {2}, .item_size = 8};
    int64_t ints[2] = {3, (INT64_C(1) << 24) + 1};
    a.data = ints;
    float *f = NULL;
    assert_fails_with(hood__array_to_f32(&a, "y", &f), HOOD_EDATA,
                      "y: element 1 is 16777217, which float32 cannot hold exactly");
    ck_assert_ptr_null(f);
    double big[2] = {1.0, 1e39};
    a.dtype = HOOD_DTYPE_F64;
    a.data = big;
    assert_fails_with(hood__array_to_f32(&a, "x", &f), HOOD_EDATA, "outside the float32 range");
    uint32_t text[2] = {'a', 'b'};
    a.dtype = HOOD_DTYPE_UNICODE;
    a.data = text;
    a.item_size = 4;
    assert_fails_with(hood__array_to_f32(&a, "s", &f), HOOD_EFORMAT, "string array");
}
END_TEST

START_TEST(dataset_npz_shape_and_label_errors)
{
    hood_test_make_tmpdir("npy");
    float x[6] = {1, 2, 3, 4, 5, 6};
    int32_t y3[3] = {0, 1, 5};
    uint32_t names[2] = {'a', 'b'};
    size_t s32[2] = {3, 2}, s3[1] = {3}, s2[1] = {2}, s6[1] = {6};
    struct {
        const char *what;
        hood_status status;
        const char *fragment;
    } cases[] = {
        {"no x", HOOD_EFORMAT, "no array 'x'"},
        {"y too short", HOOD_ESHAPE, "y has shape (2,); x has 3 samples"},
        {"label beyond names", HOOD_EDATA, "label 5 but only 2 class names"},
        {"x 1-D", HOOD_ESHAPE, "x has 1 dimensions"},
        {"x NaN", HOOD_EDATA, "x[1, 0] is NaN"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *path = hood_test_in_tmp("bad.npz");
        hood__npz_writer *w = NULL;
        ck_assert_int_eq(hood__npz_writer_open(&w, path), HOOD_OK);
        float xn[6] = {1, 2, NAN, 4, 5, 6};
        if (k == 3)
            ck_assert_int_eq(hood__npz_writer_add(w, "x", HOOD_DTYPE_F32, s6, 1, 4, x), HOOD_OK);
        else if (k == 4)
            ck_assert_int_eq(hood__npz_writer_add(w, "x", HOOD_DTYPE_F32, s32, 2, 4, xn), HOOD_OK);
        else if (k != 0)
            ck_assert_int_eq(hood__npz_writer_add(w, "x", HOOD_DTYPE_F32, s32, 2, 4, x), HOOD_OK);
        ck_assert_int_eq(hood__npz_writer_add(w, "y", HOOD_DTYPE_I32, k == 1 ? s2 : s3, 1, 4, y3),
                         HOOD_OK);
        if (k == 2)
            ck_assert_int_eq(
                hood__npz_writer_add(w, "class_names", HOOD_DTYPE_UNICODE, s2, 1, 4, names),
                HOOD_OK);
        ck_assert_int_eq(hood__npz_writer_commit(w), HOOD_OK);
        hood_dataset *ds = (hood_dataset *)1;
        hood_status status = hood_dataset_load_npz(path, &ds);
        ck_assert_msg(status == cases[k].status, "%s: %d %s", cases[k].what, (int)status,
                      hood_last_error());
        ck_assert_msg(strstr(hood_last_error(), cases[k].fragment) != NULL, "%s: '%s'",
                      cases[k].what, hood_last_error());
        ck_assert_ptr_null(ds);
    }
    hood_test_remove_tmpdir();
}
END_TEST

static void assert_bytes(const char *path, const char *text)
{
    size_t len;
    unsigned char *now = read_all(path, &len);
    ck_assert_uint_eq(len, strlen(text));
    ck_assert_int_eq(memcmp(now, text, len), 0);
    free(now);
}

START_TEST(failed_saves_leave_existing_files)
{
    hood_test_make_tmpdir("npy");
    const char *npz = hood_test_in_tmp("keep.npz"), *npy = hood_test_in_tmp("keep.npy");
    write_bytes(npz, "old npz", 7);
    write_bytes(npy, "old npy", 7);
    hood_dataset *ds = sample_dataset(1000, 100);
    struct rlimit old, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_cur = 8192;
    small.rlim_max = old.rlim_max;
    void (*previous)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    hood_status a = hood_dataset_save_npz(ds, npz);
    hood_status b = hood_dataset_save(ds, npy, NULL);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, previous);
    ck_assert_int_eq(a, HOOD_EIO);
    ck_assert_int_eq(b, HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "keep.npy"));
    assert_bytes(npz, "old npz");
    assert_bytes(npy, "old npy");
    /* a class name that is not UTF-8 fails before anything is written */
    int32_t y[100] = {0};
    y[1] = 1;
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 2), HOOD_OK);
    const char *names[2] = {"ok", "bad\xff"};
    ck_assert_int_eq(hood_dataset_set_class_names(ds, names, 2), HOOD_OK);
    assert_fails_with(hood_dataset_save_npz(ds, npz), HOOD_EINVAL, "class name 1 is not valid");
    assert_bytes(npz, "old npz");
    /* only the two files: no temporaries left */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 2", hood_test_tmpdir());
    ck_assert_int_eq(system(cmd), 0);
    /* a folder that does not exist: an error naming the path, nothing created */
    ck_assert_int_eq(hood_dataset_set_class_names(ds, NULL, 0), HOOD_OK);
    assert_fails_with(hood_dataset_save_npz(ds, hood_test_in_tmp("nowhere/x.npz")), HOOD_EIO,
                      "nowhere/x.npz: cannot create");
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

/* ---- row ranges: a worker's shard, read without the rest ------------------------------------ */

/* zip's CRC-32, bit by bit (the reader's table version is what is tested). */
static uint32_t test_crc32(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void le16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void le32(unsigned char *p, uint32_t v)
{
    le16(p, v & 0xFFFF);
    le16(p + 2, v >> 16);
}

/* A stored zip of `count` members (names[m] holding data[m] of lens[m] bytes), each CRC-32
 * right. Returns its length in out (cap bytes). */
static size_t make_zip(unsigned char *out, size_t cap, size_t count, const char *const *names,
                       const unsigned char *const *data, const size_t *lens)
{
    size_t offsets[8], pos = 0, total = 0;
    ck_assert_uint_le(count, 8);
    for (size_t m = 0; m < count; m++)
        total += 80 + 2 * strlen(names[m]) + lens[m];
    ck_assert_uint_lt(total + 22, cap);
    for (size_t m = 0; m < count; m++) {
        size_t nl = strlen(names[m]);
        offsets[m] = pos;
        memset(out + pos, 0, 30);
        le32(out + pos, 0x04034b50);
        le16(out + pos + 4, 20);
        le32(out + pos + 14, test_crc32(data[m], lens[m]));
        le32(out + pos + 18, (uint32_t)lens[m]);
        le32(out + pos + 22, (uint32_t)lens[m]);
        le16(out + pos + 26, (unsigned)nl);
        memcpy(out + pos + 30, names[m], nl);
        memcpy(out + pos + 30 + nl, data[m], lens[m]);
        pos += 30 + nl + lens[m];
    }
    size_t cd = pos;
    for (size_t m = 0; m < count; m++) {
        size_t nl = strlen(names[m]);
        memset(out + pos, 0, 46);
        le32(out + pos, 0x02014b50);
        le16(out + pos + 4, 20);
        le16(out + pos + 6, 20);
        le32(out + pos + 16, test_crc32(data[m], lens[m]));
        le32(out + pos + 20, (uint32_t)lens[m]);
        le32(out + pos + 24, (uint32_t)lens[m]);
        le16(out + pos + 28, (unsigned)nl);
        le32(out + pos + 42, (uint32_t)offsets[m]);
        memcpy(out + pos + 46, names[m], nl);
        pos += 46 + nl;
    }
    memset(out + pos, 0, 22);
    le32(out + pos, 0x06054b50);
    le16(out + pos + 8, (unsigned)count);
    le16(out + pos + 10, (unsigned)count);
    le32(out + pos + 12, (uint32_t)(pos - cd));
    le32(out + pos + 16, (uint32_t)cd);
    return pos + 22;
}

/* "pad.npy" (17 bytes) then "x.npy" = npy: the x member starts at an offset no .npy ever has. */
static size_t make_npz(unsigned char *out, size_t cap, const unsigned char *npy, size_t npy_len)
{
    unsigned char pad[17];
    memset(pad, 7, sizeof pad);
    const char *names[2] = {"pad.npy", "x.npy"};
    const unsigned char *data[2] = {pad, npy};
    size_t lens[2] = {sizeof pad, npy_len};
    return make_zip(out, cap, 2, names, data, lens);
}

static void swap4(void *p)
{
    unsigned char *q = p, t = q[0];
    q[0] = q[3];
    q[3] = t;
    t = q[1];
    q[1] = q[2];
    q[2] = t;
}

/* The rows of a (7, 3, 2) array x[j, a, b] = 100 j + 10 a + b in every order, byte order and
 * container: for each shard count 1..8 (uneven ones included) every shard's read_rows gives
 * exactly its rows, in C order, and nothing else is written. */
START_TEST(read_rows_every_order_byte_order_and_container)
{
    hood_test_make_tmpdir("npy");
    enum { N = 7, A = 3, B = 2, ROW = A * B };
    for (int fortran = 0; fortran < 2; fortran++)
        for (int big = 0; big < 2; big++) {
            float values[N * ROW];
            for (size_t j = 0; j < N; j++)
                for (size_t a = 0; a < A; a++)
                    for (size_t b = 0; b < B; b++) {
                        size_t at = fortran ? j + N * (a + A * b) : (j * A + a) * B + b;
                        float v = (float)(100 * j + 10 * a + b);
                        unsigned char *q = (unsigned char *)&values[at];
                        memcpy(q, &v, 4);
                        if (big) {
                            unsigned char t = q[0];
                            q[0] = q[3];
                            q[3] = t;
                            t = q[1];
                            q[1] = q[2];
                            q[2] = t;
                        }
                    }
            char dict[128];
            snprintf(dict, sizeof dict,
                     "{'descr': '%cf4', 'fortran_order': %s, 'shape': (7, 3, 2), }",
                     big ? '>' : '<', fortran ? "True" : "False");
            unsigned char npy[512], npz[1024];
            size_t npy_len = make_npy(npy, dict, values, sizeof values);
            size_t npz_len = make_npz(npz, sizeof npz, npy, npy_len);
            write_bytes(hood_test_in_tmp("x.npy"), npy, npy_len);
            write_bytes(hood_test_in_tmp("x.npz"), npz, npz_len);
            char npy_path[512];
            snprintf(npy_path, sizeof npy_path, "%s", hood_test_in_tmp("x.npy"));
            hood__npz_reader *r = NULL;
            ck_assert_int_eq(hood__npz_reader_open(&r, hood_test_in_tmp("x.npz")), HOOD_OK);
            for (int container = 0; container < 2; container++) {
                hood__array head;
                ck_assert_int_eq(container ? hood__npz_reader_peek(r, "x", &head)
                                           : hood__npy_peek(npy_path, &head),
                                 HOOD_OK);
                ck_assert_int_eq(head.dtype, HOOD_DTYPE_F32);
                ck_assert_uint_eq(head.ndim, 3);
                ck_assert_uint_eq(head.shape[0], N);
                ck_assert_uint_eq(head.shape[2], B);
                ck_assert_ptr_null(head.data);
                for (size_t count = 1; count <= 8; count++)
                    for (size_t index = 0; index < count; index++) {
                        size_t first, len;
                        hood_shard_range(N, index, count, &first, &len);
                        float got[N * ROW + 1];
                        got[len * ROW] = -1.0f; /* one past the rows: must stay untouched */
                        hood_status st = container
                                             ? hood__npz_reader_read_rows(r, "x", first, len, got,
                                                                          len * ROW * sizeof(float))
                                             : hood__npy_read_rows(npy_path, first, len, got,
                                                                   len * ROW * sizeof(float));
                        ck_assert_msg(st == HOOD_OK, "%s", hood_last_error());
                        for (size_t j = 0; j < len; j++)
                            for (size_t k = 0; k < ROW; k++)
                                ck_assert_msg(got[j * ROW + k] ==
                                                  (float)(100 * (first + j) + 10 * (k / B) + k % B),
                                              "fortran %d big %d npz %d shard %zu/%zu row %zu "
                                              "elem %zu: %g",
                                              fortran, big, container, index, count, j, k,
                                              (double)got[j * ROW + k]);
                        ck_assert_float_eq(got[len * ROW], -1.0f);
                    }
                /* a buffer of the wrong size and rows past the end are refused */
                float small[ROW];
                assert_fails_with(
                    container ? hood__npz_reader_read_rows(r, "x", 0, 2, small, sizeof small)
                              : hood__npy_read_rows(npy_path, 0, 2, small, sizeof small),
                    HOOD_EINVAL, "the buffer holds 24");
                assert_fails_with(
                    container ? hood__npz_reader_read_rows(r, "x", 6, 2, small, sizeof small)
                              : hood__npy_read_rows(npy_path, 6, 2, small, sizeof small),
                    HOOD_EINVAL, "rows [6, 8) asked of an array of 7 rows");
            }
            hood__npz_reader_close(r);
        }
    hood_test_remove_tmpdir();
}
END_TEST

/* A shard of an .npz reads its rows but checks the CRC of the whole member: a flipped byte in
 * rows another worker holds still fails; the same bytes unflipped read. */
START_TEST(read_rows_of_npz_still_check_the_crc)
{
    hood_test_make_tmpdir("npy");
    hood_dataset *ds = sample_dataset(8, 40);
    const char *path = hood_test_in_tmp("ds.npz");
    ck_assert_int_eq(hood_dataset_save_npz(ds, path), HOOD_OK);
    size_t len;
    unsigned char *bytes = read_all(path, &len);
    /* the last float of x: x's member is first, its data ends 8 x 40 floats after its header */
    hood__npz_reader *r = NULL;
    ck_assert_int_eq(hood__npz_reader_open_buffer(&r, bytes, len, "ds.npz"), HOOD_OK);
    float rows[8 * 10];
    ck_assert_int_eq(hood__npz_reader_read_rows(r, "x", 0, 10, rows, sizeof rows), HOOD_OK);
    ck_assert_int_eq(memcmp(rows, hood_dataset_x(ds), sizeof rows), 0);
    hood__npz_reader_close(r);
    size_t at = 0;
    const float *last = hood_dataset_x(ds) + 8 * 40 - 1;
    for (size_t k = 0; k + 4 <= len; k++)
        if (memcmp(bytes + k, last, 4) == 0)
            at = k; /* the last match: x's final value (x is the first member) */
    ck_assert_uint_gt(at, 0);
    bytes[at] ^= 0x01;
    ck_assert_int_eq(hood__npz_reader_open_buffer(&r, bytes, len, "ds.npz"), HOOD_OK);
    assert_fails_with(hood__npz_reader_read_rows(r, "x", 0, 10, rows, sizeof rows), HOOD_EFORMAT,
                      "CRC-32 mismatch");
    hood__npz_reader_close(r);
    free(bytes);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

/* hood_dataset_load of a shard: exactly its rows of x (float32 .npz, float64 .npy) and of the
 * labels, the shard's place, and the label mode and class count of the whole file (shard 0 holds
 * only labels 0 and 1, which alone would read as binary; the file's 2 makes it 3 int classes). */
START_TEST(dataset_shards_hold_exactly_their_rows)
{
    hood_test_make_tmpdir("npy");
    enum { N = 10, D = 5 };
    float x[N * D], y[N] = {0, 1, 0, 1, 1, 0, 1, 0, 1, 2};
    double x64[N * D];
    for (size_t k = 0; k < N * D; k++) {
        x[k] = (float)k * 0.5f;
        x64[k] = (double)k * 0.5;
    }
    hood__npz_writer *w = NULL;
    size_t xs[2] = {N, D}, ys[1] = {N};
    ck_assert_int_eq(hood__npz_writer_open(&w, hood_test_in_tmp("d.npz")), HOOD_OK);
    ck_assert_int_eq(hood__npz_writer_add(w, "x", HOOD_DTYPE_F32, xs, 2, 4, x), HOOD_OK);
    ck_assert_int_eq(hood__npz_writer_add(w, "y", HOOD_DTYPE_F32, ys, 1, 4, y), HOOD_OK);
    ck_assert_int_eq(hood__npz_writer_commit(w), HOOD_OK);
    ck_assert_int_eq(hood__npy_write(hood_test_in_tmp("d.npy"), HOOD_DTYPE_F64, xs, 2, 8, x64),
                     HOOD_OK);
    char npz[512], npy[512];
    snprintf(npz, sizeof npz, "%s", hood_test_in_tmp("d.npz"));
    snprintf(npy, sizeof npy, "%s", hood_test_in_tmp("d.npy"));
    for (size_t count = 2; count <= 4; count++)
        for (size_t index = 0; index < count; index++) {
            size_t first, len, info_first, info_n;
            hood_shard_range(N, index, count, &first, &len);
            hood_csv_options opts;
            hood_csv_options_init(&opts);
            opts.shard_index = index;
            opts.shard_count = count;
            for (int f = 0; f < 2; f++) {
                hood_dataset *ds = NULL;
                hood_status st = hood_dataset_load(f ? npy : npz, &opts, &ds);
                ck_assert_msg(st == HOOD_OK, "%s", hood_last_error());
                ck_assert_uint_eq(hood_dataset_samples(ds), len);
                ck_assert_uint_eq(hood_dataset_features(ds), D);
                hood_dataset_shard_info(ds, &info_first, &info_n);
                ck_assert_uint_eq(info_first, first);
                ck_assert_uint_eq(info_n, N);
                ck_assert_int_eq(memcmp(hood_dataset_x(ds), x + first * D, len * D * sizeof(float)),
                                 0);
                if (f == 0) {
                    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_INT);
                    ck_assert_uint_eq(hood_dataset_num_classes(ds), 3);
                    for (size_t j = 0; j < len; j++)
                        ck_assert_float_eq(hood_dataset_labels(ds)[j], y[first + j]);
                } else {
                    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_NONE);
                }
                hood_dataset_free(ds);
            }
        }
    /* more shards than rows, and an index past the count, are refused */
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    opts.shard_index = 0; /* floor(0 x 10 / 11) to floor(1 x 10 / 11): no rows */
    opts.shard_count = 11;
    hood_dataset *ds = NULL;
    assert_fails_with(hood_dataset_load(npz, &opts, &ds), HOOD_EINVAL, "holds none of the 10");
    ck_assert_ptr_null(ds);
    opts.shard_index = 3;
    opts.shard_count = 3;
    assert_fails_with(hood_dataset_load(npy, &opts, &ds), HOOD_EINVAL, "is not below");
    hood_test_remove_tmpdir();
}
END_TEST

/* The labels of a shard are its rows of y whatever y's layout (big-endian Fortran-order one-hot,
 * big-endian int64), with the mode and class count of the whole file; a non-finite label or a
 * non-class label in rows another worker holds fails every worker alike. */
START_TEST(shard_labels_are_their_rows_of_any_y)
{
    hood_test_make_tmpdir("npy");
    enum { N = 7 };
    float x[N * 2];
    for (size_t k = 0; k < N * 2; k++)
        x[k] = (float)k;
    int cls[N] = {0, 2, 1, 0, 1, 2, 4}; /* 4 only in the last row; 3 nowhere */
    float onehot_f[3 * N];              /* (7, 3) Fortran order: column c is rows' value c */
    int64_t ints[N];
    for (size_t j = 0; j < N; j++) {
        for (size_t c = 0; c < 3; c++) {
            onehot_f[c * N + j] = cls[j] % 3 == (int)c ? 1.0f : 0.0f;
            swap4(&onehot_f[c * N + j]);
        }
        ints[j] = cls[j];
        unsigned char *q = (unsigned char *)&ints[j];
        for (int a = 0, b = 7; a < b; a++, b--) {
            unsigned char t = q[a];
            q[a] = q[b];
            q[b] = t;
        }
    }
    unsigned char xnpy[256], ynpy[512], zip[2048];
    size_t xlen =
        make_npy(xnpy, "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 2), }", x, sizeof x);
    const char *names[2] = {"x.npy", "y.npy"};
    const unsigned char *data[2] = {xnpy, ynpy};
    for (int kind = 0; kind < 4; kind++) {
        size_t ylen;
        if (kind == 0)
            ylen = make_npy(ynpy, "{'descr': '>f4', 'fortran_order': True, 'shape': (7, 3), }",
                            onehot_f, sizeof onehot_f);
        else
            ylen = make_npy(ynpy, "{'descr': '>i8', 'fortran_order': False, 'shape': (7,), }", ints,
                            sizeof ints);
        if (kind == 2) { /* y[6] = -1: not a class index */
            memset(ynpy + ylen - 8, 0xFF, 8);
        } else if (kind == 3) { /* y[6] = 2^53 + 1: not a float32 */
            int64_t big = (INT64_C(1) << 53) + 1;
            unsigned char *q = ynpy + ylen - 8;
            for (int b = 0; b < 8; b++)
                q[b] = (unsigned char)(big >> (8 * (7 - b)));
        }
        size_t lens[2] = {xlen, ylen};
        write_bytes(hood_test_in_tmp("y.npz"), zip,
                    make_zip(zip, sizeof zip, 2, names, data, lens));
        for (size_t count = 1; count <= 4; count++)
            for (size_t index = 0; index < count; index++) {
                size_t first, len;
                hood_shard_range(N, index, count, &first, &len);
                hood_csv_options opts;
                hood_csv_options_init(&opts);
                opts.shard_index = index;
                opts.shard_count = count;
                hood_dataset *ds = NULL;
                hood_status st = hood_dataset_load(hood_test_in_tmp("y.npz"), &opts, &ds);
                if (kind == 2) {
                    assert_fails_with(st, HOOD_EDATA, "y[6] = -1 is not a class index");
                    continue;
                }
                if (kind == 3) {
                    assert_fails_with(st, HOOD_EDATA, "element 6 is 9007199254740993");
                    continue;
                }
                ck_assert_msg(st == HOOD_OK, "%s", hood_last_error());
                ck_assert_uint_eq(hood_dataset_samples(ds), len);
                ck_assert_int_eq(memcmp(hood_dataset_x(ds), x + 2 * first, len * 2 * sizeof(float)),
                                 0);
                for (size_t j = 0; j < len; j++) {
                    int c = cls[first + j];
                    if (kind == 0)
                        for (size_t k = 0; k < 3; k++)
                            ck_assert_float_eq(hood_dataset_labels(ds)[j * 3 + k],
                                               c % 3 == (int)k ? 1.0f : 0.0f);
                    else
                        ck_assert_float_eq(hood_dataset_labels(ds)[j], (float)c);
                }
                ck_assert_int_eq(hood_dataset_label_mode(ds),
                                 kind == 0 ? HOOD_LABELS_CATEGORICAL : HOOD_LABELS_INT);
                ck_assert_uint_eq(hood_dataset_num_classes(ds), kind == 0 ? 3 : 5);
                hood_dataset_free(ds);
            }
    }
    hood_test_remove_tmpdir();
}
END_TEST

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HOOD_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HOOD_TEST_SANITIZED 1
#endif
#endif

#ifndef HOOD_TEST_SANITIZED
/* The process's address space in bytes (/proc/self/statm's first field). */
static size_t address_space(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    unsigned long pages = 0;
    ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    return (size_t)pages * 4096;
}
#endif

/* Peak memory is the shard's: under an address-space limit 24 MiB above the current size, a
 * quarter of a 64 MiB x (.npy and .npz) loads, and the whole file fails for want of memory.
 * (Skipped under sanitizers, whose shadow memory makes an address-space limit meaningless.) */
START_TEST(a_shard_fits_where_the_whole_does_not)
{
#ifdef HOOD_TEST_SANITIZED
    return;
#else
    hood_test_make_tmpdir("npy");
    enum { N = 1024, D = 16384 }; /* 64 MiB of float32 */
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, D, N), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    for (size_t k = 0; k < (size_t)N * D; k++)
        x[k] = (float)(k % 1000);
    char npy[512], npz[512];
    snprintf(npy, sizeof npy, "%s", hood_test_in_tmp("big.npy"));
    snprintf(npz, sizeof npz, "%s", hood_test_in_tmp("big.npz"));
    ck_assert_int_eq(hood_dataset_save_npy(ds, npy), HOOD_OK);
    ck_assert_int_eq(hood_dataset_save_npz(ds, npz), HOOD_OK);
    hood_dataset_free(ds);
    struct rlimit old, tight;
    ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    opts.shard_index = 3;
    opts.shard_count = 4;
    for (int f = 0; f < 2; f++) {
        const char *path = f ? npz : npy;
        tight = old;
        tight.rlim_cur = address_space() + (24u << 20);
        ck_assert_int_eq(setrlimit(RLIMIT_AS, &tight), 0);
        hood_dataset *part = NULL, *whole = NULL;
        hood_status st_part = hood_dataset_load(path, &opts, &part);
        char part_error[256];
        snprintf(part_error, sizeof part_error, "%s", hood_last_error());
        hood_status st_whole = hood_dataset_load(path, NULL, &whole);
        ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
        ck_assert_msg(st_part == HOOD_OK, "%s: %s", path, part_error);
        ck_assert_uint_eq(hood_dataset_samples(part), N / 4);
        ck_assert_float_eq(hood_dataset_x(part)[0], (float)((size_t)3 * (N / 4) * D % 1000));
        ck_assert_float_eq(hood_dataset_x(part)[(size_t)(N / 4) * D - 1],
                           (float)(((size_t)N * D - 1) % 1000));
        ck_assert_int_eq(st_whole, HOOD_ENOMEM);
        ck_assert_ptr_null(whole);
        hood_dataset_free(part);
    }
    hood_test_remove_tmpdir();
#endif
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("hood_files");
    tcase_add_test(tc, npz_round_trip_int_labels_and_names);
    tcase_add_test(tc, npz_round_trip_categorical_binary_none);
    tcase_add_test(tc, npy_round_trip_and_forced_zip64);
    tcase_add_test(tc, npz_compressed_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("numpy_files");
    tcase_add_test(tc, numpy_savez_int32_with_unicode_names);
    tcase_add_test(tc, numpy_savez_int64_float64_bigendian_fortran_descriptors);
    tcase_add_test(tc, numpy_savez_onehot_and_binary);
    tcase_add_test(tc, numpy_savez_compressed_loads_exactly);
    tcase_add_test(tc, deflate_bombs_are_refused);
    tcase_add_test(tc, numpy_save_npy_versions_dtypes_orders);
    suite_add_tcase(s, tc);
    tc = tcase_create("corrupt");
    tcase_add_test(tc, every_truncation_is_a_clear_error);
    tcase_add_test(tc, corrupt_bytes_and_garbage);
    tcase_add_test(tc, npy_headers_are_parsed_strictly);
    tcase_add_test(tc, fortran_order_3d_becomes_c_order);
    tcase_add_test(tc, values_float32_cannot_hold_are_refused);
    tcase_add_test(tc, dataset_npz_shape_and_label_errors);
    tcase_add_test(tc, failed_saves_leave_existing_files);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    tc = tcase_create("row_ranges");
    tcase_add_test(tc, read_rows_every_order_byte_order_and_container);
    tcase_add_test(tc, read_rows_of_npz_still_check_the_crc);
    tcase_add_test(tc, dataset_shards_hold_exactly_their_rows);
    tcase_add_test(tc, shard_labels_are_their_rows_of_any_y);
    tcase_add_test(tc, a_shard_fits_where_the_whole_does_not);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
