/* test_csv.c — the CSV room: shortest round-trip float text (golden strings, bit-exact round
 * trips against strtof), the dataset writer's exact bytes, the reader's options and every error
 * with its line and column, and that a failed save leaves an existing file byte-identical. */
#include "check_main.h"

#include "csv.h"
#include "error.h"
#include "hood.h"

#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole file, NUL-terminated; *len its size. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    buf[size] = '\0';
    if (len != NULL)
        *len = (size_t)size;
    return buf;
}

static const char *fmt(float x)
{
    static char buf[HOOD_CSV_FLOAT_MAX + 1];
    size_t n = hood__csv_format_float(x, buf);
    ck_assert_uint_le(n, HOOD_CSV_FLOAT_MAX);
    buf[n] = '\0';
    return buf;
}

static float from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t bits_of(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* Formats x, then checks both hood's parser and strtof read back exactly x's bits. */
static void check_round_trip(float x)
{
    char buf[HOOD_CSV_FLOAT_MAX + 1];
    size_t n = hood__csv_format_float(x, buf);
    buf[n] = '\0';
    float back = 1234.5f;
    ck_assert_msg(hood__csv_parse_float(buf, n, &back) == 0, "'%s' did not parse", buf);
    ck_assert_msg(bits_of(back) == bits_of(x), "%08x -> '%s' -> %08x", (unsigned)bits_of(x), buf,
                  (unsigned)bits_of(back));
    ck_assert_msg(bits_of(strtof(buf, NULL)) == bits_of(x), "strtof('%s') differs", buf);
}

/* A dataset of d features x n samples with X[j][i] = value(i, j). */
static hood_dataset *make_dataset(size_t d, size_t n, float (*value)(size_t, size_t))
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, d, n), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < d; i++)
            x[j * d + i] = value(i, j);
    return ds;
}

static float pixel_value(size_t i, size_t j)
{
    return (float)((i * 7 + j * 13) % 256) / 255.0f;
}

static float odd_value(size_t i, size_t j)
{
    static const float v[] = {0.0f,  -0.0f,      1e-45f, 1.17549435e-38f, -3.4028235e38f, 0.1f,
                              1e-5f, 123456.79f, -2.5f,  16777216.0f,     7e-39f,         1e10f};
    return v[(i + 5 * j) % (sizeof v / sizeof v[0])];
}

static void assert_same_x(const hood_dataset *a, const hood_dataset *b)
{
    ck_assert_uint_eq(hood_dataset_features(a), hood_dataset_features(b));
    ck_assert_uint_eq(hood_dataset_samples(a), hood_dataset_samples(b));
    size_t count = hood_dataset_features(a) * hood_dataset_samples(a);
    ck_assert_int_eq(memcmp(hood_dataset_x(a), hood_dataset_x(b), count * sizeof(float)), 0);
}

/* Loads text as a CSV file; returns the status (and *out). */
static hood_status load_text(const char *text, const hood_csv_options *opts, hood_dataset **out)
{
    const char *path = hood_test_in_tmp("in.csv");
    write_text(path, text);
    return hood_dataset_load_csv(path, opts, out);
}

static void assert_error(const char *text, const hood_csv_options *opts, hood_status want,
                         const char *fragment)
{
    hood_dataset *ds = (hood_dataset *)1;
    hood_status got = load_text(text, opts, &ds);
    ck_assert_msg(got == want, "status %d, want %d: %s", (int)got, (int)want, hood_last_error());
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(hood_last_error(), fragment) != NULL, "message '%s' lacks '%s'",
                  hood_last_error(), fragment);
    ck_assert_msg(strstr(hood_last_error(), "in.csv") != NULL, "message '%s' lacks the path",
                  hood_last_error());
    /* The in-memory parser (the fuzz targets' entry) says the same. */
    ds = (hood_dataset *)1;
    ck_assert_int_eq(hood__csv_parse_buffer(text, strlen(text), opts, "mem.csv", &ds), want);
    ck_assert_ptr_null(ds);
}

/* ---- float text ----------------------------------------------------------------------------- */

START_TEST(format_golden_strings)
{
    ck_assert_str_eq(fmt(1.0f / 255.0f), "0.003921569");
    ck_assert_str_eq(fmt(0.1f), "0.1");
    ck_assert_str_eq(fmt(0.5f), "0.5");
    ck_assert_str_eq(fmt(1.0f), "1");
    ck_assert_str_eq(fmt(100.0f), "100");
    ck_assert_str_eq(fmt(-2.5f), "-2.5");
    ck_assert_str_eq(fmt(0.0f), "0");
    ck_assert_str_eq(fmt(-0.0f), "-0");
    ck_assert_str_eq(fmt(1e-5f), "1e-05");
    ck_assert_str_eq(fmt(1e10f), "1e+10");
    ck_assert_str_eq(fmt(16777216.0f), "16777216");
    ck_assert_str_eq(fmt(123456.79f), "123456.79");
    ck_assert_str_eq(fmt(FLT_MAX), "3.4028235e+38");
    ck_assert_str_eq(fmt(-FLT_MAX), "-3.4028235e+38");
    ck_assert_str_eq(fmt(FLT_MIN), "1.1754944e-38");
    ck_assert_str_eq(fmt(from_bits(1)), "1e-45"); /* smallest subnormal */
    ck_assert_str_eq(fmt(254.0f / 255.0f), "0.99607843");
}
END_TEST

START_TEST(round_trip_pixels_and_extremes)
{
    for (int k = 0; k <= 255; k++) {
        check_round_trip((float)k / 255.0f);
        check_round_trip((float)k);
        check_round_trip(-(float)k / 255.0f);
    }
    const float special[] = {0.0f,     -0.0f,        FLT_MAX, -FLT_MAX,   FLT_MIN,
                             -FLT_MIN, FLT_EPSILON,  1e-45f,  7e-39f,     3e-44f,
                             1e38f,    9.999999e-5f, 0.3f,    2.0f / 3.0f};
    for (size_t k = 0; k < sizeof special / sizeof special[0]; k++)
        check_round_trip(special[k]);
    /* every subnormal with one bit set, and each binade boundary and its neighbours */
    for (int b = 0; b < 23; b++)
        check_round_trip(from_bits(1u << b));
    for (uint32_t e = 1; e < 255; e++)
        for (int delta = -1; delta <= 1; delta++)
            check_round_trip(from_bits((e << 23) + (uint32_t)delta));
}
END_TEST

START_TEST(round_trip_random_bits)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    int checked = 0;
    while (checked < 200000) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        float x = from_bits((uint32_t)(s >> 11));
        if (!isfinite(x))
            continue;
        check_round_trip(x);
        checked++;
    }
}
END_TEST

START_TEST(format_is_shortest)
{
    /* No representation with fewer significant digits round-trips (checked with %.*g). */
    uint64_t s = 12345;
    for (int n = 0; n < 20000; n++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        float x = from_bits((uint32_t)(s >> 32));
        if (!isfinite(x) || x == 0.0f)
            continue;
        const char *text = fmt(x);
        int digits = 0, started = 0;
        for (const char *p = text; *p != '\0' && *p != 'e'; p++) {
            started |= *p >= '1' && *p <= '9';
            digits += started && *p >= '0' && *p <= '9';
        }
        for (const char *p = text + strlen(text);
             strchr(text, 'e') == NULL && strchr(text, '.') == NULL && p > text && p[-1] == '0';
             p--)
            digits--; /* "16777216" has 8 digits; "100" has 1 */
        char shorter[320];
        snprintf(shorter, sizeof shorter, "%.*g", digits - 1, (double)x);
        ck_assert_msg(digits == 1 || strtof(shorter, NULL) != x, "%s: %s also round-trips", text,
                      shorter);
    }
}
END_TEST

START_TEST(parse_syntax_and_rounding)
{
    struct {
        const char *text;
        int rc;
        float value;
    } cases[] = {
        {"1", 0, 1.0f},
        {"-0", 0, -0.0f},
        {"+3", 0, 3.0f},
        {"1.", 0, 1.0f},
        {".5", 0, 0.5f},
        {"1e5", 0, 1e5f},
        {"1E-5", 0, 1e-5f},
        {"2.5e+2", 0, 250.0f},
        {"0.000", 0, 0.0f},
        {"1e-50", 0, 0.0f},
        {"16777217", 0, 16777216.0f},                          /* tie -> even */
        {"16777219", 0, 16777220.0f},                          /* tie -> even */
        {"16777217.000000000000000000000001", 0, 16777218.0f}, /* just above the tie */
        {"", 1, 0},
        {".", 1, 0},
        {"e5", 1, 0},
        {"1e", 1, 0},
        {"--1", 1, 0},
        {"0x1p3", 1, 0},
        {"1,2", 1, 0},
        {"1 2", 1, 0},
        {"abc", 1, 0},
        {"nan", 2, 0},
        {"-NaN", 2, 0},
        {"inf", 3, 0},
        {"-Infinity", 3, 0},
        {"1e39", 4, 0},
        {"-3.5e38", 4, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float v = 99.0f;
        int rc = hood__csv_parse_float(cases[k].text, strlen(cases[k].text), &v);
        ck_assert_msg(rc == cases[k].rc, "'%s': rc %d, want %d", cases[k].text, rc, cases[k].rc);
        if (rc == 0)
            ck_assert_msg(bits_of(v) == bits_of(cases[k].value), "'%s' -> %.9g", cases[k].text,
                          (double)v);
    }
    /* Long digit strings and exponents far outside the fast path agree with strtof. */
    const char *hard[] = {
        "0.1000000000000000055511151231257827021181583404541015625",
        "1.00000005960464477539062500000000000000000000000000000000000000000000001",
        "1.000000059604644775390625",
        "3.4028235677973366e38",
        "1.4012984643248170709e-45",
        ("7.00649232162408535461864791644958065640130970938257885878534141944895541342930300743"
         "319094181060791015625e-46"), /* half the smallest subnormal: a tie, rounds to 0 */
        "123456789012345678901234567890e-20",
        "0.00000000000000000000000000000000000001",
    };
    for (size_t k = 0; k < sizeof hard / sizeof hard[0]; k++) {
        float v;
        ck_assert_int_eq(hood__csv_parse_float(hard[k], strlen(hard[k]), &v), 0);
        ck_assert_msg(bits_of(v) == bits_of(strtof(hard[k], NULL)), "'%s'", hard[k]);
    }
}
END_TEST

/* ---- dataset files -------------------------------------------------------------------------- */

START_TEST(write_exact_text_with_header)
{
    hood_test_make_tmpdir("csv");
    hood_dataset *ds = make_dataset(2, 3, pixel_value);
    int32_t y[3] = {2, 0, 1};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 3), HOOD_OK);
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    opts.header = true;
    const char *path = hood_test_in_tmp("out.csv");
    ck_assert_int_eq(hood_dataset_save_csv(ds, path, &opts), HOOD_OK);
    char *text = read_all(path, NULL);
    /* X[j][i] = ((7i + 13j) % 256) / 255 */
    ck_assert_str_eq(text, "x1,x2,y\n"
                           "0,0.02745098,2\n"
                           "0.050980393,0.078431375,0\n"
                           "0.101960786,0.12941177,1\n"); /* as numpy prints them */
    free(text);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(round_trip_int_labels_bit_exact)
{
    hood_test_make_tmpdir("csv");
    hood_dataset *ds = make_dataset(37, 23, odd_value);
    int32_t y[23];
    for (int j = 0; j < 23; j++)
        y[j] = (j * 5) % 11;
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 11), HOOD_OK);
    for (int header = 0; header <= 1; header++) {
        hood_csv_options opts;
        hood_csv_options_init(&opts);
        opts.header = header;
        const char *path = hood_test_in_tmp("rt.csv");
        ck_assert_int_eq(hood_dataset_save(ds, path, &opts), HOOD_OK);
        hood_dataset *back = NULL;
        ck_assert_int_eq(hood_dataset_load(path, &opts, &back), HOOD_OK);
        assert_same_x(ds, back);
        ck_assert_int_eq(hood_dataset_label_mode(back), HOOD_LABELS_INT);
        ck_assert_uint_eq(hood_dataset_num_classes(back), 11);
        for (int j = 0; j < 23; j++)
            ck_assert_float_eq(hood_dataset_labels(back)[j], (float)y[j]);
        hood_dataset_free(back);
    }
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(round_trip_one_hot_binary_and_none)
{
    hood_test_make_tmpdir("csv");
    hood_dataset *ds = make_dataset(4, 5, pixel_value);
    int32_t y[5] = {0, 2, 1, 2, 0};
    const char *path = hood_test_in_tmp("oh.csv");
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    opts.header = true;

    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_CATEGORICAL, y, 3), HOOD_OK);
    ck_assert_int_eq(hood_dataset_save_csv(ds, path, &opts), HOOD_OK);
    char *text = read_all(path, NULL);
    ck_assert_int_eq(strncmp(text, "x1,x2,x3,x4,y0,y1,y2\n", 21), 0);
    ck_assert_ptr_nonnull(strstr(text, ",0,0,1\n")); /* sample 1: class 2 */
    free(text);
    opts.label_columns = 3;
    opts.label_mode = HOOD_LABELS_CATEGORICAL;
    hood_dataset *back = NULL;
    ck_assert_int_eq(hood_dataset_load_csv(path, &opts, &back), HOOD_OK);
    assert_same_x(ds, back);
    ck_assert_int_eq(hood_dataset_label_mode(back), HOOD_LABELS_CATEGORICAL);
    ck_assert_uint_eq(hood_dataset_label_width(back), 3);
    ck_assert_int_eq(memcmp(hood_dataset_labels(back), hood_dataset_labels(ds), 15 * sizeof(float)),
                     0);
    hood_dataset_free(back);

    int32_t b[5] = {1, 0, 0, 1, 1};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_BINARY, b, 2), HOOD_OK);
    ck_assert_int_eq(hood_dataset_save_csv(ds, path, NULL), HOOD_OK);
    hood_csv_options_init(&opts);
    opts.label_mode = HOOD_LABELS_BINARY;
    ck_assert_int_eq(hood_dataset_load_csv(path, &opts, &back), HOOD_OK);
    ck_assert_int_eq(hood_dataset_label_mode(back), HOOD_LABELS_BINARY);
    for (int j = 0; j < 5; j++)
        ck_assert_float_eq(hood_dataset_labels(back)[j], (float)b[j]);
    hood_dataset_free(back);

    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_NONE, NULL, 0, 0), HOOD_OK);
    ck_assert_int_eq(hood_dataset_save_csv(ds, path, NULL), HOOD_OK);
    hood_csv_options_init(&opts);
    opts.label_column = -2;
    ck_assert_int_eq(hood_dataset_load_csv(path, &opts, &back), HOOD_OK);
    assert_same_x(ds, back);
    ck_assert_int_eq(hood_dataset_label_mode(back), HOOD_LABELS_NONE);
    hood_dataset_free(back);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(read_options_crlf_spaces_and_label_first)
{
    hood_test_make_tmpdir("csv");
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    opts.label_column = 0;
    hood_dataset *ds = NULL;
    /* CRLF, blank lines, spaces around fields, no final newline */
    ck_assert_int_eq(load_text("1, 0.5 ,2\r\n\r\n0,-1e-05,3.25\r\n  \n2,7,8", &opts, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_features(ds), 2);
    ck_assert_uint_eq(hood_dataset_samples(ds), 3);
    const float want[6] = {0.5f, 2.0f, -1e-05f, 3.25f, 7.0f, 8.0f};
    for (int k = 0; k < 6; k++)
        ck_assert_float_eq(hood_dataset_x(ds)[k], want[k]);
    ck_assert_float_eq(hood_dataset_labels(ds)[0], 1.0f);
    ck_assert_float_eq(hood_dataset_labels(ds)[1], 0.0f);
    ck_assert_float_eq(hood_dataset_labels(ds)[2], 2.0f);
    ck_assert_uint_eq(hood_dataset_num_classes(ds), 3);
    hood_dataset_free(ds);

    /* A single class-index column asked for as categorical is one-hot encoded. */
    hood_csv_options_init(&opts);
    opts.label_mode = HOOD_LABELS_CATEGORICAL;
    ck_assert_int_eq(load_text("0.25,2\n0.5,0\n", &opts, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_label_width(ds), 3);
    const float onehot[6] = {0, 0, 1, 1, 0, 0};
    ck_assert_int_eq(memcmp(hood_dataset_labels(ds), onehot, sizeof onehot), 0);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(long_lines_stream_through_the_buffer)
{
    /* 500,000 features: each line (~5 MB) is larger than the reader's 4 MiB buffer. */
    hood_test_make_tmpdir("csv");
    const size_t d = 500000, n = 3;
    hood_dataset *ds = make_dataset(d, n, odd_value);
    int32_t y[3] = {0, 1, 0};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 2), HOOD_OK);
    const char *path = hood_test_in_tmp("wide.csv");
    ck_assert_int_eq(hood_dataset_save_csv(ds, path, NULL), HOOD_OK);
    hood_dataset *back = NULL;
    ck_assert_int_eq(hood_dataset_load_csv(path, NULL, &back), HOOD_OK);
    assert_same_x(ds, back);
    hood_dataset_free(back);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(errors_name_line_and_column)
{
    hood_test_make_tmpdir("csv");
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    assert_error("1,2,0\n3,4\n", NULL, HOOD_EFORMAT, "line 2: 2 fields, expected 3");
    assert_error("1,2,0\n3,4,1\n5,6,7,1\n", NULL, HOOD_EFORMAT, "line 3: 4 fields, expected 3");
    assert_error("1,2,0\n3,x4,1\n", NULL, HOOD_EFORMAT, "line 2, column 2: 'x4' is not a number");
    assert_error("1,,0\n", NULL, HOOD_EFORMAT, "line 1, column 2: '' is empty");
    assert_error("1,2,0\n\n3,nan,1\n", NULL, HOOD_EDATA, "line 3, column 2: 'nan' is NaN");
    assert_error("1,2,0\n-inf,4,1\n", NULL, HOOD_EDATA, "line 2, column 1: '-inf' is infinite");
    assert_error("1,2e39,0\n", NULL, HOOD_EDATA, "line 1, column 2: '2e39' is beyond");
    assert_error("", NULL, HOOD_EFORMAT, "empty file");
    assert_error("\n  \r\n", NULL, HOOD_EFORMAT, "empty file");
    assert_error("1,2,1.5\n", NULL, HOOD_EDATA, "line 1, column 3: label '1.5' is not a class");
    assert_error("1,2,-1\n", NULL, HOOD_EDATA, "line 1, column 3: label '-1'");
    assert_error("a,b,c\n1,2,0\n", NULL, HOOD_EFORMAT, "if the first row is a header");
    assert_error("x1,x3,y\n1,2,0\n", NULL, HOOD_EFORMAT, "if the first row is a header");
    opts.header = true;
    assert_error("x1,x2,y\n", &opts, HOOD_EFORMAT, "header-only file: line 1");
    assert_error("x1,x2,y\n1,2,3,0\n", &opts, HOOD_EFORMAT, "the header has 3 columns");
    hood_csv_options_init(&opts);
    opts.label_mode = HOOD_LABELS_BINARY;
    assert_error("1,2,0\n1,2,2\n", &opts, HOOD_EDATA, "line 2, column 3: binary label '2'");
    hood_csv_options_init(&opts);
    assert_error("7\n", &opts, HOOD_EFORMAT, "leave no feature");
    opts.label_mode = HOOD_LABELS_CATEGORICAL; /* one index column -> one-hot, bounded */
    assert_error("0.5,9020331\n0.25,1\n", &opts, HOOD_EDATA,
                 "label 9020331 would one-hot encode 9020332 classes, more than 65536");
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(header_is_read_when_asked)
{
    hood_test_make_tmpdir("csv");
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    opts.header = true;
    hood_dataset *ds = NULL;
    ck_assert_int_eq(load_text("\nx1,x2,y\n0.5,1,1\n0.25,2,0\n", &opts, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_samples(ds), 2);
    ck_assert_float_eq(hood_dataset_x(ds)[2], 0.25f);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

/* ---- hood's header form, "# hood:" lines, the caller's feature count ---------------------- */

START_TEST(hood_header_says_the_label_columns)
{
    hood_test_make_tmpdir("csv");
    hood_dataset *ds = NULL;
    /* Recognised without asking: a one-hot file's k columns are labels, never features. */
    ck_assert_int_eq(load_text("x1,x2,y0,y1,y2\n0.5,1,0,1,0\n0.25,2,1,0,0\n", NULL, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_features(ds), 2);
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_CATEGORICAL);
    ck_assert_uint_eq(hood_dataset_label_width(ds), 3);
    ck_assert_float_eq(hood_dataset_labels(ds)[1], 1.0f);
    hood_dataset_free(ds);
    ck_assert_int_eq(load_text(" x1 , x2 ,y\n1,2,0\n3,4,1\n", NULL, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_features(ds), 2);
    ck_assert_uint_eq(hood_dataset_samples(ds), 2);
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_INT);
    hood_dataset_free(ds);
    ck_assert_int_eq(load_text("x1,x2\n1,2\n", NULL, &ds), HOOD_OK); /* no y: no labels */
    ck_assert_uint_eq(hood_dataset_features(ds), 2);
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_NONE);
    hood_dataset_free(ds);
    /* Leading comments are skipped; a numeric first row is never a header. */
    ck_assert_int_eq(load_text("# made by hand\n1,2,0\n", NULL, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_samples(ds), 1);
    hood_dataset_free(ds);
    /* An explicit count that contradicts hood's header is an error naming the file. */
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    opts.labels_from_header = false;
    assert_error("x1,x2,y0,y1\n1,2,0,1\n", &opts, HOOD_EFORMAT,
                 "the header names 2 label columns, but 1 was asked for");
    opts.label_columns = 2;
    opts.label_mode = HOOD_LABELS_CATEGORICAL;
    ck_assert_int_eq(load_text("x1,x2,y0,y1\n1,2,0,1\n", &opts, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_features(ds), 2);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(expected_features_resolve_headerless_rows)
{
    hood_test_make_tmpdir("csv");
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    hood_dataset *ds = NULL;
    opts.features = 3; /* the model's width: no label column */
    ck_assert_int_eq(load_text("1,2,3\n4,5,6\n", &opts, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_features(ds), 3);
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_NONE);
    hood_dataset_free(ds);
    opts.features = 2; /* one label column */
    ck_assert_int_eq(load_text("1,2,1\n4,5,0\n", &opts, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_features(ds), 2);
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_INT);
    hood_dataset_free(ds);
    opts.features = 1; /* two one-hot columns */
    ck_assert_int_eq(load_text("1,0,1\n4,1,0\n", &opts, &ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_features(ds), 1);
    ck_assert_uint_eq(hood_dataset_label_width(ds), 2);
    hood_dataset_free(ds);
    opts.features = 4;
    assert_error("1,2,3\n", &opts, HOOD_ESHAPE, "3 columns, fewer than the 4 features");
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(preprocess_and_class_names_travel_in_csv_and_npz)
{
    hood_test_make_tmpdir("csv");
    hood_dataset *ds = make_dataset(6, 3, pixel_value);
    int32_t y[3] = {2, 0, 1};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_CATEGORICAL, y, 3), HOOD_OK);
    const char *names[3] = {"cat", "a, b=c%", "dog"};
    ck_assert_int_eq(hood_dataset_set_class_names(ds, names, 3), HOOD_OK);
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    pp.height = 1;
    pp.width = 2;
    pp.color_mode = HOOD_COLOR_RGB;
    pp.interpolation = HOOD_INTERP_AREA;
    pp.crop_to_aspect_ratio = true;
    pp.raw_values = true;
    hood_preprocess wrong = pp;
    wrong.width = 3;
    ck_assert_int_eq(hood_dataset_set_preprocess(ds, &wrong), HOOD_ESHAPE);
    ck_assert_int_eq(hood_dataset_set_preprocess(ds, &pp), HOOD_OK);
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    opts.header = true;
    const char *files[2] = {hood_test_in_tmp("pp.csv"), hood_test_in_tmp("pp.npz")};
    ck_assert_int_eq(hood_dataset_save(ds, files[0], &opts), HOOD_OK);
    ck_assert_int_eq(hood_dataset_save(ds, files[1], NULL), HOOD_OK);
    char *text = read_all(files[0], NULL);
    ck_assert_msg(strncmp(text,
                          "# hood: height=1 width=2 color_mode=rgb interpolation=area "
                          "crop_to_aspect_ratio=1 pad_to_aspect_ratio=0 raw_values=1 "
                          "class_names=cat,a%2C%20b%3Dc%25,dog\nx1,x2,x3,x4,x5,x6,y0,y1,y2\n",
                          strlen("# hood: ")) == 0 &&
                      strstr(text, "class_names=cat,a%2C%20b%3Dc%25,dog\nx1,") != NULL &&
                      strstr(text, "raw_values=1 ") != NULL,
                  "%s", text);
    free(text);
    for (int f = 0; f < 2; f++) {
        hood_dataset *back = NULL;
        ck_assert_int_eq(hood_dataset_load(files[f], NULL, &back), HOOD_OK);
        assert_same_x(ds, back);
        ck_assert_uint_eq(hood_dataset_label_width(back), 3);
        hood_preprocess got;
        memset(&got, 0xAB, sizeof got);
        ck_assert(hood_dataset_preprocess(back, &got));
        ck_assert_uint_eq(got.height, 1);
        ck_assert_uint_eq(got.width, 2);
        ck_assert_int_eq(got.color_mode, HOOD_COLOR_RGB);
        ck_assert_int_eq(got.interpolation, HOOD_INTERP_AREA);
        ck_assert(got.crop_to_aspect_ratio && !got.pad_to_aspect_ratio && got.raw_values);
        for (size_t i = 0; i < 3; i++)
            ck_assert_str_eq(hood_dataset_class_name(back, i), names[i]);
        hood_dataset_free(back);
    }
    assert_error("# hood: height=1 width=2 colour=red\nx1,y\n1,0\n", NULL, HOOD_EFORMAT,
                 "unknown word 'colour=red'");
    assert_error("# hood: height=0\nx1,y\n1,0\n", NULL, HOOD_EFORMAT, "bad value in 'height=0'");
    assert_error("# hood: height=1 width=2\nx1,y\n1,0\n", NULL, HOOD_ESHAPE, "1 x 2 x 1");
    assert_error("# hood: class_names=a,b\nx1,y0,y1,y2\n1,0,0,1\n", NULL, HOOD_EDATA,
                 "names 2 classes, the labels have 3");
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

static void assert_file_is(const char *path, const char *text)
{
    char *now = read_all(path, NULL);
    ck_assert_str_eq(now, text);
    free(now);
}

START_TEST(failed_save_leaves_existing_file)
{
    hood_test_make_tmpdir("csv");
    const char *path = hood_test_in_tmp("keep.csv");
    write_text(path, "old contents\n");
    hood_dataset *ds = make_dataset(3, 2, pixel_value);
    hood_dataset_x_mutable(ds)[4] = NAN;
    ck_assert_int_eq(hood_dataset_save_csv(ds, path, NULL), HOOD_EDATA);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "sample 1, feature 1 is NaN"));
    assert_file_is(path, "old contents\n");
    hood_dataset_free(ds);

    /* A write that fails part-way (file size limit): the old file stays whole. */
    ds = make_dataset(1000, 200, odd_value);
    struct rlimit old, small = {4096, 4096};
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    void (*previous)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    hood_status status = hood_dataset_save_csv(ds, path, NULL);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, previous);
    ck_assert_int_eq(status, HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "keep.csv"));
    assert_file_is(path, "old contents\n");
    /* and no temporary is left behind */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", hood_test_tmpdir());
    ck_assert_int_eq(system(cmd), 0);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(dispatch_by_extension)
{
    hood_test_make_tmpdir("csv");
    hood_dataset *ds = make_dataset(3, 4, pixel_value);
    int32_t y[4] = {0, 1, 1, 0};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 2), HOOD_OK);
    const char *names[] = {"a.CSV", "b.npz", "c.Npy"};
    for (int k = 0; k < 3; k++) {
        const char *path = hood_test_in_tmp(names[k]);
        ck_assert_int_eq(hood_dataset_save(ds, path, NULL), HOOD_OK);
        char *bytes = read_all(path, NULL);
        /* the content matches the extension */
        if (k == 0)
            ck_assert_int_eq(bytes[0], '0');
        else if (k == 1)
            ck_assert_int_eq(memcmp(bytes, "PK\3\4", 4), 0);
        else
            ck_assert_int_eq(memcmp(bytes, "\x93NUMPY", 6), 0);
        free(bytes);
        hood_dataset *back = NULL;
        ck_assert_int_eq(hood_dataset_load(path, NULL, &back), HOOD_OK);
        assert_same_x(ds, back);
        ck_assert_int_eq(hood_dataset_label_mode(back), k < 2 ? HOOD_LABELS_INT : HOOD_LABELS_NONE);
        hood_dataset_free(back);
    }
    hood_dataset *back = (hood_dataset *)1;
    ck_assert_int_eq(hood_dataset_save(ds, hood_test_in_tmp("d.txt"), NULL), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "d.txt: unknown dataset file extension"));
    ck_assert_int_eq(hood_dataset_load(hood_test_in_tmp("noext"), NULL, &back), HOOD_EINVAL);
    ck_assert_ptr_null(back);
    ck_assert_int_eq(hood_dataset_load(hood_test_in_tmp("missing.csv"), NULL, &back), HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "missing.csv: cannot open"));
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(sharded_reads_split_the_rows)
{
    /* 10 rows in 3 shards: rows [0,3), [3,6), [6,10) (hood_shard_range); the largest label, 4,
     * is only in the last shard, yet every shard counts 5 classes. */
    hood_test_make_tmpdir("csv");
    hood_dataset *ds = make_dataset(2, 10, odd_value);
    int32_t y[10] = {0, 1, 2, 0, 1, 2, 3, 4, 0, 1};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 5), HOOD_OK);
    const char *paths[2] = {hood_test_in_tmp("s.csv"), hood_test_in_tmp("s.npz")};
    ck_assert_int_eq(hood_dataset_save(ds, paths[0], NULL), HOOD_OK);
    ck_assert_int_eq(hood_dataset_save(ds, paths[1], NULL), HOOD_OK);
    const size_t want_first[3] = {0, 3, 6}, want_len[3] = {3, 3, 4};
    for (int f = 0; f < 2; f++) {
        for (size_t k = 0; k < 3; k++) {
            hood_csv_options opts;
            hood_csv_options_init(&opts);
            opts.shard_index = k;
            opts.shard_count = 3;
            hood_dataset *part = NULL;
            ck_assert_msg(hood_dataset_load(paths[f], &opts, &part) == HOOD_OK, "%s",
                          hood_last_error());
            ck_assert_uint_eq(hood_dataset_samples(part), want_len[k]);
            size_t first, global;
            hood_dataset_shard_info(part, &first, &global);
            ck_assert_uint_eq(first, want_first[k]);
            ck_assert_uint_eq(global, 10);
            ck_assert_uint_eq(hood_dataset_num_classes(part), 5);
            ck_assert_int_eq(memcmp(hood_dataset_x(part), hood_dataset_x(ds) + 2 * first,
                                    2 * want_len[k] * sizeof(float)),
                             0);
            for (size_t j = 0; j < want_len[k]; j++)
                ck_assert_float_eq(hood_dataset_labels(part)[j], (float)y[first + j]);
            hood_dataset_free(part);
        }
        hood_csv_options opts;
        hood_csv_options_init(&opts);
        opts.shard_index = 3;
        opts.shard_count = 3;
        hood_dataset *part = (hood_dataset *)1;
        ck_assert_int_eq(hood_dataset_load(paths[f], &opts, &part), HOOD_EINVAL);
        ck_assert_ptr_null(part);
        ck_assert_ptr_nonnull(strstr(hood_last_error(), "shard index 3 is not below"));
        opts.shard_index = 0;
        opts.shard_count = 11; /* shard 0 of 11 over 10 rows holds none */
        ck_assert_int_eq(hood_dataset_load(paths[f], &opts, &part), HOOD_EINVAL);
        ck_assert_ptr_nonnull(strstr(hood_last_error(), "holds none of the 10"));
    }
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("float_text");
    tcase_add_test(tc, format_golden_strings);
    tcase_add_test(tc, round_trip_pixels_and_extremes);
    tcase_add_test(tc, round_trip_random_bits);
    tcase_add_test(tc, format_is_shortest);
    tcase_add_test(tc, parse_syntax_and_rounding);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("files");
    tcase_add_test(tc, write_exact_text_with_header);
    tcase_add_test(tc, round_trip_int_labels_bit_exact);
    tcase_add_test(tc, round_trip_one_hot_binary_and_none);
    tcase_add_test(tc, read_options_crlf_spaces_and_label_first);
    tcase_add_test(tc, long_lines_stream_through_the_buffer);
    tcase_add_test(tc, errors_name_line_and_column);
    tcase_add_test(tc, header_is_read_when_asked);
    tcase_add_test(tc, hood_header_says_the_label_columns);
    tcase_add_test(tc, expected_features_resolve_headerless_rows);
    tcase_add_test(tc, preprocess_and_class_names_travel_in_csv_and_npz);
    tcase_add_test(tc, failed_save_leaves_existing_file);
    tcase_add_test(tc, dispatch_by_extension);
    tcase_add_test(tc, sharded_reads_split_the_rows);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
