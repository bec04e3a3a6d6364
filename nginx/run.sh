#!/bin/sh
# make run: lbauth as FastCGI (spawn-fcgi) behind a local nginx on
# 127.0.0.1:$PORT (default 8080), with development keys and config
# generated under run/ (git-ignored) on first use.  Ctrl-C stops both.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
run=$top/run
port=${PORT:-8080}

mkdir -p "$run/nginx"
chmod 700 "$run"
[ -f "$run/signing.key" ] || ./lbauthctl keygen -o "$run/signing.key" >/dev/null
[ -f "$run/cookie.secret" ] || ./lbauthctl keygen -t hs256 -o "$run/cookie.secret"
if [ ! -f "$run/lbauth.conf" ]; then
	cat >"$run/lbauth.conf" <<CONF
# Development config written by "make run"; see nginx/lbauth.conf for
# every key.  Edit freely: it is not overwritten.
backend = local
cookie_secret_file = cookie.secret
signing_key_file = signing.key
project_id = dev
allowed_origins = http://localhost:5173 http://127.0.0.1:5173
CONF
fi
./lbauthctl check -c "$run/lbauth.conf"
./lbauthctl jwks -c "$run/lbauth.conf" >"$run/jwks.json"

user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
sed -e "s|@USER_LINE@|$user_line|" -e "s|@PREFIX@|$run/nginx|g" \
    -e "s|@PORT@|$port|" -e "s|@PASS@|unix:$run/lbauth.sock|" \
    -e "s|@JWKS@|$run/jwks.json|" -e "s|@[A-Z_]*EXTRA@||" \
    nginx/dev.conf.in >"$run/nginx/nginx.conf"

rm -f "$run/lbauth.sock"
LBAUTH_CONFIG="$run/lbauth.conf" spawn-fcgi -n -s "$run/lbauth.sock" \
    -M 0666 -- "$top/lbauth" &
fcgi=$!
nginx -p "$run/nginx" -c "$run/nginx/nginx.conf" -e "$run/nginx/error.log" &
web=$!
trap 'kill $fcgi $web 2>/dev/null; wait 2>/dev/null; exit 0' INT TERM
trap 'kill $fcgi $web 2>/dev/null' EXIT

url=http://127.0.0.1:$port/api/liveblocks-auth
i=0
until curl -s -o /dev/null "$url" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 $web 2>/dev/null || ! kill -0 $fcgi 2>/dev/null; then
		echo "make run: nginx or lbauth did not start (port $port in use? try PORT=8081 make run)" >&2
		exit 1
	fi
	sleep 0.1
done

cookie=$(./lbauthctl cookie -c "$run/lbauth.conf" -s ada -o acme -n Ada -t 86400)
answer=$(curl -s -X POST -H 'Content-Type: application/json' \
    -b "session=$cookie" -d '{"room":"acme:doc-1"}' "$url")
case $answer in
*'"token"'*) ;;
*) echo "make run: self-test failed: $answer" >&2; exit 1 ;;
esac

cat <<MSG

lbauth is running: $url
  (FastCGI via spawn-fcgi, pid $fcgi; nginx pid $web; config $run/lbauth.conf)
  public keys: http://127.0.0.1:$port/.well-known/jwks.json

Try it, as user "ada" of org "acme":
  COOKIE=\$(./lbauthctl cookie -c run/lbauth.conf -s ada -o acme -n Ada)
  curl -s -X POST -H 'Content-Type: application/json' -b "session=\$COOKIE" \\
      -d '{"room":"acme:doc-1"}' $url
  ./lbauthctl verify -c run/lbauth.conf TOKEN

Request log below.  Ctrl-C stops lbauth and nginx.

MSG
wait
