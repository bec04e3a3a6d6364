<?php

namespace App\Console;

use Illuminate\Foundation\Console\Kernel as ConsoleKernel;

class Kernel extends ConsoleKernel
{
    /**
     * Artisan's own commands (migrate, db:seed) are all this app uses.
     *
     * @var array
     */
    protected $commands = [];
}
