<?php

namespace App\Http\Middleware;

use Illuminate\Foundation\Http\Middleware\VerifyCsrfToken as Middleware;

class VerifyCsrfToken extends Middleware
{
    /**
     * The URIs excluded from CSRF verification: none.
     *
     * @var array
     */
    protected $except = [
        //
    ];
}
