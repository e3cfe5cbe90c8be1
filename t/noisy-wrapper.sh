#!/bin/sh
# A build_wrapper for tests: prints $NOISE_MB megabytes of log lines
# before running the ImageBuilder command, so that a log can outgrow a
# slow follower.
if [ -n "$NOISE_MB" ]; then
	yes 'asud test noise: a long line of ImageBuilder output, repeated' |
	    head -c "$((NOISE_MB * 1024 * 1024))" >&2
fi
exec "$@"
