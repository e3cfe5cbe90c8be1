/* pkglist.c: not written yet */
