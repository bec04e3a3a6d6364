# lbauth: one GNU Makefile, no configure step (see README "Building").
#
#	make		build lbauth, lbauthctl and the example plugin
#	make test	install what the tests need, then run every test
#	make run	run the endpoint on a local nginx with dev keys
#	make asan	the test suite under AddressSanitizer + UBSan
#	make valgrind	the unit tests under valgrind memcheck
#	make clean

PREFIX	?= /usr/local
CC	?= cc
PKGS	 = json-c libsodium
# seccomp (Linux): the worker sandbox; built without it when absent.
SECCOMP_CFLAGS := $(shell pkg-config --exists libseccomp 2>/dev/null && echo -DHAVE_SECCOMP)
SECCOMP_LIBS   := $(shell pkg-config --libs libseccomp 2>/dev/null)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljson-c -lsodium)
FCGI_LIBS  := $(shell pkg-config --libs fcgi 2>/dev/null || echo -lfcgi)

WARN	 = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-unused-parameter
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE $(WARN) -fvisibility=hidden -fPIC \
	   -fstack-protector-strong -D_FORTIFY_SOURCE=2 $(PKG_CFLAGS)
ifeq ($(CI),true)
CFLAGS	+= -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -O1
LDFLAGS	+= -fsanitize=address,undefined
endif
LDLIBS	 = $(PKG_LIBS) -ldl

LIB_SRCS = lib/app.c lib/b64.c lib/buf.c lib/conf.c lib/cookie.c lib/err.c \
	   lib/json.c lib/jwt.c lib/keyfile.c lib/log.c lib/policy.c \
	   lib/req.c lib/resp.c lib/session.c lib/token.c lib/upstream.c \
	   lib/apibody.c lib/utf8.c lib/verify.c
LIB_OBJS = $(LIB_SRCS:.c=.o)
UNIT_TESTS = $(patsubst tests/unit/%.c,tests/unit/%,$(wildcard tests/unit/test-*.c))
PLUGINS	 = tests/plugin/example.so tests/plugin/badabi.so tests/plugin/forbidden.so

all: lbauth lbauthctl $(PLUGINS)

$(LIB_OBJS): lib/lbauth.h lib/extern.h

liblbauth.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

# -rdynamic: a policy plugin resolves lbauth_* (the LBAUTH_API symbols,
# the only ones not hidden) against the binary.
lbauth: cgi/lbauth.o cgi/master.o cgi/sandbox.o liblbauth.a
	$(CC) $(LDFLAGS) -rdynamic -o $@ cgi/lbauth.o cgi/master.o cgi/sandbox.o liblbauth.a $(FCGI_LIBS) $(SECCOMP_LIBS) $(LDLIBS)

cgi/sandbox.o: cgi/sandbox.c cgi/sandbox.h lib/lbauth.h
	$(CC) $(CFLAGS) $(SECCOMP_CFLAGS) -c -o $@ cgi/sandbox.c

lbauthctl: cgi/lbauthctl.o liblbauth.a
	$(CC) $(LDFLAGS) -rdynamic -o $@ cgi/lbauthctl.o liblbauth.a $(LDLIBS)

cgi/lbauth.o cgi/lbauthctl.o cgi/master.o: lib/lbauth.h lib/extern.h cgi/master.h cgi/sandbox.h

tests/plugin/%.so: tests/plugin/%.c lib/lbauth.h
	$(CC) $(CFLAGS) -shared -o $@ $<

tests/unit/%: tests/unit/%.c tests/test.h liblbauth.a
	$(CC) $(CFLAGS) $(LDFLAGS) -rdynamic -o $@ $< liblbauth.a $(LDLIBS)

# Installs what building and testing need on Debian (apt, npm), once.
deps:
	@sh tests/deps.sh

test: deps all $(UNIT_TESTS)
	@sh tests/run.sh $(UNIT_TESTS)

run: deps all
	@sh nginx/run.sh

asan:
	$(MAKE) clean
	$(MAKE) SANITIZE=1 test

valgrind: all $(UNIT_TESTS)
	@VALGRIND=1 sh tests/run.sh --unit-only $(UNIT_TESTS)

# SOAK_REQUESTS (default 1000000) good and bad requests through nginx
# to a 2-worker master; fails on any unexpected status or RSS growth.
soak: deps all
	@node tests/soak/soak.mjs

clean:
	rm -f lbauth lbauthctl liblbauth.a lib/*.o cgi/*.o $(PLUGINS) $(UNIT_TESTS)

.PHONY: all deps test run asan valgrind soak clean
