// TypeScript declarations of react.js: the React binding of notifications.js.
// React's own types are not needed: React is described by the little the hook
// uses of it, which React 18's and 19's default exports both have.

import type { NotificationService } from "./notifications.js";
import type { FeedSnapshot, NotificationFeed, UseNotificationsOptions } from "./feed.js";

/** What the hook uses of React (18 or later). */
export interface ReactLike {
  useEffect(effect: () => void | (() => void), deps?: readonly unknown[]): void;
  useRef<T>(initialValue: T): { current: T };
  useSyncExternalStore<T>(subscribe: (onStoreChange: () => void) => () => void, getSnapshot: () => T): T;
}

/** What useNotifications returns on each render: the feed's snapshot, and functions that keep their identity. */
export interface NotificationsState extends FeedSnapshot {
  /** NotificationFeed.markRead: keys or ids, or "all"; resolves with the unread count. */
  markRead: NotificationFeed["markRead"];
  /** NotificationFeed.history. */
  history: NotificationFeed["history"];
  /** NotificationFeed.status. */
  status: NotificationFeed["status"];
  /** The service followed (created by the hook unless options.service was given). */
  service: NotificationService;
  /** The feed the hook reads. */
  feed: NotificationFeed;
}

/** The hook createUseNotifications returns. Options are read on the first render only. */
export type UseNotifications = (options: UseNotificationsOptions) => NotificationsState;

/**
 * Returns the useNotifications hook bound to React; throws TypeError when
 * React has no useSyncExternalStore (before 18).
 */
export declare function createUseNotifications(React: ReactLike): UseNotifications;

/** createUseNotifications(globalThis.React)'s hook (bound on its first call), for pages that load React's UMD build. */
export declare function useNotifications(options: UseNotificationsOptions): NotificationsState;
