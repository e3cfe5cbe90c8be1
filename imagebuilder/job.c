/* job.c: not written yet */
