/* atomic.h — writing a file so that it is never seen half-written: write to a temporary file
 * beside the target, fsync, rename over the target, fsync the folder. Not public API. */
#ifndef HOOD_ATOMIC_H
#define HOOD_ATOMIC_H

#include "hood.h"

#include <stdio.h>

typedef struct hood__atomic_file hood__atomic_file;

/* Creates "<path>.tmp.XXXXXX" in path's folder and opens it for writing. */
hood_status hood__atomic_open(hood__atomic_file **out, const char *path);
/* The stream to write to (buffered). */
FILE *hood__atomic_stream(hood__atomic_file *file);
/* Flushes, fsyncs, closes and renames over the target; frees file. On failure the temporary
 * is removed, the target is untouched, and the message names path. */
hood_status hood__atomic_commit(hood__atomic_file *file);
/* Removes the temporary and frees file; the target is untouched. NULL is a no-op. */
void hood__atomic_abort(hood__atomic_file *file);

#endif
