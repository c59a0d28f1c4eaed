/* replay_main.c — runs a libFuzzer target without libFuzzer: calls LLVMFuzzerTestOneInput on
 * every file of the folders (or files) named on the command line, in sorted order, and prints
 * TAP ("ok 3 - corpus/csv/ragged") so scripts/test counts each input. A crash is the failure;
 * an input that does not crash is "ok". Each input sits in a buffer of exactly its size, so
 * ASan sees any read past its end. Not a fuzzer: it only replays. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

typedef struct input_list {
    char **paths;
    size_t count, capacity;
} input_list;

static int add_path(input_list *list, const char *path)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity > 0 ? 2 * list->capacity : 64;
        char **grown = realloc(list->paths, capacity * sizeof *grown);
        if (grown == NULL)
            return -1;
        list->paths = grown;
        list->capacity = capacity;
    }
    if ((list->paths[list->count] = strdup(path)) == NULL)
        return -1;
    list->count++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds path, or every non-hidden regular file in it when it is a folder. */
static int collect(input_list *list, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: cannot stat %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return add_path(list, path);
    DIR *dir = opendir(path);
    if (dir == NULL) {
        fprintf(stderr, "replay: cannot open folder %s\n", path);
        return -1;
    }
    size_t first = list->count;
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(dir)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
            rc = add_path(list, full);
    }
    closedir(dir);
    qsort(list->paths + first, list->count - first, sizeof *list->paths, by_name);
    return rc;
}

/* "corpus/csv/name": the last three components, enough to find the file. */
static const char *short_name(const char *path)
{
    const char *p = path + strlen(path);
    int slashes = 0;
    while (p > path && slashes < 3)
        if (*--p == '/')
            slashes++;
    return slashes == 3 ? p + 1 : path;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    input_list list = {0};
    for (int i = 1; i < argc; i++)
        if (collect(&list, argv[i]) != 0)
            return 2;
    if (list.count == 0) {
        fprintf(stderr, "replay: no inputs (usage: %s FOLDER_OR_FILE...)\n", argv[0]);
        return 2;
    }
    printf("1..%zu\n", list.count);
    fflush(stdout);
    for (size_t i = 0; i < list.count; i++) {
        FILE *f = fopen(list.paths[i], "rb");
        if (f == NULL) {
            printf("not ok %zu - %s: cannot open\n", i + 1, short_name(list.paths[i]));
            continue;
        }
        size_t capacity = 4096, size = 0;
        uint8_t *data = malloc(capacity);
        for (size_t got; data != NULL && (got = fread(data + size, 1, capacity - size, f)) > 0;) {
            size += got;
            if (size == capacity) {
                uint8_t *grown = realloc(data, capacity *= 2);
                if (grown == NULL)
                    free(data);
                data = grown;
            }
        }
        fclose(f);
        if (data == NULL) {
            printf("not ok %zu - %s: out of memory\n", i + 1, short_name(list.paths[i]));
            continue;
        }
        /* An exact-size copy: reading one byte past the input is then an ASan report. */
        uint8_t *exact = malloc(size > 0 ? size : 1);
        if (exact == NULL) {
            free(data);
            printf("not ok %zu - %s: out of memory\n", i + 1, short_name(list.paths[i]));
            continue;
        }
        memcpy(exact, data, size);
        free(data);
        LLVMFuzzerTestOneInput(exact, size);
        free(exact);
        printf("ok %zu - %s\n", i + 1, short_name(list.paths[i]));
        fflush(stdout);
    }
    for (size_t i = 0; i < list.count; i++)
        free(list.paths[i]);
    free(list.paths);
    return 0;
}
