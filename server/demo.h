/*
 * demo.h: `asud --demo`: generate the stand-in ImageBuilders and mirror
 * under a state directory and point the configuration at them, so that a
 * new user can request a build with curl a minute after cloning.
 */
#ifndef ASUD_DEMO_H
#define ASUD_DEMO_H

struct conf;

/* Prepares dir and c; returns -1 with *cause when the generator fails. */
int	demo_prepare(struct conf *c, const char *dir, char **cause);

#endif
