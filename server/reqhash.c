/* reqhash.c: not written yet */
