<?php
// laravel.php: laravel session-cookie vectors for tests/unit/test-sid.c,
// made by the real Illuminate Encrypter and CookieValuePrefix (Debian's
// php-laravel-framework) exactly as EncryptCookies encrypts a cookie
// (no serialization, the v2 prefix, aes-256-cbc), then rawurlencode()d
// as Symfony's Cookie writes the header.
//
//	php tests/vectors/sid/laravel.php > tests/vectors/sid/laravel.h
require '/usr/share/php/Illuminate/Encryption/autoload.php';
require '/usr/share/php/Illuminate/Cookie/autoload.php';
use Illuminate\Encryption\Encrypter;
use Illuminate\Cookie\CookieValuePrefix;

$k1 = str_repeat("\x01", 16) . "lbauth-laravel-1";	// 32 bytes
$k2 = "lbauth-laravel-previous-key-2!!!";
$name = 'laravel_session';
$sid = 'J2Hk7oXx0bq9LrYz3sWd1uVfA4cTn6eQm8pGiE5y';

function make($key, $name, $plain) {
	$e = new Encrypter($key, 'AES-256-CBC');
	return rawurlencode($e->encrypt($plain, false));
}
function check($key, $name, $cookie) {
	// PHP fills $_COOKIE with urldecode() ('+' is a blank), then
	// EncryptCookies::decrypt() does this.
	try {
		$e = new Encrypter($key, 'AES-256-CBC');
		$v = $e->decrypt(urldecode($cookie), false);
	} catch (Exception $x) {
		return null;
	}
	return strpos($v, CookieValuePrefix::create($name, $key)) === 0 ? CookieValuePrefix::remove($v) : null;
}
$rows = [];
$good = make($k1, $name, CookieValuePrefix::create($name, $k1) . $sid);
$rows[] = ['APP_KEY encrypts', $good, check($k1, $name, $good)];
$prev = make($k2, $name, CookieValuePrefix::create($name, $k2) . $sid);
$rows[] = ['a previous key encrypts', $prev, check($k2, $name, $prev)];
$other = make($k1, 'XSRF-TOKEN', CookieValuePrefix::create('XSRF-TOKEN', $k1) . $sid);
$rows[] = ['another cookie\'s value (prefix for XSRF-TOKEN)', $other, check($k1, $name, $other)];
$nopre = make($k1, $name, $sid);
$rows[] = ['no prefix (Laravel before 8.37)', $nopre, check($k1, $name, $nopre)];
$j = json_decode(base64_decode(rawurldecode($good)), true);
$j2 = $j; $j2['mac'] = str_repeat('0', 64);
$bad = rawurlencode(base64_encode(json_encode($j2, JSON_UNESCAPED_SLASHES)));
$rows[] = ['MAC replaced', $bad, check($k1, $name, $bad)];
$j3 = $j; $j3['tag'] = base64_encode('0123456789abcdef');
$tag = rawurlencode(base64_encode(json_encode($j3, JSON_UNESCAPED_SLASHES)));
$rows[] = ['a tag with CBC', $tag, check($k1, $name, $tag)];
$j4 = $j; $j4['iv'] = base64_encode('short');
$j4['mac'] = hash_hmac('sha256', $j4['iv'] . $j4['value'], $k1);
$iv = rawurlencode(base64_encode(json_encode($j4, JSON_UNESCAPED_SLASHES)));
$rows[] = ['a 5-byte iv, MAC fixed up', $iv, check($k1, $name, $iv)];
$raw = rawurldecode($good);
$rows[] = ['not URL-encoded (' . (strpos($raw, '+') !== false ? "a '+' PHP reads as a blank" : "no '+' in it") . ')', $raw, check($k1, $name, $raw)];
$rows[] = ['truncated', substr($good, 0, 40), null];

$c = function ($s) { return $s === null ? 'NULL' : json_encode($s, JSON_UNESCAPED_SLASHES); };
echo "/* Made by tests/vectors/sid/laravel.php with Illuminate's Encrypter. */\n";
echo "#define LARAVEL_KEY1 \"" . base64_encode($k1) . "\"\n";
echo "#define LARAVEL_KEY2 \"" . base64_encode($k2) . "\"\n";
echo "#define LARAVEL_COOKIE " . $c($name) . "\n";
echo "static const struct { const char *comment, *value, *sid; } laravel_vectors[] = {\n";
foreach ($rows as $r)
	echo "\t{ " . $c($r[0]) . ", " . $c($r[1]) . ", " . $c($r[2]) . " },\n";
echo "};\n";
