#!/bin/sh
# Installs what lbauth needs to build, run and test, on Debian 12, once:
# Debian packages through apt-get (as root, or with sudo) and the
# test-only npm packages pinned by package-lock.json through "npm ci".
# Run by "make test" and "make run"; does nothing when all is there.
set -eu
cd "$(dirname "$0")/.."

missing=""
need() {	# need PACKAGE TEST...: PACKAGE is missing when TEST fails
	pkg=$1; shift
	"$@" >/dev/null 2>&1 || missing="$missing $pkg"
}
need build-essential	command -v cc
need make		command -v make
need pkg-config		command -v pkg-config
need libfcgi-dev	test -f /usr/include/fcgiapp.h
need libfcgi-bin	command -v cgi-fcgi
need libjson-c-dev	pkg-config --exists json-c
need libsodium-dev	pkg-config --exists libsodium
need libcurl4-openssl-dev	pkg-config --exists libcurl
need libseccomp-dev	pkg-config --exists libseccomp
need libtsan2		test -e /usr/lib/x86_64-linux-gnu/libtsan.so.2 -o -e /usr/lib/$(gcc -print-multiarch 2>/dev/null)/libtsan.so.2	# make tsan
need clang		command -v clang
need libclang-rt-14-dev	test -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
need spawn-fcgi		command -v spawn-fcgi
need nginx-light	command -v nginx
need apache2		test -x /usr/sbin/apache2
need libapache2-mod-fcgid	test -f /usr/lib/apache2/modules/mod_fcgid.so
need apache2-suexec-pristine	test -x /usr/lib/apache2/suexec	# apache.test.mjs: suexec
need procps		command -v pgrep
need systemd		command -v systemd-socket-activate
need systemd-container	command -v systemd-nspawn	# tests/integ/systemd.test.mjs
need mandoc		command -v mandoc
need man-db		command -v man
need groff-base		command -v nroff
need util-linux		command -v setpriv
need valgrind		command -v callgrind_annotate
need wrk		command -v wrk		# make bench
need hyperfine		command -v hyperfine	# make bench
need curl		command -v curl
need openssl		command -v openssl	# test CA for the https upstream test
need nodejs		command -v node
need npm		command -v npm
need chromium		test -x /usr/bin/chromium	# tests/integ/demo.test.mjs

if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $missing >/dev/null
	# The nginx and apache2 packages start a system nginx or Apache
	# on port 80 (whichever comes second finds the port taken and
	# stays stopped, which apt does not count as an error); lbauth's
	# tests and "make run" start their own on other ports with their
	# own configs, so leave the system alone but do not depend on it.
fi

# npm ci only when the lock changed since the last install.
if [ ! -f node_modules/.package-lock.json ] ||
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "deps: npm ci"
	npm ci --no-audit --no-fund --loglevel=error
fi
