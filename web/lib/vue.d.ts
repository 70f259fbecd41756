// TypeScript declarations of vue.js: the Vue 3 binding of notifications.js.
// Vue's own types are not needed: the refs are described by what a caller
// reads of them (a Vue ComputedRef has that shape).

import type { ConnectionState, NotificationService } from "./notifications.js";
import type { FeedItem, NotificationFeed, Upload, UseNotificationsOptions } from "./feed.js";

/** A read-only Vue ref (a computed ref at run time: templates unwrap it). */
export interface ReadonlyRef<T> {
  readonly value: T;
}

/** What useNotifications returns. */
export interface NotificationsRefs {
  state: ReadonlyRef<ConnectionState>;
  unreadCount: ReadonlyRef<number>;
  connectionId: ReadonlyRef<string>;
  userId: ReadonlyRef<string | null>;
  /** Newest first (see FeedItem). */
  notifications: ReadonlyRef<readonly FeedItem[]>;
  /** The progress of each transaction, newest first. */
  uploads: ReadonlyRef<readonly Upload[]>;
  /** NotificationFeed.markRead: keys or ids, or "all"; resolves with the unread count. */
  markRead: NotificationFeed["markRead"];
  /** NotificationFeed.history. */
  history: NotificationFeed["history"];
  /** NotificationFeed.status. */
  status: NotificationFeed["status"];
  /** The service followed (created and connected at once unless options.service was given). */
  service: NotificationService;
  /** The feed the refs read. */
  feed: NotificationFeed;
}

/**
 * Creates a NotificationService from options and connects it at once, or
 * follows options.service (never connecting or disconnecting it). Called in a
 * component's setup (or any effect scope), it disconnects its own service
 * when the scope ends.
 */
export declare function useNotifications(options: UseNotificationsOptions): NotificationsRefs;
