<?php

namespace App\Http\Controllers;

use Illuminate\Http\Request;
use Illuminate\Support\Facades\Auth;

/**
 * Sign-in and sign-out with Laravel's session guard, as the
 * authentication starter kits do it: Auth::attempt() checks the
 * password against the users table, the session id is regenerated on
 * sign-in, and sign-out invalidates the session (its row in the
 * sessions table is deleted).
 */
class LoginController extends Controller
{
    public function show(Request $request)
    {
        $error = $request->session()->get('error');

        return response(
            "<!doctype html>\n<title>Sign in</title>\n"
            .($error ? '<p class="error">'.e($error)."</p>\n" : '')
            ."<form method=\"post\" action=\"/login\">\n"
            .'<input type="hidden" name="_token" value="'.e(csrf_token())."\">\n"
            ."<input name=\"email\" type=\"email\">\n"
            ."<input name=\"password\" type=\"password\">\n"
            ."<button>Sign in</button>\n</form>\n"
        );
    }

    public function login(Request $request)
    {
        $credentials = $request->validate([
            'email' => ['required', 'email'],
            'password' => ['required'],
        ]);

        if (Auth::attempt($credentials)) {
            $request->session()->regenerate();

            return redirect()->intended('/');
        }

        return redirect('/login')->with('error', 'Wrong email or password.');
    }

    public function logout(Request $request)
    {
        Auth::logout();
        $request->session()->invalidate();
        $request->session()->regenerateToken();

        return redirect('/');
    }
}
