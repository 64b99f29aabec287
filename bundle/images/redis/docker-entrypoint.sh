#!/bin/sh
# As in the upstream image: bare options (args: ["--replicaof", "redis-master",
# "6379"]) are handed to redis-server.
set -e
case "$1" in
  -*) set -- redis-server "$@" ;;
esac
exec "$@"
