/*
 * pidtab.c: the process groups of running jobs, kept on disk so that a
 * daemon started after a crash can end what its predecessor left
 * running. One file, mapped shared and written in place: a header line
 * with the boot id, then one fixed-width record per slot, a pid or 0.
 * Adding or dropping a group is a store into the page cache, which
 * outlives a crash of the daemon; no file is created or removed per job
 * and no system call made.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "imagebuilder/pidtab.h"

#define PIDTAB_FILE	"groups"
#define PIDTAB_HEAD	64	/* bytes of the boot id line */
#define PIDTAB_REC	12	/* bytes of a record: "%11ld\n" */
#define PIDTAB_MAX	4096	/* records read back at most */

#define PIDTAB_SIZE	(PIDTAB_HEAD + PIDTAB_MAX * PIDTAB_REC)

static char		*pidtab_map;		/* or NULL: no table */
static char		 pidtab_boot[PIDTAB_HEAD];
static unsigned char	*pidtab_used;
static size_t		 pidtab_n;

/* The boot this machine is in: a table from another boot is void. */
static void
pidtab_boot_id(char *buf, size_t len)
{
	ssize_t	n = -1;
	int	fd;

	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd != -1) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Startup only: waits (up to 10 s) until a killed group has gone. */
static void
pidtab_wait_group(pid_t pgid)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		i;

	for (i = 0; i < 1000 && kill(-pgid, 0) == 0; i++)
		nanosleep(&ts, NULL);
}

/* Kills a group an earlier daemon of this boot left running. */
static void
pidtab_end(long pid)
{
	if (pid <= 1 || kill(-(pid_t)pid, SIGKILL) != 0)
		return;
	log_info("killed the leftover build process group %ld", pid);
	pidtab_wait_group((pid_t)pid);
}

/* A file per group, as older daemons kept them: ended and removed. */
static void
pidtab_legacy(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		*path, *end, buf[PIDTAB_HEAD];
	long		 pid;
	ssize_t		 n;
	int		 fd;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 1)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		n = -1;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW)) != -1) {
			n = read(fd, buf, sizeof buf - 1);
			close(fd);
		}
		buf[n > 0 ? n : 0] = '\0';
		if (strcmp(buf, pidtab_boot) == 0)
			pidtab_end(pid);
		unlink(path);
		free(path);
	}
	closedir(d);
}

/*
 * Ends every group the table lists, if it was written in this boot. The
 * table is read in one go: a record a crash left half written ends in no
 * newline and is passed over.
 */
static void
pidtab_replay(int fd)
{
	char	*buf, *rec, *end;
	ssize_t	 n;
	long	 pid;
	size_t	 i, len;

	buf = xmalloc(PIDTAB_SIZE + 1);
	n = pread(fd, buf, PIDTAB_SIZE, 0);
	len = n > 0 ? (size_t)n : 0;
	buf[len] = '\0';
	if (len < PIDTAB_HEAD || buf[PIDTAB_HEAD - 1] != '\n') {
		free(buf);
		return;
	}
	buf[PIDTAB_HEAD - 1] = '\0';
	buf[strcspn(buf, " ")] = '\0';
	if (*pidtab_boot == '\0' || strcmp(buf, pidtab_boot) != 0) {
		free(buf);
		return;
	}
	for (i = 0; PIDTAB_HEAD + (i + 1) * PIDTAB_REC <= len; i++) {
		rec = buf + PIDTAB_HEAD + i * PIDTAB_REC;
		if (rec[PIDTAB_REC - 1] != '\n')
			continue;
		pid = strtol(rec, &end, 10);
		if (end == rec + PIDTAB_REC - 1)
			pidtab_end(pid);
	}
	free(buf);
}

/* Empties the table and maps it; -1 on failure. */
static int
pidtab_reset(int fd)
{
	char	*map;

	if (ftruncate(fd, 0) == -1 || ftruncate(fd, PIDTAB_SIZE) == -1)
		return (-1);
	map = mmap(NULL, PIDTAB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (map == MAP_FAILED)
		return (-1);
	memset(map, ' ', PIDTAB_HEAD);
	memcpy(map, pidtab_boot, strnlen(pidtab_boot, PIDTAB_HEAD - 1));
	map[PIDTAB_HEAD - 1] = '\n';
	pidtab_map = map;
	return (0);
}

/* See pidtab.h. */
void
pidtab_open(const char *dir)
{
	char	*path;
	int	 fd;

	pidtab_close();
	pidtab_boot_id(pidtab_boot, sizeof pidtab_boot);
	pidtab_legacy(dir);
	xasprintf(&path, "%s/%s", dir, PIDTAB_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		log_warn("%s", path);
		free(path);
		return;
	}
	pidtab_replay(fd);
	if (pidtab_reset(fd) == -1)
		log_warn("%s", path);
	close(fd);
	free(path);
}

/* Writes one record. */
static void
pidtab_write(size_t slot, long pid)
{
	char	rec[PIDTAB_REC + 1];

	snprintf(rec, sizeof rec, "%11ld\n", pid);
	memcpy(pidtab_map + PIDTAB_HEAD + slot * PIDTAB_REC, rec, PIDTAB_REC);
}

/* See pidtab.h. */
int
pidtab_add(pid_t pid)
{
	size_t	slot;

	if (pidtab_map == NULL)
		return (-1);
	for (slot = 0; slot < pidtab_n && pidtab_used[slot]; slot++)
		;
	if (slot == PIDTAB_MAX)
		return (-1);
	if (slot == pidtab_n) {
		pidtab_used = xreallocarray(pidtab_used, ++pidtab_n, 1);
		pidtab_used[slot] = 0;
	}
	pidtab_used[slot] = 1;
	pidtab_write(slot, (long)pid);
	return ((int)slot);
}

/* See pidtab.h. */
void
pidtab_del(int slot)
{
	if (pidtab_map == NULL || slot < 0 || (size_t)slot >= pidtab_n)
		return;
	pidtab_used[slot] = 0;
	pidtab_write((size_t)slot, 0);
}

/* See pidtab.h. */
void
pidtab_close(void)
{
	if (pidtab_map != NULL)
		munmap(pidtab_map, PIDTAB_SIZE);
	pidtab_map = NULL;
	free(pidtab_used);
	pidtab_used = NULL;
	pidtab_n = 0;
}
