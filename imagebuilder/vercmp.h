/*
 * vercmp.h: the order of version strings, as a router's package manager
 * sees it: opkg's (dpkg's) [epoch:]version[-revision] with apk's
 * suffixes, and OpenWrt release versions, whose release candidates come
 * before the release. Pure functions of two strings: any text compares.
 */
#ifndef ASUD_VERCMP_H
#define ASUD_VERCMP_H

/*
 * Compares two package versions: <0, 0 or >0 as a is older, the same or
 * newer than b. An epoch ("1:2.0") wins over everything after it; a
 * revision ("-r4") is compared after the rest. Within each part digits
 * compare as numbers and other characters by code, letters before other
 * characters; "~" and apk's "_alpha", "_beta", "_pre" and "_rc" come
 * before the end, so "1.0~git" and "1.0_rc1" are older than "1.0".
 */
int	vercmp_package(const char *a, const char *b);
/*
 * Compares two OpenWrt versions ("23.05.5", "24.10.0-rc1", branch names
 * such as "24.10"): numbers as numbers, a release candidate before its
 * release ("24.10.0-rc1" < "24.10.0").
 */
int	vercmp_release(const char *a, const char *b);

#endif
