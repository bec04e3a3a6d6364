<?php

namespace Database\Seeders;

use App\Models\User;
use Illuminate\Database\Seeder;
use Illuminate\Support\Facades\Hash;

class DatabaseSeeder extends Seeder
{
    /**
     * Two users to sign in as (the tests know their passwords).
     */
    public function run()
    {
        User::create([
            'name' => 'Ada Lovelace',
            'email' => 'ada@example.com',
            'password' => Hash::make('analytical engine'),
        ]);
        User::create([
            'name' => 'Bob Kahn',
            'email' => 'bob@example.com',
            'password' => Hash::make('tcp/ip'),
        ]);
    }
}
