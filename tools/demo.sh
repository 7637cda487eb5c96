#!/bin/sh
# tools/demo.sh: `make demo`: boot configs/demo.toml and explain the result.
cd "$(dirname "$0")/.." || exit 1
echo "== fukivmm demo: a guest brings its own firmware (configs/demo.toml)"
echo
build/fukivmm run configs/demo.toml
st=$?
echo
case $st in
65) echo "== demo finished: the guest passed (debug-exit status 65)" ;;
2)  echo "== fukivmm could not start (status 2): see the message above" ;;
*)  echo "== demo ended with status $st" ;;
esac
[ $st = 65 ]
