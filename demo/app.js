// app.js: the "make run" demo page, no framework.  nginx/run.sh bundles
// it with @liveblocks/client (esbuild) into run/demo/app.bundle.js.
//
//	/			signed out: the sample users (links to
//				/login?user=...); signed in: the rooms
//	/?room=acme:standup	the room: who is there, live cursors, a
//				shared counter in Liveblocks Storage
//	/?room=...&view=1	the same, asking lbauth for a token without
//				a room: read access to every room the user
//				is a member of
//
// Who is signed in comes from the sign-in helper (GET /login reads the
// HttpOnly session cookie, which the page cannot); who is in which room
// from GET /members, changed with POST /members (the room's "Members"
// panel).  Both live in the demo's SQLite database, which lbauth reads
// too (identity_query, policy = sql): a member gets "full" (write) or
// "read" access to the room, anyone else a 403.  A change of membership
// applies to that user's next token request, with no sign-out.  Every
// token request goes through authEndpoint() below, which records
// lbauth's decision in the side panel before handing the answer to the
// Liveblocks client.  A room-less token that does not cover the room
// makes the Liveblocks server refuse the connection (close code 4001).

import { createClient, LiveObject } from "@liveblocks/client";

const CONFIG = window.LBAUTH_DEMO ?? {};
const AUTH_URL = "/api/liveblocks-auth";
const ROOMS = [
  { id: "acme:whiteboard", title: "Whiteboard", about: "acme's shared whiteboard" },
  { id: "acme:standup", title: "Stand-up", about: "acme's daily stand-up" },
  { id: "globex:lobby", title: "Lobby", about: "globex's lobby" },
];

const $app = document.getElementById("app");
const $decisions = document.querySelector("#decisions tbody");
const $whoami = document.getElementById("whoami");

// --- DOM --------------------------------------------------------------

// h("div", {class: "x", onclick: f}, child, ...): an element; strings
// become text nodes (never HTML), null and false are skipped.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function avatar(info, size = 32) {
  return h("img", { class: "avatar", src: info?.avatar || "", alt: "", width: size, height: size,
    style: info?.color ? `border-color: ${info.color}` : undefined });
}

function show(...nodes) {
  $app.replaceChildren(...nodes);
}

// --- lbauth's decisions -------------------------------------------------

function decodePayload(token) {
  const b64 = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}

function roomMatches(pattern, room) {
  return pattern.endsWith("*") ? room.startsWith(pattern.slice(0, -1)) : pattern === room;
}

// POSTs body to lbauth with the session cookie, as the Liveblocks
// client's own authEndpoint would, and records the decision: whether
// its grant covers forRoom, the room the page wants to enter.
async function requestToken(body, note, forRoom) {
  const d = { time: new Date(), room: body.room, note, forRoom, status: 0, json: null, payload: null };
  try {
    const res = await fetch(AUTH_URL, {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    d.status = res.status;
    const text = await res.text();
    try { d.json = JSON.parse(text); } catch { d.json = { error: "not_json", message: text.slice(0, 200) }; }
    if (res.ok && typeof d.json?.token === "string") d.payload = decodePayload(d.json.token);
  } catch (e) {
    d.json = { error: "network", message: String(e) };
  }
  recordDecision(d);
  return d;
}

function covers(perms, room) {
  return Object.keys(perms ?? {}).some((p) => roomMatches(p, room));
}

function recordDecision(d) {
  const perms = d.payload?.perms;
  let granted;
  if (perms) {
    granted = Object.entries(perms).map(([pattern, scopes]) =>
      h("div", { class: "grant" }, h("code", {}, pattern), " ", scopes.join(" ")));
    if (d.forRoom && !covers(perms, d.forRoom))
      granted.push(h("div", { class: "refusal small", "data-testid": "not-granted" }, `✗ nothing for ${d.forRoom}`));
  } else if (d.payload) {
    granted = h("span", { class: "muted" }, "identity only");
  } else {
    granted = h("span", { class: "refusal", title: d.json?.message ?? "" },
      d.json?.error ?? "no answer", d.json?.message ? h("div", { class: "small muted" }, d.json.message) : null);
  }
  const cls = d.status === 200 ? "ok" : d.status >= 400 && d.status < 500 ? "refused" : "failed";
  $decisions.querySelector(".empty")?.remove();
  $decisions.prepend(h("tr", { class: `decision ${cls}`, "data-status": d.status, "data-room": d.room ?? "" },
    h("td", { class: "small muted" }, d.time.toLocaleTimeString()),
    h("td", {}, d.room ? h("code", {}, d.room) : h("span", { class: "muted" }, "(none)"),
      d.note ? h("div", { class: "small muted" }, d.note) : null),
    h("td", {}, h("span", { class: `status ${cls}` }, d.status || "—")),
    h("td", {}, granted)));
}

// --- views --------------------------------------------------------------

function renderWhoami(user) {
  if (!user) {
    $whoami.replaceChildren(h("span", { class: "muted" }, "not signed in"));
    return;
  }
  $whoami.replaceChildren(avatar(user.info, 28),
    h("span", { "data-testid": "me" }, user.info?.name ?? user.id),
    h("span", { class: "muted" }, ` ${user.id} · ${orgText(user)}`),
    h("a", { class: "button small", href: "/logout" }, "Sign out"));
}

const orgText = (u) => (u.org ? `org ${u.org}` : "no org");

// --- room memberships (the demo's database, through demo/login) ---------

let USERS = [];

async function getMembers() {
  const r = await fetch("/members", { credentials: "include" });
  if (!r.ok) throw new Error(`GET /members: ${r.status}`);
  return (await r.json()).rooms ?? {};
}

// access: "full", "read" or null (remove).  Returns every room's members.
async function setMember(room, user, access) {
  const r = await fetch("/members", {
    method: "POST",
    credentials: "include",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ room, user, access }),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`POST /members: ${r.status} ${j.error ?? ""}`);
  return j.rooms ?? {};
}

const accessText = { full: "can write", read: "read-only" };

function accessOf(rooms, room, user) {
  return (rooms[room] ?? []).find((m) => m.user === user)?.access ?? null;
}

function renderSignIn(users) {
  renderWhoami(null);
  show(
    h("h1", {}, "Sign in as a sample user"),
    h("p", {}, "No passwords: the demo's sign-in helper (", h("code", {}, "demo/login"),
      ") writes a session into the demo's SQLite database and sets its id as the session cookie, as your own app would ",
      "after its sign-in. lbauth looks the session up in the same database."),
    h("ul", { class: "users" }, users.map((u) =>
      h("li", {}, h("a", { class: "user-card", href: `/login?user=${encodeURIComponent(u.id)}`, "data-user": u.id },
        avatar(u.info, 48),
        h("span", {}, h("strong", {}, u.info.name), h("br"), h("span", { class: "muted" }, `${u.id} · ${orgText(u)}`)))))),
    h("p", { class: "muted small" }, "ada and bob may write in acme's rooms, where cy (org globex) may read; ",
      "cy may write in globex:lobby; gus is in no room. ",
      "Sign in as two of them in two browser windows (one of them private) to see each other."));
}

function renderRooms(user, rooms) {
  show(
    h("h1", {}, `Hello, ${user.info?.name ?? user.id}`),
    h("p", {}, "Pick a room. lbauth's ", h("code", {}, "sql"), " policy asks the demo's database: a member of the room ",
      "gets write (", h("code", {}, "full"), ") or read access, anyone else a 403. ", h("em", {}, "View only"),
      " asks for a token without a room: read access to every room you are a member of. ",
      "A room's Members panel changes who is in it; it applies to that user's next token."),
    h("ul", { class: "rooms" }, ROOMS.map((r) => {
      const access = accessOf(rooms, r.id, user.id);
      return h("li", { class: "room-card", "data-room-card": r.id },
        h("div", {}, h("strong", {}, r.title), " ", h("code", {}, r.id), h("br"),
          h("span", { class: "muted small" }, r.about),
          access ? h("div", { class: "small muted" }, `you: ${accessText[access]}`)
            : h("div", { class: "small warn" }, "you are not a member: expect no access")),
        h("div", { class: "actions" },
          h("a", { class: "button", href: `/?room=${encodeURIComponent(r.id)}`, "data-room": r.id }, "Enter"),
          h("a", { class: "button ghost", href: `/?room=${encodeURIComponent(r.id)}&view=1` }, "View only")));
    })));
}

// --- the room -------------------------------------------------------------

const CURSOR_SVG = "M2 2 L2 20 L7 15 L11 23 L14 22 L10 14 L17 14 Z";

function enterRoom(user, roomId, viewOnly) {
  const el = {
    access: h("span", { class: "access pending", id: "access" }, "connecting…"),
    notice: h("div", { id: "notice" }),
    people: h("ul", { class: "people", id: "people" }),
    value: h("output", { class: "counter-value", id: "counter-value" }, "…"),
    minus: h("button", { class: "counter-button", id: "counter-minus", disabled: true, "aria-label": "minus one" }, "−"),
    plus: h("button", { class: "counter-button", id: "counter-plus", disabled: true, "aria-label": "plus one" }, "+"),
    counterNote: h("p", { class: "small muted", id: "counter-note" }, "Loading storage…"),
    cursors: h("div", { class: "cursors" }),
    members: h("ul", { class: "people" }, h("li", { class: "muted small alone" }, "Loading…")),
  };
  el.board = h("div", { class: "board", id: "board" },
    h("p", { class: "board-hint muted" }, "Move your pointer here: the others see it live."), el.cursors);
  const title = ROOMS.find((r) => r.id === roomId)?.title ?? roomId;
  show(h("section", { class: "room" },
    h("div", { class: "room-head" },
      h("a", { href: "/", class: "back" }, "← rooms"),
      h("h1", {}, title, " ", h("code", {}, roomId)),
      viewOnly ? h("span", { class: "tag" }, "view only") : null,
      el.access),
    el.notice,
    h("div", { class: "grid" },
      h("div", { class: "panel" }, h("h2", {}, "In the room"), el.people),
      h("div", { class: "panel" }, h("h2", {}, "Shared counter"),
        h("div", { class: "counter" }, el.minus, el.value, el.plus), el.counterNote)),
    el.board,
    h("div", { class: "panel members", id: "members" }, h("h2", {}, "Members of this room"),
      h("p", { class: "small muted" }, "Kept in the demo's database, which lbauth reads for every token. ",
        "A change applies to that user's next token (reload their page), with no sign-out."),
      el.members)));

  // The Members panel: every sample user, their access, and buttons.
  function renderMembers(rooms) {
    el.members.replaceChildren(...USERS.map((u) => {
      const access = accessOf(rooms, roomId, u.id);
      const button = (label, to) => h("button", {
        class: "button small ghost", "data-action": to ?? "remove",
        onclick: async () => {
          try {
            renderMembers(await setMember(roomId, u.id, to));
          } catch (e) {
            el.notice.replaceChildren(h("div", { class: "notice warn" }, String(e)));
          }
        },
      }, label);
      return h("li", { "data-user": u.id, "data-access": access ?? "none" },
        avatar(u.info, 28),
        h("span", { class: "name" }, u.info?.name ?? u.id),
        h("span", { class: `small ${access ? "muted" : "warn"}` }, access ? accessText[access] : "not a member"),
        access !== "full" ? button(access ? "Let write" : "Add", "full") : null,
        access !== "read" ? button(access ? "Make read-only" : "Add read-only", "read") : null,
        access ? button("Remove", null) : null);
    }));
  }
  getMembers().then(renderMembers, (e) => el.members.replaceChildren(h("li", { class: "warn" }, String(e))));

  let refused = false;
  let last = null;	// lbauth's last decision for this room
  const who = `${user.info?.name ?? user.id} (${orgText(user)})`;
  function noAccess(...why) {
    refused = true;
    el.access.className = "access none";
    el.access.textContent = "no access";
    el.notice.replaceChildren(h("div", { class: "notice error", "data-testid": "no-access" },
      h("strong", {}, `No access to ${roomId}. `), ...why, " ", h("a", { href: "/" }, "Back to the rooms")));
    el.counterNote.textContent = "No access.";
    el.value.textContent = "—";
    el.value.classList.add("none");
    el.minus.disabled = el.plus.disabled = true;
    el.people.replaceChildren(h("li", { class: "muted small alone" }, "Not connected."));
  }

  // The Liveblocks client's authEndpoint, as a callback: lbauth's
  // answer is recorded, then returned the way the client expects.
  async function authEndpoint(room) {
    const d = await requestToken(viewOnly ? {} : { room }, viewOnly ? `view only, for ${room}` : null, room);
    last = d;
    const reason = `lbauth: ${d.status} ${d.json?.error ?? ""} ${d.json?.message ?? ""}`.trim();
    if (d.status === 200 && d.payload) return { token: d.json.token };
    if (d.status === 401 || d.status === 403) {
      noAccess(`lbauth refused ${who} a token: `, h("code", {}, `${d.status} ${d.json?.error ?? ""}`),
        d.json?.message ? ` (${d.json.message.replace(/\.$/, "")})` : "", ".");
      return { error: "forbidden", reason };
    }
    el.notice.replaceChildren(h("div", { class: "notice warn" }, `${reason}; the client retries.`));
    return { error: "unavailable", reason };
  }

  // The Liveblocks server refused the connection: the token lbauth
  // obtained does not grant this room.
  function refusedByServer(e) {
    const perms = Object.keys(last?.payload?.perms ?? {});
    noAccess(`lbauth's policy granted ${who} only `,
      perms.length ? perms.map((p, i) => [i ? ", " : "", h("code", {}, p)]) : "nothing",
      `, not ${roomId}, so the Liveblocks server refused the connection: `,
      h("code", {}, `${e.code} ${e.message}`), ".");
  }

  const client = createClient({ authEndpoint, baseUrl: CONFIG.baseUrl, throttle: 16 });
  const { room } = client.enterRoom(roomId, {
    initialPresence: { cursor: null },
    ...(viewOnly ? {} : { initialStorage: { counter: new LiveObject({ value: 0 }) } }),
  });

  let canWrite = false;
  let counter = null;

  function renderAccess() {
    if (refused) return;
    const self = room.getSelf();
    const status = room.getStatus();
    if (!self) {
      el.access.className = "access pending";
      el.access.textContent = status === "reconnecting" ? "reconnecting…" : "connecting…";
      return;
    }
    canWrite = self.canWrite;
    el.access.className = `access ${canWrite ? "write" : "read"}`;
    el.access.textContent = canWrite ? "can write" : "read-only";
    if (status === "connected") el.notice.replaceChildren();
    renderPeople();
    renderCounter();
  }

  function person(u, you) {
    return h("li", { "data-user": u.id },
      avatar(u.info, 36),
      h("span", { class: "name" }, u.info?.name ?? u.id, you ? h("span", { class: "muted" }, " (you)") : null),
      h("span", { class: `small ${u.canWrite ? "muted" : "warn"}` }, u.canWrite ? "can write" : "read-only"));
  }

  function renderPeople() {
    const self = room.getSelf();
    const others = room.getOthers();
    el.people.replaceChildren(...(self ? [person(self, true)] : []), ...others.map((o) => person(o, false)));
    if (others.length === 0)
      el.people.append(h("li", { class: "muted small alone" }, "Nobody else yet: open this room in another window as another user."));
    el.cursors.replaceChildren(...others.filter((o) => o.presence?.cursor).map((o) => {
      const color = o.info?.color ?? "#555";
      return h("div", {
        class: "cursor", "data-user": o.id,
        style: `left: ${(o.presence.cursor.x * 100).toFixed(2)}%; top: ${(o.presence.cursor.y * 100).toFixed(2)}%`,
      }, svgCursor(color), h("span", { class: "cursor-name", style: `background: ${color}` }, o.info?.name ?? o.id));
    }));
  }

  function renderCounter() {
    if (refused) return;
    if (counter === null) {
      el.value.textContent = "…";
      el.minus.disabled = el.plus.disabled = true;
      return;
    }
    el.value.classList.toggle("none", !counter);
    if (counter === undefined) {
      el.value.textContent = "—";
      el.counterNote.textContent = "No counter in this room yet: someone who can write must open it first.";
      el.minus.disabled = el.plus.disabled = true;
      return;
    }
    el.value.textContent = String(counter.get("value"));
    el.minus.disabled = el.plus.disabled = !canWrite;
    el.counterNote.textContent = canWrite
      ? "Stored in Liveblocks Storage (a LiveObject): everyone in the room sees each click."
      : "Read-only: your token does not allow changing storage.";
  }

  const bump = (n) => () => {
    if (counter && canWrite) counter.set("value", counter.get("value") + n);
  };
  el.minus.addEventListener("click", bump(-1));
  el.plus.addEventListener("click", bump(1));

  el.board.addEventListener("pointermove", (e) => {
    const r = el.board.getBoundingClientRect();
    room.updatePresence({ cursor: { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height } });
  });
  el.board.addEventListener("pointerleave", () => room.updatePresence({ cursor: null }));

  room.subscribe("status", renderAccess);
  room.events.self.subscribe(renderAccess);
  room.subscribe("others", renderPeople);
  room.subscribe("error", (e) => {
    if (refused) return;
    if (e.code === 4001) refusedByServer(e);
    else el.notice.replaceChildren(h("div", { class: "notice warn" }, `Liveblocks: ${e.message} (${e.code})`));
  });
  room.getStorage().then(({ root }) => {
    // The counter is whatever root holds now, not the first object seen.
    // Two writers who open a new room at the same moment each add the
    // initial counter; the server keeps the later one, and the other
    // window's object is replaced under it.  Following root keeps every
    // window's clicks on the counter that everyone sees.
    let unsubscribe = null;
    const pick = () => {
      const now = root.get("counter");
      if (now === counter) return;
      unsubscribe?.();
      counter = now;
      unsubscribe = counter ? room.subscribe(counter, renderCounter) : null;
      renderCounter();
    };
    pick();
    room.subscribe(root, pick);
  });
  // Test and debugging hook: the room as the page sees it.
  window.demoRoom = room;
}

function svgCursor(color) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "26");
  svg.setAttribute("viewBox", "0 0 20 26");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", CURSOR_SVG);
  path.setAttribute("fill", color);
  path.setAttribute("stroke", "white");
  path.setAttribute("stroke-width", "1.5");
  svg.append(path);
  return svg;
}

// --- start --------------------------------------------------------------

async function main() {
  const params = new URLSearchParams(location.search);
  const roomId = params.get("room");
  const viewOnly = params.get("view") === "1";
  let me = null;
  let users = [];
  try {
    const r = await fetch("/login", { credentials: "include" });
    ({ me, users } = await r.json());
  } catch (e) {
    show(h("h1", {}, "Something is wrong"), h("p", { class: "notice error" }, `GET /login failed: ${e}`));
    return;
  }
  if (!me) {
    renderWhoami(null);
    renderSignIn(users);
    return;
  }
  USERS = users;
  const user = { ...(users.find((u) => u.id === me.id) ?? {}), ...me };
  user.info ??= { name: me.id };
  renderWhoami(user);
  if (!roomId) renderRooms(user, await getMembers().catch(() => ({})));
  else enterRoom(user, roomId, viewOnly);
}

main();
