/* input.h — the one way io opens a file it reads: without blocking (a FIFO would hang open()),
 * regular files only (a FIFO, a device such as /dev/zero or /dev/urandom, a socket or a folder
 * is refused by name), and with the size fstat gives, which bounds every read after.
 * Not for image files (io/image.c reads those) or for outputs (io/atomic.c). */
#ifndef HOOD_INPUT_H
#define HOOD_INPUT_H

#include "hood.h"

#include <stdint.h>
#include <stdio.h>

/* Opens path read-only as a regular file; *fd and *size (bytes, from fstat) on success.
 * Errors name path: "PATH: cannot open for reading: REASON" or "PATH: is a FIFO, not a regular
 * file" (character device, block device, socket, folder likewise). */
hood_status hood__input_open(const char *path, int *fd, uint64_t *size);
/* The same as a buffered stream ("rb"); fclose it. */
hood_status hood__input_fopen(const char *path, FILE **out, uint64_t *size);

#endif
