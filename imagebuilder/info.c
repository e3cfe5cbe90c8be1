/* info.c: not written yet */
