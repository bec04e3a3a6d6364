<?php

// Debian's php-laravel-framework ships the framework and its
// dependencies under /usr/share/php (on PHP's include_path) with one
// autoloader for all of them, in place of Composer's vendor/.  This
// app's own classes (App\ in app/, Database\Seeders\ in
// database/seeders/) are loaded by the PSR-4 rule that an app's
// composer.json would declare.

require_once 'Illuminate/autoload.php';

spl_autoload_register(function ($class) {
    $roots = [
        'App\\' => __DIR__.'/../app/',
        'Database\\Seeders\\' => __DIR__.'/../database/seeders/',
    ];
    foreach ($roots as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir.str_replace('\\', '/', substr($class, strlen($prefix))).'.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
