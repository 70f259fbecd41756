// react.js: the React binding of notifications.js, a hook with no build step.
// React is passed in, so that the module works with a bundler's
// `import React from "react"` and with React's UMD build on a page alike:
//
//   import { createUseNotifications } from "/lib/react.js";
//   const useNotifications = createUseNotifications(React);
//   function Bell() {
//     const { unreadCount, uploads, markRead } = useNotifications({ url, getToken });
//     ...
//   }
//
// useNotifications(options) (this module's export) does the same with
// globalThis.React, for pages that load React's UMD build.

import { NotificationService } from "./notifications.js";
import { NotificationFeed } from "./feed.js";

/**
 * createUseNotifications returns the useNotifications hook bound to React
 * (React 18 or later: it uses useSyncExternalStore).
 *
 * useNotifications(options) creates a NotificationService from options (the
 * options of notifications.js) on the first render, connects it when the
 * component mounts and disconnects it when it unmounts; or it follows
 * options.service, which it neither connects nor disconnects. Options are read
 * on the first render only: give the component a key (e.g. the user id) to
 * start over with others. options.historyOnConnect and options.maxItems are
 * NotificationFeed's.
 *
 * It returns {state, unreadCount, connectionId, userId, notifications,
 * uploads, markRead(keys | "all"), history(options), status(transactionId),
 * service, feed}; notifications and uploads are as in NotificationFeed's
 * snapshot, and uploads is the progress of each transaction.
 */
export function createUseNotifications(React) {
  if (!React || typeof React.useSyncExternalStore !== "function") {
    throw new TypeError("createUseNotifications: React 18 or later is required");
  }
  const { useEffect, useRef, useSyncExternalStore } = React;
  return function useNotifications(options = {}) {
    const ref = useRef(null);
    if (ref.current === null) {
      const own = !options.service;
      const service = options.service || new NotificationService(options);
      const feed = new NotificationFeed(service, { historyOnConnect: options.historyOnConnect, maxItems: options.maxItems });
      ref.current = {
        own, service, feed,
        subscribe: (fn) => feed.subscribe(fn),
        snapshot: () => feed.snapshot(),
        markRead: (keys) => feed.markRead(keys),
        history: (o) => feed.history(o),
        status: (tx) => feed.status(tx),
      };
    }
    const c = ref.current;
    const snap = useSyncExternalStore(c.subscribe, c.snapshot);
    useEffect(() => {
      c.feed.attach(); // again after a StrictMode remount
      if (c.own) c.service.connect();
      return () => {
        if (c.own) c.service.disconnect();
        c.feed.detach();
      };
    }, [c]);
    return { ...snap, markRead: c.markRead, history: c.history, status: c.status, service: c.service, feed: c.feed };
  };
}

/** useNotifications is createUseNotifications(globalThis.React)'s hook, bound on its first call. */
export function useNotifications(options) {
  bound ??= createUseNotifications(globalThis.React);
  return bound(options);
}

let bound = null;
