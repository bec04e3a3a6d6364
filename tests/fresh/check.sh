#!/bin/sh
# make fresh-check: README's two commands on a bare Debian 12, in a
# container, the first time.
#
#	1. A Debian 12 base: debootstrap --variant=minbase bookworm from the
#	   mirror this machine's apt uses (read from its sources at run
#	   time; no mirror is named here), built once and cached outside the
#	   clone, in $FRESH_CACHE (/var/cache/lbauth-fresh).
#	2. Each run copies that base into a new root under $FRESH_TMP
#	   (/var/tmp), never reusing one, and gives it this machine's Debian
#	   apt sources, the few apt settings it needs to reach the mirror
#	   (apt-config dump: Check-Valid-Until, proxies without passwords)
#	   and its CA bundle, bind-mounted read-only, for Node
#	   (NODE_EXTRA_CA_CERTS) and apt over https.  No credentials: a
#	   proxy with a password, or /etc/apt/auth.conf, stops the check.
#	3. systemd-nspawn (--register=no --keep-unit, as
#	   tests/integ/systemd.test.mjs) runs, in /root/lbauth, the tree of
#	   "git archive HEAD" (what is committed, not the work tree):
#	     apt-get update && apt-get install -y make	README's first step
#	     make test					must pass at once
#	4. Then, in the same root but with a private network (the container
#	   has the loopback to itself, so port 8080 is its own), "make run"
#	   in its own process group, as in a terminal: wait for the URL
#	   line, run README's curl example (taken from README.md) and check
#	   that a token for ada comes back, send SIGINT to the group (Ctrl-C)
#	   and check that no process is left in the container.
#
# Prints how long each step took.  The log is tests/out/fresh-check.log;
# the container's tests/out/ is copied to tests/out/fresh/.  The root is
# removed at the end (FRESH_KEEP=1 keeps it and prints where it is).
# Needs root; "make fresh-check" installs debootstrap and
# systemd-container first (tests/deps.sh --fresh-check).
set -eu
cd "$(dirname "$0")/../.."
top=$PWD
suite=bookworm
cache=${FRESH_CACHE:-/var/cache/lbauth-fresh}
out=$top/tests/out
log=$out/fresh-check.log

die() {
	echo "fresh-check: $*" >&2
	exit 1
}
now() { date +%s; }
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, systemd-nspawn)"
for c in debootstrap systemd-nspawn git apt-config; do
	command -v $c >/dev/null 2>&1 || die "$c is missing: use \"make fresh-check\""
done
git rev-parse --verify -q HEAD >/dev/null || die "not in a git clone with a commit"
mkdir -p "$out" "$cache"
: >"$log"
say() { echo "fresh-check: $*" | tee -a "$log"; }
t0=$(now)

# --- The machine's Debian sources -----------------------------------
# Every enabled deb paragraph (deb822 .sources) or line (.list) whose
# suite is bookworm, bookworm-updates or bookworm-security, as written.
debian_sources() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$suite" 'BEGIN { RS = "" }
		{
			ok = 0; off = 0; deb = 0
			n = split($0, l, "\n")
			for (i = 1; i <= n; i++) {
				if (l[i] ~ /^[ \t]*#/) continue
				if (tolower(l[i]) ~ /^enabled:[ \t]*no/) off = 1
				t = tolower(l[i])
				if (t ~ /^types:/ && (" " substr(t, 7) " ") ~ /[ \t]deb[ \t]/) deb = 1
				if (tolower(l[i]) ~ /^suites:/) {
					v = l[i]; sub(/^[^:]*:/, "", v)
					if ((" " v " ") ~ ("[ \t]" s "(-updates|-security)?[ \t]")) ok = 1
				}
			}
			if (ok && deb && !off) {
				for (i = 1; i <= n; i++) if (l[i] !~ /^[ \t]*#/) print l[i]
				print ""
			}
		}' "$f"
	done
}
debian_lines() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v s="$suite" '$1 == "deb" {
			for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) break
			if ($(i + 1) ~ ("^" s "(-updates|-security)?$")) print
		}' "$f"
	done
}
# The mirror of the suite itself, for debootstrap: the first URI of a
# paragraph or line naming "bookworm" (not -updates or -security).
main_mirror() {
	{
		debian_sources | awk -v s="$suite" 'BEGIN { RS = "" } {
			u = ""; m = 0
			n = split($0, l, "\n")
			for (i = 1; i <= n; i++) {
				if (tolower(l[i]) ~ /^uris:/) { u = l[i]; sub(/^[^:]*:[ \t]*/, "", u); sub(/[ \t].*/, "", u) }
				if (tolower(l[i]) ~ /^suites:/ && (" " l[i] " ") ~ ("[ \t]" s "[ \t]")) m = 1
			}
			if (m && u != "") print u
		}'
		debian_lines | awk -v s="$suite" '{
			for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) break
			if ($(i + 1) == s) print $i
		}'
	} | head -n 1
}
mirror=$(main_mirror)
[ -n "$mirror" ] || die "no enabled \"$suite\" source in /etc/apt/sources.list or /etc/apt/sources.list.d/"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring is missing (apt-get install debian-archive-keyring)"

# The apt settings the container needs to reach the mirror as this
# machine does; credentials are never copied.
apt_reach() {
	apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|Retries|ForceIPv4|ForceIPv6|https?::Proxy|ftp::Proxy|https?::Timeout) ' || :
}
if apt_reach | grep -q '://[^/"]*@'; then
	die "this machine's apt proxy carries a password; the check copies no credentials"
fi
for f in /etc/apt/auth.conf /etc/apt/auth.conf.d/*; do
	[ -s "$f" ] && die "$f: apt authenticates to its mirror, and the check copies no credentials"
done
ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca" ] || die "no CA bundle at $ca"

# --- 1. The cached base ----------------------------------------------
key=$(printf '%s\n' "$suite" minbase "$mirror" "$(debootstrap --version)" |
    sha256sum | cut -c1-12)
base=$cache/base-$suite-$key
# One build at a time: a second check waits for the first's base.
exec 9>"$cache/lock"
flock 9
if [ ! -f "$base/.complete" ]; then
	say "building the base: debootstrap --variant=minbase $suite (once; cached in $base)"
	tb=$(now)
	rm -rf "$base.tmp"
	if ! debootstrap --variant=minbase --keyring="$keyring" "$suite" \
	    "$base.tmp" "$mirror" >>"$log" 2>&1; then
		tail -n 20 "$log" >&2
		die "debootstrap failed (log: $log)"
	fi
	rm -rf "$base"
	mv "$base.tmp" "$base"
	touch "$base/.complete"
	say "base built in $(($(now) - tb)) s ($(du -sh "$base" | cut -f1))"
fi
exec 9>&-
[ "${1:-}" = --base ] && exit 0

# --- 2. A new root from it ---------------------------------------------
tc=$(now)
root=$(mktemp -d "${FRESH_TMP:-/var/tmp}/lbauth-fresh.XXXXXX")
cleanup() {
	if [ "${FRESH_KEEP:-0}" = 1 ]; then
		echo "fresh-check: the root is kept: $root" >&2
	else
		rm -rf "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp -a "$base/." "$root/"
rm -f "$root/.complete" "$root/etc/apt/sources.list"
debian_sources >"$root/etc/apt/sources.list.d/debian.sources"
debian_lines >"$root/etc/apt/sources.list"
[ -s "$root/etc/apt/sources.list.d/debian.sources" ] ||
    rm -f "$root/etc/apt/sources.list.d/debian.sources"
{
	echo "// fresh-check: how this machine's apt reaches its mirror"
	apt_reach
	echo "Acquire::https::CaInfo \"/run/host-ca/ca-certificates.crt\";"
} >"$root/etc/apt/apt.conf.d/99fresh-check"
mkdir -p "$root/root/lbauth"
git archive --format=tar HEAD | tar -x -C "$root/root/lbauth"
say "root ready in $(($(now) - tc)) s: $root (base + git archive $(git rev-parse --short HEAD))"

# The inside of the container.
cat >"$root/root/fresh-install.sh" <<'SH'
set -eu
cd /root/lbauth
t=$(date +%s)
apt-get update
apt-get install -y make
echo "fresh-check: apt-get update && apt-get install -y make took $(($(date +%s) - t)) s"
t=$(date +%s)
rc=0
make test || rc=$?
echo "fresh-check: make test took $(($(date +%s) - t)) s, exit $rc"
exit $rc
SH
cat >"$root/root/fresh-run.sh" <<'SH'
set -u
cd /root/lbauth
fail() {
	echo "fresh-check: make run: $*"
	echo "--- make run's output:"
	cat /root/run.log
	exit 1
}
t=$(date +%s)
# As from a terminal: make in its own process group, which Ctrl-C
# signals as a whole, with SIGINT's default action (sh starts a
# background job with SIGINT ignored, and a shell cannot trap a signal
# ignored at its start: nginx/run.sh's Ctrl-C trap would never run).
: >/root/run.log
env --default-signal=INT setsid make run >/root/run.log 2>&1 </dev/null &
job=$!
i=0
until grep -q '^The demo is running: http' /root/run.log; do
	kill -0 $job 2>/dev/null || fail "exited before its URL line"
	i=$((i + 1))
	[ $i -le 600 ] || fail "no URL line after 300 s"
	sleep 0.5
done
echo "fresh-check: make run printed its URL after $(($(date +%s) - t)) s: $(sed -n 's/^The demo is running: //p' /root/run.log)"
# README's curl example, as README writes it.
awk '/^To try the endpoint with `curl` instead:/ { f = 1; next }
    f && /^```sh/ { c = 1; next } c && /^```/ { exit } c' README.md >/root/curl.sh
[ -s /root/curl.sh ] || fail "README has no curl example"
answer=$(sh /root/curl.sh 2>&1)
case $answer in
'{"token":"'*'"}') ;;
*) fail "README's curl example answered: $answer" ;;
esac
body=$(printf '%s' "$answer" | cut -d. -f2 | tr '_-' '/+')
while [ $((${#body} % 4)) -ne 0 ]; do body="$body="; done
claims=$(printf '%s' "$body" | base64 -d)
case $claims in
*'"uid":"ada"'*) ;;
*) fail "the token is not ada's: $claims" ;;
esac
echo "fresh-check: README's curl example: a token for ada ($claims)"
pg=$(ps -o pgid= -p $job | tr -d ' ')
kill -INT "-$pg"	# dash: no "--"
wait $job
echo "fresh-check: make run exited $? on SIGINT"
i=0
while :; do
	ps -e -o pid=,comm= >/root/ps.txt
	left=$(awk -v me=$$ '$1 != 1 && $1 != me && $2 != "ps"' /root/ps.txt)
	[ -z "$left" ] && break
	i=$((i + 1))
	[ $i -le 20 ] || fail "still running 10 s after SIGINT:
$left"
	sleep 0.5
done
echo "fresh-check: nothing left running after SIGINT"
SH

# --- 3 and 4. In the container -----------------------------------------
nspawn() {	# nspawn SECONDS ARG...: in the root, for at most SECONDS
	secs=$1
	shift
	timeout -k 30 "$secs" systemd-nspawn -q --register=no --keep-unit --as-pid2 --pipe \
	    -D "$root" --bind-ro="$ca:/run/host-ca/ca-certificates.crt" \
	    --setenv=NODE_EXTRA_CA_CERTS=/run/host-ca/ca-certificates.crt \
	    --setenv=HOME=/root --setenv=LANG=C.UTF-8 \
	    --setenv=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    "$@"
}
keep_logs() {
	rm -rf "$out/fresh"
	[ -d "$root/root/lbauth/tests/out" ] &&
	    cp -a "$root/root/lbauth/tests/out" "$out/fresh" || :
}
# Runs "nspawn SECONDS ARG..." with its output appended to the log,
# and shows its summary lines: timings, what deps.sh installed, the
# suite's skips and failures and its total.
contained() {
	rc=0
	nspawn "$@" >"$log.part" 2>&1 </dev/null || rc=$?
	cat "$log.part" >>"$log"
	grep '^fresh-check: \|^deps: \|^[0-9]* passed, [0-9]* failed\|^FAIL\|^skip' "$log.part" || :
	[ "$rc" -eq 0 ] || tail -n 40 "$log.part" >&2
	rm -f "$log.part"
	return "$rc"
}
say "in the container: apt-get update && apt-get install -y make, then make test"
ti=$(now)
rc=0
contained "${FRESH_TIMEOUT:-1800}" /bin/sh /root/fresh-install.sh || rc=$?
keep_logs
if [ "$rc" -ne 0 ]; then
	die "FAILED: README's install and make test in the container (exit $rc, $(($(now) - ti)) s; log $log, test logs in $out/fresh/)"
fi
say "in the container: install and make test passed in $(($(now) - ti)) s"

tr=$(now)
rc=0
contained 600 --private-network /bin/sh /root/fresh-run.sh || rc=$?
[ "$rc" -eq 0 ] || die "FAILED: make run in the container (exit $rc; log $log)"
say "make run check passed in $(($(now) - tr)) s"
say "passed in $(($(now) - t0)) s"
