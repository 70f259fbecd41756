// TypeScript declarations of feed.js: what a notification centre shows, kept
// up to date from a NotificationService. The element (notification-center.js),
// the React hook (react.js) and the Vue composable (vue.js) all read it.

import type { Channels, ConnectionState, HistoryOptions, HistoryPage, NotificationOptions, NotificationService, Preferences, WorkflowStatus } from "./notifications.js";

/** A workflow kind (docs/protocol.md#workflow-steps). */
export type WorkflowKind = "budget_transfer" | "journal_import";

/** How far a step has gone; a step never goes back. */
export type StepStatus = "pending" | "processing" | "completed" | "failed";

/** One item of the list: a notification, or one transaction standing for all its upload messages. */
export interface FeedItem {
  /** The item's key: the notification id, or "tx:" + the transaction id. */
  readonly key: string;
  /** The id of the first message of the item. */
  readonly id: string;
  /** Every message id the item stands for (one, or each message of the transaction). */
  readonly ids: readonly string[];
  /** The type of the first message of the item. */
  readonly type: string;
  /** The first message's category ("general" when it has none; "fbdi" for a transaction without one). */
  readonly category: string;
  /** Whether a message of the item is critical (never muted). */
  readonly critical: boolean;
  /** The message text: a notification's; for a transaction, its latest start, completed or failed message (its first progress message until one arrives). */
  readonly message: string;
  /** The first message's timestamp (RFC 3339), for display. */
  readonly timestamp: string;
  /** Whether every message of the item is known read. */
  readonly read: boolean;
  /** True while the item is not news: every message of it came from a resume's replay or from history() (false once a live one arrives). */
  readonly replayed: boolean;
  /** The transaction id of an upload item; null for a notification. */
  readonly transactionId: string | null;
  /** The data of a general notification; null when none. */
  readonly data: Record<string, unknown> | null;
}

/** One workflow step of an upload. */
export interface UploadStep {
  /** 1-based. */
  readonly number: number;
  /** The step's name: from a message, else the kind's (STEP_NAMES), else "Step n". */
  readonly name: string;
  readonly status: StepStatus;
  /** The latest message of the step. */
  readonly message: string;
}

/** One upload message of a transaction, as received (each id once). */
export interface UploadEvent {
  readonly id: string;
  readonly type: "oracle_upload_started" | "oracle_upload_progress" | "oracle_upload_completed" | "oracle_upload_failed";
  /** The step_number of a progress message; 0 for the others. */
  readonly step: number;
  /** The status of a progress message; "" for the others. */
  readonly status: string;
  readonly replayed: boolean;
}

/** The progress of one transaction. */
export interface Upload {
  readonly transactionId: string;
  /** Known from a status reply, a step name only one kind has, or a start message "Journal import…"; null until then. */
  readonly kind: WorkflowKind | null;
  /** 5, or more when a message names a later step. */
  readonly totalSteps: number;
  readonly steps: readonly UploadStep[];
  /** How many steps are completed. */
  readonly completed: number;
  /** The number of the last step that is not pending (being worked on, done or failed); 0 when none. */
  readonly current: number;
  /** That step's name; "" when none. */
  readonly currentStep: string;
  /** That step's status; "" when none. */
  readonly currentStatus: StepStatus | "";
  /** No outcome yet. */
  readonly running: boolean;
  readonly outcome: "completed" | "failed" | null;
  /** The completed or failed message's text. */
  readonly message: string;
  /** The failure's error text ("" otherwise). */
  readonly error: string;
  readonly events: readonly UploadEvent[];
}

/** What snapshot() returns: a new frozen object after each change, the same object otherwise. */
export interface FeedSnapshot {
  readonly state: ConnectionState;
  readonly unreadCount: number;
  /** The connection_id of the last connection_established ("" before). */
  readonly connectionId: string;
  readonly userId: string | null;
  /** Newest first, at most maxItems. */
  readonly notifications: readonly FeedItem[];
  /** Newest first, one per transaction in notifications. */
  readonly uploads: readonly Upload[];
  /** The categories of the items seen and of the preferences, sorted. */
  readonly categories: readonly string[];
  /** The last preferences reply (null before one). */
  readonly preferences: Readonly<{ categories: Record<string, Channels>; defaults: Record<string, Channels> }> | null;
}

/** The options of NotificationFeed. */
export interface FeedOptions {
  /** The newest items kept (default 100). */
  maxItems?: number;
  /** How many history items to load for their read state after each resume (default 20; 0: none). */
  historyOnConnect?: number;
}

/**
 * The options of the React hook and the Vue composable: a service to follow
 * (never connected or disconnected by them), or the options of a
 * NotificationService they create, connect and disconnect; plus the feed's.
 */
export type UseNotificationsOptions = FeedOptions &
  ({ service: NotificationService } | (NotificationOptions & { service?: undefined }));

/** The step names of each workflow kind, in order. */
export declare const STEP_NAMES: Readonly<{
  budget_transfer: readonly ["Preparing Data", "Upload to UCM", "Interface Loader", "Budget Import", "Verify Results"];
  journal_import: readonly ["Preparing Data", "Upload to UCM", "Interface Loader", "Journal Import", "AutoPost"];
}>;

/**
 * Follows one NotificationService and keeps what a notification centre shows.
 * Listeners of subscribe() are called once per microtask in which something
 * changed.
 */
export declare class NotificationFeed {
  /** Follows service at once (it does not connect it). */
  constructor(service: NotificationService, options?: FeedOptions);
  /** The service followed. */
  readonly service: NotificationService;
  /** Follows the service's events (the constructor does; after detach() it does again). */
  attach(): void;
  /** Stops following the service; the feed keeps what it has. */
  detach(): void;
  /** Calls fn after changes; returns a function that unsubscribes it. */
  subscribe(fn: () => void): () => void;
  /** The current state (see FeedSnapshot). */
  snapshot(): FeedSnapshot;
  /** The upload of a transaction as in snapshot(), or undefined. */
  upload(transactionId: string | number): Upload | undefined;
  /**
   * Marks read the items with these keys or notification ids (an upload item
   * stands for every message of its transaction), or all; resolves with the
   * server's unread count afterwards.
   */
  markRead(keys: string | readonly string[] | "all" | { category: string }): Promise<number>;
  /** Removes the items with these keys or ids (for good: history and replays do not bring them back) and archives them on the server; resolves with the unread count afterwards. */
  archive(keys: string | readonly string[]): Promise<number>;
  /** Asks for the user's preferences, keeps them (snapshot().preferences) and resolves with the reply. */
  preferences(): Promise<Preferences>;
  /** Changes the channels named, keeps the preferences afterwards and resolves with them. */
  setPreferences(categories: Record<string, Partial<Channels>>): Promise<Preferences>;
  /** Asks for a page of history (filtered or not), merges its items and read states, and resolves with the reply. */
  history(options?: HistoryOptions): Promise<HistoryPage>;
  /** Asks for a transaction's state, merges its steps into the upload, and resolves with the reply. */
  status(transactionId: string | number): Promise<WorkflowStatus>;
}
