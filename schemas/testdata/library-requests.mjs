// Prints, one JSON object a line, every message the browser library
// (web/lib/notifications.js) sends in a session that uses each of its
// requests: the resume after connecting (with and without a cursor), ping,
// history (first page, older page), mark_read (ids, all), status.
// schemas_test.go validates each against the client schema and the Go
// handler. The server is played with the unit tests' fakes.

import { harness, catchUp, flush } from "../../web/test/unit/fakes.mjs";

const sent = [];
async function session(cursor) {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  if (cursor) h.storage.setItem("fbdi:cursor:123", cursor);
  h.svc.connect();
  const ws = await catchUp(h);
  const svc = h.svc;
  const answer = (reply) => { ws.receive(reply); return flush(); };
  const calls = [
    [() => svc.request("ping", { timestamp: 1772366410123 }), { type: "pong", timestamp: 1772366410123 }],
    [() => svc.history({ limit: 50 }), { type: "history", items: [], has_more: false, unread_count: 0 }],
    [() => svc.history({ before: "c42", limit: 20 }), { type: "history", items: [], has_more: false, unread_count: 0 }],
    [() => svc.markRead("all"), { type: "read_state", unread_count: 0 }],
    [() => svc.markRead(["01KBNQ8M3S1Q0W2D9V5Y6Z7XAB"]), { type: "read_state", unread_count: 0 }],
    [() => svc.status("602"), { type: "workflow_status", transaction_id: "602", state: "succeeded" }],
  ];
  for (const [call, reply] of calls) {
    const p = call();
    await flush();
    await answer(reply);
    await p.catch(() => {});
  }
  sent.push(...ws.sent);
  svc.disconnect();
}

await session("");
await session("c42");
for (const m of sent) console.log(JSON.stringify(m));
