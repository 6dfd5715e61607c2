/* Temporary directories and files for tests; removed by tmpdir_remove. */
#ifndef BT_TEST_TMPDIR_H
#define BT_TEST_TMPDIR_H

/* Make a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path. */
char *tmpdir_make(const char *tag);
/* Write text to dir/rel, creating parent directories. Returns 0 on success. */
int tmpdir_write(const char *dir, const char *rel, const char *text);
/* rm -r dir and free the path. */
void tmpdir_remove(char *dir);

#endif
