/* check_main.h — each tests/test_*.c defines hood_test_suite(); check_main.c runs it. */
#ifndef HOOD_CHECK_MAIN_H
#define HOOD_CHECK_MAIN_H

#include <check.h>

Suite *hood_test_suite(void);

/* A fresh folder /tmp/hood-test-<room>-XXXXXX for the current case (one at a time). */
const char *hood_test_make_tmpdir(const char *room);
const char *hood_test_tmpdir(void);
/* Removes it and everything in it. */
void hood_test_remove_tmpdir(void);
/* "<tmpdir>/<name>"; the result stays valid across one further call. */
const char *hood_test_in_tmp(const char *name);

#endif
