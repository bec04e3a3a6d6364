#!/bin/sh
# Runs the whole suite: every unit-test binary given as an argument,
# then the integration tests (node's test runner over tests/integ/,
# which start their own nginx, spawn-fcgi and CGI runs on loopback).
# Prints ok/FAIL per unit binary and per integration file, and ends
# with one "N passed, N failed" line; exits non-zero on any failure.
#
#	--unit-only	skip the integration tests
#	VALGRIND=1	run the unit binaries under valgrind memcheck
#	TEST_TIMEOUT=S	seconds one integration file may take (900)
#	INTEG="F ..."	only these integration files
set -u
cd "$(dirname "$0")/.."

unit_only=0
if [ "${1:-}" = "--unit-only" ]; then
	unit_only=1
	shift
fi
passed=0
failed=0
out=tests/out
mkdir -p "$out"

for t in "$@"; do
	name=$(basename "$t")
	if [ "${VALGRIND:-0}" = 1 ]; then
		set -- valgrind -q --leak-check=full --show-leak-kinds=all \
		    --errors-for-leak-kinds=all --error-exitcode=99 \
		    --suppressions=tests/valgrind/dlopen.supp "$t"
	else
		set -- "$t"
	fi
	if "$@" >"$out/$name.log" 2>&1; then
		echo "ok   $name ($(tail -n 1 "$out/$name.log"))"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		sed 's/^/     /' "$out/$name.log"
		failed=$((failed + 1))
	fi
done

if [ "$unit_only" = 0 ]; then
	for f in ${INTEG:-tests/integ/*.test.mjs}; do
		name=$(basename "$f")
		# A file that hangs fails after TEST_TIMEOUT seconds (exit
		# 124) instead of holding the whole run.
		timeout -k 10 "${TEST_TIMEOUT:-900}" \
		    node --test --test-reporter=tap "$f" >"$out/$name.log" 2>&1
		rc=$?
		[ "$rc" -eq 124 ] && echo "# timed out after ${TEST_TIMEOUT:-900} s" >>"$out/$name.log"
		p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out/$name.log" | tail -n 1)
		x=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out/$name.log" | tail -n 1)
		k=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$out/$name.log" | tail -n 1)
		p=${p:-0}
		x=${x:-0}
		k=${k:-0}
		if [ "$rc" -eq 0 ] && [ "$x" -eq 0 ] && [ "$p" -gt 0 ]; then
			echo "ok   $name ($p tests, $k skipped)"
		elif [ "$rc" -eq 0 ] && [ "$x" -eq 0 ] && [ "$k" -gt 0 ]; then
			# Every test of the file said why it cannot run here.
			echo "skip $name ($k skipped: $(sed -n 's/^.*# SKIP *//p' \
			    "$out/$name.log" | head -n 1))"
		else
			echo "FAIL $name ($p passed, $x failed, exit $rc)"
			grep -B 3 -A 25 '^ *not ok' "$out/$name.log" | head -n 150 |
			    sed 's/^/     /'
			grep '^# timed out' "$out/$name.log" | sed 's/^/     /'
			[ "$x" -eq 0 ] && x=1
		fi
		passed=$((passed + p))
		failed=$((failed + x))
	done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
