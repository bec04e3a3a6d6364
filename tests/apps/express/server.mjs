// A small real Express app with password sign-in, its sessions in
// PostgreSQL: express 5, express-session, connect-pg-simple and pg,
// as an app would set them up (no lbauth code in here).  lbauth reads
// its "session" table: the signed connect.sid cookie carries the
// session id, the row's sess JSON the signed-in user's id.
//
//	POST /login	{email, password} -> 200 {id, name} and connect.sid,
//			or 401
//	POST /logout	destroys the session (its row is deleted)
//	GET  /me	200 {id, name} or 401
//
// and the same sign-in through Passport (passport-local), the way most
// Express apps do it: serializeUser keeps the user's id in the session
// as sess.passport.user.
//
//	POST /passport/login	{email, password} -> 200 {id, name}, or 401
//	POST /passport/logout	req.logout(): a new session without the user
//	GET  /passport/me	200 {id, name} or 401
//
// The environment: PORT; PGHOST, PGPORT, PGDATABASE, PGUSER (pg reads
// them); SESSION_SECRETS, a JSON array of secrets (the first signs new
// cookies, every one verifies: rotation).

import crypto from "node:crypto";
import { promisify } from "node:util";
import express from "express";
import session from "express-session";
import connectPgSimple from "connect-pg-simple";
import passport from "passport";
import { Strategy as LocalStrategy } from "passport-local";
import pg from "pg";

const scrypt = promisify(crypto.scrypt);
const pool = new pg.Pool({ max: 4 });
const PgStore = connectPgSimple(session);

async function hash(password, salt = crypto.randomBytes(16)) {
  const key = await scrypt(password, salt, 32);
  return `${salt.toString("hex")}:${key.toString("hex")}`;
}

async function verify(password, stored) {
  const [salt, key] = stored.split(":");
  const got = await scrypt(password, Buffer.from(salt, "hex"), 32);
  return crypto.timingSafeEqual(got, Buffer.from(key, "hex"));
}

// The app's own schema and two users.
async function migrate() {
  await pool.query(`CREATE TABLE IF NOT EXISTS users (
    id serial PRIMARY KEY,
    email text UNIQUE NOT NULL,
    name text NOT NULL,
    avatar text,
    password text NOT NULL)`);
  const seed = [
    ["ada@example.com", "Ada Lovelace", "https://example.com/ada.png", "analytical engine"],
    ["bob@example.com", "Bob Kahn", null, "tcp/ip"],
  ];
  for (const [email, name, avatar, password] of seed)
    await pool.query(`INSERT INTO users (email, name, avatar, password) VALUES ($1, $2, $3, $4)
      ON CONFLICT (email) DO NOTHING`, [email, name, avatar, await hash(password)]);
}

const app = express();
app.use(express.json());
app.use(session({
  store: new PgStore({ pool, createTableIfMissing: true, pruneSessionInterval: false }),
  secret: JSON.parse(process.env.SESSION_SECRETS),
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: "lax", maxAge: 8 * 3600 * 1000 },
}));

// Passport: the same users and passwords.
passport.use(new LocalStrategy({ usernameField: "email" }, async (email, password, done) => {
  try {
    const { rows } = await pool.query("SELECT id, name, password FROM users WHERE email = $1", [email]);
    if (rows.length !== 1 || !(await verify(password, rows[0].password))) return done(null, false);
    done(null, { id: rows[0].id, name: rows[0].name });
  } catch (e) {
    done(e);
  }
}));
passport.serializeUser((user, done) => done(null, user.id));
passport.deserializeUser(async (id, done) => {
  try {
    const { rows } = await pool.query("SELECT id, name FROM users WHERE id = $1", [id]);
    done(null, rows[0] ?? false);
  } catch (e) {
    done(e);
  }
});
app.use(passport.session());

app.post("/passport/login", (req, res, next) => {
  passport.authenticate("local", (err, user) => {
    if (err) return next(err);
    if (!user) return res.status(401).json({ error: "wrong email or password" });
    // req.logIn regenerates the session (passport >= 0.6).
    req.logIn(user, (err2) => (err2 ? next(err2) : res.json(user)));
  })(req, res, next);
});

app.post("/passport/logout", (req, res, next) => {
  req.logout((err) => (err ? next(err) : res.json({ ok: true })));
});

app.get("/passport/me", (req, res) => (req.user ? res.json(req.user) : res.status(401).json({ error: "not signed in" })));

app.post("/login", async (req, res, next) => {
  try {
    const { email, password } = req.body ?? {};
    const { rows } = await pool.query("SELECT id, name, password FROM users WHERE email = $1", [String(email)]);
    if (rows.length !== 1 || !(await verify(String(password), rows[0].password)))
      return res.status(401).json({ error: "wrong email or password" });
    // A new session id at sign-in, against session fixation.
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = rows[0].id;
      req.session.save((err2) => (err2 ? next(err2) : res.json({ id: rows[0].id, name: rows[0].name })));
    });
  } catch (e) {
    next(e);
  }
});

app.post("/logout", (req, res, next) => {
  req.session.destroy((err) => {
    if (err) return next(err);
    res.clearCookie("connect.sid", { path: "/" });
    res.json({ ok: true });
  });
});

app.get("/me", async (req, res, next) => {
  try {
    if (req.session.userId === undefined) return res.status(401).json({ error: "not signed in" });
    const { rows } = await pool.query("SELECT id, name FROM users WHERE id = $1", [req.session.userId]);
    res.json(rows[0]);
  } catch (e) {
    next(e);
  }
});

await migrate();
const server = app.listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => server.close(() => pool.end().then(() => process.exit(0))));
