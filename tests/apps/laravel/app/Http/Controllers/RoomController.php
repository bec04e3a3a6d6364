<?php

namespace App\Http\Controllers;

use Illuminate\Http\Request;
use Illuminate\Support\Facades\DB;

/**
 * The signed-in user joins or leaves a collaborative room: the app's
 * own room_user table, which lbauth's room_query reads.
 */
class RoomController extends Controller
{
    public function join(Request $request)
    {
        $data = $request->validate([
            'room' => ['required', 'string', 'max:128', 'regex:/^[A-Za-z0-9:._-]+$/'],
            'access' => ['required', 'in:full,read'],
        ]);
        DB::table('room_user')->upsert(
            [['room' => $data['room'], 'user_id' => $request->user()->id, 'access' => $data['access']]],
            ['room', 'user_id'],
            ['access']
        );

        return ['room' => $data['room'], 'access' => $data['access']];
    }

    public function leave(Request $request)
    {
        $data = $request->validate(['room' => ['required', 'string', 'max:128']]);
        $gone = DB::table('room_user')
            ->where('room', $data['room'])
            ->where('user_id', $request->user()->id)
            ->delete();

        return ['room' => $data['room'], 'left' => $gone > 0];
    }
}
