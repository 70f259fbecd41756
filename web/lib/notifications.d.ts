// TypeScript declarations of notifications.js: the browser client of the FBDI
// notifications WebSocket API (docs/protocol.md).

/** The connection state. */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** fields every server push carries (docs/protocol.md#server-to-client). */
export interface PushBase {
  /** Unique; the library drops duplicates by it. */
  id: string;
  /** RFC 3339, UTC; for display only. */
  timestamp: string;
  /** Opaque place in the user's history; absent on connection_established. */
  cursor?: string;
  /** True on notifications sent again by a resume. */
  replayed?: boolean;
  /** What the notification is about: "fbdi" for the workflows (with kind), "general" by default, or another upstream gives. */
  category?: string;
  /** The workflow kind of an "fbdi" notification. */
  kind?: string;
  /** Never muted, and always counts as unread (a failed upload is). */
  critical?: boolean;
  message?: string;
  [field: string]: unknown;
}

/** Sent once to every new connection. */
export interface ConnectionEstablished extends PushBase {
  type: "connection_established";
  user_id: string | number;
  connection_id: string;
}

/** A general notification from an upstream system. */
export interface GeneralNotification extends PushBase {
  type: "notification";
  message: string;
  data: Record<string, unknown>;
}

/** A transaction's workflow has begun. */
export interface UploadStarted extends PushBase {
  type: "oracle_upload_started";
  transaction_id: string;
}

/** A workflow step started, ended or failed. */
export interface UploadProgress extends PushBase {
  type: "oracle_upload_progress";
  transaction_id: string;
  step: string;
  step_number: number;
  total_steps: number;
  status: "processing" | "completed" | "failed";
}

/** The workflow succeeded. */
export interface UploadCompleted extends PushBase {
  type: "oracle_upload_completed";
  transaction_id: string;
  success: true;
  result_path?: string;
}

/** The workflow failed, or a message about it was refused. */
export interface UploadFailed extends PushBase {
  type: "oracle_upload_failed";
  transaction_id?: string;
  error: string;
}

/** Any server message, push or reply, as parsed from JSON. */
export interface ServerMessage {
  type?: string;
  [field: string]: unknown;
}

/** An item of a history page: the notification as sent, plus its read state. */
export type HistoryItem = PushBase & { type: string; read: boolean };

/** The reply to history. */
export interface HistoryPage {
  type: "history";
  items: HistoryItem[];
  unread_count: number;
  has_more: boolean;
  /** With has_more: the before of the next page (past items a filter skipped). */
  cursor?: string;
}

/** The options of history(). */
export interface HistoryOptions {
  /** The cursor of the item to list before (the previous page's cursor). */
  before?: string;
  /** At most this many items (the server's default 50, at most 100). */
  limit?: number;
  /** Only this category's notifications. */
  category?: string;
  /** Only unread notifications. */
  unreadOnly?: boolean;
}

/** The channels of one category: posted to the user's tabs (in_app) and e-mailed (email). */
export interface Channels {
  in_app: boolean;
  email: boolean;
}

/** The reply to preferences and set_preferences. */
export interface Preferences {
  type: "preferences";
  /** Every category the operator configured or the user set, with the user's channels. */
  categories: Record<string, Channels>;
  /** The operator's defaults; "*" for every other category. */
  defaults: Record<string, Channels>;
}

/** One step of a workflow_status reply. */
export interface WorkflowStep {
  step: string;
  step_number: number;
  status: "processing" | "completed" | "failed";
  message?: string;
  started_at?: string;
  ended_at?: string;
  request_id?: string;
  document_id?: string;
  attempts?: number;
  last_error?: string;
  next_try_at?: string;
}

/** The reply to status. */
export interface WorkflowStatus {
  type: "workflow_status";
  transaction_id: string;
  kind: "budget_transfer" | "journal_import";
  state: "running" | "waiting" | "succeeded" | "failed";
  current_step: string;
  step_number: number;
  total_steps: number;
  steps: WorkflowStep[];
  updated_at: string;
  error?: string;
}

/** The reply to mark_read. */
export interface ReadState {
  type: "read_state";
  unread_count: number;
}

/** The reply to resume, after the replayed notifications. */
export interface ResumeComplete {
  type: "resume_complete";
  count: number;
  has_more: boolean;
  cursor: string;
}

/** The server's error reply (docs/protocol.md#error-codes). */
export interface ErrorReply {
  type: "error";
  code: string;
  message: string;
  retry_after?: number;
}

/** Payload of "disconnected". */
export interface DisconnectInfo {
  code?: number;
  reason?: string;
  wasClean?: boolean;
  /** False only after disconnect() or when the attempts are used up. */
  willReconnect: boolean;
}

/** Each event and what its listeners receive. */
export interface NotificationEvents {
  /** A socket opened; reconnected is false for the first one after connect(). */
  connected: { reconnected: boolean };
  /** A socket closed, or was dropped by the library (offline, planned reconnect, disconnect()). */
  disconnected: DisconnectInfo;
  /** A socket error event, a getToken failure, or a failed resume (which reconnects). */
  error: unknown;
  connectionEstablished: ConnectionEstablished;
  notification: GeneralNotification;
  uploadStarted: UploadStarted;
  uploadProgress: UploadProgress;
  uploadCompleted: UploadCompleted;
  uploadFailed: UploadFailed;
  /** Every other message: replies (pong, history, …, error), pushes of other types, and unparsable text. */
  unknown: ServerMessage | string;
  /** maxReconnectAttempts was set and is used up; the service is closed. */
  reconnect_failed: { attempts: number };
  /** Every parsed message, once (duplicates dropped), before its own event. */
  message: ServerMessage;
  /** state changed. */
  stateChange: { state: ConnectionState; previous: ConnectionState };
  /** unreadCount changed. */
  unreadCountChange: number;
  /** The resume after a connect is complete: nothing stored is missing any more. */
  caughtUp: { replayed: number };
}

/** An event name. */
export type NotificationEvent = keyof NotificationEvents;

/** The storage the cursor is kept in: localStorage's shape. */
export interface CursorStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem?(key: string): void;
}

/** The timers and time the service uses. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Milliseconds since the epoch (the ping's timestamp). */
  now(): number;
}

/** What the service needs of window: online/offline/visibilitychange events, navigator.onLine, document.visibilityState. */
export interface WindowLike {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
  navigator?: { onLine?: boolean };
  document?: { visibilityState?: string };
}

/** What the service needs of a WebSocket. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // The handlers take any event, so that the DOM's WebSocket (whose handlers
  // take Event, MessageEvent and CloseEvent) fits.
  onopen: ((ev: any) => void) | null;
  /** Called with {data: string}. */
  onmessage: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  /** Called with {code, reason, wasClean}. */
  onclose: ((ev: any) => void) | null;
}

/** A WebSocket constructor. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** The options of NotificationService. Times are in milliseconds. */
export interface NotificationOptions {
  /** The stage URL, e.g. wss://{api}.execute-api.{region}.amazonaws.com/{stage}. */
  url: string;
  /** Called before every connect and reconnect; its token is used for that connection. */
  getToken?: () => string | Promise<string>;
  /** A fixed token, for callers of the old module (used when getToken is absent). */
  token?: string;
  /** Where the token goes: "protocol" (Sec-WebSocket-Protocol: bearer, <token>; default) or "query" (?token=). */
  tokenIn?: "protocol" | "query";
  /** Backoff: the first retry waits up to this (default 1000). */
  backoffBase?: number;
  /** Backoff: no retry waits more than this (default 30000). */
  backoffCap?: number;
  /** Consecutive failed attempts before reconnect_failed (default Infinity: never give up). */
  maxReconnectAttempts?: number;
  /** Keep-alive ping interval, under API Gateway's 10-minute idle timeout (default 300000; 0 disables). */
  pingInterval?: number;
  /** Planned reconnect before API Gateway's 2-hour limit (default 6600000; 0 disables). */
  maxConnectionAge?: number;
  /** How long a request waits for its reply (default 30000). */
  requestTimeout?: number;
  /** limit of each resume page (default 100; the server allows 500). */
  resumeLimit?: number;
  /** Prefix of the cursor's storage key; the user id follows (default "fbdi:cursor:"). */
  storageKeyPrefix?: string;
  /** How many recent ids are remembered to drop duplicates (default 5000). */
  maxSeenIds?: number;
  /** Extra request type → reply type pairs for request(), e.g. {preferences: "preferences"}. */
  replyTypes?: Record<string, string>;
  /** Whether a new live push counts as unread (default: the server's default rule: stored, i.e. it has a cursor, and critical or of UNREAD_TYPES). */
  countsAsUnread?: (msg: PushBase & { type: string }) => boolean;
  /** Where the cursor is kept (default localStorage when usable, else memory). */
  storage?: CursorStorage;
  /** The WebSocket constructor (default globalThis.WebSocket). */
  WebSocket?: WebSocketConstructor;
  /** Timers and time (default the global ones). */
  clock?: Partial<Clock>;
  /** Random numbers in [0, 1) for the jitter (default Math.random). */
  random?: () => number;
  /** The window to follow (default globalThis.window; null follows none). */
  window?: WindowLike | null;
}

/** The option values used when an option is left out. */
export declare const DEFAULTS: Readonly<{
  tokenIn: "protocol";
  backoffBase: number;
  backoffCap: number;
  maxReconnectAttempts: number;
  pingInterval: number;
  maxConnectionAge: number;
  requestTimeout: number;
  resumeLimit: number;
  storageKeyPrefix: string;
  maxSeenIds: number;
}>;

/** Server push types and the event each is emitted as. */
export declare const EVENTS: Readonly<{
  connection_established: "connectionEstablished";
  notification: "notification";
  oracle_upload_started: "uploadStarted";
  oracle_upload_progress: "uploadProgress";
  oracle_upload_completed: "uploadCompleted";
  oracle_upload_failed: "uploadFailed";
}>;

/** Request types and the reply type that answers each. */
export declare const REPLY_TYPES: Readonly<{
  ping: "pong";
  resume: "resume_complete";
  history: "history";
  mark_read: "read_state";
  archive: "read_state";
  status: "workflow_status";
  preferences: "preferences";
  set_preferences: "preferences";
}>;

/** The types that count as unread when stored, as the server's default rule (progress steps do not); a critical notification always counts. */
export declare const UNREAD_TYPES: readonly ["notification", "oracle_upload_started", "oracle_upload_completed", "oracle_upload_failed"];

/** How request() promises are rejected. */
export declare class RequestError extends Error {
  constructor(code: string, message: string, reply?: ErrorReply);
  /** The server's error code, or "not_open", "disconnected", "timeout". */
  readonly code: string;
  /** The server's error reply, when there is one. */
  readonly reply?: ErrorReply;
}

/** The wait before reconnect attempt number attempt (0 first): random() * min(cap, base * 2^attempt). */
export declare function backoffDelay(
  attempt: number,
  options?: { base?: number; cap?: number; random?: () => number },
): number;

/** A Storage-like object that keeps its items in memory. */
export declare function createMemoryStorage(): Required<CursorStorage>;

/** One user's connection to the notifications API. */
export declare class NotificationService {
  constructor(options: NotificationOptions);
  /** The old module's form: the URL, then the other options. */
  constructor(url: string, options?: Omit<NotificationOptions, "url">);

  /** The connection state. */
  readonly state: ConnectionState;
  /** The unread count as last known: the server's, plus new live notifications since. */
  readonly unreadCount: number;
  /** The user id from connection_established (null before the first). */
  readonly userId: string | null;
  /** The resume cursor ("" when none is known). */
  readonly cursor: string;

  /** Subscribes fn to event; returns a function that unsubscribes it. */
  on<E extends NotificationEvent>(event: E, fn: (arg: NotificationEvents[E]) => void): () => void;
  on(event: string, fn: (arg: any) => void): () => void;
  /** Unsubscribes fn from event. */
  off<E extends NotificationEvent>(event: E, fn: (arg: NotificationEvents[E]) => void): void;
  off(event: string, fn: (arg: any) => void): void;

  /** Opens the connection and keeps it open until disconnect(); does nothing when already started. */
  connect(): void;
  /** Closes the connection and stops reconnecting; pending requests are rejected. */
  disconnect(): void;
  /** Sends msg (an object as JSON, a string as is) when open; reports whether it did. */
  send(msg: object | string): boolean;

  /** Sends {type, ...body} and resolves with the reply; rejects with RequestError. */
  request(type: "ping", body?: { timestamp?: unknown }): Promise<{ type: "pong"; timestamp: unknown }>;
  request(type: "history", body?: { before?: string; limit?: number; category?: string; unread_only?: boolean }): Promise<HistoryPage>;
  request(type: "mark_read", body: { ids?: string[]; all?: true; category?: string }): Promise<ReadState>;
  request(type: "archive", body: { ids: string[] }): Promise<ReadState>;
  request(type: "preferences"): Promise<Preferences>;
  request(type: "set_preferences", body: { categories: Record<string, Partial<Channels>> }): Promise<Preferences>;
  request(type: "status", body: { transaction_id: string }): Promise<WorkflowStatus>;
  request(type: "resume", body?: { after?: string; limit?: number }): Promise<ResumeComplete>;
  request<R = ServerMessage>(type: string, body?: Record<string, unknown>): Promise<R>;

  /** Whether a stored message counts as unread under the service's rule (the countsAsUnread option, else the server's default). */
  countsAsUnread(msg: ServerMessage): boolean;
  /** A page of the user's notifications, newest first; with a filter, fewer than limit may come with has_more (ask again before its cursor). */
  history(options?: HistoryOptions): Promise<HistoryPage>;
  /** Marks these notifications read (any number), all, or a category's; resolves with the unread count afterwards. */
  markRead(ids: Iterable<string> | "all" | { category: string }): Promise<number>;
  /** Hides these notifications from history and the unread count, in every tab (any number); resolves with the unread count afterwards. */
  archive(ids: Iterable<string>): Promise<number>;
  /** The user's preferences. */
  preferences(): Promise<Preferences>;
  /** Changes the channels named (others are not changed); resolves with the preferences afterwards. */
  setPreferences(categories: Record<string, Partial<Channels>>): Promise<Preferences>;
  /** The state of one of the user's transactions. */
  status(transactionId: string | number): Promise<WorkflowStatus>;
}

/** What the module sets as globalThis.FbdiNotifications when loaded (unless already set). */
export interface FbdiNotificationsGlobal {
  NotificationService: typeof NotificationService;
  RequestError: typeof RequestError;
  backoffDelay: typeof backoffDelay;
  createMemoryStorage: typeof createMemoryStorage;
  EVENTS: typeof EVENTS;
  REPLY_TYPES: typeof REPLY_TYPES;
  UNREAD_TYPES: typeof UNREAD_TYPES;
  DEFAULTS: typeof DEFAULTS;
}

declare global {
  /** The module's exports, for classic scripts (set when the module is loaded). */
  var FbdiNotifications: FbdiNotificationsGlobal | undefined;
}
