<?php

use App\Http\Controllers\LoginController;
use App\Http\Controllers\RoomController;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Route;

Route::get('/login', [LoginController::class, 'show'])->middleware('guest')->name('login');
Route::post('/login', [LoginController::class, 'login'])->middleware('guest');
Route::post('/logout', [LoginController::class, 'logout'])->middleware('auth');

// Who is signed in, for the tests to compare with lbauth's answer.
Route::get('/', function (Request $request) {
    $user = $request->user();

    return ['id' => $user->id, 'name' => $user->name, 'email' => $user->email];
})->middleware('auth');

// The signed-in user joins or leaves a room (room_user).
Route::post('/rooms/join', [RoomController::class, 'join'])->middleware('auth');
Route::post('/rooms/leave', [RoomController::class, 'leave'])->middleware('auth');
