/* atomic.h — the library's own names for hood_output (include/hood.h): writing a file so that it
 * is never seen half-written (an unnamed temporary in the target's folder, or a named one beside
 * it; fsync; link or rename; fsync the folder). Not public API beyond what hood.h declares. */
#ifndef HOOD_ATOMIC_H
#define HOOD_ATOMIC_H

#include "hood.h"

#include <stdbool.h>
#include <stdio.h>

typedef hood_output hood__atomic_file;

/* hood_output_open, with the unnamed temporary (O_TMPFILE) allowed or not: tests use false to
 * exercise the named fallback that file systems without O_TMPFILE get. */
hood_status hood__output_open_mode(hood_output **out, const char *path, bool allow_unnamed);
/* Whether file writes to an unnamed temporary (nothing in the folder until the commit). */
bool hood__output_is_unnamed(const hood_output *file);
/* The path file will be committed to (for messages and the format's extension). */
const char *hood__output_path(const hood_output *file);
/* A writer that failed half-way into a caller's output: the temporary is removed now, so a
 * later commit fails ("PATH: cannot write: Operation canceled") instead of placing half a file;
 * the caller still commits or aborts (either frees). */
void hood__output_discard(hood_output *file);

/* Creates the temporary in path's folder and opens it for writing. */
static inline hood_status hood__atomic_open(hood__atomic_file **out, const char *path)
{
    return hood_output_open(out, path);
}
/* The stream to write to (buffered). */
static inline FILE *hood__atomic_stream(hood__atomic_file *file)
{
    return hood_output_stream(file);
}
/* Flushes, fsyncs, closes and renames over the target; frees file. On failure the temporary
 * is removed, the target is untouched, and the message names path. */
static inline hood_status hood__atomic_commit(hood__atomic_file *file)
{
    return hood_output_commit(file);
}
/* Removes the temporary and frees file; the target is untouched. NULL is a no-op. */
static inline void hood__atomic_abort(hood__atomic_file *file)
{
    hood_output_abort(file);
}

#endif
