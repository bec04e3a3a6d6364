// The Liveblocks guide's SvelteKit endpoint ("Set up access token
// permissions with SvelteKit"), with its two placeholders filled in the
// way lbauth does them: the user comes from the same HS256 session
// cookie (verified with node:crypto), and may enter a room listed in the
// cookie's "rooms" claim or under "<org>:".  Used only as a benchmark
// peer (tests/bench): the endpoint people deploy today.
import { type RequestEvent } from "@sveltejs/kit";
import { Liveblocks } from "@liveblocks/node";
import { createHmac, timingSafeEqual } from "node:crypto";

const liveblocks = new Liveblocks({
  secret: process.env.LIVEBLOCKS_SECRET ?? "sk_localdev",
  baseUrl: process.env.LIVEBLOCKS_BASE_URL,
});
const secret = process.env.COOKIE_SECRET ?? "";

function getUserFromCookie(request: Request) {
  const m = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.get("cookie") ?? "");
  if (!m) return null;
  const [h, p, s] = m[1].split(".");
  if (!h || !p || !s) return null;
  const mac = createHmac("sha256", secret).update(`${h}.${p}`).digest();
  const sig = Buffer.from(s, "base64url");
  if (sig.length !== mac.length || !timingSafeEqual(sig, mac)) return null;
  if (JSON.parse(Buffer.from(h, "base64url").toString()).alg !== "HS256") return null;
  const claims = JSON.parse(Buffer.from(p, "base64url").toString());
  if (typeof claims.sub !== "string" || !(claims.exp > Date.now() / 1000)) return null;
  return { id: claims.sub, organization: claims.org, rooms: claims.rooms ?? [],
    metadata: claims.info ?? (claims.name ? { name: claims.name } : undefined) };
}

function shouldUserHaveAccess(user: { organization?: string; rooms: string[] }, room: string) {
  return user.rooms.includes(room) || (user.organization !== undefined && room.startsWith(`${user.organization}:`));
}

export async function POST({ request }: RequestEvent) {
  const user = getUserFromCookie(request);
  if (!user) return new Response(JSON.stringify({ error: "unauthenticated" }), { status: 401 });
  const session = liveblocks.prepareSession(user.id, { userInfo: user.metadata });
  const { room } = await request.json();
  if (room && shouldUserHaveAccess(user, room)) {
    session.allow(room, session.FULL_ACCESS);
  } else {
    session.allow(`${user.organization}:*`, session.READ_ACCESS);
  }
  const { status, body } = await session.authorize();
  return new Response(body, { status });
}
