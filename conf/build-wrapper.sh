#!/bin/sh
# build-wrapper.sh: a minimal build_wrapper. asud runs every ImageBuilder
# command as "build-wrapper.sh make ...": this one records the command
# line in $ASUD_WRAPPER_LOG (when set) and then runs it unchanged. Replace
# the exec line with a sandbox of your choice, for example:
#   exec bwrap --die-with-parent --unshare-pid --ro-bind / / \
#       --bind "$PWD" "$PWD" --bind /var/lib/asud /var/lib/asud \
#       --dev /dev --proc /proc --tmpfs /tmp "$@"
if [ -n "$ASUD_WRAPPER_LOG" ]; then
	printf '%s\n' "$*" >> "$ASUD_WRAPPER_LOG"
fi
exec "$@"
