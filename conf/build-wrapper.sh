#!/bin/sh
# build-wrapper.sh: a minimal build_wrapper. asud runs every ImageBuilder
# command as "build-wrapper.sh bwrap ... -- make ..." (with sandbox = off,
# "build-wrapper.sh make ..."): this one records the command line in
# $ASUD_WRAPPER_LOG (when set) and then runs it unchanged. The wrapper
# runs outside the sandbox; put host-side things here (nice, prlimit,
# systemd-run --scope), for example:
#   exec nice -n 10 "$@"
if [ -n "$ASUD_WRAPPER_LOG" ]; then
	printf '%s\n' "$*" >> "$ASUD_WRAPPER_LOG"
fi
exec "$@"
