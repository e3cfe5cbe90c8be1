/*
 * leaves.c: the leaves linked alone. The build links this program three
 * times, with every object of lib/, of store/ and lib/, and of
 * imagebuilder/ and lib/, so a leaf that calls into a layer above it
 * fails to build, whether or not another unit test uses that object.
 */
#include <stdio.h>

/* Reports the one check: the program linked. */
int
main(int argc, char **argv)
{
	printf("1..1\nok 1 - %s links alone\n", argc > 0 ? argv[0] : "leaf");
	return (0);
}
