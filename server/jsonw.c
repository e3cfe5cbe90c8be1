/* jsonw.c: not written yet */
