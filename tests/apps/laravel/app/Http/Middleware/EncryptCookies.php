<?php

namespace App\Http\Middleware;

use Illuminate\Cookie\Middleware\EncryptCookies as Middleware;

class EncryptCookies extends Middleware
{
    /**
     * The names of the cookies that should not be encrypted: none, as
     * in a new app.
     *
     * @var array
     */
    protected $except = [
        //
    ];
}
