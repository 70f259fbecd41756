// Type-checked by types.test.mjs (tsc --noEmit, strict): how a TypeScript
// caller uses each module's declarations. Each @ts-expect-error is a misuse
// the declarations must refuse (tsc fails on one that compiles).

import { NotificationService, RequestError, type ConnectionState } from "../../../lib/notifications.js";
import { NotificationFeed, STEP_NAMES, type FeedSnapshot, type Upload } from "../../../lib/feed.js";
import { NotificationCenter } from "../../../lib/notification-center.js";
import { createUseNotifications, useNotifications as useReactNotifications, type ReactLike } from "../../../lib/react.js";
import { useNotifications as useVueNotifications } from "../../../lib/vue.js";
import { computed } from "vue";

declare const getToken: () => Promise<string>;

const service = new NotificationService({ url: "wss://example.test/prod", getToken });
service.on("uploadProgress", (m) => { const n: number = m.step_number; void n; });
// @ts-expect-error: the url is required
new NotificationService({ getToken });

// feed.js
const feed = new NotificationFeed(service, { maxItems: 50 });
const snap: FeedSnapshot = feed.snapshot();
const state: ConnectionState = snap.state;
const upload: Upload | undefined = feed.upload(602);
const step: "Budget Import" = STEP_NAMES.budget_transfer[3];
feed.subscribe(() => {})();
void feed.markRead(["tx:602", "01J..."]).then((n: number) => n);
void feed.status("602").then((s) => s.steps.length);
void feed.archive("tx:602");
void feed.markRead({ category: "general" });
void feed.history({ category: "fbdi", unreadOnly: true }).then((p) => p.cursor);
void service.setPreferences({ general: { in_app: false } }).then((p) => p.categories.general?.email);
const categories: readonly string[] = snap.categories;
// @ts-expect-error: a channel is a boolean
void service.setPreferences({ general: { in_app: "no" } });
// @ts-expect-error: a snapshot is read-only
snap.unreadCount = 3;
// @ts-expect-error: options are checked
new NotificationFeed(service, { maxItem: 50 });

// notification-center.js: the tag name map gives the class.
const center: NotificationCenter = document.createElement("fbdi-notification-center");
const found: NotificationCenter | null = document.querySelector("fbdi-notification-center");
center.service = service;
center.service = null;
center.open = true;
const shown: NotificationFeed | null = center.feed;
center.shadowRoot?.querySelector("[part=bell]");
// @ts-expect-error: feed is read-only
center.feed = feed;
// @ts-expect-error: service is a NotificationService
center.service = "wss://example.test/prod";

// react.js: a React-shaped object, and the real hook's return.
declare const React: ReactLike;
const useNotifications = createUseNotifications(React);
const r = useNotifications({ url: "wss://example.test/prod", getToken, historyOnConnect: 0 });
const r2 = useReactNotifications({ service });
const unread: number = r.unreadCount + r2.unreadCount;
void r.markRead("all");
// @ts-expect-error: a service or the service's options (url) are required
useNotifications({ historyOnConnect: 5 });

// vue.js: the refs, and a Vue computed ref where one is expected.
const v = useVueNotifications({ service, maxItems: 10 });
const vState: ConnectionState = v.state.value;
const uploads: readonly Upload[] = v.uploads.value;
const sameShape: typeof v.unreadCount = computed(() => 1);
// @ts-expect-error: the refs are read-only
v.unreadCount.value = 2;

void new RequestError("timeout", "no reply");
export { categories, state, upload, step, found, shown, unread, vState, uploads, sameShape };
