/* queue.c: not written yet */
