/* pkgerr.c: not written yet */
