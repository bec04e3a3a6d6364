<?php
// laravel.php: laravel session-cookie vectors for tests/unit/test-sid.c,
// made by the real Illuminate Encrypter and CookieValuePrefix (Debian's
// php-laravel-framework) exactly as EncryptCookies encrypts a cookie
// (no serialization, the v2 prefix), under each of the four ciphers the
// Encrypter supports (config/app.php's 'cipher', lbauth's
// laravel_cipher), then rawurlencode()d as Symfony's Cookie writes the
// header.  Each row's expected id is what the Encrypter itself returns
// when it reads the cookie back under that cipher (NULL: it refused).
//
//	php tests/vectors/sid/laravel.php > tests/vectors/sid/laravel.h
require '/usr/share/php/Illuminate/Encryption/autoload.php';
require '/usr/share/php/Illuminate/Cookie/autoload.php';
use Illuminate\Encryption\Encrypter;
use Illuminate\Cookie\CookieValuePrefix;

$keys = [
	32 => [str_repeat("\x01", 16) . "lbauth-laravel-1", "lbauth-laravel-previous-key-2!!!"],
	16 => ["lbauth-laravel-1", "lbauth-prev-k2!!"],
];
$ciphers = ['AES-256-CBC' => 32, 'AES-128-CBC' => 16, 'AES-256-GCM' => 32, 'AES-128-GCM' => 16];
$name = 'laravel_session';
$sid = 'J2Hk7oXx0bq9LrYz3sWd1uVfA4cTn6eQm8pGiE5y';

function make($cipher, $key, $plain) {
	$e = new Encrypter($key, $cipher);
	return rawurlencode($e->encrypt($plain, false));
}
function check($cipher, $key, $name, $cookie) {
	// PHP fills $_COOKIE with rawurldecode() ('+' is kept: PHP 8's
	// php_raw_url_decode for cookies), then EncryptCookies::decrypt()
	// does this.
	try {
		$e = new Encrypter($key, $cipher);
		$v = $e->decrypt(rawurldecode($cookie), false);
	} catch (Exception $x) {
		return null;
	}
	return strpos($v, CookieValuePrefix::create($name, $key)) === 0 ? CookieValuePrefix::remove($v) : null;
}
// The payload of cookie c with fields changed by f, encoded again.
function edit($c, $f) {
	$j = json_decode(base64_decode(rawurldecode($c)), true);
	$j = $f($j);
	return rawurlencode(base64_encode(json_encode($j, JSON_UNESCAPED_SLASHES)));
}
$rows = [];
foreach ($ciphers as $cipher => $size) {
	[$k1, $k2] = $keys[$size];
	$aead = substr($cipher, -3) === 'GCM';
	$row = function ($comment, $cookie) use (&$rows, $cipher, $k1, $name) {
		$rows[] = [$cipher, $comment, $cookie, check($cipher, $k1, $name, $cookie)];
	};
	$good = make($cipher, $k1, CookieValuePrefix::create($name, $k1) . $sid);
	$row('APP_KEY encrypts', $good);
	// Read with APP_KEY by check(), so refused; test-sid.c also reads
	// it with both keys, the previous one second.
	$prev = make($cipher, $k2, CookieValuePrefix::create($name, $k2) . $sid);
	$rows[] = [$cipher, 'a previous key encrypts', $prev, check($cipher, $k2, $name, $prev)];
	$row('another cookie\'s value (prefix for XSRF-TOKEN)', make($cipher, $k1, CookieValuePrefix::create('XSRF-TOKEN', $k1) . $sid));
	$row('no prefix (Laravel before 8.37)', make($cipher, $k1, $sid));
	// One bit of the ciphertext flipped.
	$row('ciphertext changed', edit($good, function ($j) {
		$ct = base64_decode($j['value']);
		$ct[0] = chr(ord($ct[0]) ^ 1);
		$j['value'] = base64_encode($ct);
		return $j;
	}));
	if ($aead) {
		$row('tag changed', edit($good, function ($j) {
			$t = base64_decode($j['tag']);
			$t[15] = chr(ord($t[15]) ^ 0x80);
			$j['tag'] = base64_encode($t);
			return $j;
		}));
		$row('tag empty', edit($good, function ($j) { $j['tag'] = ''; return $j; }));
		$row('no tag', edit($good, function ($j) { unset($j['tag']); return $j; }));
		$row('a 12-byte tag (its first bytes)', edit($good, function ($j) {
			$j['tag'] = base64_encode(substr(base64_decode($j['tag']), 0, 12));
			return $j;
		}));
		$row('a 16-byte iv', edit($good, function ($j) { $j['iv'] = base64_encode(str_repeat("\0", 16)); return $j; }));
		$row('a MAC that is not empty (GCM never reads it)', edit($good, function ($j) { $j['mac'] = str_repeat('0', 64); return $j; }));
	} else {
		$row('MAC replaced', edit($good, function ($j) { $j['mac'] = str_repeat('0', 64); return $j; }));
		$row('a tag with CBC', edit($good, function ($j) { $j['tag'] = base64_encode('0123456789abcdef'); return $j; }));
		$row('a 5-byte iv, MAC fixed up', edit($good, function ($j) use ($k1) {
			$j['iv'] = base64_encode('short');
			$j['mac'] = hash_hmac('sha256', $j['iv'] . $j['value'], $k1);
			return $j;
		}));
	}
	$raw = rawurldecode($good);
	$row('not URL-encoded (' . (strpos($raw, '+') !== false ? "a '+' PHP keeps" : "no '+' in it") . ')', $raw);
	// What PHP's lenient base64_decode() still reads: bytes after the
	// padding, and a '+' PHP keeps, are data, not dropped.
	$row("a literal '+' after it", $good . '+');
	$row('bytes after the padding', rawurlencode($raw . 'QUJD'));
	if ($aead) {
		$row("bytes after the tag's padding", edit($good, function ($j) { $j['tag'] .= 'AAAA'; return $j; }));
		$row("a '=' inside the tag (PHP skips it)", edit($good, function ($j) { $j['tag'] = substr($j['tag'], 0, 4) . '=' . substr($j['tag'], 4); return $j; }));
	} else
		$row('a tag of "0", a NUL and more (not empty to PHP)', edit($good, function ($j) { $j['tag'] = "0\0x"; return $j; }));
	$rows[] = [$cipher, 'truncated', substr($good, 0, 40), null];
}

$c = function ($s) { return $s === null ? 'NULL' : json_encode($s, JSON_UNESCAPED_SLASHES); };
echo "/* Made by tests/vectors/sid/laravel.php with Illuminate's Encrypter. */\n";
echo "#define LARAVEL_KEY1 \"" . base64_encode($keys[32][0]) . "\"\n";
echo "#define LARAVEL_KEY2 \"" . base64_encode($keys[32][1]) . "\"\n";
echo "#define LARAVEL_KEY1_16 \"" . base64_encode($keys[16][0]) . "\"\n";
echo "#define LARAVEL_KEY2_16 \"" . base64_encode($keys[16][1]) . "\"\n";
echo "#define LARAVEL_COOKIE " . $c($name) . "\n";
echo "static const struct { const char *cipher, *comment, *value, *sid; } laravel_vectors[] = {\n";
foreach ($rows as $r)
	echo "\t{ " . $c($r[0]) . ", " . $c($r[1]) . ", " . $c($r[2]) . ", " . $c($r[3]) . " },\n";
echo "};\n";
