// vue.js: the Vue 3 binding of notifications.js, a composable. It imports
// "vue", which a bundler resolves and a page without a build step maps with an
// import map (see examples/vue.html):
//
//   import { useNotifications } from "/lib/vue.js";
//   const { unreadCount, uploads, markRead } = useNotifications({ url, getToken });

import { computed, getCurrentScope, onScopeDispose, shallowRef } from "vue";
import { NotificationService } from "./notifications.js";
import { NotificationFeed } from "./feed.js";

/**
 * useNotifications creates a NotificationService from options (the options of
 * notifications.js) and connects it at once, or follows options.service,
 * which it neither connects nor disconnects. Called in a component's setup
 * (or any effect scope), it disconnects its own service when the scope ends.
 * options.historyOnConnect and options.maxItems are NotificationFeed's.
 *
 * It returns read-only refs state, unreadCount, connectionId, userId,
 * notifications and uploads (the progress of each transaction, as in
 * NotificationFeed's snapshot), and the functions markRead(keys | "all"),
 * history(options), status(transactionId), plus service and feed.
 */
export function useNotifications(options = {}) {
  const own = !options.service;
  const service = options.service || new NotificationService(options);
  const feed = new NotificationFeed(service, { historyOnConnect: options.historyOnConnect, maxItems: options.maxItems });
  const snap = shallowRef(feed.snapshot());
  const off = feed.subscribe(() => { snap.value = feed.snapshot(); });
  if (getCurrentScope()) {
    onScopeDispose(() => {
      off();
      feed.detach();
      if (own) service.disconnect();
    });
  }
  if (own) service.connect();
  const field = (name) => computed(() => snap.value[name]);
  return {
    state: field("state"),
    unreadCount: field("unreadCount"),
    connectionId: field("connectionId"),
    userId: field("userId"),
    notifications: field("notifications"),
    uploads: field("uploads"),
    markRead: (keys) => feed.markRead(keys),
    history: (o) => feed.history(o),
    status: (tx) => feed.status(tx),
    service,
    feed,
  };
}
