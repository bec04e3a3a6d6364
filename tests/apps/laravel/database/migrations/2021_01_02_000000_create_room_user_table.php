<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

// Who may enter which collaborative room: one row per member, with
// "full" or "read" access.
return new class extends Migration
{
    public function up()
    {
        Schema::create('room_user', function (Blueprint $table) {
            $table->string('room', 128);
            $table->foreignId('user_id')->constrained()->cascadeOnDelete();
            $table->string('access', 16)->default('full');
            $table->primary(['room', 'user_id']);
        });
    }

    public function down()
    {
        Schema::dropIfExists('room_user');
    }
};
