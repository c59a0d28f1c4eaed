/* test_atomic.c — io/atomic.c (hood_output): a commit replaces the target whole (keeping its
 * mode), a new file gets fopen's mode under any umask (as a model file does), an abort or a
 * failed finish or commit leaves an existing file byte-identical and no temporary behind, and a
 * target in a folder that cannot hold it fails cleanly with a message naming the path. The loop
 * tests run twice: _i 0 with the unnamed temporary (O_TMPFILE, where the file system has it),
 * _i 1 with the named fallback other file systems get. */
#define _GNU_SOURCE /* O_TMPFILE for the probe */
#include "check_main.h"

#include "atomic.h"
#include "error.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void assert_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s is missing", path);
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    ck_assert_uint_eq(n, strlen(text));
    ck_assert_str_eq(buf, text);
}

/* Entries in the scratch folder (without . and ..). */
static int count_entries(void)
{
    DIR *dir = opendir(hood_test_tmpdir());
    ck_assert_ptr_nonnull(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(dir);
    return n;
}

/* Opens path the way loop iteration _i asks: 0 unnamed allowed, 1 the named fallback. */
#define OPEN(f, path) hood__output_open_mode((f), (path), _i == 0)
/* Writes 10,000 bytes to f under a 1 KiB file-size limit (SIGXFSZ ignored), then returns what
 * `end` (the commit or the finish, whose flush meets the limit) says; the limit is lifted
 * before returning. */
static hood_status write_past_limit(hood_output *f, hood_status (*end)(hood_output *))
{
    struct rlimit old, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_cur = 1024;
    small.rlim_max = old.rlim_max;
    void (*previous)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    for (int k = 0; k < 1000; k++)
        fputs("0123456789", hood_output_stream(f));
    hood_status status = end(f);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, previous);
    return status;
}

/* Entries the open temporary of f shows in the folder: none when unnamed. */
#define TEMPS(f) (hood__output_is_unnamed(f) ? 0 : 1)

START_TEST(commit_creates_the_file)
{
    mode_t old_mask = umask(022);
    hood_test_make_tmpdir("atomic");
    const char *path = hood_test_in_tmp("new.txt");
    hood__atomic_file *f = NULL;
    ck_assert_int_eq(OPEN(&f, path), HOOD_OK);
    fputs("hello\n", hood__atomic_stream(f));
    ck_assert_int_eq(count_entries(), TEMPS(f)); /* only the temporary so far */
    FILE *probe = fopen(path, "rb");
    ck_assert_ptr_null(probe); /* the target does not exist before the commit */
    ck_assert_int_eq(hood__atomic_commit(f), HOOD_OK);
    assert_text(path, "hello\n");
    ck_assert_int_eq(count_entries(), 1);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    hood_test_remove_tmpdir();
    umask(old_mask);
}
END_TEST

static mode_t mode_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* One rule for every file hood writes: a new file gets the mode fopen gives (0666 less the
 * umask); a model file (hood_model_save) and a file through hood_output (what the CLI's history
 * uses) agree: 0644 under umask 022, 0600 under 077, 0664 under 002. */
START_TEST(new_files_get_the_mode_fopen_gives)
{
    const mode_t masks[3] = {022, 077, 002}, want[3] = {0644, 0600, 0664};
    hood_model *model = NULL;
    hood_optimizer_config sgd;
    hood_optimizer_config_init(&sgd, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_create(&model, 2), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(model, 1, HOOD_ACT_SIGMOID, true), HOOD_OK);
    ck_assert_int_eq(hood_model_compile(model, HOOD_LOSS_BINARY_CROSSENTROPY, &sgd, 1), HOOD_OK);
    for (int k = 0; k < 3; k++) {
        hood_test_make_tmpdir("atomic");
        mode_t old_mask = umask(masks[k]);
        write_text(hood_test_in_tmp("fopen.txt"), "x");
        hood_output *f = NULL;
        hood_status st_out = OPEN(&f, hood_test_in_tmp("out.csv"));
        if (st_out == HOOD_OK) {
            fputs("epoch\n", hood_output_stream(f));
            st_out = hood_output_commit(f);
        }
        hood_status st_model = hood_model_save(model, hood_test_in_tmp("m.hood"));
        umask(old_mask);
        ck_assert_int_eq(st_out, HOOD_OK);
        ck_assert_int_eq(st_model, HOOD_OK);
        ck_assert_int_eq(mode_of(hood_test_in_tmp("fopen.txt")), want[k]);
        ck_assert_int_eq(mode_of(hood_test_in_tmp("out.csv")), want[k]);
        ck_assert_int_eq(mode_of(hood_test_in_tmp("m.hood")), want[k]);
        hood_test_remove_tmpdir();
    }
    hood_model_free(model);
}
END_TEST

START_TEST(commit_replaces_and_keeps_the_mode)
{
    hood_test_make_tmpdir("atomic");
    const char *path = hood_test_in_tmp("old.txt");
    write_text(path, "old contents");
    ck_assert_int_eq(chmod(path, 0600), 0);
    hood__atomic_file *f = NULL;
    ck_assert_int_eq(OPEN(&f, path), HOOD_OK);
    fputs("new", hood__atomic_stream(f));
    assert_text(path, "old contents"); /* untouched until the commit */
    ck_assert_int_eq(hood__atomic_commit(f), HOOD_OK);
    assert_text(path, "new");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(count_entries(), 1);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(abort_leaves_the_old_file)
{
    hood_test_make_tmpdir("atomic");
    const char *path = hood_test_in_tmp("keep.txt");
    write_text(path, "precious");
    hood__atomic_file *f = NULL;
    ck_assert_int_eq(OPEN(&f, path), HOOD_OK);
    fputs("half-written garbage", hood__atomic_stream(f));
    fflush(hood__atomic_stream(f));
    ck_assert_int_eq(count_entries(), 1 + TEMPS(f));
    hood__atomic_abort(f);
    assert_text(path, "precious");
    ck_assert_int_eq(count_entries(), 1);
    hood__atomic_abort(NULL); /* a no-op */
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(failed_commit_leaves_the_old_file)
{
    hood_test_make_tmpdir("atomic");
    const char *path = hood_test_in_tmp("keep.txt");
    write_text(path, "precious");
    hood__atomic_file *f = NULL;
    ck_assert_int_eq(OPEN(&f, path), HOOD_OK);
    /* The file size limit makes the buffered writes fail at the commit's flush. */
    ck_assert_int_eq(write_past_limit(f, hood_output_commit), HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "keep.txt: cannot write"));
    assert_text(path, "precious");
    ck_assert_int_eq(count_entries(), 1);
    hood_test_remove_tmpdir();
}
END_TEST

/* finish then abort, and a failed finish then commit: the target stays, nothing is left. */
START_TEST(finish_then_abort_or_failed_commit)
{
    hood_test_make_tmpdir("atomic");
    const char *path = hood_test_in_tmp("keep.txt");
    write_text(path, "precious");
    hood_output *f = NULL;
    ck_assert_int_eq(OPEN(&f, path), HOOD_OK);
    fputs("new", hood_output_stream(f));
    int temps = TEMPS(f);
    ck_assert_int_eq(hood_output_finish(f), HOOD_OK);
    ck_assert_ptr_null(hood_output_stream(f));
    ck_assert_int_eq(count_entries(), 1 + temps); /* the finished temporary waits */
    hood_output_abort(f);
    assert_text(path, "precious");
    ck_assert_int_eq(count_entries(), 1);
    /* the same with a write error at the finish: reported there and again by the commit */
    ck_assert_int_eq(OPEN(&f, path), HOOD_OK);
    ck_assert_int_eq(write_past_limit(f, hood_output_finish), HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "keep.txt: cannot write"));
    ck_assert_int_eq(count_entries(), 1);
    ck_assert_int_eq(hood_output_commit(f), HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "keep.txt: cannot write"));
    assert_text(path, "precious");
    ck_assert_int_eq(count_entries(), 1);
    hood_output_abort(NULL);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(unwritable_folders_leave_nothing)
{
    hood_test_make_tmpdir("atomic");
    hood__atomic_file *f = (hood__atomic_file *)1;
    /* a folder that does not exist */
    ck_assert_int_eq(hood__atomic_open(&f, hood_test_in_tmp("missing/out.txt")), HOOD_EIO);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "missing/out.txt: cannot create"));
    /* a "folder" that is a regular file (fails even for root, unlike a chmod 0555 folder) */
    write_text(hood_test_in_tmp("plain"), "x");
    ck_assert_int_eq(hood__atomic_open(&f, hood_test_in_tmp("plain/out.txt")), HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "plain/out.txt"));
    ck_assert_int_eq(count_entries(), 1);
    /* an empty path */
    ck_assert_int_eq(hood__atomic_open(&f, ""), HOOD_EINVAL);
    ck_assert_ptr_null(f);
    hood_test_remove_tmpdir();
}
END_TEST

START_TEST(rename_onto_a_folder_fails_cleanly)
{
    hood_test_make_tmpdir("atomic");
    /* the target is an existing non-empty folder: the rename fails, the folder stays */
    const char *path = hood_test_in_tmp("dir");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    write_text(hood_test_in_tmp("dir/inside"), "inside");
    hood__atomic_file *f = NULL;
    ck_assert_int_eq(OPEN(&f, path), HOOD_OK);
    fputs("data", hood__atomic_stream(f));
    ck_assert_int_eq(hood__atomic_commit(f), HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "dir: cannot write"));
    assert_text(hood_test_in_tmp("dir/inside"), "inside");
    ck_assert_int_eq(count_entries(), 1);
    hood_test_remove_tmpdir();
}
END_TEST

/* Whether this folder's file system gives unnamed temporaries (tmpfs, ext4, xfs, btrfs do). */
static bool folder_has_o_tmpfile(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_WRONLY, 0600);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* Where the folder allows it the temporary is unnamed: nothing appears in the folder while the
 * output is written, and a commit to a new name and over an old one both work. */
START_TEST(unnamed_temporary_where_supported)
{
    hood_test_make_tmpdir("atomic");
    if (!folder_has_o_tmpfile(hood_test_tmpdir())) {
        fprintf(stderr, "# skipped: %s has no O_TMPFILE\n", hood_test_tmpdir());
        hood_test_remove_tmpdir();
        return;
    }
    const char *path = hood_test_in_tmp("new.txt");
    hood_output *f = NULL;
    ck_assert_int_eq(hood_output_open(&f, path), HOOD_OK);
    ck_assert(hood__output_is_unnamed(f));
    fputs("one", hood_output_stream(f));
    ck_assert_int_eq(hood_output_finish(f), HOOD_OK);
    ck_assert_int_eq(count_entries(), 0);
    ck_assert_int_eq(hood_output_commit(f), HOOD_OK);
    assert_text(path, "one");
    ck_assert_int_eq(hood_output_open(&f, path), HOOD_OK);
    fputs("two", hood_output_stream(f));
    ck_assert_int_eq(count_entries(), 1);
    ck_assert_int_eq(hood_output_commit(f), HOOD_OK);
    assert_text(path, "two");
    ck_assert_int_eq(count_entries(), 1);
    hood_test_remove_tmpdir();
}
END_TEST

/* A writer killed by SIGKILL mid-write: the old file stays, and with the unnamed temporary
 * nothing else is left (the named fallback leaves its temporary: the documented limit). */
START_TEST(sigkill_mid_write_leaves_the_old_file)
{
    hood_test_make_tmpdir("atomic");
    const char *path = hood_test_in_tmp("keep.txt");
    write_text(path, "precious");
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        hood_output *f = NULL;
        if (OPEN(&f, path) != HOOD_OK)
            _exit(3);
        fputs("half", hood_output_stream(f));
        fflush(hood_output_stream(f));
        char kind = hood__output_is_unnamed(f) ? 'u' : 'n';
        if (write(ready[1], &kind, 1) != 1)
            _exit(4);
        for (;;)
            pause();
    }
    close(ready[1]);
    char kind = 0;
    ck_assert_int_eq(read(ready[0], &kind, 1), 1);
    close(ready[0]);
    ck_assert_int_eq(kill(child, SIGKILL), 0);
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFSIGNALED(status));
    assert_text(path, "precious");
    ck_assert_int_eq(count_entries(), kind == 'u' ? 1 : 2);
    hood_test_remove_tmpdir();
}
END_TEST

/* A legal name of 255 bytes (NAME_MAX) is written: the temporary's name, when there is one,
 * is cut to fit, and the unnamed temporary has none. */
START_TEST(longest_legal_names_work)
{
    hood_test_make_tmpdir("atomic");
    const size_t lengths[3] = {245, 250, NAME_MAX};
    for (int k = 0; k < 3; k++) {
        char name[NAME_MAX + 1];
        memset(name, 'a' + k, lengths[k]);
        name[lengths[k]] = '\0';
        char path[PATH_MAX]; /* hood_test_in_tmp's paths are shorter */
        snprintf(path, sizeof path, "%s/%s", hood_test_tmpdir(), name);
        for (int round = 0; round < 2; round++) { /* a new file, then a replacement */
            hood_output *f = NULL;
            ck_assert_msg(OPEN(&f, path) == HOOD_OK, "%zu bytes: %s", lengths[k],
                          hood_last_error());
            fputs(round == 0 ? "first" : "second", hood_output_stream(f));
            ck_assert_msg(hood_output_commit(f) == HOOD_OK, "%zu bytes: %s", lengths[k],
                          hood_last_error());
            assert_text(path, round == 0 ? "first" : "second");
        }
    }
    ck_assert_int_eq(count_entries(), 3);
    hood_test_remove_tmpdir();
}
END_TEST

/* hood_dataset_write into caller-held outputs, as `hood dataset --subset both` uses it: two
 * halves are written whole before either is committed; when the second fails to write, the
 * caller commits neither and nothing at all is left in the folder (and, with the unnamed
 * temporary, nothing named ever appears there); a failed write's output cannot be committed. */
START_TEST(dataset_halves_both_or_neither)
{
    hood_test_make_tmpdir("atomic");
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 10, 1000), HOOD_OK); /* 40 KB of x */
    const char *names[2] = {"d.train.npz", "d.val.npy"};
    char *paths[2] = {strdup(hood_test_in_tmp(names[0])), strdup(hood_test_in_tmp(names[1]))};
    hood_output *outs[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(OPEN(&outs[i], paths[i]), HOOD_OK);
    ck_assert_int_eq(hood_dataset_write(ds, outs[0], NULL, HOOD_WRITE_NPZ_COMPRESSED), HOOD_OK);
    ck_assert_int_eq(count_entries(), TEMPS(outs[0]) + TEMPS(outs[1]));
    /* The second half fails mid-write (a 1 KiB file-size limit): its temporary goes at once. */
    struct rlimit old, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_cur = 1024;
    small.rlim_max = old.rlim_max;
    void (*previous)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    hood_status st = hood_dataset_write(ds, outs[1], NULL, 0);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, previous);
    ck_assert_int_eq(st, HOOD_EIO);
    ck_assert_msg(strstr(hood_last_error(), names[1]) != NULL, "%s", hood_last_error());
    ck_assert_int_eq(count_entries(), TEMPS(outs[0]));
    /* Committing the failed half anyway places nothing; the caller aborts the good one. */
    ck_assert_int_eq(hood_output_commit(outs[1]), HOOD_EIO);
    hood_output_abort(outs[0]);
    ck_assert_int_eq(count_entries(), 0);

    /* A refused call (unknown flags) discards the output as well. */
    ck_assert_int_eq(OPEN(&outs[0], paths[0]), HOOD_OK);
    ck_assert_int_eq(hood_dataset_write(ds, outs[0], NULL, 0x80), HOOD_EINVAL);
    ck_assert_int_eq(count_entries(), 0);
    ck_assert_int_eq(hood_output_commit(outs[0]), HOOD_EIO);
    ck_assert_int_eq(count_entries(), 0);

    /* Both written, then both committed: both appear, and they load. */
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(OPEN(&outs[i], paths[i]), HOOD_OK);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(hood_dataset_write(ds, outs[i], NULL, 0), HOOD_OK);
    ck_assert_int_eq(count_entries(), TEMPS(outs[0]) + TEMPS(outs[1]));
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(hood_output_commit(outs[i]), HOOD_OK);
    ck_assert_int_eq(count_entries(), 2);
    for (int i = 0; i < 2; i++) {
        hood_dataset *back = NULL;
        ck_assert_int_eq(hood_dataset_load(paths[i], NULL, &back), HOOD_OK);
        ck_assert_uint_eq(hood_dataset_samples(back), 1000);
        ck_assert_uint_eq(hood_dataset_features(back), 10);
        hood_dataset_free(back);
    }
    free(paths[0]);
    free(paths[1]);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

/* The commits themselves are separate: when the second fails (here its folder is gone), the
 * first stays committed (the CLI removes a new first half again) and no temporary is left. */
START_TEST(second_commit_can_fail_after_the_first)
{
    hood_test_make_tmpdir("atomic");
    if (!folder_has_o_tmpfile(hood_test_tmpdir())) {
        fprintf(stderr, "# skipped: %s has no O_TMPFILE\n", hood_test_tmpdir());
        hood_test_remove_tmpdir();
        return;
    }
    char *dirs[2] = {strdup(hood_test_in_tmp("a")), strdup(hood_test_in_tmp("b"))};
    char *paths[2] = {strdup(hood_test_in_tmp("a/x.csv")), strdup(hood_test_in_tmp("b/x.csv"))};
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 2, 3), HOOD_OK);
    hood_output *outs[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(mkdir(dirs[i], 0755), 0);
        ck_assert_int_eq(hood_output_open(&outs[i], paths[i]), HOOD_OK);
        ck_assert_int_eq(hood_dataset_write(ds, outs[i], NULL, 0), HOOD_OK);
    }
    ck_assert_int_eq(rmdir(dirs[1]), 0); /* empty: its temporary has no name */
    ck_assert_int_eq(hood_output_commit(outs[0]), HOOD_OK);
    ck_assert_int_eq(hood_output_commit(outs[1]), HOOD_EIO);
    ck_assert_msg(strstr(hood_last_error(), "b/x.csv: cannot write") != NULL, "%s",
                  hood_last_error());
    ck_assert_int_eq(access(paths[0], F_OK), 0);
    ck_assert_int_eq(count_entries(), 1); /* a/ only */
    for (int i = 0; i < 2; i++) {
        free(dirs[i]);
        free(paths[i]);
    }
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("atomic");
    TCase *tc = tcase_create("atomic");
    tcase_add_loop_test(tc, commit_creates_the_file, 0, 2);
    tcase_add_loop_test(tc, new_files_get_the_mode_fopen_gives, 0, 2);
    tcase_add_loop_test(tc, finish_then_abort_or_failed_commit, 0, 2);
    tcase_add_loop_test(tc, commit_replaces_and_keeps_the_mode, 0, 2);
    tcase_add_loop_test(tc, abort_leaves_the_old_file, 0, 2);
    tcase_add_loop_test(tc, failed_commit_leaves_the_old_file, 0, 2);
    tcase_add_test(tc, unwritable_folders_leave_nothing);
    tcase_add_loop_test(tc, rename_onto_a_folder_fails_cleanly, 0, 2);
    tcase_add_test(tc, unnamed_temporary_where_supported);
    tcase_add_loop_test(tc, sigkill_mid_write_leaves_the_old_file, 0, 2);
    tcase_add_loop_test(tc, longest_legal_names_work, 0, 2);
    tcase_add_loop_test(tc, dataset_halves_both_or_neither, 0, 2);
    tcase_add_test(tc, second_commit_can_fail_after_the_first);
    suite_add_tcase(s, tc);
    return s;
}
