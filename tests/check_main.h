/* check_main.h — each tests/test_*.c defines hood_test_suite(); check_main.c runs it. */
#ifndef HOOD_CHECK_MAIN_H
#define HOOD_CHECK_MAIN_H

#include <check.h>

Suite *hood_test_suite(void);

#endif
